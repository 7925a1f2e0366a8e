"""`export-all`: every routine of a folder, in parallel, skipping what is up to date."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.batch import INDEX_NAME, Index

runner = CliRunner()


@pytest.fixture
def routines(tmp_path: Path) -> Path:
    folder = tmp_path / "routines"
    folder.mkdir()
    for name in ("full.yaml", "minimal.yaml"):
        shutil.copy(ROUTINES / name, folder / name)
    return folder


def export_all(routines: Path, out: Path, *args: str) -> str:
    result = runner.invoke(
        app, ["export-all", str(routines), "-o", str(out), "--engine", "fake", *args]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_second_run_skips_and_a_changed_routine_is_exported_again(
    fake_engine: type[FakeEngine], cache_dir: Path, routines: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    out = tmp_path / "out"
    first = export_all(routines, out, "-f", "wav", "--jobs", "2")
    assert first.splitlines()[-1] == f"exported 2, skipped 0, failed 0 ({out})"
    assert sorted(p.name for p in out.iterdir()) == [
        INDEX_NAME,
        "full-fake.wav",
        "minimal-fake.wav",
    ]
    index = json.loads((out / INDEX_NAME).read_text())
    assert sorted(index["outputs"]) == ["full-fake.wav", "minimal-fake.wav"]
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")}

    second = export_all(routines, out, "-f", "wav", "--jobs", "2")
    assert second.splitlines()[-1] == f"exported 0, skipped 2, failed 0 ({out})"
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.wav")} == stamps

    minimal = routines / "minimal.yaml"
    minimal.write_text(minimal.read_text().replace("hold: 20", "hold: 25"))
    third = export_all(routines, out, "-f", "wav", "--jobs", "2")
    assert third.splitlines() == [
        f"wrote {out / 'minimal-fake.wav'}",
        f"exported 1, skipped 1, failed 0 ({out})",
    ]
    assert (out / "full-fake.wav").stat().st_mtime_ns == stamps["full-fake.wav"]

    (out / "full-fake.wav").unlink()  # a deleted output is made again
    fourth = export_all(routines, out, "-f", "wav", "--jobs", "1")
    assert fourth.splitlines()[-1] == f"exported 1, skipped 1, failed 0 ({out})"


def test_split_and_settings_make_their_own_outputs(
    fake_engine: type[FakeEngine], cache_dir: Path, routines: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    (routines / "full.yaml").unlink()
    out = tmp_path / "out"
    export_all(routines, out, "--split", "--hold", "12")
    folder = out / "minimal-hold12-fake"
    assert sorted(p.name for p in folder.iterdir()) == [
        "01 Introduction.mp3",
        "02 Stretch.mp3",
        "minimal-hold12-fake.m3u8",
    ]
    again = export_all(routines, out, "--split", "--hold", "12")
    assert again.splitlines()[-1].startswith("exported 0, skipped 1, failed 0")
    other = export_all(routines, out, "--split", "--hold", "12", "--bitrate", "96")
    assert other.splitlines()[-1].startswith("exported 1, skipped 0, failed 0")


def test_failures_are_counted_with_their_reasons(
    fake_engine: type[FakeEngine], cache_dir: Path, routines: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    (routines / "full.yaml").unlink()
    shutil.copy(ROUTINES / "invalid-zero-hold.yaml", routines / "zero.yaml")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["export-all", str(routines), "-o", str(out), "--engine", "fake", "-f", "wav"]
    )
    assert result.exit_code == 1
    last = result.stdout.splitlines()[-1]
    assert last.startswith(f"exported 1, skipped 0, failed 1 ({out}): zero.yaml: ")
    assert "steps[1].hold" in last
    assert (out / "minimal-fake.wav").exists()


def test_bad_options_and_folder_are_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export-all", str(tmp_path / "nope"), "--format", "flac"])
    assert result.exit_code == 2
    assert "unknown format 'flac'" in result.output
    result = runner.invoke(app, ["export-all", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "is not a folder of routine scripts" in result.output


def test_a_damaged_index_means_export_everything(tmp_path: Path) -> None:
    (tmp_path / INDEX_NAME).write_text("{not json")
    assert Index.load(tmp_path).hashes == {}
    (tmp_path / INDEX_NAME).write_text('{"version": 99, "outputs": {"a.mp3": "x"}}')
    assert Index.load(tmp_path).hashes == {}
