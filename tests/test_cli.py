"""The command line, through typer's runner, with the fake engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from typer.testing import CliRunner

from voice_coach.cli import app
from voice_coach.export.tags import read_chapters

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_help_lists_every_command_with_an_example() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("list", "validate", "show", "export"):
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert "Example: voice-coach" in sub.output, command


def test_list_shows_bundled_routines() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "sciatica-relief" in result.output and "Sciatica relief" in result.output


def test_show_json_is_the_timeline_contract(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    result = runner.invoke(app, ["show", FULL, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    golden = json.loads((ROUTINES.parent / "golden" / "full.json").read_text())
    assert data == golden


def test_show_table_is_readable(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    result = runner.invoke(app, ["show", FULL])
    assert result.exit_code == 0, result.output
    assert "Full: 2 min 01 s, 2 exercises, 4 holds" in result.output
    assert "Ten seconds left." in result.output and "countdown" in result.output


def test_unknown_routine_lists_the_bundled_ones() -> None:
    result = runner.invoke(app, ["show", "no-such-routine"])
    assert result.exit_code == 2
    assert "no routine file or bundled routine named 'no-such-routine'" in result.output
    assert "sciatica-relief" in result.output
    assert "Traceback" not in result.output


def test_unknown_engine_lists_the_choices(cache_dir: Path) -> None:
    result = runner.invoke(app, ["show", FULL, "--engine", "nope"])
    assert result.exit_code == 1
    assert "unknown engine 'nope'; choose one of:" in result.output
    assert "pyttsx3" in result.output


def test_bad_export_options_are_reported_together(
    fake_engine: type[FakeEngine], tmp_path: Path
) -> None:
    out = tmp_path / "x.flac"
    result = runner.invoke(
        app, ["export", FULL, "--format", "flac", "--bitrate", "65", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert "unknown format 'flac'; allowed: mp3, ogg, m4a, wav" in result.output
    assert "65 is not allowed" in result.output
    assert not out.exists()


def test_invalid_routine_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.mp3"
    result = runner.invoke(
        app, ["export", str(ROUTINES / "invalid-zero-hold.yaml"), "-o", str(out)]
    )
    assert result.exit_code == 2
    assert "steps[1].hold" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_mp3_with_tags_and_chapters(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    from mutagen.id3 import ID3

    out = tmp_path / "deep" / "full.mp3"
    result = runner.invoke(app, ["export", FULL, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    tags = ID3(out)
    assert str(tags["TIT2"]) == "Full"
    assert "engine fake" in str(tags.getall("COMM")[0])
    golden = json.loads((ROUTINES.parent / "golden" / "full.json").read_text())
    chapters = [(c.title, c.start_ms, c.end_ms) for c in read_chapters(out)]
    assert chapters == [(c["title"], c["start_ms"], c["end_ms"]) for c in golden["chapters"]]
    assert sorted(p.name for p in out.parent.iterdir()) == ["full.mp3"]


def test_export_default_path_is_exports_slug(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffmpeg")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["export", FULL, "--format", "wav"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "exports" / "full.wav").stat().st_size > 1000
