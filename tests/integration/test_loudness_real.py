"""Our BS.1770 meter against ffmpeg's `ebur128` filter on the same generated signals.

ffmpeg's filter runs at 48 kHz only. Its automatic resampler shifts readings of other
rates by a few hundredths of an LU (and cuts the top octave, which the K-weighting
boosts), so the signals go through an explicit sharp resampler first. The summary
prints one decimal: a difference of 0.1 allows 0.05 for that rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from conftest import require_program
from ebur128 import Ebur128Summary, parse_ebur128_summary
from test_loudness import bursts, pink, sine

from voice_coach import proc
from voice_coach.audio.clip import Clip, clip_from_wav_bytes, trim_silence
from voice_coach.audio.loudness import (
    TARGET_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    LoudnessMeter,
    normalize_clip,
)

pytestmark = pytest.mark.integration

SIGNALS: dict[str, Callable[[int], npt.NDArray[np.int16]]] = {
    "sine": sine,
    "pink": pink,
    "bursts": bursts,
}


def ffmpeg_ebur128(wav: Path) -> Ebur128Summary:
    require_program("ffmpeg")
    # ffmpeg logs the summary on stderr and proc.run returns stdout: a shell joins them.
    log = proc.run(
        [
            "sh",
            "-c",
            'exec "$0" "$@" 2>&1',
            "ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-nostats",
            "-i",
            str(wav),
            "-af",
            "aresample=48000:filter_size=256:cutoff=0.995,ebur128=peak=true:framelog=verbose",
            "-f",
            "null",
            "-",
        ]
    )
    return parse_ebur128_summary(log.decode("utf-8", "replace"))


@pytest.mark.parametrize("rate", [22050, 48000])
@pytest.mark.parametrize("name", list(SIGNALS))
def test_meter_agrees_with_ffmpeg(tmp_path: Path, name: str, rate: int) -> None:
    samples = SIGNALS[name](rate)
    wav = tmp_path / f"{name}-{rate}.wav"
    wav.write_bytes(Clip(samples.astype("<i2").tobytes(), rate).to_wav_bytes())
    meter = LoudnessMeter(rate)
    meter.add(samples)

    theirs = ffmpeg_ebur128(wav)

    assert meter.integrated_lufs() == pytest.approx(theirs.integrated_lufs, abs=0.1)
    assert theirs.true_peak_dbtp is not None
    assert meter.true_peak_dbtp() == pytest.approx(theirs.true_peak_dbtp, abs=0.15)


@pytest.mark.parametrize("voice", ["en", "en-us+f3", "en+m7"])
def test_normalized_speech_reads_the_target_in_ffmpeg(tmp_path: Path, voice: str) -> None:
    """Whatever the voice, a normalized cue reads -16 LUFS to ffmpeg, peaks held down."""
    require_program("espeak-ng")
    text = "Lie on your back and bend both knees. Breathe in, and hold the stretch."
    raw = tmp_path / "spoken.wav"
    proc.run(["espeak-ng", "-v", voice, "-w", str(raw), text])
    clip = normalize_clip(trim_silence(clip_from_wav_bytes(raw.read_bytes())))
    wav = tmp_path / "cue.wav"
    wav.write_bytes(clip.to_wav_bytes())

    theirs = ffmpeg_ebur128(wav)

    assert theirs.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.1)
    assert theirs.true_peak_dbtp is not None
    assert theirs.true_peak_dbtp <= TRUE_PEAK_CEILING_DBTP


def _available_engines() -> list[str]:
    from voice_coach.speech import engine_statuses

    return [s.name for s in engine_statuses() if s.unavailable_reason is None]


EXPORT_ROUTINE = """\
title: Loudness check
intro: [Go gently.]
steps:
  - name: Knee hug
    setup: [Lie on your back., Draw both knees toward your chest.]
    hold: 6
    remaining: [4]
    during: [Breathe slowly.]
    release: Lower your feet.
  - rest: 3
  - name: Reach
    hold: 5
"""


@pytest.mark.parametrize("engine", _available_engines())
@pytest.mark.parametrize("fmt", ["mp3", "wav"])
def test_every_engine_exports_at_the_target_loudness(tmp_path: Path, engine: str, fmt: str) -> None:
    """Whatever the engine: -16 LUFS integrated (±1 LU), true peak <= -1 dBTP, by ffmpeg."""
    require_program("ffmpeg")
    from typer.testing import CliRunner

    from voice_coach.cli.app import app

    routine = tmp_path / "loud.yaml"
    routine.write_text(EXPORT_ROUTINE)
    out = tmp_path / f"loud.{fmt}"
    result = CliRunner().invoke(
        app,
        [
            "export",
            str(routine),
            "-o",
            str(out),
            "--format",
            fmt,
            "--engine",
            engine,
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    theirs = ffmpeg_ebur128(out)
    assert theirs.integrated_lufs == pytest.approx(TARGET_LUFS, abs=1.0)
    assert theirs.true_peak_dbtp is not None
    assert theirs.true_peak_dbtp <= TRUE_PEAK_CEILING_DBTP + 0.1  # the summary's rounding
