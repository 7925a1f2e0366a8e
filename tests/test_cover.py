"""Cover art: a deterministic square PNG naming the routine, its week and its bed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from PIL import Image
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export import cover as cover_module
from voice_coach.export.cover import COVER_SIZE_PX, CoverText, cover_png

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


@pytest.mark.parametrize(
    ("routine", "args", "stage"),
    [("progressive", ["--week", "3"], "Stage 3 of 5"), ("full", ["--week", "3"], "")],
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


def test_the_cover_says_which_bed_is_under_it() -> None:
    plain = cover_png(CoverText(title="Walking session"))
    bedded = cover_png(CoverText(title="Walking session", bed="pace 90, pace 115"))
    assert plain != bedded


def test_the_export_names_the_stage_in_its_file_name_and_comment(
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mutagen.id3 import ID3

    require_program("ffmpeg")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "progressive.yaml"
    path.write_text(PROGRESSIVE)
    result = runner.invoke(app, ["export", str(path), "--stage", "3"])
    assert result.exit_code == 0, result.output
    (comment,) = ID3(tmp_path / "exports" / "progressive-week3.mp3").getall("COMM")
    assert "stage 3 of 5, pinned: holds at 30 s" in str(comment)
