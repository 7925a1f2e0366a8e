"""Settings, profiles, progression and history through the command line."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.history import History

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")
PROGRESSIVE = """\
title: Build up
progression:
  hold: {start: 20, add: 5, every: week, max: 40}
steps:
  - name: Reach
    hold: 30
"""


def test_show_header_names_the_settings(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    result = runner.invoke(
        app, ["show", FULL, "--hold", "Seated stretch=15", "--scale", "2", "--no-chimes"]
    )
    assert result.exit_code == 0, result.output
    assert "settings: step 3 hold 15 s, holds and rests x2, no chimes" in result.output
    assert "(start chime)" not in result.output


def test_show_json_reflects_overrides(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    result = runner.invoke(app, ["show", FULL, "--json", "--hold", "40", "--countdown", "0"])
    data = json.loads(result.stdout)
    holds = [e for e in data["events"] if e["kind"] in ("hold", "release")]
    for hold, release in zip(holds[::2], holds[1::2], strict=True):
        assert release["start_ms"] - hold["start_ms"] == 40_000
    assert not [e for e in data["events"] if e["kind"] == "countdown"]


def test_unknown_step_is_exit_2_with_the_step_list(fake_engine: type[FakeEngine]) -> None:
    result = runner.invoke(app, ["show", FULL, "--hold", "Nope=40"])
    assert result.exit_code == 2
    assert (
        "no exercise 'Nope' in 'Full'; its exercises: 1 Side stretch; 3 Seated stretch"
        in result.output
    )
    assert "Traceback" not in result.output


def test_settings_command_shows_values_and_sources(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("defaults: {countdown: 5}\nroutines:\n  full:\n    hold: {1: 50}\n")
    result = runner.invoke(app, ["settings", FULL, "--profile", str(profile), "--rate", "140"])
    assert result.exit_code == 0, result.output
    lines = {line.split("  ")[0]: line for line in result.output.splitlines()}
    assert "command line" in lines["rate"] and "140 wpm" in lines["rate"]
    assert "profile defaults" in lines["countdown"]
    assert "profile routines.full" in lines["step 1 hold"] and "50 s" in lines["step 1 hold"]
    assert "routine script" in lines["step 3 hold"]
    assert "routine script" in lines["engine"]  # full.yaml says engine: fake


def hold_and_release_gaps(events: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """(step, ms from the line before "Hold" to it, ms from the release to the next line)."""
    speech = [e for e in events if e["kind"] != "chime"]

    def silence(a: dict[str, Any], b: dict[str, Any]) -> int:
        return int(b["start_ms"] - a["start_ms"] - a["duration_ms"])

    releases = [i for i, e in enumerate(speech) if e["kind"] == "release"]
    return [
        (e["step"], silence(speech[i - 1], e), silence(speech[r], speech[r + 1]))
        for (i, e), r in zip(
            ((i, e) for i, e in enumerate(speech) if e["kind"] == "hold"), releases, strict=True
        )
    ]


def test_show_json_settle_and_recover_by_name_number_and_for_every_step(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    plain = json.loads(runner.invoke(app, ["show", FULL, "--json"]).stdout)
    assert hold_and_release_gaps(plain["events"]) == [(1, 2500, 3000)] * 2 + [(3, 2500, 3000)] * 2
    args = ["--settle", "6", "--settle", "seated STRETCH=9", "--recover", "1=4.5", "--scale", "2"]
    result = runner.invoke(app, ["show", FULL, "--json", *args])
    assert result.exit_code == 0, result.output
    assert hold_and_release_gaps(json.loads(result.stdout)["events"]) == [
        (1, 6000, 4500),
        (1, 6000, 4500),
        (3, 9000, 3000),
        (3, 9000, 3000),
    ]
    header = runner.invoke(app, ["show", FULL, *args]).output
    assert "settings: holds and rests x2, settle 6 s, step 3 settle 9 s, step 1 recover 4.5 s" in (
        header
    )


def test_settings_command_shows_settle_and_recover_sources(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "defaults: {settle: 4}\nroutines:\n  full:\n"
        "    settle: {Seated stretch: 8}\n    recover: 5\n"
    )
    result = runner.invoke(
        app, ["settings", FULL, "--profile", str(profile), "--recover", "3=6", "--scale", "2"]
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("  ")[0]: line.split() for line in result.output.splitlines()}
    assert rows["step 1 settle"][3:5] == ["4", "s"] and "defaults" in rows["step 1 settle"]
    assert rows["step 3 settle"][3:5] == ["8", "s"] and "routines.full" in rows["step 3 settle"]
    assert rows["step 1 recover"][3:5] == ["5", "s"] and "routines.full" in rows["step 1 recover"]
    assert rows["step 3 recover"][3:] == ["6", "s", "command", "line"]


def test_settle_for_an_unknown_step_or_out_of_range_is_exit_2(
    fake_engine: type[FakeEngine],
) -> None:
    result = runner.invoke(app, ["show", FULL, "--settle", "Lying twist=5"])
    assert result.exit_code == 2
    assert (
        "--settle Lying twist=: no exercise 'Lying twist' in 'Full'; its exercises: "
        "1 Side stretch; 3 Seated stretch" in result.output
    )
    result = runner.invoke(app, ["show", FULL, "--settle", "301", "--recover", "2=-1"])
    assert result.exit_code == 2
    assert "--settle '301': must be from 0 to 300 seconds (5 minutes), got 301" in result.output
    assert "--recover '2=-1': must be from 0 to 300 seconds (5 minutes), got -1" in result.output
    assert "Traceback" not in result.output


def test_export_file_name_carries_the_settings(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffmpeg")
    monkeypatch.chdir(tmp_path)
    for args in ([], ["--hold", "45"]):
        result = runner.invoke(app, ["export", FULL, "--format", "wav", *args])
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert names == ["full-hold45.wav", "full.wav"]


def test_progression_follows_the_history(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    routine = tmp_path / "build-up.yaml"
    routine.write_text(PROGRESSIVE)
    first = runner.invoke(app, ["show", str(routine), "--engine", "fake"])
    assert "stage 1 of 5: holds at 20 s; steps up a stage every week" in first.output
    # Logged 15 days ago: now in week 3.
    day = (date.today() - timedelta(days=15)).isoformat()
    logged = runner.invoke(app, ["log", str(routine), "--date", day, "--minutes", "3"])
    assert logged.exit_code == 0, logged.output
    later = runner.invoke(app, ["show", str(routine), "--engine", "fake"])
    assert "stage 3 of 5: holds at 30 s; steps up to 35 s on" in later.output
    for pin in (["--week", "9"], ["--stage", "9"]):
        explicit = runner.invoke(app, ["show", str(routine), "--engine", "fake", *pin])
        assert "stage 5 of 5, pinned: holds at 40 s; the last stage" in explicit.output


def test_log_and_history(fake_engine: type[FakeEngine], cache_dir: Path) -> None:
    assert "no sessions yet" in runner.invoke(app, ["history"]).output
    result = runner.invoke(app, ["log", FULL, "--hold", "45"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["log", FULL, "--date", "2026-13-01"]).exit_code == 2
    text = runner.invoke(app, ["history"]).output
    assert "Full" in text and "streak: 1 day" in text and "log" in text
    data = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    (session,) = data["sessions"]
    assert session["routine"] == "full" and session["finished"] is True
    assert session["settings"]["label"] == "hold45"
    with History.open() as h:
        assert h.finished_count("full") == 1


def test_a_damaged_history_is_a_clear_error(
    fake_engine: type[FakeEngine], cache_dir: Path, private_user_dirs: Path
) -> None:
    path = private_user_dirs / "data" / "history.sqlite"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    result = runner.invoke(app, ["history"])
    assert result.exit_code == 1
    assert str(path) in result.output and "Traceback" not in result.output
    assert path.read_bytes() == before


def test_settings_shows_the_walking_paces_as_written_and_a_bed_from_the_command_line(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["settings", "walking"])
    assert result.exit_code == 0, result.output
    rows = {line.split("  ")[0]: line.split() for line in result.output.splitlines()}
    assert rows["bed"][1:] == ["as", "written", "per", "step", "routine", "script"]
    assert [rows[f"step {n} bed"][3:5] for n in (1, 2, 3, 4)] == [
        ["pace", "90"],
        ["pace", "100"],
        ["pace", "115"],
        ["pace", "90"],
    ]
    assert rows["bed level"][2:] == ["-20", "LU", "routine", "script"]
    profile = tmp_path / "p.yaml"
    profile.write_text("defaults: {bed_duck: 9}\nroutines:\n  walking: {bed: rain}\n")
    result = runner.invoke(
        app, ["settings", "walking", "--profile", str(profile), "--bed-level", "-18"]
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("  ")[0]: line.split() for line in result.output.splitlines()}
    assert rows["bed"][1] == "rain" and "routines.walking" in rows["bed"]
    assert "step 1 bed" not in rows  # the profile's bed replaces the script's, steps too
    assert rows["bed level"][2:] == ["-18", "LU", "command", "line"]
    assert rows["bed duck"][2:4] == ["9", "dB"] and "defaults" in rows["bed duck"]
    result = runner.invoke(app, ["settings", "walking", "--no-bed"])
    rows = {line.split("  ")[0]: line.split() for line in result.output.splitlines()}
    assert rows["bed"][1:] == ["off", "command", "line"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bed", "pace:250"], "--bed: pace must be 40 to 200 steps per minute, got 250"),
        (["--bed", "pace 30"], "--bed: pace must be 40 to 200 steps per minute, got 30"),
        (["--bed", "rain", "--no-bed"], "--no-bed: given twice: 'rain' and 'off'; give one"),
        (["--bed-level", "-50"], "--bed-level: must be from -40 to 0 LU, got -50"),
        (["--bed-duck", "41"], "--bed-duck: must be from 0 to 40 dB, got 41"),
    ],
)
def test_bad_bed_options_are_exit_2(
    fake_engine: type[FakeEngine], args: list[str], message: str
) -> None:
    for command in ("show", "settings"):
        result = runner.invoke(app, [command, FULL, *args])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
