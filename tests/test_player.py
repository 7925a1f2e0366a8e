"""The player's pure parts: keys, the status line, device choice, saved positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_coach import player, state
from voice_coach.errors import ToolError
from voice_coach.player import OutputDevice, parse_keys, pick_device, status_line
from voice_coach.session import Command, Status


def test_keys_map_to_commands_including_arrow_sequences() -> None:
    assert parse_keys(b" nb+-=q") == [
        Command.PAUSE,
        Command.NEXT,
        Command.BACK,
        Command.LONGER,
        Command.SHORTER,
        Command.LONGER,
        Command.QUIT,
    ]
    assert parse_keys(b"\x1b[C\x1b[Dx\x1b[A") == [Command.NEXT, Command.BACK]
    assert parse_keys(b"") == []


def test_status_line_shows_step_side_rep_and_time_left() -> None:
    st = Status(
        position_ms=75_000,
        total_ms=518_000,
        step=3,
        steps=7,
        step_name="Seated hamstring",
        side="left",
        rep=2,
        reps=3,
        hold_left_ms=12_400,
        paused=False,
        waiting=False,
        finished=False,
    )
    line = status_line(st)
    assert line.startswith("playing")
    for part in (
        "step 3",
        "Seated hamstring",
        "left side",
        "rep 2/3",
        "hold 0:12 left",
        "1:15 / 8:38",
    ):
        assert part in line
    paused = status_line(
        Status(0, None, None, 7, "Introduction", None, None, None, None, True, False, False)
    )
    assert paused.startswith("paused") and "0:00 / …" in paused


DEVICES = [
    OutputDevice(0, "pulse", "ALSA", False),
    OutputDevice(3, "default", "ALSA", True),
    OutputDevice(5, "USB speaker", "ALSA", False),
]


def test_pick_device_by_index_or_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(player, "output_devices", lambda: DEVICES)
    assert pick_device(None) is None
    assert pick_device("3") == 3
    assert pick_device("usb") == 5
    with pytest.raises(ToolError, match=r"'nope' is not an output device; output devices: 0"):
        pick_device("nope")
    with pytest.raises(ToolError, match="matches several"):
        pick_device("u")


def test_no_device_suggests_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(player, "output_devices", lambda: [])
    with pytest.raises(ToolError, match="voice-coach export"):
        pick_device(None)


def test_positions_persist_per_routine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_COACH_STATE", str(tmp_path))
    a, b = str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")
    assert state.load_position(a) is None
    state.save_position(a, 3)
    state.save_position(b, 5)
    assert (state.load_position(a), state.load_position(b)) == (3, 5)
    state.clear_position(a)
    assert (state.load_position(a), state.load_position(b)) == (None, 5)


def test_a_damaged_positions_file_means_nothing_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_COACH_STATE", str(tmp_path))
    (tmp_path / "positions.json").write_text("{not json")
    assert state.load_position("x.yaml") is None
    state.save_position("x.yaml", 2)
    assert state.load_position("x.yaml") == 2
