"""A private PulseAudio server with a null sink, a recorder of what it plays, and
a comparison of recorded onsets with a timeline.

`pulse_server()` starts `pulseaudio` (not daemonized: it is our child process) in a
fresh temporary runtime directory, loads one null sink and the native protocol, and
points every client started with `server.env()` at it (PortAudio's ALSA "default"
and "pulse" devices included). `server.recorder(path)` runs `parec` on the sink's
monitor. Everything started is stopped on exit, also when the body raises.

Used by tests/integration/test_play_real.py and benchmarks/bench_play.py; it imports
nothing from pytest.
"""

from __future__ import annotations

import bisect
import ctypes
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from .waiting import wait_until

RATE = 22050
"""Recording rate: the rate `onsets` analyses at."""
SINK = "voice_coach_test"
PAREC_LATENCY_MS = 10
"""Ask parec for small fragments: its default (~2 s) makes the file grow in bursts."""
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
PR_SET_PDEATHSIG = 1
CLIENT_ENV_DROP = ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE", "PULSE_COOKIE")


class PulseError(RuntimeError):
    """The sound server or the recorder could not be started."""


def _die_with_parent() -> None:
    """In a child before exec (Linux): get SIGTERM if the process that started it dies,
    so a test run killed with SIGKILL leaves no sound server or recorder behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Terminate a child, then kill it if it does not go; always reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


class Recorder:
    """`parec` recording the sink's monitor (or another `source`) as mono s16le at
    `rate` into `path`."""

    def __init__(
        self, server: PulseServer, path: Path, rate: int = RATE, source: str | None = None
    ) -> None:
        self.server, self.path, self.rate = server, path, rate
        self.source = source or f"{server.sink}.monitor"
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._err: IO[bytes] | None = None
        self.log_path = path.with_name(path.name + ".parec.log")
        """parec's stderr (a file, not a pipe that could fill up and block it)."""

    def start(self, timeout_s: float = START_TIMEOUT_S) -> Recorder:
        """Start parec and return once it is writing (silence counts)."""
        self._out = self.path.open("wb")
        self._err = self.log_path.open("wb")
        try:
            self._proc = self._spawn(self._out)
            wait_until(self._writing, "parec to write", timeout_s, 0.01, error=PulseError)
        except BaseException:
            self.stop()
            raise
        return self

    def _writing(self) -> bool:
        """Whether parec has written anything yet; PulseError if it has exited."""
        assert self._proc is not None
        code = self._proc.poll()
        if code is not None:
            raise PulseError(f"parec exited with {code}: {self.log().strip()}")
        return self.bytes_recorded() > 0

    def _spawn(self, out: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                "parec",
                "-d",
                self.source,
                "--format=s16le",
                f"--rate={self.rate}",
                "--channels=1",
                f"--latency-msec={PAREC_LATENCY_MS}",
                "--raw",
            ],
            stdout=out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=self.server.env(),
            preexec_fn=_die_with_parent,
        )

    def bytes_recorded(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def frames_recorded(self) -> int:
        return self.bytes_recorded() // 2

    def seconds_recorded(self) -> float:
        return self.frames_recorded() / self.rate

    def stop(self) -> None:
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None
        for f in (self._out, self._err):
            if f is not None:
                f.close()
        self._out = self._err = None

    def log(self) -> str:
        """What parec wrote to stderr."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def samples(self) -> npt.NDArray[np.int16]:
        """Everything recorded so far."""
        data = self.path.read_bytes()
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class PulseServer:
    runtime_dir: Path
    sink: str
    process: subprocess.Popen[bytes]
    log: Path
    _recorders: list[Recorder] = field(default_factory=list)

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: os.environ) with this server as the only one clients see."""
        env = {k: v for k, v in (os.environ if base is None else base).items()}
        for name in CLIENT_ENV_DROP:
            env.pop(name, None)
        env.update(client_env(self.runtime_dir))
        env["PULSE_SINK"] = self.sink
        return env

    def recorder(self, path: Path, rate: int = RATE) -> Recorder:
        """A started recorder; stop it (or leave the server's context) when done."""
        rec = Recorder(self, path, rate)
        self._recorders.append(rec)
        return rec.start()

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        for rec in self._recorders:
            rec.stop()
        _stop(self.process)


def client_env(runtime_dir: Path) -> dict[str, str]:
    """Variables that point a PulseAudio client at `runtime_dir` and never autospawn."""
    conf = runtime_dir / "client.conf"
    if not conf.exists():
        conf.write_text("autospawn = no\n")
    return {"PULSE_RUNTIME_PATH": str(runtime_dir), "PULSE_CLIENTCONFIG": str(conf)}


def no_server_env(runtime_dir: Path) -> dict[str, str]:
    """os.environ for a client that must find no sound server at all (empty dir)."""
    runtime_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV_DROP}
    env.update(client_env(runtime_dir))
    return env


@contextmanager
def pulse_server(sink: str = SINK, set_environ: bool = True) -> Iterator[PulseServer]:
    """A running private PulseAudio server with a null sink called `sink`.

    With `set_environ`, os.environ points at it too while the context lasts (so any
    child started without an explicit env uses it); the old values come back after.
    """
    with ExitStack() as stack:
        runtime_dir = Path(tempfile.mkdtemp(prefix="voice-coach-pulse-"))
        stack.callback(shutil.rmtree, runtime_dir, ignore_errors=True)
        log = runtime_dir / "pulseaudio.log"
        env = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV_DROP}
        env.update(client_env(runtime_dir))
        env["PULSE_STATE_PATH"] = str(runtime_dir / "state")
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    "pulseaudio",
                    "--daemonize=no",
                    "--exit-idle-time=-1",
                    "--use-pid-file=no",
                    "--disallow-exit",
                    "-n",
                    f"--load=module-null-sink sink_name={sink}",
                    "--load=module-native-protocol-unix auth-anonymous=1",
                    "--log-target=stderr",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                env=env,
                preexec_fn=_die_with_parent,
            )
        server = PulseServer(runtime_dir, sink, process, log)
        stack.callback(server.stop)
        _wait_ready(server)
        if set_environ:
            stack.enter_context(_environ(server.env()))
        yield server


def _wait_ready(server: PulseServer) -> None:
    def has_sink() -> bool:
        if not server.alive():
            raise PulseError(
                f"pulseaudio exited with {server.process.returncode}: "
                f"{server.log.read_text(errors='replace').strip()[-2000:]}"
            )
        try:
            sinks = server.pactl("list", "short", "sinks")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            sinks = ""
        return server.sink in sinks

    wait_until(has_sink, "pulseaudio to come up", START_TIMEOUT_S, 0.05, error=PulseError)


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    names = [*values, *CLIENT_ENV_DROP]
    saved = {k: os.environ.get(k) for k in names}
    for k in CLIENT_ENV_DROP:
        os.environ.pop(k, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- comparing a recording with a timeline -------------------------------------------


@dataclass(frozen=True)
class Match:
    expected_ms: int
    """Where the timeline puts the event."""
    onset_ms: int | None
    """The recorded onset matched to it (recording time), if any."""

    def error_ms(self, offset_ms: float) -> float | None:
        return None if self.onset_ms is None else self.onset_ms - offset_ms - self.expected_ms


def match(
    expected_ms: Sequence[int], onset_ms: Sequence[int], offset_ms: float, tolerance_ms: float
) -> list[Match]:
    """Each expected time with the nearest onset within `tolerance_ms` after shifting by
    `offset_ms` (recording time = timeline time + offset); each onset is used once."""
    onsets = sorted(onset_ms)
    used: set[int] = set()
    out = []
    for t in expected_ms:
        target = t + offset_ms
        lo = bisect.bisect_left(onsets, target - tolerance_ms)
        hi = bisect.bisect_right(onsets, target + tolerance_ms)
        free = [(abs(onsets[i] - target), i) for i in range(lo, hi) if i not in used]
        if free:
            i = min(free)[1]
            used.add(i)
            out.append(Match(t, onsets[i]))
        else:
            out.append(Match(t, None))
    return out


def best_offset(
    expected_ms: Sequence[int], onset_ms: Sequence[int], tolerance_ms: float = 20
) -> float:
    """The constant shift from timeline to recording (recording = timeline + offset).

    Every (event, onset) pair proposes its difference; the proposal with the most
    others within `tolerance_ms` wins, and is refined to the median difference of the
    pairs matched with it.
    """
    diffs = sorted(o - t for o in onset_ms for t in expected_ms)
    if not diffs:
        raise ValueError("nothing to align")
    votes = [
        bisect.bisect_right(diffs, d + tolerance_ms) - bisect.bisect_left(diffs, d - tolerance_ms)
        for d in diffs
    ]
    guess = diffs[max(range(len(diffs)), key=votes.__getitem__)]
    pairs = [
        m.onset_ms - m.expected_ms
        for m in match(expected_ms, onset_ms, guess, tolerance_ms)
        if m.onset_ms is not None
    ]
    return float(statistics.median(pairs))


# -- a virtual microphone ------------------------------------------------------------

MIC = "voice_coach_mic"


@dataclass
class Microphone:
    """A null sink whose monitor is the server's default source: whatever is played
    into the sink is what a client hears from "the default microphone"."""

    server: PulseServer
    sink: str

    def say(self, wav: Path, timeout_s: float = 30) -> None:
        """Play a sound file into the microphone; returns when it has played."""
        subprocess.run(
            ["paplay", "-d", self.sink, str(wav)],
            env=self.server.env(),
            capture_output=True,
            check=True,
            timeout=timeout_s,
        )

    def recorder(self, path: Path, rate: int = RATE) -> Recorder:
        """A started recorder of what the microphone hears."""
        rec = Recorder(self.server, path, rate, source=f"{self.sink}.monitor")
        self.server._recorders.append(rec)
        return rec.start()

    def stream(self, rate: int, latency_ms: int = 20) -> subprocess.Popen[bytes]:
        """`pacat` playing mono s16le at `rate` from its stdin into the microphone (the
        caller paces what it writes and closes stdin to end it)."""
        return subprocess.Popen(
            [
                "pacat",
                "--playback",
                "-d",
                self.sink,
                "--format=s16le",
                f"--rate={rate}",
                "--channels=1",
                f"--latency-msec={latency_ms}",
                "--raw",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.server.env(),
            preexec_fn=_die_with_parent,
        )

    def leak(self, sink: str, volume_db: float) -> None:
        """Feed what `sink` plays back into the microphone at `volume_db` (an echo: a
        speaker heard by the microphone)."""
        module = self.server.pactl(
            "load-module",
            "module-loopback",
            f"source={sink}.monitor",
            f"sink={self.sink}",
            "latency_msec=20",
            "source_dont_move=true",
            "sink_dont_move=true",
        ).strip()

        def its_input() -> str | None:
            listing = self.server.pactl("list", "sink-inputs")
            for block in listing.split("Sink Input #")[1:]:
                if re.search(rf"Owner Module: {module}\b", block):
                    return block.split(None, 1)[0]
            return None

        index = wait_until(
            its_input, f"the loopback from {sink} to start", START_TIMEOUT_S, 0.05, PulseError
        )
        self.server.pactl("set-sink-input-volume", index, f"{volume_db:g}dB")


def virtual_microphone(server: PulseServer, name: str = MIC) -> Microphone:
    """Add a virtual microphone to `server` and make it the default source."""
    server.pactl("load-module", "module-null-sink", f"sink_name={name}")
    server.pactl("set-default-source", f"{name}.monitor")
    return Microphone(server, name)
