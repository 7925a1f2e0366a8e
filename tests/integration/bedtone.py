"""A sound file to use as a bed that can be told apart from speech: a low steady tone
(below any voice's pitch), and where to measure it against a timeline.

The tone's level in a window is its amplitude fitted by least squares (sine and
cosine at its frequency), which the speech over it hardly moves.
"""

from __future__ import annotations

import math
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

TONE_HZ = 60.0
WINDOW_MS = 300
"""18 periods of the tone: a narrow band, steady under a cue."""
EDGE_MS = (2_500, 3_500)
"""Left out at the start and the end: the bed fades in (2 s) and out (3 s) there."""
DUCK_DOWN_MS = 150
DUCK_UP_MS = 400
"""The bed is down from 150 ms before a cue to its end, and back up 400 ms later."""


def tone_file(path: Path, seconds: float) -> Path:
    """An MP3 of the tone, `seconds` long, made by ffmpeg."""
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency={TONE_HZ:g}:sample_rate=44100:duration={seconds:g}",
            "-c:a", "libmp3lame", "-b:a", "96k", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


def tone_db(samples: npt.NDArray[Any], rate: int, a_ms: float, b_ms: float) -> float:
    """The tone's amplitude (dBFS) in [a_ms, b_ms) of `samples` (int16)."""
    a, b = int(a_ms * rate / 1000), int(b_ms * rate / 1000)
    x = samples[a:b].astype(np.float64) / 32768.0
    t = np.arange(x.size) / rate
    basis = np.stack([np.sin(2 * np.pi * TONE_HZ * t), np.cos(2 * np.pi * TONE_HZ * t)], axis=1)
    (s, c), *_ = np.linalg.lstsq(basis, x, rcond=None)
    return 20 * math.log10(max(math.hypot(s, c), 1e-9))


def quiet_windows(events: Sequence[dict[str, Any]], total_ms: int) -> list[float]:
    """Starts (timeline ms) of windows where nothing sounds and the bed is fully up."""
    spans = [(e["start_ms"], e["start_ms"] + e["duration_ms"]) for e in events]
    starts = []
    for (_, end), (start, _) in zip(spans, [*spans[1:], (total_ms, total_ms)], strict=True):
        at = end + DUCK_UP_MS + 100
        while at + WINDOW_MS <= start - DUCK_DOWN_MS - 50:
            if EDGE_MS[0] <= at and at + WINDOW_MS <= total_ms - EDGE_MS[1]:
                starts.append(float(at))
            at += WINDOW_MS
    return starts


def cue_windows(events: Sequence[dict[str, Any]], total_ms: int) -> list[float]:
    """Starts (timeline ms) of windows inside spoken cues, where the bed is fully down."""
    return [
        float(e["start_ms"] + 50)
        for e in events
        if e["kind"] != "chime"
        and e["duration_ms"] >= WINDOW_MS + 100
        and EDGE_MS[0] <= e["start_ms"]
        and e["start_ms"] + e["duration_ms"] <= total_ms - EDGE_MS[1]
    ]


def bed_levels(
    samples: npt.NDArray[Any],
    rate: int,
    events: Sequence[dict[str, Any]],
    total_ms: int,
    offset_ms: float = 0.0,
) -> tuple[float, float]:
    """(Median tone level in the silences, under the cues), dBFS; timeline ms + `offset_ms`
    is where a moment is in `samples`."""
    quiet, cues = quiet_windows(events, total_ms), cue_windows(events, total_ms)
    assert len(quiet) >= 3 and len(cues) >= 2, f"too few windows: {quiet} {cues}"

    def level(starts: list[float]) -> float:
        return statistics.median(
            tone_db(samples, rate, s + offset_ms, s + offset_ms + WINDOW_MS) for s in starts
        )

    return level(quiet), level(cues)


def without_tone(samples: npt.NDArray[np.int16], rate: int) -> npt.NDArray[np.int16]:
    """`samples` with everything under 150 Hz taken out (the bed's tone), for finding
    where speech starts."""
    spectrum = np.fft.rfft(samples.astype(np.float64))
    spectrum[: int(150 * samples.size / rate)] = 0
    return np.round(np.fft.irfft(spectrum, samples.size)).astype(np.int16)
