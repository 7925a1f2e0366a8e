"""The pain check-in in `play`: the coach asks "How is your pain now, from zero to
ten?" before the first step, after the last, or both (the `checkin` setting), and takes
the answer by key or by voice.

    keys (digits; "1" then "0" for ten)  ─┐
    voice (a transcript: "four", "no pain")┼─> `CheckIn`: one question, its answer,
    the clock (tick)                      ─┘    what to say back; pure, time passed in
                                                  │
    `Desk`: where keys and voice hand answers in while a question is open;
    `ask`: the loop that runs one `CheckIn` on a live stream (say, wait, hand over).

An unclear answer is asked again once, then left unrecorded; no answer within
`ANSWER_WAIT_S`: nothing recorded. A spoken ten is asked back before it is recorded
(`CONFIRMED_BY_VOICE`). The coach's own question is never an answer: the
voice's gate (`listen.judge_answer`) drops anything heard while the coach sounds.
"""

from __future__ import annotations

import enum
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..phrases import Phrases

log = logging.getLogger(__name__)

ANSWER_WAIT_S = 15.0
"""How long the coach waits for an answer after asking (again)."""
TEN_WINDOW_S = 1.2
"""After the key "1", how long a "0" makes it ten; then (or at Enter) it is one."""
BEFORE, AFTER, BOTH, OFF = "before", "after", "both", "off"

RATING_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
"""Spoken ratings; "no pain" is zero too (`rating_in`)."""
FILLERS = frozenset(
    {"a", "about", "around", "er", "i", "i'd", "i'm", "is", "it", "it's", "like", "maybe"}
    | {"my", "now", "pain", "probably", "say", "so", "the", "think", "uh", "um", "well"}
)
"""Words an answer may hold beside its number ("it's about four", "my pain is two")."""
CONFIRMED_BY_VOICE = frozenset({10})
"""Spoken ratings the coach asks back ("Did you say ten? Say yes to note it.") and
records only on a yes (or another number, said instead). Ten is the top of the scale
and always a flare, which holds the progression and makes the next session gentler;
and it is the one rating the recognizer has taken from replies that were no rating at
all ("hmm", "hang on": benchmarks/bench_checkin.py), even when the same sound is made
twice. So a yes confirms it, not the number said again. Keys are taken as typed."""
YES_WORDS = frozenset({"yes", "yeah", "yep", "yup", "correct", "right"})
"""A yes to a rating asked back ("yes", "that's right")."""


class Unclear(enum.Enum):
    """Speech that is not one rating: asked again once."""

    UNCLEAR = "unclear"


class Yes(enum.Enum):
    """A yes: what confirms a rating asked back."""

    YES = "yes"


UNCLEAR = Unclear.UNCLEAR
YES = Yes.YES
Answer = int | Unclear | Yes


def rating_in(text: str) -> Answer | None:
    """The rating a transcript gives: 0-10; `UNCLEAR` for speech that is not exactly one
    rating (two numbers, other words); `YES` for a yes and nothing else ("yes", "that's
    right", and "unclear: yes" as `Ears.hear_answer` gives whisper's words); None for no
    words at all. "no pain" is 0, "four out of ten" is 4, "ten" alone is 10."""
    words = [w.split("(")[0] for w in text.lower().split() if not w.startswith(("<", "[", "++"))]
    if not words:
        return None
    said = [w for w in words if w not in ("unclear:", "that's", "that") and w not in FILLERS]
    if said and all(w in YES_WORDS for w in said):
        return YES
    joined = " ".join(words)
    joined = re.sub(r"\bout of ten\b", "", joined)
    joined = re.sub(r"\bno pain\b", "zero", joined)
    rest = joined.split()
    numbers = [RATING_WORDS[w] for w in rest if w in RATING_WORDS]
    others = [w for w in rest if w not in RATING_WORDS and w not in FILLERS]
    if len(numbers) != 1 or others:
        return UNCLEAR
    return numbers[0]


# -- one question ----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckIns:
    """When `play` asks for a pain rating."""

    before: bool = False
    """Before the first step."""
    after: bool = False
    """After the last step (when the routine was played to its end)."""

    @classmethod
    def of(cls, setting: str) -> CheckIns:
        """For a `checkin` setting's value: after, before, both or off."""
        return cls(setting in (BEFORE, BOTH), setting in (AFTER, BOTH))

    @property
    def any(self) -> bool:
        return self.before or self.after


def checkin_texts(phrases: Phrases) -> list[str]:
    """Every line a check-in may say (to synthesize before it is needed)."""
    return [
        phrases.pain_question,
        phrases.pain_again,
        *(confirm_text(phrases, n) for n in sorted(CONFIRMED_BY_VOICE)),
        phrases.pain_not_noted,
        *(noted_text(phrases, n) for n in range(11)),
    ]


def noted_text(phrases: Phrases, rating: int) -> str:
    """ "Pain three. Noted." """
    return phrases.pain_noted.format(rating=phrases.numbers(rating))


def confirm_text(phrases: Phrases, rating: int) -> str:
    """ "Did you say ten? Say yes to note it." """
    return phrases.pain_confirm.format(rating=phrases.numbers(rating))


class CheckIn:
    """One question and its answer: a pure state machine, the time passed in.

    `start`, `key`, `heard` and `tick` each return the lines to say now. It is `done`
    once a rating is taken (`rating`), the person skipped (Enter), asked to stop
    (`stop`), gave a second unclear answer, or `ANSWER_WAIT_S` passed without one. A
    spoken rating in `CONFIRMED_BY_VOICE` is asked back first: a yes takes it, another
    rating said instead is taken; anything else (the number again) asks back once more,
    then notes nothing."""

    def __init__(
        self,
        phrases: Phrases,
        wait_s: float = ANSWER_WAIT_S,
        ten_window_s: float = TEN_WINDOW_S,
    ) -> None:
        self.phrases = phrases
        self.wait_s = wait_s
        self.ten_window_s = ten_window_s
        self.rating: int | None = None
        self.done = False
        self.stop = False
        """The person asked to stop the routine (q, or "coach stop")."""
        self.why = ""
        """How it ended: "answered", "skipped", "unclear", "no answer", "stopped"."""
        self._deadline = 0.0
        self._one_at: float | None = None
        """When "1" was pressed, waiting to see whether "0" follows."""
        self._asked_again = False
        self._confirming: int | None = None
        """A spoken rating asked back, waiting for a yes."""
        self._asked_back_again = False

    def start(self, now: float) -> list[str]:
        self._deadline = now + self.wait_s
        return [self.phrases.pain_question]

    def _take(self, rating: int) -> list[str]:
        self.rating, self.done, self.why = rating, True, "answered"
        return [noted_text(self.phrases, rating)]

    def _end(self, why: str) -> list[str]:
        self.done, self.why = True, why
        return []

    def key(self, char: str, now: float) -> list[str]:
        """One key: a digit, Enter (skip, or one after "1"), q (stop)."""
        if self.done:
            return []
        if self._one_at is not None:
            self._one_at = None
            if char == "0":
                return self._take(10)
            if char in ("\r", "\n"):
                return self._take(1)
        if char == "1":
            self._one_at = now
            return []
        if char.isdigit() and len(char) == 1 and char.isascii():
            return self._take(int(char))
        if char in ("\r", "\n", "\x1b"):
            return self._end("skipped")
        if char == "q":
            self.stop = True
            return self._end("stopped")
        return []

    def keys(self, data: bytes, now: float) -> list[str]:
        """A burst of key bytes, one key at a time (an escape sequence is one key)."""
        said: list[str] = []
        text = data.decode("ascii", errors="ignore")
        i = 0
        while i < len(text):
            if text.startswith("\x1b[", i):
                i += 3  # an arrow key: not an answer
                continue
            said += self.key(text[i], now)
            i += 1
        return said

    def heard(self, answer: Answer, now: float) -> list[str]:
        """A spoken answer (`rating_in` of a transcript)."""
        if self.done:
            return []
        asked_back = self._confirming
        if isinstance(answer, int) and answer != asked_back:
            self._one_at = None
            if answer in CONFIRMED_BY_VOICE:
                self._confirming = answer
                self._deadline = now + self.wait_s
                return [confirm_text(self.phrases, answer)]
            return self._take(answer)
        if answer is YES and asked_back is not None:
            return self._take(asked_back)
        if asked_back is not None and not self._asked_back_again:
            # The number said again, or no clear yes: asked back once more, then no more.
            self._asked_back_again = True
            self._deadline = now + self.wait_s
            return [confirm_text(self.phrases, asked_back)]
        if self._asked_again or asked_back is not None:
            self.done, self.why = True, "unclear"
            return [self.phrases.pain_not_noted]
        self._asked_again = True
        self._deadline = now + self.wait_s
        return [self.phrases.pain_again]

    def stopped(self) -> list[str]:
        """The person asked to stop the routine (by voice)."""
        self.stop = True
        return self._end("stopped")

    def tick(self, now: float) -> list[str]:
        """Time passing: a lone "1" becomes one; no answer in time ends it."""
        if self.done:
            return []
        if self._one_at is not None and now - self._one_at >= self.ten_window_s:
            self._one_at = None
            return self._take(1)
        if now >= self._deadline and self._one_at is None:
            return self._end("no answer")
        return []

    def note(self, now: float) -> str:
        """For the status line."""
        if self.done:
            shown = "not noted" if self.rating is None else f"noted: {self.rating}"
            return f"pain {shown}"
        left = max(0, round(self._deadline - now))
        typed = " · 1… (0 for ten)" if self._one_at is not None else ""
        if self._confirming is not None:
            return (
                f"pain {self._confirming}? say yes, or keys 0-9, 1 then 0 for ten,"
                f" Enter to skip{typed} · {left} s"
            )
        return f"pain now, 0-10? keys 0-9, 1 then 0 for ten, Enter to skip{typed} · {left} s"


# -- the desk: answers handed in from the controls' threads ----------------------------


@dataclass(frozen=True)
class Keys:
    data: bytes


@dataclass(frozen=True)
class Spoken:
    answer: Answer | None
    """`rating_in` of the transcript."""
    text: str


@dataclass(frozen=True)
class Stop:
    """ "coach stop" while a question is open."""


Handed = Keys | Spoken | Stop


class Desk:
    """Where the controls hand in answers while a question is open (thread-safe). Each
    control that can answer says so (`can_take`) as it starts: with none, the coach
    does not ask."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._inbox: queue.Queue[Handed] = queue.Queue()
        self._lock = threading.Lock()
        self.ways: set[str] = set()
        """"keys", "voice": the controls that can give an answer."""

    def can_take(self, way: str) -> None:
        with self._lock:
            self.ways.add(way)

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def open(self) -> None:
        while not self._inbox.empty():
            self._inbox.get_nowait()
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    def hand_in(self, item: Handed) -> bool:
        """Give an answer; False (not taken) when no question is open."""
        if not self._open.is_set():
            return False
        self._inbox.put(item)
        return True

    def take(self, timeout_s: float) -> Handed | None:
        try:
            return self._inbox.get(timeout=timeout_s)
        except queue.Empty:
            return None


# -- asking on a live stream -----------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    rating: int | None
    stop: bool
    why: str


def ask(
    machine: CheckIn,
    desk: Desk,
    say: Callable[[str], None],
    said: Callable[[], bool],
    show: Callable[[str], None] = lambda _note: None,
    clock: Callable[[], float] = time.monotonic,
    poll_s: float = 0.1,
) -> Asked:
    """Run `machine` to its end: say its lines (`say`), hand it what `desk` takes in and
    the time, show its note, and return once it is done and what it said has been heard
    (`said`)."""
    desk.open()
    log.debug("checkin: asking")
    try:
        for line in machine.start(clock()):
            say(line)
        show(machine.note(clock()))
        while not machine.done:
            item = desk.take(poll_s)
            now = clock()
            lines: list[str] = []
            if isinstance(item, Keys):
                lines += machine.keys(item.data, now)
            elif isinstance(item, Spoken) and item.answer is not None:
                lines += machine.heard(item.answer, now)
            elif isinstance(item, Stop):
                lines += machine.stopped()
            lines += machine.tick(now)
            for line in lines:
                say(line)
            show(machine.note(now))
    finally:
        desk.close()
    log.debug("checkin: %s, rating %s", machine.why, machine.rating)
    while not said():
        time.sleep(poll_s)
    return Asked(machine.rating, machine.stop, machine.why)
