"""Lay a routine out in time: a pure function of the routine, pacing and cue durations.

Rules (the contract `show`, `export` and `play` rely on):
- A hold of N seconds runs from the onset of its "Hold" cue to the onset of its
  release cue, exactly. Holds are never stretched.
- Countdown number k starts exactly k seconds before the hold ends; "Ten seconds
  left" exactly 10 s before; "Halfway there" exactly in the middle.
- A flow's first line starts where "Hold" would. Round r (from 0), line i starts exactly
  `first + r·Σsecs + Σ(secs of the lines before i)` seconds; the release exactly at
  `first + rounds·Σsecs`. Its countdown counts down to the release, as in a hold.
- A count's number k starts exactly at `first + (k-1)·tempo`, the release at
  `first + count·tempo`; its `say` line ends `min_gap_ms` before each number (the first
  one in the settle time, before the start chime).
- A flow line or a count number that cannot be said within its beat is an error, like a
  hold shorter than its "Hold" cue.
- An instruction written as several sentences is several lines (`textsplit`): they
  follow one another `gap_ms` apart, inside a hold too.
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

from .errors import Problem, TimelineError
from .phrases import Phrases, phrases_for
from .routine.model import MAX_COUNT, OTHER_SIDE, Beat, Count, Exercise, Flow, Rest, Routine, Side

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
    "reminder",
    "chime",
    "flow",
    "count",
]
SpanKind: TypeAlias = Literal["hold", "flow", "count"]
MIN_HOLD_MS = 5000
"""Live adjustments never shorten a hold below this (nor a shorter one at all)."""
HOLD_STEP_MS = 5000
"""How much one live + or - changes a hold (a flow changes by a round, a count by one)."""
CHIME_START = "start"
CHIME_END = "end"


class CueTooLongError(TimelineError):
    """A cue cannot be said in the time it has: a hold shorter than its "Hold" cue, a flow
    line longer than its beat, a count's number longer than the tempo."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        """Where in the script, and what to change."""
        super().__init__(str(problem))


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
    """The onset, from the start of the audio (the lead-in included)."""
    duration_ms: int
    """How long it sounds: a spoken line's measured length, a chime's `Pacing.chime_ms`."""
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
        """Every kind but "chime"."""
        return self.kind != "chime"


@dataclass(frozen=True)
class Chapter:
    """A step (or the introduction) as a span of the audio: an export's chapter."""

    title: str
    """The step's name; for a rest "Rest, then NEXT STEP" ("Rest" before none); or
    "Introduction"."""
    start_ms: int
    """Where the step's first cue begins (0 for the introduction, lead-in and all)."""
    end_ms: int
    """The next chapter's start; the timeline's `total_ms` for the last one."""


@dataclass(frozen=True)
class HoldSpan:
    """One hold (or flow, or count) as laid out: what a live display and tests look at."""

    step: int
    side: Side | None
    rep: int
    """1-based repetition within its side."""
    start_ms: int
    """The onset of "Hold", or of the first beat."""
    end_ms: int
    """The onset of the release."""
    kind: SpanKind = "hold"
    beats_ms: tuple[int, ...] = ()
    """Where each beat of a flow or count starts (a count's with its `say` line, when
    that is spoken): what a paused flow goes back to."""


@dataclass(frozen=True)
class Timeline:
    """A routine laid out in time, to the millisecond: what `show` prints, `export`
    renders and `play` plays. Made by `build_timeline`; the rules it keeps are in this
    module's docstring. Every time is in ms from the start of the audio."""

    title: str
    """The routine's title."""
    total_ms: int
    """The audio's length: the lead-in, every cue, and `Pacing.tail_ms` after the last."""
    events: tuple[Event, ...]
    """Sorted by start (a chime before a cue at the same ms); spoken cues never overlap."""
    chapters: tuple[Chapter, ...]
    """One per step (and the introduction), contiguous, covering 0..total_ms."""
    holds: tuple[HoldSpan, ...] = ()
    """Every hold, flow and count in order: their index is the key of `build_timeline`'s
    `adjust`."""
    warnings: tuple[str, ...] = ()
    """For the person, each once (with how many times, if more): cues dropped because
    they did not fit ("FILE:LINE: ..."), and problems with the routine's phrases."""

    def speech(self) -> tuple[Event, ...]:
        """The spoken events, in order (the chimes left out)."""
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


def spoken_texts(
    routine: Routine, phrases: Phrases | None = None, adjust: Mapping[int, int] | None = None
) -> list[str]:
    """Every distinct line the timeline may speak, in first-use order (what to synthesize),
    with the live adjustments `adjust` (see `build_timeline`)."""
    seen: dict[str, None] = {}

    def record(text: str) -> int:
        seen.setdefault(text, None)
        return 1

    phrases = phrases or routine_phrases(routine)[0]
    _Builder(routine, Pacing(), record, phrases, True, dict(adjust or {})).build()
    return list(seen)


def build_timeline(
    routine: Routine,
    durations: Mapping[str, int] | DurationOf,
    pacing: Pacing = Pacing(),
    phrases: Phrases | None = None,
    adjust: Mapping[int, int] | None = None,
) -> Timeline:
    """Lay out `routine`, given how long each spoken line lasts (ms, by text).

    A pure function: the same routine, durations, pacing, phrases and adjustments give
    the same timeline; no engine, file or clock is involved. `durations` must know
    every line `spoken_texts(routine, phrases, adjust)` lists (a mapping raises
    KeyError for one it lacks). `phrases` defaults to the routine's own (its language
    and `phrases:`), whose warnings then join `Timeline.warnings`.

    `adjust` is the live + and - presses (negative for -) of single holds, flows and
    counts, by their index in `Timeline.holds`: a hold changes by `HOLD_STEP_MS` a press
    and becomes no shorter than `MIN_HOLD_MS`; a flow by a round and a count by one,
    never below one (nor a count above `MAX_COUNT`).

    Raises `CueTooLongError` (a `TimelineError`, naming the script line) when a cue
    cannot be said in its time: a hold shorter than its "Hold" cue, a flow line longer
    than its beat, a count's number longer than the tempo. A cue inside a hold that
    does not fit is not an error: it is dropped, with a warning.
    """
    duration_of = durations if callable(durations) else durations.__getitem__
    table, warnings = (phrases, []) if phrases else routine_phrases(routine)
    builder = _Builder(routine, pacing, duration_of, table, adjust=dict(adjust or {}))
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
    adjust: Mapping[int, int] | None = None,
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
        adjust=dict(adjust or {}),
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
    adjust: dict[int, int] = field(default_factory=dict)
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
        if r.log_reminder:
            self.say("reminder", self.phrases.log_reminder, None)
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

    def warn(self, message: str, line: int = 0) -> None:
        """Count a warning, with the script line it is about (0: none known)."""
        if not self.collect_only:
            message = f"{self._at(line)}{message}"
            self.warnings[message] = self.warnings.get(message, 0) + 1

    def _at(self, line: int) -> str:
        """ "FILE:LINE: " for messages."""
        return f"{self.routine.source}:{line}: " if line else f"{self.routine.source}: "

    def _too_long(self, line: int, message: str) -> CueTooLongError:
        return CueTooLongError(Problem(self.routine.source, line or None, "", message))

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
                    f"step {number}: no room for {text!r} in a {step.rest_s:g} s rest; dropped",
                    step.line,
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
                    for line in step.between or (self.phrases.between,):
                        self.say("between", self._fill(line, side), number)
                self.active(number, step, side, rep)

    def active(self, number: int, step: Exercise, side: Side | None, rep: int) -> None:
        """One hold, flow or count with the cues inside it, then its release."""
        start_ms = self.last_end_ms + max(self.pause_ms, round(step.settle_s * 1000))
        where = f"step {number} ({step.name}" + (f", {side} side" if side else "") + ")"
        presses = self.adjust.get(len(self.holds), 0)
        pace = step.pace
        if isinstance(pace, Flow):
            rounds = max(1, pace.rounds + presses)
            h = _HoldLayout(number, where, step, side, start_ms, rounds * pace.round_s)
            beats = self._flow(h, pace, rounds)
        elif isinstance(pace, Count):
            count = min(max(1, pace.count + presses), max(pace.count, MAX_COUNT))
            h = _HoldLayout(number, where, step, side, start_ms, count * pace.tempo_s)
            beats = self._count(h, pace, count)
        else:
            h = _HoldLayout(number, where, step, side, start_ms, self._hold_s(step, presses))
            beats = self._hold(h)
        self.events.extend(h.placed)
        self.holds.append(HoldSpan(number, side, rep, h.start_ms, h.end_ms, h.what, beats))
        release = step.release or (self.phrases.release,)
        self.say("release", self._fill(release[0], side), number, at_ms=h.end_ms)
        for line in release[1:]:
            self.say("release", self._fill(line, side), number)
        self.pause_ms = max(self.pacing.gap_ms, round(step.recover_s * 1000))

    def _hold_s(self, step: Exercise, presses: int) -> float:
        """The next hold's length as written, with its live adjustment (see `MIN_HOLD_MS`)."""
        length_ms = round(step.hold_s * 1000)
        if presses:
            length_ms = max(min(length_ms, MIN_HOLD_MS), length_ms + presses * HOLD_STEP_MS)
        return length_ms / 1000

    def _hold(self, h: _HoldLayout) -> tuple[int, ...]:
        """A still hold: "Hold", the timed cues, the chimes and the `during` lines."""
        step = h.step
        if step.cues.chimes:
            self._start_chime(h, h.start_ms)
        text = self.phrases.hold
        hold_cue = Event(h.start_ms, self.duration_of(text), "hold", text, h.number)
        if not self.collect_only and hold_cue.end_ms + self.pacing.min_gap_ms > h.end_ms:
            raise self._too_long(
                step.line,
                f"{h.where}: the hold of {h.length_ms / 1000:g} s is shorter than its spoken "
                f'"Hold" cue ({hold_cue.duration_ms} ms); use a longer hold',
            )
        h.placed.append(hold_cue)
        # Most important first: a later cue yields to an earlier one.
        self._place_countdown(h)
        self._place_remaining(h)
        if step.cues.chimes:
            self._place_end_chime(h)
        if step.cues.during:
            self._place_during_lines(h)
        return ()

    def _flow(self, h: _HoldLayout, flow: Flow, rounds: int) -> tuple[int, ...]:
        """A flow's lines, each at the exact start of its beat; then its countdown and
        chimes where they fit."""
        if h.step.cues.chimes:
            self._start_chime(h, h.start_ms)
        onsets = []
        for r in range(rounds):
            before_s = r * flow.round_s
            for beat in flow.beats:
                at_ms = h.start_ms + round(before_s * 1000)
                before_s += beat.beat_s
                self._place_beat(h, "flow", self._fill(beat.say, h.side), at_ms, before_s, beat)
                onsets.append(at_ms)
        self._place_countdown(h)
        if h.step.cues.chimes:
            self._place_end_chime(h)
        return tuple(onsets)

    def _count(self, h: _HoldLayout, count: Count, n: int) -> tuple[int, ...]:
        """A count's numbers, each exactly on its beat; then the chimes, and the `say`
        line before each number where it fits."""
        numbers = []
        for k in range(1, n + 1):
            at_ms = h.start_ms + round((k - 1) * count.tempo_s * 1000)
            self._place_beat(h, "count", self.phrases.countdown(k), at_ms, k * count.tempo_s)
            numbers.append(at_ms)
        if h.step.cues.chimes:
            self._place_end_chime(h)
        if count.say is None:
            if h.step.cues.chimes:
                self._start_chime(h, h.start_ms)
            return tuple(numbers)
        onsets = [self._count_line(h, count.say, at_ms, k) for k, at_ms in enumerate(numbers)]
        if h.step.cues.chimes:
            self._start_chime(h, onsets[0])
        return tuple(onsets)

    def _count_line(self, h: _HoldLayout, say: str, number_ms: int, k: int) -> int:
        """The `say` line before number `k + 1`, ending `min_gap_ms` before it, if it fits;
        where its beat starts."""
        p = self.pacing
        text = self._fill(say, h.side)
        length = self.duration_of(text)
        at_ms = number_ms - p.min_gap_ms - length
        line = h.step.line_of(say)
        if k == 0:
            # Before the first number: in the settle time, after the usual pause and
            # before the start chime.
            chime = p.chime_ms + p.chime_gap_ms if h.step.cues.chimes else 0
            if self.collect_only or at_ms - chime >= self.last_end_ms + p.gap_ms:
                self.events.append(Event(at_ms, length, "count", text, h.number))
                return at_ms
            self.warn(
                f"{h.where}: no room for {text!r} before the first number (a longer "
                "`settle` makes room); dropped",
                line,
            )
            return number_ms
        if self.collect_only or self._fits(h, at_ms, length):
            h.placed.append(Event(at_ms, length, "count", text, h.number))
            return at_ms
        self.warn(f"{h.where}: no room for {text!r} before the number {k + 1}; dropped", line)
        return number_ms

    def _place_beat(
        self,
        h: _HoldLayout,
        kind: Kind,
        text: str,
        at_ms: int,
        next_s: float,
        beat: Beat | None = None,
    ) -> None:
        """A flow line or a count number at `at_ms`; an error if it cannot be said before
        the next beat, `next_s` seconds into the span (with `min_gap_ms` of quiet)."""
        length = self.duration_of(text)
        next_ms = h.start_ms + round(next_s * 1000)
        if not self.collect_only and at_ms + length + self.pacing.min_gap_ms > next_ms:
            if beat is not None:
                what = f"the flow line {text!r}"
                room = f"its {beat.beat_s:g} s beat"
                fix = "give it more `secs`, or say less"
                line = h.step.line_of(beat.say)
            else:
                tempo_s = h.step.pace.tempo_s if isinstance(h.step.pace, Count) else 0
                what = f"the number {text!r}"
                room = f"the tempo of {tempo_s:g} s"
                fix = "use a slower `tempo`"
                line = h.step.line
            raise self._too_long(
                line,
                f"{h.where}: {what} takes {length / 1000:g} s to say, too long for {room} "
                f"(with {self.pacing.min_gap_ms / 1000:g} s of quiet after it); {fix}",
            )
        h.placed.append(Event(at_ms, length, kind, text, h.number))

    def _start_chime(self, h: _HoldLayout, before_ms: int) -> None:
        """The start chime, in the silence just before `before_ms`."""
        p = self.pacing
        chime_at = before_ms - p.chime_gap_ms - p.chime_ms
        self.events.append(Event(chime_at, p.chime_ms, "chime", CHIME_START, h.number))

    def _place_countdown(self, h: _HoldLayout) -> None:
        """The countdown, each number exactly k seconds before the end."""
        for k in range(1, h.step.cues.countdown + 1):
            if self.collect_only or k * 1000 < h.length_ms:
                self._place_at(h, "countdown", self.phrases.countdown(k), h.end_ms - k * 1000)

    def _place_remaining(self, h: _HoldLayout) -> None:
        """The "N seconds left" lines and "Halfway", each at its exact time."""
        cues = h.step.cues
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
            self.warn(f"{h.where}: no room for the end-of-{h.what} chime; dropped", h.step.line)

    def _place_during_lines(self, h: _HoldLayout) -> None:
        """The `during` lines, spread evenly over the hold, in their order; the lines of
        one written text follow one another `gap_ms` apart."""
        groups = h.step.during
        earliest = h.start_ms
        for i, lines in enumerate(groups):
            target = max(earliest, h.start_ms + h.length_ms * (i + 1) // (len(groups) + 1))
            for line in lines:
                placed = self._place_during(h, line, target)
                if placed is not None:
                    target = placed.end_ms + self.pacing.gap_ms
                    earliest = placed.end_ms + self.pacing.min_gap_ms

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
                f"{(at_ms - h.start_ms) / 1000:g} s into the {h.what}; dropped",
                h.step.line,
            )

    def _fill(self, text: str, side: Side | None) -> str:
        if side is None:
            return text
        other = OTHER_SIDE[side]
        return text.replace("{side}", self.phrases.side(side)).replace(
            "{other}", self.phrases.side(other)
        )

    def _place_during(self, h: _HoldLayout, line: str, target_ms: int) -> Event | None:
        """A `during` line at its target or in the first gap after it."""
        text = self._fill(line, h.side)
        length = self.duration_of(text)
        if self.collect_only:
            event = Event(target_ms, length, "during", text, h.number)
            h.placed.append(event)
            return event
        # From the target onward, take the first gap the line fits in.
        candidates = [
            target_ms,
            *sorted(e.end_ms + self.pacing.min_gap_ms for e in h.placed if e.end_ms >= target_ms),
        ]
        for start in candidates:
            if self._fits(h, start, length):
                event = Event(start, length, "during", text, h.number)
                h.placed.append(event)
                return event
        self.warn(f"{h.where}: no room for {text!r} in the hold; dropped", h.step.line_of(line))
        return None


@dataclass
class _HoldLayout:
    """One hold (or flow, or count) while its cues are laid out."""

    number: int
    """1-based step number."""
    where: str
    """The hold, for messages: "step 2 (Hamstring, left side)"."""
    step: Exercise
    side: Side | None
    start_ms: int
    length_s: float
    placed: list[Event] = field(default_factory=list)
    """The cues inside the hold so far, most important first."""

    @property
    def end_ms(self) -> int:
        return self.start_ms + round(self.length_s * 1000)

    @property
    def what(self) -> SpanKind:
        pace = self.step.pace
        return "hold" if pace is None else "flow" if isinstance(pace, Flow) else "count"

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms
