"""Cover art in every export, the week label, and the timeline picture."""

from __future__ import annotations

import base64
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROUTINES, FakeEngine, require_program
from PIL import Image
from typer.testing import CliRunner

from voice_coach.cli.app import app
from voice_coach.export import cover as cover_module
from voice_coach.export.cover import COVER_SIZE_PX, CoverText, cover_png
from voice_coach.export.plot import BACKGROUND, KIND_COLOURS, PLOT_SIZE_PX, column_peaks

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")
PROGRESSIVE = """\
title: Build up
voice: {engine: fake}
progression:
  hold: {start: 20, add: 5, every: week, max: 40}
steps:
  - name: Reach
    hold: 30
"""


def assert_square_png(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (COVER_SIZE_PX, COVER_SIZE_PX)


def test_cover_is_a_deterministic_square_png() -> None:
    a = cover_png(CoverText("Sciatica relief", "Week 2"))
    assert_square_png(a)
    assert cover_png(CoverText("Sciatica relief", "Week 2")) == a
    assert cover_png(CoverText("Sciatica relief")) != a
    long = cover_png(CoverText("A very long routine title " * 8))
    assert_square_png(long)


def export(tmp_path: Path, fmt: str, *args: str) -> Path:
    target = tmp_path / f"full.{fmt}"
    result = runner.invoke(app, ["export", FULL, "-f", fmt, "-o", str(target), *args])
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
    assert tags["©nam"] == ["Full"] and tags["trkn"] == [(1, 0)]
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
    assert tags["TITLE"] == ["Full"] and "engine fake" in tags["COMMENT"][0]
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


@pytest.mark.parametrize(
    ("routine", "args", "stage"),
    [("progressive", ["--week", "3"], "Week 3"), ("full", ["--week", "3"], "")],
)
def test_cover_names_the_week_of_a_progression(
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    routine: str,
    args: list[str],
    stage: str,
) -> None:
    require_program("ffmpeg")
    made: list[CoverText] = []

    def recording(text: CoverText) -> bytes:
        made.append(text)
        return cover_png(text)

    monkeypatch.setattr(cover_module, "cover_png", recording)
    path = tmp_path / "progressive.yaml"
    path.write_text(PROGRESSIVE)
    source = str(path) if routine == "progressive" else FULL
    result = runner.invoke(app, ["export", source, *args, "-o", str(tmp_path / "x.mp3")])
    assert result.exit_code == 0, result.output
    title = "Build up" if routine == "progressive" else "Full"
    assert made == [CoverText(title, stage)]


def test_show_plot_draws_the_timeline(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    png = tmp_path / "pics" / "full.png"
    result = runner.invoke(app, ["show", FULL, "--json", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"] == "Full"  # stdout stays JSON
    assert f"wrote {png}" in result.stderr
    image = Image.open(png)
    assert image.format == "PNG" and image.size == PLOT_SIZE_PX
    wave_area = np.asarray(image.convert("RGB"))[70:290, 30:-30]
    inked = np.any(wave_area != np.array(BACKGROUND), axis=2).mean()
    assert 0.05 < inked < 0.95, inked
    assert sorted(p.name for p in png.parent.iterdir()) == ["full.png"]


def test_the_plot_marks_flow_lines_and_counted_reps_in_their_colours(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    png = tmp_path / "paced.png"
    paced = str(ROUTINES / "paced.yaml")
    result = runner.invoke(app, ["show", paced, "--engine", "fake", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    marks = np.asarray(Image.open(png).convert("RGB"))[310:326, 24:-24].reshape(-1, 3)
    for kind in ("flow", "count", "release"):
        assert (marks == np.array(KIND_COLOURS[kind])).all(axis=1).any(), kind


def test_column_peaks_streams_min_and_max_per_column() -> None:
    rng = np.random.default_rng(1)
    samples = rng.integers(-30000, 30000, 10_007).astype("<i2")
    chunks = [samples[i : i + 997].tobytes() for i in range(0, samples.size, 997)]
    lows, highs = column_peaks(chunks, samples.size, 37)
    cols = np.arange(samples.size) * 37 // samples.size
    for c in range(37):
        assert lows[c] == min(0, samples[cols == c].min())
        assert highs[c] == max(0, samples[cols == c].max())


def test_the_cover_says_which_bed_is_under_it() -> None:
    plain = cover_png(CoverText(title="Walking session"))
    bedded = cover_png(CoverText(title="Walking session", bed="pace 90, pace 115"))
    assert plain != bedded
