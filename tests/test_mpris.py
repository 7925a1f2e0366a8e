"""MPRIS without a bus: what is published for a status. The bus itself (a private
dbus-daemon, playerctl, a real play): integration/test_mpris_real.py."""

from __future__ import annotations

import dataclasses

import pytest

mpris = pytest.importorskip("voice_coach.live.mpris", reason="dbus-fast is Linux-only")

from voice_coach.live.session import Status  # noqa: E402

PLAYING = Status(
    position_ms=61_000,
    total_ms=600_000,
    step=3,
    steps=8,
    step_name="Figure four",
    side=None,
    rep=None,
    reps=None,
    hold_left_ms=12_000,
    paused=False,
    waiting=False,
    finished=False,
)


def test_playback_status_follows_the_session() -> None:
    assert mpris.playback_status(PLAYING) == "Playing"
    assert mpris.playback_status(dataclasses.replace(PLAYING, paused=True)) == "Paused"
    assert mpris.playback_status(dataclasses.replace(PLAYING, finished=True)) == "Stopped"


def test_metadata_is_the_routine_the_step_and_the_cover() -> None:
    data = mpris.metadata(PLAYING, "Sciatica relief", "file:///cache/covers/1.png")
    values = {k: v.value for k, v in data.items()}
    assert values == {
        "mpris:trackid": "/org/voice_coach/step/3",
        "xesam:title": "Step 3/8 · Figure four",
        "xesam:album": "Sciatica relief",
        "xesam:artist": ["voice_coach"],
        "mpris:length": 600_000_000,
        "mpris:artUrl": "file:///cache/covers/1.png",
    }
    assert data["mpris:trackid"].signature == "o"
    assert data["mpris:length"].signature == "x"


def test_the_introduction_and_an_unknown_length() -> None:
    intro = dataclasses.replace(PLAYING, step=None, step_name="Introduction", total_ms=None)
    data = mpris.metadata(intro, "Sciatica relief", None)
    assert data["xesam:title"].value == "Introduction"
    assert data["mpris:trackid"].value == "/org/voice_coach/step/0"
    assert "mpris:length" not in data and "mpris:artUrl" not in data
