"""Where sound starts in real exported audio: decode with ffmpeg, measure short-window level.

The analysis runs on a grid of 1 ms steps. The level at step i is the RMS of the
5 ms window starting at i ms, in dBFS. A step is "loud" when its level reaches the
threshold; an onset is a loud step after at least `min_quiet_ms` of quiet ones (the
start of the file counts as quiet).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 22050
WINDOW_MS = 5
THRESHOLD_DBFS = -45.0
"""-40 dBFS catches soft consonants ("Three", "Hold") up to ~27 ms late, too close to the
30 ms tolerance; -45 finds every onset within a few ms and is still far above the MP3's
silence (digital zero)."""
MIN_QUIET_MS = 100
FULL_SCALE = 32768.0
FORMAT_ARGS = ("-f", "s16le", "-ac", "1", "-ar")


def decode(path: Path, rate: int = RATE) -> npt.NDArray[np.int16]:
    """Decode any audio file to mono signed 16-bit samples at `rate` (ffmpeg)."""
    pcm = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), *FORMAT_ARGS, str(rate), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return np.frombuffer(pcm, dtype="<i2")


def duration_ms(samples: npt.NDArray[np.int16], rate: int = RATE) -> float:
    return samples.size * 1000 / rate


@dataclass(frozen=True)
class Levels:
    """Level in dBFS of the window starting at each whole millisecond."""

    db: npt.NDArray[np.float64]
    threshold_db: float = THRESHOLD_DBFS

    @property
    def loud(self) -> npt.NDArray[np.bool_]:
        return self.db >= self.threshold_db

    def loud_ms(self) -> npt.NDArray[np.intp]:
        """Start (ms) of every loud window."""
        return np.flatnonzero(self.loud)


def levels(
    samples: npt.NDArray[np.int16],
    rate: int = RATE,
    window_ms: int = WINDOW_MS,
    threshold_db: float = THRESHOLD_DBFS,
) -> Levels:
    """RMS level of a `window_ms` window starting at every whole millisecond."""
    if samples.size * 1000 // rate == 0:
        return Levels(np.zeros(0), threshold_db)  # less than a millisecond: nothing to measure
    s = samples.astype(np.float64)
    # Energy of each millisecond (boundaries rounded to samples), then sums of
    # `window_ms` consecutive milliseconds.
    n_ms = samples.size * 1000 // rate
    bounds = np.round(np.arange(n_ms + 1) * rate / 1000).astype(np.int64)
    per_ms = np.add.reduceat(s * s, bounds[:-1]) if n_ms else np.zeros(0)
    counts = np.diff(bounds).astype(np.float64)
    kernel = np.ones(window_ms)
    energy = np.convolve(per_ms, kernel)[window_ms - 1 :]
    count = np.convolve(counts, kernel)[window_ms - 1 :]
    rms = np.sqrt(energy / np.maximum(count, 1))
    db = 20 * np.log10(np.maximum(rms, 1e-3) / FULL_SCALE)
    return Levels(db, threshold_db)


def onsets(lv: Levels, min_quiet_ms: int = MIN_QUIET_MS) -> list[int]:
    """Milliseconds at which sound starts after at least `min_quiet_ms` of quiet."""
    loud = lv.loud_ms()
    if loud.size == 0:
        return []
    gaps = np.diff(loud) - 1  # quiet windows between consecutive loud ones
    starts = [int(loud[0])] + [
        int(t) for t, g in zip(loud[1:], gaps, strict=True) if g >= min_quiet_ms
    ]
    return starts


def nearest(values: Sequence[int], target: float) -> int | None:
    return min(values, key=lambda v: abs(v - target)) if values else None


def outside(times: Iterable[int], spans: Sequence[tuple[float, float]]) -> list[int]:
    """The times not inside any of `spans` (inclusive)."""
    return [t for t in times if not any(a <= t <= b for a, b in spans)]
