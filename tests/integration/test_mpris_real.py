"""`voice-coach play` as an MPRIS player: a real play on a private PulseAudio server,
published on a private session bus (`dbus-daemon --session`), driven by `playerctl`."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ctrl_c_back, require_program

from .pulse import PulseServer, pulse_server
from .test_play_real import Env, Play, wait_for_sound

pytestmark = pytest.mark.integration

ROUTINE = """\
    title: Media keys check
    steps:
      - name: Reach up
        hold: 20
      - name: Bend down
        hold: 20
"""
SETTLE_S = 0.6
"""Longer than the player's poll (0.25 s) and a round trip on the bus."""


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
    deadline = time.monotonic() + timeout_s
    while (got := playerctl(env, *args)) != want:
        assert time.monotonic() < deadline, f"playerctl {' '.join(args)}: {got!r}, not {want!r}"
        time.sleep(0.1)


def started(env: BusEnv, routine: Path) -> Play:
    """A play that has sounded and holds its bus name."""
    with env.pulse.recorder(env.root / "play.raw") as rec:
        play = env.start_play(routine, "--debug")
        wait_for_sound(rec, timeout_s=15, n=1)
    deadline = time.monotonic() + 10
    while playerctl(env, "status") != "Playing":
        assert time.monotonic() < deadline, f"not on the bus\n{play}"
        time.sleep(0.1)
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
        time.sleep(SETTLE_S)
        assert playerctl(env, "status") == "Paused"
        playerctl(env, "play-pause")
        time.sleep(SETTLE_S)
        assert playerctl(env, "status") == "Playing"

        playerctl(env, "next")
        time.sleep(SETTLE_S)
        assert playerctl(env, "metadata", "title") == "Step 2/2 · Bend down"
        playerctl(env, "previous")  # within 3 s of the step's start: the one before
        time.sleep(SETTLE_S)
        assert playerctl(env, "metadata", "title") == "Step 1/2 · Reach up"

        playerctl(env, "stop")
        code = play.wait(timeout=10)
    finally:
        play.kill()
    assert code == 0, str(play)
    assert "stopped in step 1" in play.stdout, str(play)
    assert "mpris: on the session bus as org.mpris.MediaPlayer2.voice_coach" in play.stderr


def test_no_session_bus_plays_on_and_says_why_only_in_debug(env: BusEnv, tmp_path: Path) -> None:
    routine = env.routine("media", ROUTINE)
    env.show(routine)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    no_bus = {k: v for k, v in env.env().items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    no_bus["XDG_RUNTIME_DIR"] = str(runtime)
    for extra, shown in (((), False), (("--debug",), True)):
        proc = subprocess.Popen(
            [*env_play_args(env, routine), *extra],
            env=no_bus,
            preexec_fn=ctrl_c_back,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        play = Play(proc)
        try:
            time.sleep(3)
            proc.send_signal(signal.SIGINT)
            code = play.wait(timeout=10)
        finally:
            play.kill()
        assert code == 130, str(play)
        assert "Traceback" not in play.stderr, str(play)
        assert ("mpris: off (no session bus" in play.stderr) is shown, str(play)
        assert ("mpris" in play.stderr) is shown, str(play)


def env_play_args(env: BusEnv, routine: Path) -> list[str]:
    from .test_play_real import voice_coach

    return [voice_coach(), "play", str(routine), "--cache-dir", str(env.cache)]
