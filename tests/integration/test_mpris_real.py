"""`voice-coach play` as an MPRIS player: a real play on a private PulseAudio server,
published on a private session bus (`dbus-daemon --session`), driven by `playerctl`."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_program

from .pulse import PulseServer, pulse_server
from .test_play_real import Env, Play, wait_for_sound
from .waiting import wait_until

pytestmark = pytest.mark.integration

ROUTINE = """\
    title: Media keys check
    steps:
      - name: Reach up
        hold: 20
      - name: Bend down
        hold: 20
"""
# About 15 s, played to its end.
SHORT_ROUTINE = """\
    title: No bus check
    steps:
      - name: Reach up
        hold: 3
"""
REACT_WITHIN_S = 0.6
"""A media key shows in the player's state within the player's poll (0.25 s) and a
round trip on the bus."""


@pytest.fixture(scope="module")
def pulse() -> Iterator[PulseServer]:
    for program in ("pulseaudio", "parec", "pactl", "espeak-ng"):
        require_program(program)
    with pulse_server() as server:
        yield server


@pytest.fixture(scope="module")
def bus() -> Iterator[str]:
    """A private session bus; its address."""
    require_program("dbus-daemon")
    require_program("playerctl")
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.split()
    address, pid = out[0], int(out[1])
    try:
        yield address
    finally:
        os.kill(pid, signal.SIGTERM)


class BusEnv(Env):
    address: str = ""

    def env(self) -> dict[str, str]:
        return {**super().env(), "DBUS_SESSION_BUS_ADDRESS": self.address}


@pytest.fixture
def env(pulse: PulseServer, bus: str, tmp_path: Path) -> BusEnv:
    env = BusEnv(pulse, tmp_path, tmp_path / "cache")
    env.address = bus
    return env


def playerctl(env: BusEnv, *args: str) -> str:
    done = subprocess.run(
        ["playerctl", "--player=voice_coach", *args],
        env=env.env(),
        capture_output=True,
        text=True,
        timeout=10,
    )
    return done.stdout.strip()


def eventually(env: BusEnv, want: str, *args: str, timeout_s: float = 10) -> None:
    """Until `playerctl args` says `want`."""
    said = []

    def says() -> bool:
        said.append(playerctl(env, *args))
        return said[-1] == want

    command = " ".join(args)
    wait_until(says, lambda: f"playerctl {command} to say {want!r} (last: {said[-1]!r})", timeout_s)


def started(env: BusEnv, routine: Path) -> Play:
    """A play that has sounded and holds its bus name."""
    with env.pulse.recorder(env.root / "play.raw") as rec:
        play = env.start_play(routine, "--debug")
        wait_for_sound(rec, timeout_s=15, n=1)
    try:
        wait_until(lambda: playerctl(env, "status") == "Playing", lambda: f"the bus\n{play}", 10)
    except BaseException:
        play.kill()
        raise
    return play


def test_playerctl_steers_play_and_reads_its_metadata(env: BusEnv) -> None:
    routine = env.routine("media", ROUTINE)
    env.show(routine)
    play = started(env, routine)
    try:
        assert playerctl(env, "metadata", "album") == "Media keys check"
        assert playerctl(env, "metadata", "title") == "Introduction"
        eventually(env, "Step 1/2 · Reach up", "metadata", "title")
        art = playerctl(env, "metadata", "mpris:artUrl")
        assert art.startswith("file://") and Path(art[len("file://") :]).is_file(), art
        assert Path(art[len("file://") :]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        playerctl(env, "play-pause")
        eventually(env, "Paused", "status", timeout_s=REACT_WITHIN_S)
        playerctl(env, "play-pause")
        eventually(env, "Playing", "status", timeout_s=REACT_WITHIN_S)

        # `next` goes on from the step the player is in. Resuming went back to the start
        # of step 1's first cue, which can read as the step before until the next block
        # is played (rounding: tests/test_session.py, test_next_lands_in_the_step_...).
        eventually(env, "Step 1/2 · Reach up", "metadata", "title", timeout_s=REACT_WITHIN_S)
        playerctl(env, "next")
        eventually(env, "Step 2/2 · Bend down", "metadata", "title", timeout_s=REACT_WITHIN_S)
        playerctl(env, "previous")  # within 3 s of the step's start: the one before
        eventually(env, "Step 1/2 · Reach up", "metadata", "title", timeout_s=REACT_WITHIN_S)

        playerctl(env, "stop")
        code = play.wait(timeout=10)
    finally:
        play.kill()
    assert code == 0, str(play)
    assert "stopped in step 1" in play.stdout, str(play)
    assert "mpris: on the session bus as org.mpris.MediaPlayer2.voice_coach" in play.stderr


def test_no_session_bus_plays_on_and_says_why_only_in_debug(env: BusEnv, tmp_path: Path) -> None:
    routine = env.routine("short", SHORT_ROUTINE)
    timeline = env.show(routine)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    no_bus = {k: v for k, v in env.env().items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    no_bus["XDG_RUNTIME_DIR"] = str(runtime)

    # Without --debug: silent about it for the whole routine, which plays to its end.
    play = env.start_play(routine, env=no_bus)
    try:
        code = play.wait(timeout=timeline["total_ms"] / 1000 + 20)
    finally:
        play.kill()
    assert code == 0 and "finished" in play.stdout, str(play)
    assert "Traceback" not in play.stderr, str(play)
    assert "mpris" not in play.stderr, str(play)

    # With --debug: one line says why; playback goes on until Ctrl+C.
    play = env.start_play(routine, "--debug", env=no_bus)
    try:
        line = play.read_stderr_until("mpris", timeout_s=15)
        assert line is not None, str(play)
        assert "mpris: off (no session bus" in line, str(play)
        play.proc.send_signal(signal.SIGINT)
        code = play.wait(timeout=10)
    finally:
        play.kill()
    assert code == 130, str(play)
    assert "Traceback" not in play.stderr, str(play)
