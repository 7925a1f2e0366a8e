"""Lay a routine out in time: a pure function of the routine, pacing and cue durations.

Rules (the contract `show`, `export` and `play` rely on):
- A hold of N seconds runs from the onset of its "Hold" cue to the onset of its
  release cue, exactly. Holds are never stretched.
- Countdown number k starts exactly k seconds before the hold ends; "Ten seconds
  left" exactly 10 s before; "Halfway there" exactly in the middle.
- "Hold" starts exactly the step's `settle_s` after the end of the line before it, and
  the line after a release exactly the step's `recover_s` after the release ends; neither
  silence is ever shorter than `Pacing.gap_ms`, the pause between any two lines.
- Spoken cues never overlap. A cue inside a hold that does not fit (it would overlap
  another, or run into the release) is dropped, with a warning.
- Chimes (short tones) mark the start and end of each hold, in silence just before
  "Hold" and just before the release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .errors import TimelineError
from .model import OTHER_SIDE, CueOptions, Exercise, Rest, Routine, Side
from .phrases import Phrases, phrases_for

Kind: TypeAlias = Literal[
    "intro",
    "step",
    "setup",
    "hold",
    "during",
    "halfway",
    "remaining",
    "countdown",
    "release",
    "switch",
    "between",
    "rest",
    "next",
    "finish",
    "chime",
]
MIN_HOLD_MS = 5000
"""Live adjustments never shorten a hold below this (nor a shorter one at all)."""
CHIME_START = "start"
CHIME_END = "end"


@dataclass(frozen=True)
class Pacing:
    """Silences that are not written in scripts, in milliseconds (a step's settle and
    recover times are: `Exercise.settle_s`, `Exercise.recover_s`)."""

    lead_in_ms: int = 500
    """Silence before the first cue."""
    gap_ms: int = 700
    """Between two consecutive spoken lines; also the least settle and recover time."""
    min_gap_ms: int = 150
    """The least silence between two cues inside a hold."""
    chime_ms: int = 200
    """Length of a chime."""
    chime_gap_ms: int = 150
    """Silence between a chime and the cue it announces."""
    next_lead_ms: int = 2000
    """A "Next: ..." preview ends this long before its rest does."""
    tail_ms: int = 1500
    """Silence after the last cue."""


@dataclass(frozen=True)
class Event:
    """One sound on the timeline: a spoken cue or a chime."""

    start_ms: int
    duration_ms: int
    kind: Kind
    text: str
    """The words spoken; for a chime, "start" or "end"."""
    step: int | None
    """1-based step number; None for the routine's intro and finish."""

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms

    @property
    def is_speech(self) -> bool:
        return self.kind != "chime"


@dataclass(frozen=True)
class Chapter:
    title: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class HoldSpan:
    """One hold as laid out: what a live display and tests look at."""

    step: int
    side: Side | None
    rep: int
    """1-based repetition within its side."""
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Timeline:
    title: str
    total_ms: int
    events: tuple[Event, ...]
    """Sorted by start; spoken cues never overlap."""
    chapters: tuple[Chapter, ...]
    """One per step (and the introduction), contiguous, covering 0..total_ms."""
    holds: tuple[HoldSpan, ...] = ()
    warnings: tuple[str, ...] = ()

    def speech(self) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.is_speech)

    def to_json(self) -> dict[str, Any]:
        """The public JSON form (`show --json`)."""
        return {
            "title": self.title,
            "total_ms": self.total_ms,
            "events": [
                {
                    "start_ms": e.start_ms,
                    "duration_ms": e.duration_ms,
                    "kind": e.kind,
                    "text": e.text,
                    "step": e.step,
                }
                for e in self.events
            ],
            "chapters": [
                {"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms}
                for c in self.chapters
            ],
        }


DurationOf: TypeAlias = Callable[[str], int]


def routine_phrases(routine: Routine) -> tuple[Phrases, list[str]]:
    """The cue words a routine is spoken with, and warnings about them."""
    return phrases_for(routine.language, dict(routine.phrases))


def spoken_texts(routine: Routine, phrases: Phrases | None = None) -> list[str]:
    """Every distinct line the timeline may speak, in first-use order (what to synthesize)."""
    seen: dict[str, None] = {}

    def record(text: str) -> int:
        seen.setdefault(text, None)
        return 1

    phrases = phrases or routine_phrases(routine)[0]
    _Builder(routine, Pacing(), record, phrases, collect_only=True).build()
    return list(seen)


def build_timeline(
    routine: Routine,
    durations: Mapping[str, int] | DurationOf,
    pacing: Pacing = Pacing(),
    phrases: Phrases | None = None,
    hold_adjust_ms: Mapping[int, int] | None = None,
) -> Timeline:
    """Lay out `routine`, given how long each spoken line lasts (ms, by text).

    `hold_adjust_ms` lengthens or shortens single holds, by their index in
    `Timeline.holds` (live "+5 s"); no hold becomes shorter than `MIN_HOLD_MS`.
    """
    duration_of = durations if callable(durations) else durations.__getitem__
    table, warnings = (phrases, []) if phrases else routine_phrases(routine)
    builder = _Builder(
        routine, pacing, duration_of, table, hold_adjust_ms=dict(hold_adjust_ms or {})
    )
    builder.warnings.update(dict.fromkeys(warnings, 1))
    return builder.build()


class _NotYet(Exception):
    """A line's duration is not known yet (it is still being synthesized)."""


@dataclass(frozen=True)
class TimelinePrefix:
    """The part of a timeline that is final before every line is synthesized."""

    events: tuple[Event, ...]
    holds: tuple[HoldSpan, ...]
    ready_until_ms: int
    """Everything before this time is laid out for good; playback may not pass it."""


def build_prefix(
    routine: Routine,
    durations: Mapping[str, int],
    pacing: Pacing = Pacing(),
    phrases: Phrases | None = None,
    hold_adjust_ms: Mapping[int, int] | None = None,
) -> Timeline | TimelinePrefix:
    """The whole timeline if every duration is known, else its final prefix.

    Layout runs forward in time and a cue's position depends only on the cues
    before it, so whatever was laid out before the first unknown line stays put
    when that line's duration arrives.
    """

    def duration_of(text: str) -> int:
        if text not in durations:
            raise _NotYet(text)
        return durations[text]

    builder = _Builder(
        routine,
        pacing,
        duration_of,
        phrases or routine_phrases(routine)[0],
        hold_adjust_ms=dict(hold_adjust_ms or {}),
    )
    try:
        return builder.build()
    except _NotYet:
        frontier = builder.last_end_ms
        events = tuple(
            sorted(
                (e for e in builder.events if e.end_ms <= frontier),
                key=lambda e: (e.start_ms, e.kind != "chime"),
            )
        )
        holds = tuple(h for h in builder.holds if h.end_ms <= frontier)
        return TimelinePrefix(events, holds, frontier)


@dataclass
class _Builder:
    routine: Routine
    pacing: Pacing
    duration_of: DurationOf
    phrases: Phrases
    collect_only: bool = False
    """Only gather texts: no fit checks (durations are placeholders)."""
    hold_adjust_ms: dict[int, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    chapters: list[tuple[str, int]] = field(default_factory=list)
    holds: list[HoldSpan] = field(default_factory=list)
    warnings: dict[str, int] = field(default_factory=dict)
    last_end_ms: int = 0
    pause_ms: int = 0

    def build(self) -> Timeline:
        self.pause_ms = self.pacing.lead_in_ms
        r = self.routine
        self.chapters.append(("Introduction", 0))
        self.say("intro", r.title if r.title.endswith(".") else r.title + ".", None)
        for line in r.intro:
            self.say("intro", line, None)
        steps = r.steps
        for number, step in enumerate(steps, start=1):
            upcoming = next((s for s in steps[number:] if isinstance(s, Exercise)), None)
            if isinstance(step, Rest):
                self.rest(number, step, upcoming)
            else:
                self.exercise(number, step)
        self.say("finish", self.phrases.finish_text(r.title), None)
        total_ms = self.last_end_ms + self.pacing.tail_ms
        chapters = tuple(
            Chapter(
                title, start, self.chapters[i + 1][1] if i + 1 < len(self.chapters) else total_ms
            )
            for i, (title, start) in enumerate(self.chapters)
        )
        warnings = tuple(
            msg if n == 1 else f"{msg} ({n} times)" for msg, n in self.warnings.items()
        )
        return Timeline(
            title=r.title,
            total_ms=total_ms,
            events=tuple(sorted(self.events, key=lambda e: (e.start_ms, e.kind != "chime"))),
            chapters=chapters,
            holds=tuple(self.holds),
            warnings=warnings,
        )

    # -- sequential cues --------------------------------------------------------

    def say(self, kind: Kind, text: str, step: int | None, at_ms: int | None = None) -> Event:
        start = self.last_end_ms + self.pause_ms if at_ms is None else at_ms
        event = Event(start, self.duration_of(text), kind, text, step)
        self.events.append(event)
        self.last_end_ms = event.end_ms
        self.pause_ms = self.pacing.gap_ms
        return event

    def warn(self, message: str) -> None:
        if not self.collect_only:
            self.warnings[message] = self.warnings.get(message, 0) + 1

    # -- steps ------------------------------------------------------------------

    def rest(self, number: int, step: Rest, upcoming: Exercise | None) -> None:
        cue = self.say("rest", self.phrases.rest_text(step.rest_s), number)
        # Named after what follows, so rests differ in a chapter list.
        title = "Rest" if upcoming is None else f"Rest, then {upcoming.name}"
        self.chapters.append((title, cue.start_ms))
        end_ms = cue.start_ms + round(step.rest_s * 1000)
        if upcoming is not None:
            text = self.phrases.next_text(upcoming.name)
            length = self.duration_of(text)
            latest = end_ms - self.pacing.next_lead_ms - length
            earliest = cue.end_ms + self.pacing.gap_ms
            start = max(latest, earliest)
            if self.collect_only or start + length + self.pacing.min_gap_ms <= end_ms:
                self.events.append(Event(start, length, "next", text, number))
            else:
                self.warn(
                    f"step {number}: no room for {text!r} in a {step.rest_s:g} s rest; dropped"
                )
        # The rest lasts as long as asked, unless its own cue is longer.
        self.last_end_ms = max(end_ms, cue.end_ms + self.pacing.gap_ms)
        self.pause_ms = 0

    def exercise(self, number: int, step: Exercise) -> None:
        first = self.say("step", step.name if step.name.endswith(".") else step.name + ".", number)
        self.chapters.append((step.name, first.start_ms))
        sides: tuple[Side | None, ...] = step.sides or (None,)
        for side_index, side in enumerate(sides):
            if side_index:
                self.say("switch", self.phrases.switch_sides, number)
            for line in step.setup:
                self.say("setup", self._fill(line, side), number)
            for rep in range(1, step.reps + 1):
                if rep > 1:
                    self.say(
                        "between", self._fill(step.between or self.phrases.between, side), number
                    )
                self.hold(number, step, side, rep)

    def hold(self, number: int, step: Exercise, side: Side | None, rep: int) -> None:
        """One hold with the cues inside it, then its release."""
        start_ms = self.last_end_ms + max(self.pause_ms, round(step.settle_s * 1000))
        where = f"step {number} ({step.name}" + (f", {side} side" if side else "") + ")"
        h = _HoldLayout(number, where, start_ms, start_ms + self._hold_length_ms(step))
        self._start_hold(h, step)
        # Most important first: a later cue yields to an earlier one.
        self._place_timed_cues(h, step.cues)
        if step.cues.chimes:
            self._place_end_chime(h)
        if step.cues.during:
            self._place_during_lines(h, step, side)
        self.events.extend(h.placed)
        self.holds.append(HoldSpan(number, side, rep, h.start_ms, h.end_ms))
        release = self._fill(step.release or self.phrases.release, side)
        self.say("release", release, number, at_ms=h.end_ms)
        self.pause_ms = max(self.pacing.gap_ms, round(step.recover_s * 1000))

    def _hold_length_ms(self, step: Exercise) -> int:
        """The next hold's length as written, with its live adjustment (see `MIN_HOLD_MS`)."""
        length_ms = round(step.hold_s * 1000)
        adjust = self.hold_adjust_ms.get(len(self.holds), 0)
        if adjust:
            length_ms = max(min(length_ms, MIN_HOLD_MS), length_ms + adjust)
        return length_ms

    def _start_hold(self, h: _HoldLayout, step: Exercise) -> None:
        """The start chime and the "Hold" cue; a hold too short for "Hold" is an error."""
        p = self.pacing
        if step.cues.chimes:
            chime_at = h.start_ms - p.chime_gap_ms - p.chime_ms
            self.events.append(Event(chime_at, p.chime_ms, "chime", CHIME_START, h.number))
        text = self.phrases.hold
        hold_cue = Event(h.start_ms, self.duration_of(text), "hold", text, h.number)
        if not self.collect_only and hold_cue.end_ms + p.min_gap_ms > h.end_ms:
            raise TimelineError(
                f"{self.routine.source}:{step.line}: {h.where}: the hold of {step.hold_s:g} s "
                f'is shorter than its spoken "Hold" cue ({hold_cue.duration_ms} ms); '
                "use a longer hold"
            )
        h.placed.append(hold_cue)

    def _place_timed_cues(self, h: _HoldLayout, cues: CueOptions) -> None:
        """The countdown, the "N seconds left" lines and "Halfway", each at its exact time."""
        for k in range(1, cues.countdown + 1):
            if self.collect_only or k * 1000 < h.length_ms:
                self._place_at(h, "countdown", self.phrases.countdown(k), h.end_ms - k * 1000)
        for seconds in cues.remaining_s:
            if self.collect_only or seconds * 1000 < h.length_ms:
                self._place_at(
                    h,
                    "remaining",
                    self.phrases.remaining_text(seconds),
                    h.end_ms - round(seconds * 1000),
                )
        if cues.halfway:
            self._place_at(h, "halfway", self.phrases.halfway, h.start_ms + h.length_ms // 2)

    def _place_end_chime(self, h: _HoldLayout) -> None:
        """The end chime, in the silence just before the release."""
        p = self.pacing
        chime_at = h.end_ms - p.chime_gap_ms - p.chime_ms
        if self.collect_only or self._fits(h, chime_at, p.chime_ms):
            h.placed.append(Event(chime_at, p.chime_ms, "chime", CHIME_END, h.number))
        else:
            self.warn(f"{h.where}: no room for the end-of-hold chime; dropped")

    def _place_during_lines(self, h: _HoldLayout, step: Exercise, side: Side | None) -> None:
        """The `during` lines, spread evenly over the hold."""
        lines = [self._fill(t, side) for t in step.during]
        for i, text in enumerate(lines):
            self._place_during(h, text, h.start_ms + h.length_ms * (i + 1) // (len(lines) + 1))

    def _fits(self, h: _HoldLayout, start: int, length: int) -> bool:
        """Whether a cue fits inside the hold, clear of the cues already placed in it."""
        gap = self.pacing.min_gap_ms
        if start < h.start_ms or start + length + gap > h.end_ms:
            return False
        return all(start >= e.end_ms + gap or start + length + gap <= e.start_ms for e in h.placed)

    def _place_at(self, h: _HoldLayout, kind: Kind, text: str, at_ms: int) -> None:
        """A cue at exactly `at_ms`, or dropped with a warning if it does not fit there."""
        length = self.duration_of(text)
        if self.collect_only or self._fits(h, at_ms, length):
            h.placed.append(Event(at_ms, length, kind, text, h.number))
        else:
            self.warn(
                f"{h.where}: no room for {text!r} at "
                f"{(at_ms - h.start_ms) / 1000:g} s into the hold; dropped"
            )

    def _fill(self, text: str, side: Side | None) -> str:
        if side is None:
            return text
        other = OTHER_SIDE[side]
        return text.replace("{side}", self.phrases.side(side)).replace(
            "{other}", self.phrases.side(other)
        )

    def _place_during(self, h: _HoldLayout, text: str, target_ms: int) -> None:
        """A `during` line at its target or in the first gap after it."""
        length = self.duration_of(text)
        if self.collect_only:
            h.placed.append(Event(target_ms, length, "during", text, h.number))
            return
        # From the target onward, take the first gap the line fits in.
        candidates = [
            target_ms,
            *sorted(e.end_ms + self.pacing.min_gap_ms for e in h.placed if e.end_ms >= target_ms),
        ]
        for start in candidates:
            if self._fits(h, start, length):
                h.placed.append(Event(start, length, "during", text, h.number))
                return
        self.warn(f"{h.where}: no room for {text!r} in the hold; dropped")


@dataclass
class _HoldLayout:
    """One hold while its cues are laid out."""

    number: int
    """1-based step number."""
    where: str
    """The hold, for messages: "step 2 (Hamstring, left side)"."""
    start_ms: int
    end_ms: int
    placed: list[Event] = field(default_factory=list)
    """The cues inside the hold so far, most important first."""

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms
