"""The command line, through typer's runner, with the fake engine."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import ROUTINES, FakeEngine, require_program
from partials import killed_writer, live_writer
from typer.testing import CliRunner

from voice_coach.atomic import sweep_partials
from voice_coach.cli.commands import app
from voice_coach.export import encode as export_encode
from voice_coach.export.tags import read_chapters

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_help_lists_every_command_with_an_example() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert len(commands) >= 13, commands  # every command is found
    for command in commands:
        assert command in result.output
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0, command
        assert f"Example: voice-coach {command}" in sub.output, command


def test_importing_the_command_line_loads_nothing_heavy() -> None:
    """numpy, pydantic, rich and yaml are imported by the commands that use them, so
    `--help`, `version` and `list` start fast."""
    code = (
        "import sys, voice_coach.cli.commands; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'numpy', 'pydantic', 'rich', 'yaml', 'PIL', 'mutagen', 'sounddevice'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_list_shows_bundled_routines() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "sciatica-relief" in result.output and "Sciatica relief" in result.output


def test_show_json_is_the_timeline_contract(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    # The script as written: without the pain check-in's closing reminder.
    result = runner.invoke(app, ["show", FULL, "--json", "--checkin", "off"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    golden = json.loads((ROUTINES.parent / "golden" / "full.json").read_text())
    assert data == golden


def test_a_recording_ends_by_reminding_to_log_the_pain_unless_checkin_is_off(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    for checkin in ("after", "before", "both"):
        result = runner.invoke(app, ["show", FULL, "--json", "--checkin", checkin])
        events = json.loads(result.stdout)["events"]
        assert [e["kind"] for e in events[-2:]] == ["finish", "reminder"], checkin
        assert "from zero to ten? Note it in your practice log." in events[-1]["text"]
    default = json.loads(runner.invoke(app, ["show", FULL, "--json"]).stdout)
    assert default["events"][-1]["kind"] == "reminder"
    off = json.loads(runner.invoke(app, ["show", FULL, "--json", "--checkin", "off"]).stdout)
    assert off["events"][-1]["kind"] == "finish"
    result = runner.invoke(app, ["show", FULL, "--checkin", "sometimes"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--checkin" in result.output
    assert "must be after or before or both or off, got 'sometimes'" in result.output


def test_show_table_is_readable(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    result = runner.invoke(app, ["show", FULL, "--checkin", "off"])
    assert result.exit_code == 0, result.output
    assert "Full: 2 min 01 s, 2 exercises, 4 holds" in result.output
    assert "Ten seconds left." in result.output and "countdown" in result.output


def test_unknown_routine_lists_the_bundled_ones() -> None:
    result = runner.invoke(app, ["show", "no-such-routine"])
    assert result.exit_code == 2
    assert "no routine file or routine named 'no-such-routine'; bundled: " in result.output
    assert "sciatica-relief" in result.output and "yours: none yet in " in result.output
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


@pytest.mark.parametrize(
    ("fmt", "kbps", "said"),
    [
        ("ogg", "96", "ogg takes at most 80 kbit/s for mono speech"),
        ("wav", "64", "does not apply to wav (uncompressed)"),
        ("flac", "96", "unknown format 'flac'"),
    ],
)
def test_a_bitrate_the_format_cannot_take_is_refused_before_encoding(
    fake_engine: type[FakeEngine], tmp_path: Path, fmt: str, kbps: str, said: str
) -> None:
    out = tmp_path / f"x.{fmt}"
    result = runner.invoke(app, ["export", FULL, "-f", fmt, "--bitrate", kbps, "-o", str(out)])
    assert result.exit_code == 2
    assert said in result.output and "Traceback" not in result.output
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
    result = runner.invoke(app, ["export", FULL, "-o", str(out), "--checkin", "off"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    tags = ID3(out)
    assert str(tags["TIT2"]) == "Full (pain check-in off)"  # what differs from the script
    assert "engine fake" in str(tags.getall("COMM")[0])
    golden = json.loads((ROUTINES.parent / "golden" / "full.json").read_text())
    chapters = [(c.title, c.start_ms, c.end_ms) for c in read_chapters(out)]
    assert chapters == [(c["title"], c["start_ms"], c["end_ms"]) for c in golden["chapters"]]
    assert sorted(p.name for p in out.parent.iterdir()) == ["full.mp3"]


def test_export_removes_partials_only_of_killed_exports(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    folder = tmp_path / "exports"
    killed = killed_writer(folder / "full.mp3")
    killed_split = killed_writer(folder / "full", folder=True)
    (folder / ".notes").write_text("mine")
    with live_writer(folder / "other.mp3") as running:
        result = runner.invoke(app, ["export", FULL, "-o", str(folder / "full.mp3")])
        assert result.exit_code == 0, result.output
        assert not killed.exists() and not killed_split.exists()
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            [".notes", running.name, "full.mp3"]
        )


def test_a_sweep_while_ffmpeg_writes_keeps_the_partials(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ffmpeg writes the partial through its own descriptor: the export's lock holds."""
    require_program("ffmpeg")
    folder = tmp_path / "exports"
    real = export_encode.render
    seen: list[list[str]] = []

    def sweeping(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for chunk in real(*args, **kwargs):
            yield chunk
            sweep_partials(folder)  # another export starting now would do this
            if folder.exists():  # not yet in the loudness pass
                seen.append(sorted(p.name for p in folder.iterdir()))

    monkeypatch.setattr(export_encode, "render", sweeping)
    result = runner.invoke(app, ["export", FULL, "-o", str(folder / "full.mp3")])
    assert result.exit_code == 0, result.output
    assert any(len(names) == 1 for names in seen), "the audio partial, while it is written"
    assert all(name.startswith(".full.mp3.") for names in seen for name in names)
    assert [p.name for p in folder.iterdir()] == ["full.mp3"]
    assert len(read_chapters(folder / "full.mp3")) == 4


def test_export_default_path_is_exports_slug(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffmpeg")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["export", FULL, "--format", "wav"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "exports" / "full.wav").stat().st_size > 1000
