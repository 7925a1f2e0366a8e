"""An imported routine exports like any other: a routine read from another tool's file
(apg, OpenHIIT) becomes an MP3 whose chapters are its steps, named as in the source."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, FakeEngine, require_program
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.tags import read_chapters

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("fixture", "routine", "chapters"),
    [
        (
            "apg/qigong.txt",
            "qigong",
            ["Introduction", "Relax your body", "Great tai chi circle", "Hugging the (tree)"],
        ),
        (
            "openhiit/timers.json",
            "plank-ladder",
            ["Introduction", "Rest, then Work", "Work", "Work"],
        ),
    ],
)
def test_an_import_exports_with_its_steps_as_chapters(
    tmp_path: Path,
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    fixture: str,
    routine: str,
    chapters: list[str],
) -> None:
    require_program("ffmpeg")
    runner = CliRunner()
    imported = runner.invoke(app, ["import", str(FIXTURES / "imports" / fixture)])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / f"{routine}.mp3"
    exported = runner.invoke(app, ["export", routine, "--engine", "fake", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert [c.title for c in read_chapters(out)] == chapters
