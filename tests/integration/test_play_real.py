"""`voice-coach play` end to end: a real process, real speech (pyttsx3 -> espeak-ng),
real PortAudio, playing into a private PulseAudio null sink that `parec` records.

The recording's sound onsets are compared with the timeline `show --json` prints.
`play` starts at the first cue (it skips the lead-in) and the recorder starts before
it, so recording time = timeline time + a constant offset, estimated as the median
difference of matched pairs; every event must then be heard within 20 ms.
"""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ctrl_c_back, require_program

from . import onsets
from .pulse import PulseServer, Recorder, best_offset, match, no_server_env, pulse_server
from .waiting import wait_until

pytestmark = pytest.mark.integration

ONSET_TOLERANCE_MS = 20
"""Every event's sound must start this close to its aligned start_ms."""
DRIFT_TOLERANCE_MS = 20
SMEAR_MS = 60
"""Sound allowed after an event's end (decay) when looking for unexpected onsets."""
ALIGN_SEARCH_MS = 250
"""How far from its place an onset may be to be reported as belonging to an event."""
STOP_WITHIN_S = 2.0
TONE_MS = 160
"""The start tone's length (voice_coach/live/stream.py); the first cue comes after it."""

# About 19 s of audio: chimes, "Hold", a countdown, a release, the finish.
TIMING_ROUTINE = """\
    title: Play check
    steps:
      - name: Reach up
        hold: 6
        countdown: 3
"""
# About 20 s with a long silent stretch in the hold, where the player is stalled.
STALL_ROUTINE = """\
    title: Stall check
    steps:
      - name: Reach up
        hold: 12
        countdown: 3
        remaining: []
"""
STALL_S = 1.0
MADE_UP_TOLERANCE_MS = 40
"""Cues after an underrun: the lost time is measured from callback timing, within
about 20 ms of the silence recorded (see voice_coach/output.py)."""
# About 30 s: a rest first, so that a few seconds in we are in step 2.
STOP_ROUTINE = """\
    title: Stop check
    steps:
      - rest: 4
      - name: Reach up
        hold: 18
        countdown: 3
"""


def voice_coach() -> str:
    beside = Path(sys.executable).parent / "voice-coach"
    found = str(beside) if beside.exists() else shutil.which("voice-coach")
    assert found, "the voice-coach console script is not installed (pip install -e .)"
    return found


@dataclass
class Env:
    pulse: PulseServer
    root: Path
    cache: Path

    def env(self) -> dict[str, str]:
        env = self.pulse.env()
        env.pop("VOICE_COACH_CACHE", None)
        return {**env, **private_dirs(self.root)}

    def routine(self, name: str, text: str) -> Path:
        path = self.root / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def run(
        self, *args: object, timeout: float = 60, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [voice_coach(), *map(str, args)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=kw.pop("env", None) or self.env(),
            **kw,
        )

    def show(self, routine: Path) -> dict[str, Any]:
        """The timeline; synthesizes (and caches) every line, so `play` starts warm."""
        done = self.run("show", routine, "--json", "--cache-dir", self.cache)
        assert done.returncode == 0, describe(done)
        timeline: dict[str, Any] = json.loads(done.stdout)
        return timeline

    def start_play(
        self,
        routine: Path,
        *extra: object,
        stdin: Any = subprocess.DEVNULL,
        env: dict[str, str] | None = None,
    ) -> Play:
        proc = subprocess.Popen(
            [voice_coach(), "play", str(routine), "--cache-dir", str(self.cache), *map(str, extra)],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or self.env(),
            preexec_fn=ctrl_c_back,
        )
        return Play(proc)


@dataclass
class Play:
    proc: subprocess.Popen[str]
    stdout: str = ""
    stderr: str = ""

    def wait(self, timeout: float) -> int:
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"play did not exit within {timeout:g} s\n{self}") from None
        return self.proc.returncode

    def kill(self) -> None:
        """Kill it if it still runs and collect what is left of its output."""
        if self.proc.poll() is None:
            self.proc.kill()
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            out, err = self.proc.communicate()
            self.stdout += out or ""
            self.stderr += err or ""

    def read_stderr_until(self, needle: str, timeout_s: float) -> str | None:
        """The first stderr line containing `needle`, or None (exited or timed out)."""
        assert self.proc.stderr is not None
        fd = self.proc.stderr.fileno()
        deadline = time.monotonic() + timeout_s
        data = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            chunk = os.read(fd, 4096) if ready else b""
            data += chunk
            self.stderr = data.decode(errors="replace")
            line = next((ln for ln in self.stderr.splitlines() if needle in ln), None)
            if line is not None:
                return line
            if ready and not chunk:
                return None  # end of file: it exited
        return None

    def __str__(self) -> str:
        return f"exit {self.proc.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def private_dirs(root: Path) -> dict[str, str]:
    """Where `voice-coach` keeps state, history and the profile: private to the tests
    (no user profile may change the routine); the cache is passed with --cache-dir."""
    return {
        "VOICE_COACH_STATE": str(root / "state"),
        "VOICE_COACH_DATA": str(root / "data"),
        "VOICE_COACH_CONFIG": str(root / "config"),
        "VOICE_COACH_ROUTINES": str(root / "routines"),
    }


def describe(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"


@pytest.fixture(scope="module")
def pulse() -> Iterator[PulseServer]:
    """One private sound server for the whole module."""
    require_program("pulseaudio")
    require_program("parec")
    require_program("pactl")
    require_program("espeak-ng")
    with pulse_server() as server:
        yield server


@pytest.fixture(scope="module")
def env(pulse: PulseServer, tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp("play")
    return Env(pulse, root, root / "cache")


def sounds_ms(rec: Recorder) -> list[int]:
    """Where each sound starts in what `rec` has recorded so far (recording ms)."""
    samples = rec.samples()
    if samples.size * 1000 // rec.rate <= onsets.WINDOW_MS:
        return []  # levels() needs a little audio
    return onsets.onsets(onsets.levels(samples, rec.rate))


def wait_for_sound(rec: Recorder, timeout_s: float, n: int = 0) -> int:
    """When the `n`th sound starts (recording ms): 0 is the start tone, 1 the first cue."""
    (at,) = wait_until(
        lambda: sounds_ms(rec)[n : n + 1], f"sound #{n} to be recorded", timeout_s, 0.05
    )
    return at


def wait_until_recorded(rec: Recorder, recording_ms: float, timeout_s: float = 30) -> None:
    """Wait until the recording has reached `recording_ms`: time as the sound server
    counts it, which is the time the player keeps to."""
    wait_until(
        lambda: rec.seconds_recorded() * 1000 >= recording_ms,
        lambda: (
            f"the recording to reach {recording_ms:.0f} ms (it is at "
            f"{rec.seconds_recorded() * 1000:.0f} ms)"
        ),
        timeout_s,
        0.01,
    )


def record_the_tail(rec: Recorder, tail_ms: int = 300) -> None:
    """Once a play has exited: wait until the recording runs `tail_ms` past this moment,
    so the last fragments the sink held are in it. Counted on the recording, not the
    wall clock: a busy machine may run parec late."""
    wait_until_recorded(rec, rec.seconds_recorded() * 1000 + tail_ms)


# -- tests --------------------------------------------------------------------------


def assert_on_time(events: list[dict[str, Any]], rec: Recorder, play: Play) -> None:
    """The start tone first; then every event heard within 20 ms of its aligned place,
    nothing else heard, no drift."""
    samples = rec.samples()
    heard = onsets.onsets(onsets.levels(samples, rec.rate))
    starts = [e["start_ms"] for e in events]
    offset = best_offset(starts, heard, ONSET_TOLERANCE_MS)
    first_cue = starts[0] + offset
    tone = [t for t in heard if t < first_cue - ONSET_TOLERANCE_MS]
    assert len(tone) == 1, f"the start tone, and only it, before the first cue: {heard}\n{play}"
    assert first_cue - tone[0] >= TONE_MS, f"the tone is let finish: {heard}\n{play}"
    heard = [t for t in heard if t not in tone]
    matches = match(starts, heard, offset, ALIGN_SEARCH_MS)
    report = [
        f"{e['kind']:>9} {e['text']!r:30} at {e['start_ms']:6d} ms: "
        + (
            "not heard"
            if m.onset_ms is None
            else f"heard {m.error_ms(offset):+.0f} ms (recording {m.onset_ms} ms)"
        )
        for e, m in zip(events, matches, strict=True)
    ]
    detail = f"offset {offset:.0f} ms; onsets {heard}\n" + "\n".join(report) + f"\n{play}"
    late = [
        line
        for line, m in zip(report, matches, strict=True)
        if m.onset_ms is None or abs(m.error_ms(offset) or 0) > ONSET_TOLERANCE_MS
    ]
    assert not late, "events not heard within 20 ms:\n" + "\n".join(late) + "\n\n" + detail

    spans = [
        (
            e["start_ms"] + offset - ONSET_TOLERANCE_MS,
            e["start_ms"] + e["duration_ms"] + offset + SMEAR_MS,
        )
        for e in events
    ]
    stray = onsets.outside(heard, spans)
    assert not stray, f"onsets (recording ms) away from every event: {stray}\n{detail}"

    errors = [m.error_ms(offset) for m in matches]
    drift = (errors[-1] or 0) - (errors[0] or 0)
    assert abs(drift) <= DRIFT_TOLERANCE_MS, f"drift {drift:+.0f} ms over the routine\n{detail}"


def play_recorded(env: Env, routine: Path, recording: Path, total_ms: int) -> tuple[Play, Recorder]:
    """Play `routine` to its end while recording the sink."""
    with env.pulse.recorder(recording) as rec:
        play = env.start_play(routine)
        code = play.wait(timeout=total_ms / 1000 + 20)
        record_the_tail(rec)
        rec.stop()
    assert code == 0, str(play)
    assert "finished" in play.stdout, str(play)
    assert "Traceback" not in play.stderr, str(play)
    return play, rec


def test_every_cue_is_heard_on_time(env: Env, tmp_path: Path) -> None:
    routine = env.routine("timing", TIMING_ROUTINE)
    timeline = env.show(routine)
    events = timeline["events"]
    assert any(e["kind"] == "chime" for e in events)
    play, rec = play_recorded(env, routine, tmp_path / "play.raw", timeline["total_ms"])
    assert_on_time(events, rec, play)


BED_ROUTINE = """\
    title: Bed check
    intro: [Go gently, and breathe slowly all the way through.]
    steps:
      - name: Knee hug
        setup: [Lie on your back., Draw both knees toward your chest.]
        hold: 12
        remaining: []
        countdown: 0
        release: Lower your feet to the floor, one at a time.
"""


def test_a_file_bed_plays_live_ducked_under_every_cue(env: Env, tmp_path: Path) -> None:
    """A real sound file (an MP3 of a low tone, shorter than the routine: it loops),
    decoded by ffmpeg while `play` runs: under every cue it is 12 dB down, in the
    silences up, with the same envelope as the export."""
    require_program("ffmpeg")
    from .bedtone import bed_levels, tone_file, without_tone

    bed = tone_file(tmp_path / "tone.mp3", seconds=7)
    routine = env.routine("bed", BED_ROUTINE)
    timeline = env.show(routine)
    events, total_ms = timeline["events"], timeline["total_ms"]
    with env.pulse.recorder(tmp_path / "bed.raw") as rec:
        play = env.start_play(routine, "--bed", bed)
        code = play.wait(timeout=total_ms / 1000 + 20)
        record_the_tail(rec)
        rec.stop()
    assert code == 0 and "Traceback" not in play.stderr, str(play)
    samples = rec.samples()
    heard = onsets.onsets(onsets.levels(without_tone(samples, rec.rate), rec.rate))
    offset = best_offset([e["start_ms"] for e in events], heard, ONSET_TOLERANCE_MS)
    quiet_db, under_db = bed_levels(samples, rec.rate, events, total_ms, offset)
    assert quiet_db > -50, f"the bed is heard in the silences: {quiet_db:.1f} dBFS\n{play}"
    assert under_db - quiet_db == pytest.approx(-12, abs=1.5), (quiet_db, under_db)


def test_time_lost_when_the_player_stalls_is_made_up(env: Env, tmp_path: Path) -> None:
    """The player process is stopped (SIGSTOP) for 1 s in a hold, so the device runs
    dry; afterwards the later cues are back where the timeline puts them."""
    routine = env.routine("stall", STALL_ROUTINE)
    timeline = env.show(routine)
    events = timeline["events"]
    gaps = [
        (b["start_ms"] - (a["start_ms"] + a["duration_ms"]), a["start_ms"] + a["duration_ms"])
        for a, b in itertools.pairwise(events)
    ]
    gap_ms, quiet_from = max(gaps)
    assert gap_ms > 3000, f"the routine needs a long silence: {events}"
    first_cue = events[0]["start_ms"]
    with env.pulse.recorder(tmp_path / "stall.raw") as rec:
        play = env.start_play(routine)
        try:
            sound_at = wait_for_sound(rec, timeout_s=15, n=1)
            wait_until_recorded(rec, sound_at + quiet_from + 500 - first_cue)
            play.proc.send_signal(signal.SIGSTOP)
            time.sleep(STALL_S)  # the test is about this time passing: the player stalled
            play.proc.send_signal(signal.SIGCONT)
            code = play.wait(timeout=timeline["total_ms"] / 1000 + 20)
        finally:
            play.proc.send_signal(signal.SIGCONT)
            play.kill()
        record_the_tail(rec)
        rec.stop()
    assert code == 0, str(play)
    assert "ran short of audio" in play.stderr and "made up" in play.stderr, str(play)
    heard = onsets.onsets(onsets.levels(rec.samples(), rec.rate))[1:]  # after the tone
    before = [e["start_ms"] for e in events if e["start_ms"] < quiet_from]
    after = [e["start_ms"] for e in events if e["start_ms"] > quiet_from]
    offset = best_offset(before, heard, ONSET_TOLERANCE_MS)
    matches = match(after, heard, offset, 1500)
    errors = [m.error_ms(offset) for m in matches]
    detail = f"offset {offset:.0f} ms; onsets {heard}; errors after the stall {errors}\n{play}"
    assert all(e is not None and abs(e) <= MADE_UP_TOLERANCE_MS for e in errors), detail


def test_devices_lists_the_sound_server(env: Env) -> None:
    done = env.run("devices", timeout=30)
    assert done.returncode == 0, describe(done)
    rows = [line for line in done.stdout.splitlines()[1:] if line.strip()]
    assert rows, f"no device listed\n{describe(done)}"
    assert re.match(r"\s*\d+\s", rows[0]), describe(done)


def test_no_sound_server_is_one_line_suggesting_export(env: Env, tmp_path: Path) -> None:
    routine = env.routine("timing", TIMING_ROUTINE)
    env.show(routine)
    no_server = no_server_env(tmp_path / "empty-runtime")
    no_server.update(private_dirs(env.root))
    no_server.pop("VOICE_COACH_CACHE", None)
    start = time.monotonic()
    done = env.run("play", routine, "--cache-dir", env.cache, env=no_server, timeout=30)
    took = time.monotonic() - start
    assert done.returncode != 0, describe(done)
    assert "Traceback" not in done.stderr, describe(done)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, describe(done)
    assert lines[0].startswith("error: "), describe(done)
    assert "voice-coach export" in lines[0], describe(done)
    assert took < 15, f"took {took:.1f} s to give up"
    assert list((tmp_path / "empty-runtime").iterdir()) == [
        tmp_path / "empty-runtime" / "client.conf"
    ], "no sound server may have been spawned"


def test_ctrl_c_stops_and_resume_continues_in_that_step(env: Env, tmp_path: Path) -> None:
    routine = env.routine("stop", STOP_ROUTINE)
    timeline = env.show(routine)
    step2 = next(c for c in timeline["chapters"] if c["title"] == "Reach up")
    hold2 = next(e for e in timeline["events"] if e["kind"] == "hold" and e["step"] == 2)
    first_cue = timeline["events"][0]["start_ms"]
    # Halfway between the start of step 2 and its "Hold": about 4-5 s in.
    target_ms = (step2["start_ms"] + hold2["start_ms"]) / 2
    with env.pulse.recorder(tmp_path / "stop.raw") as rec:
        play = env.start_play(routine)
        try:
            sound_at = wait_for_sound(rec, timeout_s=15, n=1)
            wait_until_recorded(rec, sound_at + target_ms - first_cue)
            sent = time.monotonic()
            play.proc.send_signal(signal.SIGINT)
            code = play.wait(timeout=10)
            took = time.monotonic() - sent
        finally:
            play.kill()
    assert code == 130, str(play)
    assert took <= STOP_WITHIN_S, f"took {took:.2f} s to stop after Ctrl+C\n{play}"
    assert "Traceback" not in play.stderr, str(play)
    found = re.search(r"stopped in step (\d+); continue with: (.*--resume)", play.stdout)
    assert found, str(play)
    assert found.group(1) == "2", f"Ctrl+C came in step 2\n{play}"
    assert f"voice-coach play {routine} --resume" in found.group(2), str(play)

    resumed = env.start_play(routine, "--resume")
    try:
        line = resumed.read_stderr_until("resuming at step", timeout_s=15)
    finally:
        resumed.kill()
    assert line is not None, str(resumed)
    assert "resuming at step 2" in line, str(resumed)
    assert "Traceback" not in resumed.stderr, str(resumed)


def test_q_on_a_terminal_stops(env: Env, tmp_path: Path) -> None:
    routine = env.routine("stop", STOP_ROUTINE)
    env.show(routine)
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    try:
        with env.pulse.recorder(tmp_path / "q.raw") as rec:
            play = env.start_play(routine, stdin=slave)
            try:
                wait_for_sound(rec, timeout_s=15)
                # Controls are on once the key help is shown and the terminal is in
                # cbreak mode (no canonical line editing, no echo); the start tone
                # comes sooner (it plays while the program loads).
                assert play.read_stderr_until("q quit", timeout_s=15), str(play)
                wait_until(
                    lambda: not termios.tcgetattr(slave)[3] & termios.ICANON, "cbreak mode", 5
                )
                sent = time.monotonic()
                os.write(master, b"q")
                code = play.wait(timeout=10)
                took = time.monotonic() - sent
            finally:
                play.kill()
        after = termios.tcgetattr(slave)
    finally:
        os.close(master)
        os.close(slave)
    assert code == 0, str(play)
    assert took <= STOP_WITHIN_S, f"took {took:.2f} s to stop after q\n{play}"
    assert "stopped in step" in play.stdout, str(play)
    assert "Traceback" not in play.stderr, str(play)
    assert after == before, "the terminal settings must be restored"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_terminal_that_goes_away_does_not_break_playback(env: Env, tmp_path: Path) -> None:
    routine = env.routine("stop", STOP_ROUTINE)
    env.show(routine)
    master, slave = pty.openpty()
    with env.pulse.recorder(tmp_path / "gone.raw") as rec:
        play = env.start_play(routine, stdin=slave)
        os.close(slave)
        try:
            wait_for_sound(rec, timeout_s=15)
            # Loaded (the key help is shown), not still importing behind the start tone.
            assert play.read_stderr_until("q quit", timeout_s=15), str(play)
            os.close(master)  # the terminal window is closed
            # Playback goes on: the next cue sounds, and the rest has loaded by then.
            wait_for_sound(rec, timeout_s=15, n=2)
            before = _cpu_seconds(play.proc.pid)
            time.sleep(1.0)  # the test is about this time passing: CPU used in 1 s of play
            busy = _cpu_seconds(play.proc.pid) - before
            play.proc.send_signal(signal.SIGINT)
            code = play.wait(timeout=10)
        finally:
            play.kill()
    assert busy < 0.5, f"{busy:.2f} s of CPU in 1 s of playback after the terminal went away"
    assert code == 130, str(play)
    assert "Traceback" not in play.stderr, str(play)
    assert "stopped in step" in play.stdout, str(play)
