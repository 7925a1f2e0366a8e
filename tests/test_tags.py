"""Tags, chapters and the cover as each export format carries them, read back with
mutagen, ffprobe and by hand."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from test_cover import assert_square_png
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export import cover as cover_module
from voice_coach.export.cover import CoverText

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")


def export(tmp_path: Path, fmt: str, *args: str) -> Path:
    target = tmp_path / f"full.{fmt}"
    result = runner.invoke(
        app, ["export", FULL, "-f", fmt, "-o", str(target), "--checkin", "off", *args]
    )
    assert result.exit_code == 0, result.output
    return target


def ffprobe_chapters(path: Path) -> list[tuple[str, int, int]]:
    data = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
            capture_output=True,
            check=True,
        ).stdout
    )
    return [
        (
            c["tags"]["title"],
            round(float(c["start_time"]) * 1000),
            round(float(c["end_time"]) * 1000),
        )
        for c in data["chapters"]
    ]


def golden_chapters() -> list[tuple[str, int, int]]:
    golden = json.loads((ROUTINES.parent / "golden" / "full.json").read_text())
    return [(c["title"], c["start_ms"], c["end_ms"]) for c in golden["chapters"]]


def test_mp3_has_a_front_cover(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    from mutagen.id3 import ID3, PictureType

    (apic,) = ID3(export(tmp_path, "mp3")).getall("APIC")
    assert apic.type == PictureType.COVER_FRONT and apic.mime == "image/png"
    assert_square_png(apic.data)


def id3_frames(path: Path) -> list[tuple[str, bytes]]:
    """The frames of an MP3's ID3v2.3 tag in file order, read by hand so that no
    library's own ordering can hide the file's."""
    data = path.read_bytes()
    assert data[:4] == b"ID3\x03"
    end = 10 + sum(b << 7 * (3 - i) for i, b in enumerate(data[6:10]))  # sync-safe size
    frames, pos = [], 10
    while pos + 10 <= end and data[pos] != 0:  # padding is zeros
        size = int.from_bytes(data[pos + 4 : pos + 8], "big")
        frames.append((data[pos : pos + 4].decode("ascii"), data[pos + 10 : pos + 10 + size]))
        pos += 10 + size
    return frames


def test_mp3_chapter_frames_are_in_time_order(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    """Players that ignore the CTOC list chapters in the order of the CHAP frames."""
    require_program("ffmpeg")
    require_program("ffprobe")
    path = export(tmp_path, "mp3")
    starts_ms = []
    for frame_id, body in id3_frames(path):
        if frame_id == "CHAP":
            element_id_end = body.index(b"\0") + 1
            starts_ms.append(int.from_bytes(body[element_id_end : element_id_end + 4], "big"))
    assert starts_ms == [start_ms for _, start_ms, _ in golden_chapters()]
    assert ffprobe_chapters(path) == golden_chapters()
    assert ffprobe_chapters(path)[0][0] == "Introduction"


def test_m4a_has_cover_and_chapters(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    require_program("ffprobe")
    from mutagen.mp4 import MP4

    path = export(tmp_path, "m4a")
    tags = MP4(path).tags
    assert tags is not None
    assert_square_png(bytes(tags["covr"][0]))
    assert tags["©nam"] == ["Full (pain check-in off)"] and tags["trkn"] == [(1, 0)]
    assert ffprobe_chapters(path) == golden_chapters()


def test_ogg_has_cover_tags_and_chapters(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    require_program("ffprobe")
    from mutagen.flac import Picture
    from mutagen.oggvorbis import OggVorbis

    path = export(tmp_path, "ogg")
    tags = OggVorbis(path).tags
    assert tags is not None
    assert tags["TITLE"] == ["Full (pain check-in off)"] and "engine fake" in tags["COMMENT"][0]
    picture = Picture(base64.b64decode(tags["METADATA_BLOCK_PICTURE"][0]))
    assert picture.mime == "image/png" and (picture.width, picture.height) == (600, 600)
    assert_square_png(picture.data)
    assert ffprobe_chapters(path) == golden_chapters()


def test_wav_has_no_cover(
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_program("ffmpeg")
    made: list[CoverText] = []
    monkeypatch.setattr(cover_module, "cover_png", lambda text: made.append(text) or b"")
    export(tmp_path, "wav")
    assert made == []
