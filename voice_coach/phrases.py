"""The fixed words voice_coach speaks around a routine's own lines (English)."""

from __future__ import annotations

from dataclasses import dataclass

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0..999 in words: 42 -> "forty-two"."""
    if not 0 <= n <= 999:
        raise ValueError(f"number_words handles 0..999, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def _plural(n: int, unit: str) -> str:
    return f"{unit}" if n == 1 else f"{unit}s"


def duration_words(seconds: float) -> str:
    """Seconds as a listener hears them: 70 -> "one minute ten seconds"."""
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{number_words(minutes)} {_plural(minutes, 'minute')}")
    if secs or not minutes:
        parts.append(f"{number_words(secs)} {_plural(secs, 'second')}")
    return " ".join(parts)


def duration_digits(seconds: float) -> str:
    """Seconds for speech with digits: 20 -> "20 seconds", 90 -> "1 minute 30 seconds"."""
    total = round(seconds)
    minutes, secs = divmod(total, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} {_plural(minutes, 'minute')}")
    if secs or not minutes:
        parts.append(f"{secs} {_plural(secs, 'second')}")
    return " ".join(parts)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Phrases:
    """Templates for every cue that is not written in the routine script."""

    hold: str = "Hold."
    halfway: str = "Halfway there."
    remaining: str = "{duration} left."
    switch_sides: str = "Switch sides."
    rest: str = "Rest for {duration}."
    next_up: str = "Next: {name}."
    between: str = "Once more."
    release: str = "And release."
    finish: str = "Well done. That is the end of {title}."

    def countdown(self, n: int) -> str:
        return _sentence(number_words(n)) + "."

    def remaining_text(self, seconds: float) -> str:
        return _sentence(self.remaining.format(duration=duration_words(seconds)))

    def rest_text(self, seconds: float) -> str:
        return self.rest.format(duration=duration_digits(seconds))

    def next_text(self, name: str) -> str:
        return self.next_up.format(name=name[:1].lower() + name[1:])

    def finish_text(self, title: str) -> str:
        return self.finish.format(title=title.rstrip("."))


ENGLISH = Phrases()
