"""Partials: locked while written, removed by a sweep only once their writer is gone."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

import pytest
from partials import killed_writer, live_writer

from voice_coach import atomic
from voice_coach.atomic import partial_beside, sweep_partials


def assert_locked(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


@pytest.mark.parametrize("folder", [False, True])
def test_a_partial_left_by_a_killed_writer_is_swept(tmp_path: Path, folder: bool) -> None:
    partial = killed_writer(tmp_path / "full.mp3", folder)
    if folder:
        (partial / "01 Introduction.mp3").write_bytes(b"half a track")
    sweep_partials(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder", [False, True])
def test_a_partial_whose_writer_runs_is_kept(tmp_path: Path, folder: bool) -> None:
    with live_writer(tmp_path / "full.mp3", folder) as partial:
        sweep_partials(tmp_path)
        assert partial.exists()
        assert_locked(partial)
    assert not partial.exists(), "the writer removes its own partial when it stops"


def test_a_partial_is_locked_and_gone_once_renamed_into_place(tmp_path: Path) -> None:
    target = tmp_path / "full.mp3"
    with partial_beside(target) as partial:
        assert partial.parent == tmp_path and partial.name.startswith(".full.mp3.")
        assert partial.name.endswith(".partial") and partial.stat().st_size == 0
        assert_locked(partial)
        sweep_partials(tmp_path)  # this process, another descriptor: still locked out
        partial.write_bytes(b"audio")
        os.replace(partial, target)
    assert [p.name for p in tmp_path.iterdir()] == ["full.mp3"]
    assert target.read_bytes() == b"audio"


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), partial_beside(tmp_path / "full", folder=True) as p:
        (p / "01 Introduction.mp3").write_bytes(b"half a track")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_other_files_are_left_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"mine")
    folder = tmp_path / "exports"
    folder.mkdir()
    names = [".DS_Store", ".full.mp3.notes", "full.mp3.x1.partial", ".full.partial.txt"]
    for name in names:
        (folder / name).write_text(name)
    (folder / ".hidden").mkdir()
    (folder / ".link.x1.partial").symlink_to(outside)
    (folder / "full.mp3").write_bytes(b"audio")
    sweep_partials(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*names, ".hidden", ".link.x1.partial", "full.mp3"]
    )
    assert outside.read_bytes() == b"mine"


def test_sweeping_a_missing_folder_does_nothing(tmp_path: Path) -> None:
    sweep_partials(tmp_path / "missing")


def test_a_partial_swept_before_its_writer_locked_it_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tempfile.mkstemp
    made: list[str] = []

    def swept_at_once(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, name = real(*args, **kwargs)  # type: ignore[call-overload]
        made.append(name)
        if len(made) == 1:
            os.unlink(name)  # a sweep got there between the creation and the lock
        return fd, name

    monkeypatch.setattr(atomic.tempfile, "mkstemp", swept_at_once)
    with partial_beside(tmp_path / "full.mp3") as partial:
        assert len(made) == 2 and str(partial) == made[1]
        assert partial.exists()
        assert_locked(partial)


def test_a_partial_has_the_permissions_of_a_normal_file(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        with partial_beside(tmp_path / "a") as f, partial_beside(tmp_path / "b", folder=True) as d:
            assert f.stat().st_mode & 0o777 == 0o640
            assert d.stat().st_mode & 0o777 == 0o750
    finally:
        os.umask(mask)
