"""Where each routine was left off, for `play --resume`."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_coach.live import positions


def test_positions_persist_per_routine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_COACH_STATE", str(tmp_path))
    a, b = str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")
    assert positions.load_position(a) is None
    positions.save_position(a, 3)
    positions.save_position(b, 5)
    assert (positions.load_position(a), positions.load_position(b)) == (3, 5)
    positions.clear_position(a)
    assert (positions.load_position(a), positions.load_position(b)) == (None, 5)


def test_a_damaged_positions_file_means_nothing_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_COACH_STATE", str(tmp_path))
    (tmp_path / "positions.json").write_text("{not json")
    assert positions.load_position("x.yaml") is None
    positions.save_position("x.yaml", 2)
    assert positions.load_position("x.yaml") == 2
