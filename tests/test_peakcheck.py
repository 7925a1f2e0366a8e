"""Exports read their true peak as a player decodes the file (`DecodedPeak`, real
ffmpeg), while it is written where the format allows, and are encoded again with more
room while it is over the ceiling (`within_ceiling`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require_program

from voice_coach import proc
from voice_coach.audio.loudness import TruePeakMeter
from voice_coach.errors import ToolError
from voice_coach.export import peakcheck
from voice_coach.export.encode import (
    DECODED_CEILING_DBTP,
    ENCODINGS,
    FORMATS,
    RETRY_MARGIN_DB,
    Room,
    encode_pcm,
    within_ceiling,
)
from voice_coach.export.peakcheck import DecodedPeak, OverCeiling
from voice_coach.export.tags import Tags

RATE = 22050


def speechlike(seconds: float = 6.0, seed: int = 3) -> np.ndarray:
    """Bursts of a buzzy tone near full scale with silences between: what codecs
    raise the peaks of."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    buzz = np.sign(np.sin(2 * np.pi * 140 * t)) * 0.5 + 0.3 * rng.standard_normal(t.size)
    gate = (np.sin(2 * np.pi * 0.7 * t) > 0).astype(float)
    x = buzz * gate
    return np.clip(np.round(x / np.abs(x).max() * 0.8 * 32767), -32768, 32767).astype("<i2")


def encoded(tmp_path: Path, fmt: str, samples: np.ndarray | None = None) -> Path:
    require_program("ffmpeg")
    out = tmp_path / f"tone.{fmt}"
    pcm = (speechlike() if samples is None else samples).tobytes()
    encode_pcm([pcm], RATE, out, FORMATS[fmt], None, Tags("tone"), (), None)
    return out


def decoded_dbtp(path: Path) -> float:
    """The file's true peak, decoded to floats (nothing clipped at full scale)."""
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-f", "f32le", "-ac", "1", "-"]
    meter = TruePeakMeter()
    meter.add(np.frombuffer(proc.run(args), dtype="<f4").astype(np.float64))
    return meter.dbtp()


# --- within_ceiling: pure ------------------------------------------------------------


M = RETRY_MARGIN_DB
C = DECODED_CEILING_DBTP


@pytest.mark.parametrize(
    ("peaks", "check", "rooms", "ceilings"),
    [
        ([-1.5], True, [Room()], [C]),
        ([-0.75, -1.2], True, [Room(), Room(0.3 + M)], [C, C]),
        (  # limiting did not bring it down: the file is turned down
            [-0.75, -0.85, -1.1],
            True,
            [Room(), Room(0.3 + M), Room(0.3 + M, 0.2 + M)],
            [C, C, C],
        ),
        (  # the last run is not checked
            [-0.75, -0.85, -1.0, -1.0],
            True,
            [Room(), Room(0.3 + M), Room(0.3 + M, 0.2 + M), Room(0.3 + M, 0.25 + 2 * M)],
            [C, C, C, None],
        ),
        ([-0.5], False, [Room()], [None]),  # lossless: nothing to check
    ],
)
def test_an_encoding_over_the_ceiling_runs_again_with_the_room_it_needed(
    peaks: list[float], check: bool, rooms: list[Room], ceilings: list[float | None]
) -> None:
    calls: list[tuple[Room, float | None]] = []

    def encode_once(room: Room, ceiling_dbtp: float | None) -> None:
        calls.append((room, ceiling_dbtp))
        peak = peaks[len(calls) - 1]
        if ceiling_dbtp is not None and peak > ceiling_dbtp:
            raise OverCeiling(peak, ceiling_dbtp)

    assert within_ceiling(encode_once, check) == len(rooms) <= ENCODINGS
    assert [c for _, c in calls] == ceilings
    for (room, _), expected in zip(calls, rooms, strict=True):
        assert room.limit_db == pytest.approx(expected.limit_db)
        assert room.lower_db == pytest.approx(expected.lower_db)


# --- DecodedPeak: real ffmpeg ----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "m4a"])
def test_the_decoded_peak_is_the_files_as_ffmpeg_decodes_it(tmp_path: Path, fmt: str) -> None:
    path = encoded(tmp_path, fmt)
    with DecodedPeak(path, follow=False) as peak:
        assert peak.written() == pytest.approx(decoded_dbtp(path), abs=1e-9)


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_a_file_followed_as_it_is_written_reads_as_the_finished_file(
    tmp_path: Path, fmt: str
) -> None:
    """Written a piece at a time (slower than the follower polls), the followed file
    gives the peak of the finished one."""
    whole = encoded(tmp_path, fmt, speechlike(seconds=20))
    data = whole.read_bytes()
    growing = tmp_path / f"growing.{fmt}"
    growing.write_bytes(b"")
    with DecodedPeak(growing, follow=True) as peak, growing.open("ab") as out:
        for i in range(0, len(data), 7001):
            out.write(data[i : i + 7001])
            out.flush()
            time.sleep(peakcheck.POLL_S / 4)
        out.close()
        assert peak.written() == pytest.approx(decoded_dbtp(whole), abs=1e-9)


@pytest.mark.parametrize("follow", [False, True])
def test_a_file_that_is_not_audio_is_a_tool_error(tmp_path: Path, follow: bool) -> None:
    require_program("ffmpeg")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"not audio at all " * 4000)
    with DecodedPeak(junk, follow) as peak, pytest.raises(ToolError, match="ffmpeg failed"):
        peak.written()


def test_a_decoder_that_hangs_up_part_way_is_a_tool_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = encoded(tmp_path, "mp3", speechlike(seconds=30))
    hangs_up = ["sh", "-c", "head -c 3000 >/dev/null; echo 'decoder gone' >&2; exit 3"]
    monkeypatch.setattr(peakcheck, "_decoder", lambda source, fed: proc.Reading(hangs_up, fed))
    before = threading.active_count()
    with DecodedPeak(path, follow=True) as peak, pytest.raises(ToolError, match="decoder gone"):
        peak.written()
    assert threading.active_count() == before


def test_a_file_deleted_before_it_is_read_is_an_os_error(tmp_path: Path) -> None:
    require_program("ffmpeg")
    gone = tmp_path / "gone.mp3"
    with DecodedPeak(gone, follow=True) as peak, pytest.raises(FileNotFoundError):
        peak.written()


def test_leaving_the_block_part_way_stops_the_decoder_and_its_threads(tmp_path: Path) -> None:
    """The encoder failed (or Ctrl+C) while the follower waits for more: nothing hangs."""
    path = encoded(tmp_path, "mp3")
    half = tmp_path / "half.mp3"
    half.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = threading.active_count()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), DecodedPeak(half, follow=True):
        time.sleep(0.2)  # the follower has read what there is and waits for more
        raise KeyboardInterrupt
    assert threading.active_count() == before
    assert time.monotonic() - started < 5


# --- encode_pcm and exports ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_a_file_over_the_ceiling_is_never_put_in_place(tmp_path: Path, fmt: str) -> None:
    require_program("ffmpeg")
    target = tmp_path / "out" / f"loud.{fmt}"
    loud = speechlike().tobytes()  # samples at -1.9 dBFS: over -3 however encoded
    with pytest.raises(OverCeiling) as over:
        encode_pcm([loud], RATE, target, FORMATS[fmt], None, Tags("x"), (), None, None, -3.0)
    assert over.value.excess_db > 0
    assert list(target.parent.iterdir()) == []  # no file, no partial
    encode_pcm([loud], RATE, target, FORMATS[fmt], None, Tags("x"), (), None, None, 0.0)
    assert decoded_dbtp(target) <= 0.0
