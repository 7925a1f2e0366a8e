"""Live playback without a sound server: the status line, and the whole play loop on a
fake device (`FakeDevice`) with a fake clock.

The fake device calls the stream's callback the way a sound card does: it fills its
buffer at once, then asks for one period each time a period has played (the clock
moves on). A stall (the process stopped) lets the buffer run dry and flags the next
callback as an underflow. The real device is tested in integration/test_play_real.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SAMPLE_RATE, FakeEngine

from voice_coach.audio.clip import Clip
from voice_coach.audio.mix import render
from voice_coach.errors import EngineError, SoundFileError
from voice_coach.live.player import PlayResult, play, status_line
from voice_coach.live.session import Command, Status
from voice_coach.live.stream import Output, Source, StartTone, start_tone
from voice_coach.routine.model import Exercise, Routine
from voice_coach.speech.cache import SpeechCache
from voice_coach.speech.contract import ResolvedVoice
from voice_coach.timeline import Pacing, build_timeline, spoken_texts

PERIOD = 1102  # 50 ms
BUFFER = 4 * PERIOD
VOICE = ResolvedVoice("fake", "1", "tone", 160, 1.0)
ROUTINE = Routine(
    title="Quick",
    steps=(
        Exercise(name="Reach", hold_s=12, setup=("Stand tall.",)),
        Exercise(name="Bend", hold_s=8),
    ),
)


# -- the status line ------------------------------------------------------------------


def test_status_line_shows_step_side_rep_and_time_left() -> None:
    st = Status(
        position_ms=75_000,
        total_ms=518_000,
        step=3,
        steps=7,
        step_name="Seated hamstring",
        side="left",
        rep=2,
        reps=3,
        hold_left_ms=12_400,
        paused=False,
        waiting=False,
        finished=False,
    )
    line = status_line(st)
    assert line.startswith("playing")
    for part in (
        "step 3",
        "Seated hamstring",
        "left side",
        "rep 2/3",
        "hold 0:12 left",
        "1:15 / 8:38",
    ):
        assert part in line
    paused = status_line(
        Status(0, None, None, 7, "Introduction", None, None, None, None, True, False, False)
    )
    assert paused.startswith("paused") and "0:00 / …" in paused
    assert "flow 0:12 left" in status_line(dataclasses.replace(st, hold_kind="flow"))


# -- the play loop on a fake device -----------------------------------------------------


class FakeDevice:
    """A `StreamFactory` whose stream runs the callback in a thread, records every frame
    handed out, and keeps a fake clock (seconds) that `Output` reads."""

    def __init__(
        self,
        stall_at_s: float | None = None,
        stall_s: float = 0.0,
        pause_at_s: float | None = None,
        gated: bool = False,
        name: str = "device",
        events: list[str] | None = None,
    ) -> None:
        self.name = name
        self.now = 0.0
        self.gate = threading.Event()
        """The device plays once this is set (at once unless `gated`)."""
        if not gated:
            self.gate.set()
        self.recorded: list[bytes] = []
        self.closed = threading.Event()
        self.paused = threading.Event()
        """Set while the device waits at `pause_at_s` (until it is closed)."""
        self.stall_at_s, self.stall_s, self.pause_at_s = stall_at_s, stall_s, pause_at_s
        self.opened: list[tuple[int, int | None]] = []
        self.events: list[str] = [] if events is None else events
        """What happened to it, in order, in a log it may share with other devices."""

    def clock(self) -> float:
        return self.now

    def __call__(
        self,
        sample_rate: int,
        device: int | None,
        latency_s: float,
        fill: Callable[[Any, int, bool], bool],
        on_finished: Callable[[], None],
    ) -> FakeDevice:
        self.opened.append((sample_rate, device))
        self.events.append(f"{self.name} opened")
        self.rate = sample_rate
        self.fill, self.on_finished = fill, on_finished
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        while not self.gate.wait(0.01):
            if self.closed.is_set():
                return
        level = 0  # frames in the device buffer
        underflow = False
        stalled = False
        while not self.closed.is_set():
            if self.pause_at_s is not None and self.now >= self.pause_at_s:
                self.paused.set()
                self.closed.wait()
                break
            out = bytearray(PERIOD * 2)
            go_on = self.fill(memoryview(out), PERIOD, underflow)
            underflow = False
            self.recorded.append(bytes(out))
            level += PERIOD
            if level >= BUFFER:  # full: the next call comes when a period has played
                self.now += PERIOD / self.rate
                level -= PERIOD
            if not stalled and self.stall_at_s is not None and self.now >= self.stall_at_s:
                stalled = True
                self.now += self.stall_s  # the process was stopped; the buffer ran dry
                level, underflow = 0, self.stall_s > level / self.rate
            if not go_on:
                break
        self.events.append(f"{self.name} finished")
        self.on_finished()

    def close(self) -> None:
        self.closed.set()

    def samples(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.recorded), "<i2")


class FailingEngine(FakeEngine):
    """Fails on one line, as an engine may on a phrase it cannot speak."""

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        if text == "Bend.":
            raise EngineError("engine fake could not speak 'Bend.': boom")
        return super().synthesize(text, voice)


def cache(tmp_path: Path, engine: Any = None) -> SpeechCache:
    return SpeechCache(tmp_path / "cache", engine or FakeEngine(), VOICE)


def run(
    device: FakeDevice,
    tmp_path: Path,
    engine: Any = None,
    on_status: Callable[[Status], None] | None = None,
    tone_device: FakeDevice | None = None,
) -> tuple[PlayResult, list[Output]]:
    """Play ROUTINE on `device` (after a start tone on `tone_device`, if given); the
    streams the player opened. A gated device starts once every line is synthesized (a
    status with the total length): it runs far faster than real time, and would
    otherwise play silence while it waits for speech."""
    opened: list[Output] = []

    def open_stream(source: Source) -> Output:
        opened.append(Output(device, source, SAMPLE_RATE, clock=device.clock))
        return opened[-1]

    def status(st: Status) -> None:
        if st.total_ms is not None:
            device.gate.set()
        if on_status is not None:
            on_status(st)

    tone = None
    if tone_device is not None:
        tone = Output(tone_device, StartTone(SAMPLE_RATE), SAMPLE_RATE, clock=tone_device.clock)
    result = play(ROUTINE, cache(tmp_path, engine), open_stream, on_status=status, tone=tone)
    return result, opened


def onsets(samples: np.ndarray) -> list[int]:
    """Frames where sound starts after at least 50 ms of silence."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    if loud.size == 0:
        return []
    starts = [int(loud[0])]
    for a, b in itertools.pairwise(loud):
        if b - a > SAMPLE_RATE // 20:
            starts.append(int(b))
    return starts


def test_plays_the_routine_sample_for_sample(tmp_path: Path) -> None:
    device = FakeDevice(gated=True)
    result, _ = run(device, tmp_path)
    assert result == PlayResult(finished=True, interrupted=False, step=2, underruns=0, waited_ms=0)
    assert device.opened == [(SAMPLE_RATE, None)] and device.closed.is_set()
    # What was heard: exactly the rendered routine, from its first cue (live playback
    # skips the export's lead-in silence: the start tone came before).
    clips = cache(tmp_path).clips(spoken_texts(ROUTINE))
    timeline = build_timeline(ROUTINE, {t: c.duration_ms for t, c in clips.items()})
    routine = np.frombuffer(b"".join(render(timeline, clips, SAMPLE_RATE)), "<i2")
    routine = routine[Pacing().lead_in_ms * SAMPLE_RATE // 1000 :]
    heard = device.samples()
    assert np.array_equal(heard[: routine.size], routine)
    assert heard.size - routine.size < PERIOD and not heard[routine.size :].any()


def test_the_tone_plays_out_before_the_routine_starts(tmp_path: Path) -> None:
    log: list[str] = []
    tone_device = FakeDevice(name="tone", events=log)
    device = FakeDevice(name="routine", events=log)
    result, _ = run(device, tmp_path, tone_device=tone_device)
    assert result.finished
    tone = np.frombuffer(start_tone(SAMPLE_RATE), "<i2")
    heard = tone_device.samples()
    assert np.array_equal(heard[: tone.size], tone) and not heard[tone.size :].any()
    # The routine's stream opens once the tone's has played out: its first sound is
    # at the front of the device buffer.
    assert log[:3] == ["tone opened", "tone finished", "routine opened"]
    assert tone_device.closed.is_set() and device.closed.is_set()


def test_time_lost_in_an_underrun_is_made_up_in_the_next_pause(tmp_path: Path) -> None:
    # Stalled 1 s in the silence of the first hold: the device runs dry for
    # 1 s minus its buffer. The cues after come that much sooner than they would
    # in frames, so by the clock they are back where they belong.
    quiet = FakeDevice(gated=True)
    run(quiet, tmp_path / "a")
    stalled = FakeDevice(stall_at_s=5.0, stall_s=1.0, gated=True)
    result, _ = run(stalled, tmp_path / "b")
    assert result.finished and result.underruns == 1
    dry_ms = 1000 - (BUFFER - PERIOD) * 1000 // SAMPLE_RATE  # what the buffer held
    assert result.lost_ms == pytest.approx(dry_ms, abs=3)
    assert result.caught_up_ms == result.lost_ms
    before, after = onsets(quiet.samples()), onsets(stalled.samples())
    assert len(before) == len(after)
    made_up = (before[-1] - after[-1]) * 1000 // SAMPLE_RATE
    assert made_up == pytest.approx(result.caught_up_ms, abs=2)


def test_ctrl_c_stops_with_the_step_it_was_in(tmp_path: Path) -> None:
    # Paused on the device 6 s into the routine (in the first hold), Ctrl+C arrives.
    device = FakeDevice(pause_at_s=6.0, gated=True)

    def on_status(status: Status) -> None:
        if device.paused.is_set():
            raise KeyboardInterrupt

    result, (output,) = run(device, tmp_path, on_status=on_status)
    assert result.interrupted and not result.finished
    assert result.step == 1
    assert output.done.is_set() and device.closed.is_set()


def test_synthesis_failing_mid_play_is_raised_and_the_device_freed(tmp_path: Path) -> None:
    device = FakeDevice()
    with pytest.raises(EngineError, match=r"could not speak 'Bend\.'"):
        run(device, tmp_path, engine=FailingEngine())
    assert device.closed.is_set()


def test_a_first_line_that_cannot_be_spoken_frees_the_device(tmp_path: Path) -> None:
    class Mute(FakeEngine):
        def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
            raise EngineError("engine fake could not speak anything")

    tone_device, device = FakeDevice(), FakeDevice()
    with pytest.raises(EngineError):
        run(device, tmp_path, engine=Mute(), tone_device=tone_device)
    assert tone_device.closed.is_set() and not device.opened


@contextmanager
def quit_at_once(handler: Callable[[Command], None]) -> Iterator[bool]:
    """Controls that press q as soon as playback starts."""
    handler(Command.QUIT)
    yield True


def test_quitting_is_not_finishing(tmp_path: Path) -> None:
    device = FakeDevice()

    def open_stream(source: Source) -> Output:
        return Output(device, source, SAMPLE_RATE, clock=device.clock)

    result = play(ROUTINE, cache(tmp_path), open_stream, controls=quit_at_once)
    assert not result.finished and not result.interrupted
    assert device.closed.is_set()


def test_notes_say_what_the_listener_met() -> None:
    quiet = PlayResult(finished=True, interrupted=False, step=2, underruns=0, waited_ms=40)
    assert quiet.underrun_note() is None and quiet.waiting_note() is None
    slow = PlayResult(finished=True, interrupted=False, step=2, underruns=2, waited_ms=1500)
    assert slow.waiting_note() == (
        "the routine waited 1.5 s in all for its lines to be synthesized "
        "(they are cached now: the next play will not)"
    )
    assert slow.underrun_note() == "the sound device ran short of audio 2 time(s)"


class _FailsAfter:
    """A source that raises what a bed file removed mid-way raises, after a few reads."""

    def __init__(self, source: Source, reads: int) -> None:
        self.source, self.reads = source, reads

    def read(self, frames: int) -> bytes:
        self.reads -= 1
        if self.reads < 0:
            raise SoundFileError("the sound file calm.mp3 could not be read on: it was removed")
        return self.source.read(frames)

    def catch_up(self, frames: int) -> None:
        self.source.catch_up(frames)

    @property
    def finished(self) -> bool:
        return self.source.finished


def test_a_source_failing_in_the_device_thread_ends_play_with_its_error(
    tmp_path: Path,
) -> None:
    """What the session raises in the device's callback (a bed file removed while it
    plays) stops the stream and comes out of `play`, for the CLI's one line."""
    device = FakeDevice()

    def open_stream(source: Source) -> Output:
        return Output(device, _FailsAfter(source, 5), SAMPLE_RATE, clock=device.clock)

    with pytest.raises(SoundFileError, match=r"calm\.mp3"):
        play(ROUTINE, cache(tmp_path), open_stream)
    assert device.closed.is_set()
    assert len(device.recorded) == 6  # five reads, then silence and the stop
