"""The audio value every stage passes around: an immutable clip of mono 16-bit PCM.

Speech engines make clips, the cache stores them as WAV, the mixer places them on a
timeline. Every operation returns a new clip (nothing is changed in place).
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SAMPLE_WIDTH_BYTES = 2
SILENCE_THRESHOLD = 500
"""|sample| below this (about -36 dBFS) counts as silence when trimming speech."""
TRIM_KEEP_MS = 5
"""Silence kept before the first loud sample, so the onset is not clipped."""
TAIL_KEEP_MS = 40
"""Silence kept after the last loud sample, for the natural decay."""


@dataclass(frozen=True)
class Clip:
    """Mono signed 16-bit little-endian PCM."""

    pcm: bytes
    sample_rate: int

    @property
    def frames(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH_BYTES

    @property
    def duration_ms(self) -> int:
        """Length rounded up to a whole millisecond, so an event covers its clip."""
        return -(-self.frames * 1000 // self.sample_rate)

    def samples(self) -> npt.NDArray[np.int16]:
        return np.frombuffer(self.pcm, dtype="<i2")

    def to_wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(SAMPLE_WIDTH_BYTES)
            w.setframerate(self.sample_rate)
            w.writeframes(self.pcm)
        return buf.getvalue()


def clip_from_wav_bytes(data: bytes) -> Clip:
    """Decode a WAV; mixes stereo down to mono. Raises `wave.Error`/`EOFError` if broken."""
    with wave.open(io.BytesIO(data), "rb") as w:
        channels, width, rate, frames = (
            w.getnchannels(),
            w.getsampwidth(),
            w.getframerate(),
            w.getnframes(),
        )
        raw = w.readframes(frames)
    if width != SAMPLE_WIDTH_BYTES:
        raise wave.Error(f"expected 16-bit samples, got {8 * width}-bit")
    if len(raw) != frames * channels * width:
        raise EOFError(f"WAV data is truncated: {len(raw)} of {frames * channels * width} bytes")
    samples = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return Clip(samples.tobytes(), rate)


def trim_silence(clip: Clip) -> Clip:
    """The clip without the silence engines put around speech, so onsets are exact."""
    s = clip.samples()
    loud = np.flatnonzero(np.abs(s.astype(np.int32)) >= SILENCE_THRESHOLD)
    if loud.size == 0:
        return clip
    keep_head = clip.sample_rate * TRIM_KEEP_MS // 1000
    keep_tail = clip.sample_rate * TAIL_KEEP_MS // 1000
    start = max(0, int(loud[0]) - keep_head)
    end = min(s.size, int(loud[-1]) + 1 + keep_tail)
    return Clip(s[start:end].tobytes(), clip.sample_rate)


def resample(clip: Clip, sample_rate: int) -> Clip:
    """Linear-interpolation resampling (speech only; good enough for cue clips)."""
    if clip.sample_rate == sample_rate or clip.frames == 0:
        return clip
    s = clip.samples().astype(np.float64)
    n_out = round(clip.frames * sample_rate / clip.sample_rate)
    x_out = np.arange(n_out) * (clip.sample_rate / sample_rate)
    out = np.interp(x_out, np.arange(clip.frames), s)
    return Clip(np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes(), sample_rate)


def ms_to_frames(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000
