"""A live session: the timeline as a stream of samples, steered by one-key commands.

Pure logic, no devices and no clock of its own: whoever calls `read(n)` (a sound
card's callback, or a test) *is* the clock, since the position only advances by
the frames read. Cue positions are therefore exact to the sample.

Lines may still be synthesizing while the session plays: the session plays the
final prefix of the timeline (`build_prefix`) and, when it reaches the end of what
is laid out, waits in silence rather than skipping anything.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..audio.bed import BedPlayer, Ducking, fade_out, has_bed, step_bed
from ..audio.clip import Clip, ms_to_frames, resample
from ..audio.loudness import FULL_SCALE
from ..audio.mix import Mixer, event_clips
from ..phrases import Phrases
from ..routine.model import Routine, Side
from ..timeline import (
    Event,
    HoldSpan,
    Pacing,
    Timeline,
    TimelinePrefix,
    build_prefix,
    routine_phrases,
    spoken_texts,
)

BACK_GRACE_MS = 3000
"""Within this long after a step starts, "back" goes to the previous step."""
RESUME_PAUSE_MS = 400
"""Silence after the spoken "N seconds left" before the routine continues."""
BED_FADE_MS = 1000
"""The bed fades in over this when playback starts or resumes, and out when it pauses."""


class Command(enum.Enum):
    """What a key, a voice command or a media key asks of a `LiveSession`."""

    PAUSE = "pause"
    """Pause, or resume if paused."""
    NEXT = "next"
    """Jump to the start of the next step (from the last one: to the finish)."""
    BACK = "back"
    """Back to the start of this step; within `BACK_GRACE_MS` of it, of the one before."""
    LONGER = "longer"
    """The current (or next) hold 5 s longer, a flow a round more, a count one more."""
    SHORTER = "shorter"
    """The opposite of LONGER, within the same bounds (see `build_timeline`)."""
    QUIT = "quit"
    """Stop at once: the session is `finished`, with `quit_requested` set."""


@dataclass(frozen=True)
class Status:
    """What a one-line display shows: a snapshot of a `LiveSession` (`status()`)."""

    position_ms: int
    """Where playback is on the timeline (see `LiveSession.position_ms`)."""
    total_ms: int | None
    """None while lines are still being synthesized."""
    step: int | None
    """The step being played, from 1; None in the introduction."""
    steps: int
    """How many steps the routine has."""
    step_name: str
    """The step's name ("Rest" for a rest), or "Introduction"."""
    side: Side | None
    """The side of the hold being played or coming next in this step, if it has sides."""
    rep: int | None
    """Which repetition that hold is, from 1, within its side."""
    reps: int | None
    """How many repetitions the step has, if it repeats."""
    hold_left_ms: int | None
    """Time left in the hold (or flow, or count) being played, if one is."""
    paused: bool
    waiting: bool
    """Playback reached lines that are not synthesized yet."""
    finished: bool
    hold_kind: str = "hold"
    """What `hold_left_ms` is the rest of: "hold", "flow" or "count"."""
    note: str = ""
    """What the coach is asking, shown instead of the rest (the pain check-in)."""


Speak = Callable[[str], Clip]


class LiveSession:
    """One routine played live: its timeline as a stream of samples, steered by commands.

    A state machine with no clock and no device of its own. `read(n)` hands out the
    next `n` frames and moves the position on by the routine's frames among them, so
    its caller's frame count is the session's time: not at all while paused, waiting
    for synthesis or saying "N seconds left"; further when it skips silence to make up
    for an underrun (`catch_up`). `handle` applies a `Command`; `add_clips` makes
    synthesized lines available while it plays. The three may be called from different
    threads (the sound card's callback, the controls, the synthesis): they take the
    session's lock in turn.

    `speak` (may be None) says what is not in the routine's clips: "N seconds left"
    when resuming in a hold, and lines a live + or - brings in (a count's new numbers);
    it is called outside the lock. Without the clip of a line, playback waits in
    silence there (`Status.waiting`) instead of skipping it. Everything is in frames at
    `sample_rate` inside; positions are given out in ms.
    """

    def __init__(
        self,
        routine: Routine,
        sample_rate: int,
        speak: Speak | None = None,
        pacing: Pacing = Pacing(),
        phrases: Phrases | None = None,
        start_step: int = 1,
        start_ms: int = 0,
    ) -> None:
        """Start at `start_ms` on the timeline, or, with `start_step` above 1, at that
        step's start once it is laid out (until then `read` gives silence)."""
        self.routine = routine
        self.sample_rate = sample_rate
        self._speak = speak
        self._pacing = pacing
        self._phrases = phrases or routine_phrases(routine)[0]
        self._lock = threading.RLock()
        self._clips: dict[str, Clip] = {}
        self._adjust: dict[int, int] = {}
        """Live + and - presses per hold, flow or count (see `build_timeline`)."""
        self._layout: Timeline | TimelinePrefix = TimelinePrefix((), (), 0)
        self._mixer = Mixer([])
        self._pos = ms_to_frames(start_ms, sample_rate)
        self._seek_step: int | None = start_step if start_step > 1 else None
        self._interjection: npt.NDArray[np.int16] | None = None
        self._paused = False
        self._finished = False
        self.quit_requested = False
        """QUIT was handled: finished, but the routine was not played to its end."""
        self.waited_frames = 0
        """Frames of silence played while waiting for synthesis."""
        self.frames_played = 0
        """Frames handed out while not paused (the session's clock)."""
        self._debt = 0
        self.caught_up_frames = 0
        """Frames of silence skipped to make up for time lost in underruns."""
        self._bed = routine.bed_levels if has_bed(routine) else None
        """The bed's levels, when the routine has a bed (see `_with_bed`)."""
        self._bed_player = BedPlayer(sample_rate, self._bed.level_lu) if self._bed else None
        self._ducking: Ducking | None = None
        self._bed_on = 0.0
        """The bed's fade for starting, pausing and resuming: 0 (silent) to 1."""

    # -- feeding ------------------------------------------------------------------

    def add_clips(self, clips: dict[str, Clip]) -> None:
        """Make synthesized lines available (from the synthesis thread)."""
        with self._lock:
            self._clips.update(clips)
            self._relayout()

    def _relayout(self) -> None:
        durations = {t: c.duration_ms for t, c in self._clips.items()}
        self._layout = build_prefix(
            self.routine, durations, self._pacing, self._phrases, self._adjust
        )
        self._mixer = Mixer(event_clips(self._layout.events, self._clips, self.sample_rate))
        if self._bed is not None:
            self._ducking = Ducking(self._layout.events, self.sample_rate, self._bed.duck_db)
        if self._seek_step is not None:
            start = self._step_start_ms(self._seek_step)
            if start is not None:
                self._pos = ms_to_frames(start, self.sample_rate)
                self._seek_step = None

    @property
    def complete(self) -> bool:
        """Every line is laid out: the timeline is final."""
        return isinstance(self._layout, Timeline)

    @property
    def timeline(self) -> Timeline | None:
        """The final timeline, with the live adjustments; None until `complete`."""
        return self._layout if isinstance(self._layout, Timeline) else None

    def _limit_frames(self) -> int:
        layout = self._layout
        end_ms = layout.total_ms if isinstance(layout, Timeline) else layout.ready_until_ms
        return ms_to_frames(end_ms, self.sample_rate)

    # -- the clock ----------------------------------------------------------------

    def catch_up(self, frames: int) -> None:
        """The listener lost `frames` (the device ran dry): skip that much silence, in
        the next pauses between sounds, so that later cues are back on time."""
        with self._lock:
            self._debt += max(0, frames)

    def read(self, n: int) -> npt.NDArray[np.int16]:
        """The next `n` frames of audio, mono int16 at `sample_rate`: always `n`, with
        silence while paused, waiting or finished (but for the bed, which fades out
        when paused and runs on through jumps). Reading is what moves time on."""
        out = np.zeros(n, dtype="<i2")
        with self._lock:
            if self._finished:
                return out
            if self._paused:
                return self._with_bed(out, np.ones(n)) if self._bed_on > 0 else out
            self.frames_played += n
            filled = 0
            duck = np.ones(n)
            if self._interjection is not None:
                take = min(n, self._interjection.size)
                out[:take] = self._interjection[:take]
                rest = self._interjection[take:]
                self._interjection = rest if rest.size else None
                filled = take
                duck[:take] = self._duck_floor()
            if filled < n and self._seek_step is None:
                limit = self._limit_frames()
                if self._debt:
                    skip = self._mixer.quiet_frames(self._pos, min(self._debt, limit - self._pos))
                    self._pos += skip
                    self._debt -= skip
                    self.caught_up_frames += skip
                take = max(0, min(n - filled, limit - self._pos))
                if take:
                    out[filled : filled + take] = self._mixer.frames(self._pos, self._pos + take)
                    duck[filled : filled + take] = self._bed_envelope(self._pos, take)
                    self._pos += take
                    filled += take
                if self.complete and self._pos >= limit and self._interjection is None:
                    self._finished = True
                elif filled < n:
                    self.waited_frames += n - filled
            elif filled < n:
                self.waited_frames += n - filled
            if self._bed is not None:
                out = self._with_bed(out, duck)
        return out

    # -- the bed ------------------------------------------------------------------

    def _duck_floor(self) -> float:
        """The bed's gain under a cue (interjections are cues too)."""
        return 10 ** (-(self._bed.duck_db if self._bed else 0.0) / 20)

    def _bed_envelope(self, start: int, n: int) -> npt.NDArray[np.float64]:
        """Ducking under the cues around timeline frame `start`, and the fade out at
        the routine's end (once its length is known)."""
        if self._ducking is None:
            return np.ones(n)
        gain = self._ducking.gain(start, n)
        if self.complete:
            gain = gain * fade_out(start, n, self._limit_frames(), self.sample_rate)
        return gain

    def _with_bed(
        self, out: npt.NDArray[np.int16], duck: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int16]:
        """`out` with the bed under it: the step's bed at its level, ducked, faded in
        when playback starts or resumes and out when it pauses; it keeps running (its
        own position) whatever the routine does, so jumps do not restart it."""
        assert self._bed is not None and self._bed_player is not None
        n = out.size
        step = BED_FADE_MS * self.sample_rate // 1000
        direction = -1.0 if self._paused else 1.0
        ramp = np.clip(self._bed_on + direction * np.arange(1, n + 1) / step, 0.0, 1.0)
        self._bed_on = float(ramp[-1])
        spec = step_bed(self.routine, self.current_step())
        bed = self._bed_player.next(n, spec) * duck * ramp
        mixed = out.astype(np.int32) + np.round(bed * FULL_SCALE).astype(np.int32)
        return np.clip(mixed, -32768, 32767).astype("<i2")

    @property
    def position_ms(self) -> int:
        """Where playback is on the timeline (the lead-in included), in ms: the last ms
        whose first frame (`ms_to_frames`) has been handed out, so a jump to an event
        that starts at M ms reads M, whatever the rate. What has been handed out, not
        yet what has been heard (the device's latency)."""
        return -(-(self._pos + 1) * 1000 // self.sample_rate) - 1

    @property
    def finished(self) -> bool:
        """The routine was played to its end, or QUIT was handled: `read` gives silence."""
        return self._finished

    # -- where we are -------------------------------------------------------------

    def _events(self) -> tuple[Event, ...]:
        return self._layout.events

    def _holds(self) -> tuple[HoldSpan, ...]:
        return self._layout.holds

    def _step_starts(self) -> list[tuple[int, int]]:
        """(step number, start ms) of every step laid out so far; 0 is the intro."""
        starts: dict[int, int] = {0: 0}
        for e in self._events():
            if e.step is not None and e.step not in starts:
                starts[e.step] = e.start_ms
        return sorted(starts.items(), key=lambda kv: kv[1])

    def _step_start_ms(self, step: int) -> int | None:
        return dict(self._step_starts()).get(step)

    def current_step(self) -> int:
        """The step being played (0 during the introduction)."""
        pos_ms = self.position_ms
        current = 0
        for step, start in self._step_starts():
            if start <= pos_ms:
                current = step
        return current

    def _current_hold(self) -> tuple[int, HoldSpan] | None:
        pos_ms = self.position_ms
        for i, hold in enumerate(self._holds()):
            if hold.start_ms <= pos_ms < hold.end_ms:
                return i, hold
        return None

    def status(self) -> Status:
        """What a display shows now (taken under the lock: consistent)."""
        with self._lock:
            pos_ms = self.position_ms
            step = self.current_step()
            name = "Introduction"
            reps = None
            if step:
                s = self.routine.steps[step - 1]
                name = getattr(s, "name", "Rest")
                reps = getattr(s, "reps", None)
            held = self._current_hold()
            upcoming = (
                held[1]
                if held
                else next((h for h in self._holds() if h.step == step and h.end_ms > pos_ms), None)
            )
            layout = self._layout
            return Status(
                position_ms=pos_ms,
                total_ms=layout.total_ms if isinstance(layout, Timeline) else None,
                step=step or None,
                steps=len(self.routine.steps),
                step_name=name,
                side=upcoming.side if upcoming else None,
                rep=upcoming.rep if upcoming else None,
                reps=reps,
                hold_left_ms=held[1].end_ms - pos_ms if held else None,
                hold_kind=held[1].kind if held else "hold",
                paused=self._paused,
                waiting=self._seek_step is not None
                or (not self.complete and self._pos >= self._limit_frames()),
                finished=self._finished,
            )

    # -- commands -----------------------------------------------------------------

    def handle(self, command: Command) -> None:
        """Apply one command (from a controls thread or a test), effective from the next
        `read`. A pause or a jump also forgets time owed to `catch_up`. Resuming may
        call `speak` ("N seconds left"), as may LONGER and SHORTER (lines they bring
        in)."""
        if command in (Command.PAUSE, Command.NEXT, Command.BACK):
            with self._lock:
                self._debt = 0  # a pause or a jump: no schedule left to get back to
        if command is Command.PAUSE:
            if self._paused:
                self._resume()
            else:
                with self._lock:
                    self._paused = True
            return
        if command in (Command.LONGER, Command.SHORTER):
            self._adjust_span(1 if command is Command.LONGER else -1)
            return
        with self._lock:
            if command is Command.QUIT:
                self.quit_requested = True
                self._finished = True
            elif command is Command.NEXT:
                self._goto_step(self.current_step() + 1)
            elif command is Command.BACK:
                step = self.current_step()
                start = self._step_start_ms(step) or 0
                if self.position_ms - start < BACK_GRACE_MS:
                    step = max(0, step - 1)
                self._goto_step(step)

    def _goto_step(self, step: int) -> None:
        self._interjection = None
        if step > len(self.routine.steps):
            finish = next((e for e in self._events() if e.kind == "finish"), None)
            if finish is not None:
                self._pos = ms_to_frames(finish.start_ms, self.sample_rate)
            else:
                self._seek_to_finish()
            return
        start = 0 if step == 0 else self._step_start_ms(step)
        if start is None:
            self._seek_step = step  # not laid out yet: wait for it
        else:
            self._seek_step = None
            self._pos = ms_to_frames(start, self.sample_rate)

    def _seek_to_finish(self) -> None:
        self._seek_step = None
        self._pos = self._limit_frames()

    def _adjust_span(self, presses: int) -> None:
        """+ or - on the current (or next) hold, flow or count: 5 s, a round, a count.

        A longer count has numbers not yet spoken: they are synthesized first, outside
        the lock, so that the sound card is never kept waiting."""
        with self._lock:
            pos_ms = self.position_ms
            holds = self._holds()
            index = next((i for i, h in enumerate(holds) if h.end_ms > pos_ms), len(holds))
            adjust = {**self._adjust, index: self._adjust.get(index, 0) + presses}
            have = set(self._clips)
        texts = spoken_texts(self.routine, self._phrases, adjust)
        clips = {t: self._speak(t) for t in texts if t not in have} if self._speak else {}
        with self._lock:
            self._clips.update(clips)
            self._adjust = adjust
            self._relayout()
            holds = self._holds()
            if index < len(holds) and holds[index].start_ms <= pos_ms:
                # Shortened past the present: the release comes now.
                end = ms_to_frames(holds[index].end_ms, self.sample_rate)
                self._pos = min(self._pos, end)

    def _resume(self) -> None:
        with self._lock:
            pos_ms = self.position_ms
            held = self._current_hold()
            beat = max((b for b in held[1].beats_ms if b <= pos_ms), default=None) if held else None
            if beat is not None:
                # A flow or count goes back to the start of its beat, and keeps its pace:
                # no "N seconds left" in the middle of the breath.
                self._pos = ms_to_frames(beat, self.sample_rate)
                self._paused = False
                return
            cue = next(
                (e for e in self._events() if e.is_speech and e.start_ms <= pos_ms < e.end_ms), None
            )
            if cue is not None:
                pos_ms = cue.start_ms  # repeat the interrupted cue from its start
                self._pos = ms_to_frames(pos_ms, self.sample_rate)
            held = self._current_hold()
            left_ms = held[1].end_ms - pos_ms if held else None
        clip = None
        if left_ms is not None and left_ms >= 1000 and self._speak is not None:
            clip = self._speak(self._phrases.remaining_text(round(left_ms / 1000)))
        with self._lock:
            if clip is not None:
                pad = np.zeros(ms_to_frames(RESUME_PAUSE_MS, self.sample_rate), dtype="<i2")
                self._interjection = np.concatenate(
                    [resample(clip, self.sample_rate).samples(), pad]
                )
            self._paused = False
