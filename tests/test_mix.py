"""Mixing and rendering: chimes, events on their sample, chunking does not change the
result, the silence ahead."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE_RATE, FakeEngine

from voice_coach.audio.clip import Clip
from voice_coach.audio.mix import Mixer, chime, render
from voice_coach.routine.model import Exercise, Routine
from voice_coach.speech import ResolvedVoice
from voice_coach.timeline import build_timeline, spoken_texts

VOICE = ResolvedVoice("fake", "1", "tone", 160, 1.0)


def test_chimes_are_short_soft_and_distinct() -> None:
    start, end = chime("start", 200, SAMPLE_RATE), chime("end", 200, SAMPLE_RATE)
    assert start.duration_ms == 200 and start != end
    assert np.abs(start.samples()).max() < 0.3 * 32767


def render_all(routine: Routine, chunk_frames: int | None = None) -> tuple[np.ndarray, object]:
    engine = FakeEngine()
    clips = {t: engine.synthesize(t, VOICE) for t in spoken_texts(routine)}
    tl = build_timeline(routine, {t: c.duration_ms for t, c in clips.items()})
    pcm = b"".join(render(tl, clips, SAMPLE_RATE, chunk_frames))
    return np.frombuffer(pcm, dtype="<i2"), tl


ROUTINE = Routine(
    title="Test", steps=(Exercise(name="Stretch", hold_s=12, during=(("Breathe.",),)),)
)


def test_every_event_starts_on_its_sample_and_holds_are_silent_between() -> None:
    pcm, tl = render_all(ROUTINE)
    assert pcm.size == tl.total_ms * SAMPLE_RATE // 1000  # type: ignore[attr-defined]
    loud = np.abs(pcm.astype(np.int32)) > 1000
    expected = np.zeros_like(loud)
    for e in tl.events:  # type: ignore[attr-defined]
        a = e.start_ms * SAMPLE_RATE // 1000
        b = a + e.duration_ms * SAMPLE_RATE // 1000
        expected[a:b] = True
        # The first samples of each event are where it was scheduled.
        assert np.abs(pcm[a : a + 50].astype(np.int32)).max() > 200, e
        assert np.abs(pcm[a - 20 : a].astype(np.int32)).max() == 0, e
    assert not np.any(loud & ~expected)


@pytest.mark.parametrize("chunk_frames", [1, 997, 22050, 10**7])
def test_chunk_size_does_not_change_the_audio(chunk_frames: int) -> None:
    reference, _ = render_all(ROUTINE)
    if chunk_frames == 1:
        # One frame a chunk is slow; compare the first two seconds only.
        engine = FakeEngine()
        clips = {t: engine.synthesize(t, VOICE) for t in spoken_texts(ROUTINE)}
        tl = build_timeline(ROUTINE, {t: c.duration_ms for t, c in clips.items()})
        head = []
        for i, chunk in enumerate(render(tl, clips, SAMPLE_RATE, 1)):
            head.append(chunk)
            if i >= 2 * SAMPLE_RATE:
                break
        got = np.frombuffer(b"".join(head), dtype="<i2")
        assert np.array_equal(got, reference[: got.size])
        return
    got, _ = render_all(ROUTINE, chunk_frames)
    assert np.array_equal(got, reference)


def test_render_can_start_mid_timeline() -> None:
    reference, tl = render_all(ROUTINE)
    engine = FakeEngine()
    clips = {t: engine.synthesize(t, VOICE) for t in spoken_texts(ROUTINE)}
    start = 3 * SAMPLE_RATE + 17
    tail = np.frombuffer(
        b"".join(render(tl, clips, SAMPLE_RATE, start_frame=start)),  # type: ignore[arg-type]
        dtype="<i2",
    )
    assert np.array_equal(tail, reference[start:])


def test_quiet_frames_measures_the_silence_ahead() -> None:
    clip = Clip(np.full(100, 1000, dtype="<i2").tobytes(), 22050)
    mixer = Mixer([(50, clip), (400, clip), (420, clip)])
    assert mixer.quiet_frames(0, 1000) == 50
    assert mixer.quiet_frames(0, 30) == 30
    assert mixer.quiet_frames(60, 1000) == 0  # inside a clip
    assert mixer.quiet_frames(150, 1000) == 250
    assert mixer.quiet_frames(450, 1000) == 0  # inside two
    assert mixer.quiet_frames(520, 1000) == 1000
