"""Clips: trimming silence, WAV bytes, resampling."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE_RATE

from voice_coach.audio.clip import Clip, clip_from_wav_bytes, resample, trim_silence


def tone(ms: int, rate: int = SAMPLE_RATE, amp: float = 0.3) -> np.ndarray:
    t = np.arange(rate * ms // 1000) / rate
    return (amp * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2")


def clip_of(samples: np.ndarray, rate: int = SAMPLE_RATE) -> Clip:
    return Clip(samples.astype("<i2").tobytes(), rate)


def test_trim_silence_removes_lead_and_keeps_a_short_tail() -> None:
    silence = np.zeros(SAMPLE_RATE // 2, dtype="<i2")
    clip = clip_of(np.concatenate([silence, tone(200), silence]))
    trimmed = trim_silence(clip)
    s = trimmed.samples()
    head = SAMPLE_RATE * 5 // 1000
    assert np.all(s[: head - 1] == 0)
    assert np.abs(s[head : head + 50]).max() > 500
    assert trimmed.duration_ms == pytest.approx(200 + 5 + 40, abs=2)


def test_trim_silence_keeps_an_all_quiet_clip() -> None:
    clip = clip_of(np.zeros(100, dtype="<i2"))
    assert trim_silence(clip) == clip


def test_wav_round_trip_and_truncation_is_detected() -> None:
    clip = clip_of(tone(100))
    data = clip.to_wav_bytes()
    assert clip_from_wav_bytes(data) == clip
    with pytest.raises(EOFError):
        clip_from_wav_bytes(data[:-100])


def test_resample_keeps_duration() -> None:
    clip = clip_of(tone(500, rate=16000), rate=16000)
    out = resample(clip, 22050)
    assert out.sample_rate == 22050
    assert out.duration_ms == pytest.approx(500, abs=1)
