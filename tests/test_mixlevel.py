"""Measuring a routine with a bed under it in parts (`mixlevel`): the same figures as
`LoudnessMeter` reading the rendered mix, for every kind of bed, and again after the
speech is limited and the bed turned down with it."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require_program

from voice_coach.audio import bed
from voice_coach.audio.bed import BedPlan
from voice_coach.audio.clip import Clip
from voice_coach.audio.loudness import limit_clip, measure_pcm, placed_energies
from voice_coach.audio.mix import event_clips, render, total_frames
from voice_coach.audio.mixlevel import measure_mix, mix_true_peak
from voice_coach.routine.model import Bed, BedLevels
from voice_coach.timeline import Event, Timeline

RATE = 22050


def voice(seconds: float, freq: float, peak: float) -> Clip:
    """A speech-like test clip: a tone with a syllable-rate envelope."""
    t = np.arange(round(seconds * RATE)) / RATE
    x = np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) ** 2
    return Clip(np.round(x / np.abs(x).max() * peak * 32767).astype("<i2").tobytes(), RATE)


def routine() -> tuple[Timeline, dict[str, Clip]]:
    clips = {"Hold.": voice(0.8, 300, 0.7), "Breathe.": voice(1.5, 220, 0.6)}
    events = []
    for k in range(12):
        text = "Hold." if k % 2 else "Breathe."
        events.append(Event(2_000 + 5_000 * k, clips[text].duration_ms, "cue", text, 1))
    return Timeline("T", 63_000, tuple(events), ()), clips


def bed_file(path: Path, seconds: float) -> Path:
    t = np.arange(round(seconds * RATE)) / RATE
    x = 0.3 * np.sin(2 * np.pi * 97 * t) + 0.1 * np.random.default_rng(3).normal(size=t.size)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


BEDS = {
    "rain": Bed("rain"),
    "drone": Bed("drone"),
    "pace": Bed("pace", 100),
}


def plan_for(kind: str, tmp_path: Path) -> BedPlan:
    if kind == "file":
        require_program("ffmpeg")
        spec = Bed("file", path=str(bed_file(tmp_path / "bed.wav", 7.0)))
    else:
        spec = BEDS[kind]
    # Louder than the default, and a change of bed, so that any error would show.
    return BedPlan(((0, spec), (30_000, Bed("drone"))), BedLevels(level_lu=-10, duck_db=12))


@pytest.mark.parametrize("kind", ["rain", "drone", "pace", "file", "streamed file"])
def test_the_parts_read_as_the_meter_reads_the_rendered_mix(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file over IN_MEMORY_S is decoded as it plays and has no K-weighted source: its
    part is filtered as it comes."""
    if kind == "streamed file":
        monkeypatch.setattr(bed, "IN_MEMORY_S", 5)
        kind = "file"
    timeline, clips = routine()
    plan = plan_for(kind, tmp_path)
    metered = measure_pcm(render(timeline, clips, RATE, bed=plan), RATE)
    parts = measure_mix(timeline, clips, RATE, plan).measurement()
    assert parts.integrated_lufs == pytest.approx(metered.integrated_lufs, abs=0.01)
    assert parts.true_peak_dbtp == pytest.approx(metered.true_peak_dbtp, abs=0.001)


@pytest.mark.parametrize("kind", ["rain", "pace"])
def test_limited_speech_and_a_quieter_bed_are_worked_out_from_the_parts(
    kind: str, tmp_path: Path
) -> None:
    timeline, clips = routine()
    plan = plan_for(kind, tmp_path)
    parts = measure_mix(timeline, clips, RATE, plan)
    limited = {text: limit_clip(c, -9.0) for text, c in clips.items()}
    shift_lu = -1.5
    quieter = plan.shifted(shift_lu)
    metered = measure_pcm(render(timeline, limited, RATE, bed=quieter), RATE)
    placed = event_clips(timeline, limited, RATE)
    speech = placed_energies(placed, total_frames(timeline, RATE), RATE)
    gain = 10 ** (shift_lu / 20)
    peak = mix_true_peak(timeline, limited, RATE, quieter, gain * parts.bed_peak)
    worked_out = parts.with_speech(speech, gain, peak)
    assert worked_out.integrated_lufs == pytest.approx(metered.integrated_lufs, abs=0.01)
    assert worked_out.true_peak_dbtp == pytest.approx(metered.true_peak_dbtp, abs=0.001)
    assert 20 * math.log10(peak) == pytest.approx(metered.true_peak_dbtp, abs=0.001)
