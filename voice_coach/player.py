"""Live playback: one long-lived output stream whose callback pulls from a session.

The stream's callback asks the `LiveSession` for exactly the frames the device
needs, so the count of frames played is the clock: no `time.sleep` between cues and
no reliance on PortAudio's stream time. Lines synthesize in a background thread in
timeline order; the keyboard is read in another, one key per command.

With a quick start (`quickstart`), the stream is already playing the recorded head
of this routine when `play` is called: it is taken over at the frame reached.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from . import quickstart
from .cache import SpeechCache
from .errors import ToolError
from .model import Routine
from .output import SAMPLE_BYTES, Output
from .quickstart import HEAD_S, Started
from .session import Command, LiveSession, Status
from .timeline import Pacing, spoken_texts

KEYS: dict[bytes, Command] = {
    b" ": Command.PAUSE,
    b"n": Command.NEXT,
    b"\x1b[C": Command.NEXT,
    b"b": Command.BACK,
    b"\x1b[D": Command.BACK,
    b"+": Command.LONGER,
    b"=": Command.LONGER,
    b"-": Command.SHORTER,
    b"q": Command.QUIT,
}
KEY_HELP = "space pause/resume · n/→ next · b/← back · +/- hold ±5 s · q quit"


def sounddevice() -> ModuleType:
    """The sounddevice module, or a `ToolError` saying how to get PortAudio."""
    try:
        import sounddevice as sd
    except ImportError:
        raise ToolError(
            "live playback needs the sounddevice package: pip install sounddevice; "
            "or make an MP3 with `voice-coach export`"
        ) from None
    except OSError:
        raise ToolError(
            "live playback needs PortAudio, which is not installed (Debian/Ubuntu: "
            "`sudo apt-get install libportaudio2`); or make an MP3 with "
            "`voice-coach export`"
        ) from None
    module: ModuleType = sd
    return module


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    host_api: str
    default: bool


def output_devices() -> list[OutputDevice]:
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_out = sd.default.device[1]
    except sd.PortAudioError as exc:
        raise ToolError(f"cannot list sound devices: {exc}") from None
    return [
        OutputDevice(i, d["name"], apis[d["hostapi"]]["name"], i == default_out)
        for i, d in enumerate(devices)
        if d["max_output_channels"] > 0
    ]


def pick_device(spec: str | None) -> int | None:
    """A device index from an index or a (part of a) name; None for the default."""
    devices = output_devices()
    if not devices:
        raise ToolError(
            "no audio output device found; make an MP3 with `voice-coach export` "
            "and play it on another device"
        )
    if spec is None:
        return None
    if spec.isdigit() and any(d.index == int(spec) for d in devices):
        return int(spec)
    matches = [d for d in devices if spec.lower() in d.name.lower()]
    if len(matches) == 1:
        return matches[0].index
    listing = "; ".join(f"{d.index}: {d.name}" for d in devices)
    what = "matches several devices" if matches else "is not an output device"
    raise ToolError(f"--device {spec!r} {what}; output devices: {listing}")


def parse_keys(data: bytes) -> list[Command]:
    """Commands in a burst of key bytes (arrow keys arrive as escape sequences)."""
    out = []
    i = 0
    while i < len(data):
        for length in (3, 1):
            command = KEYS.get(data[i : i + length])
            if command is not None:
                out.append(command)
                i += length
                break
        else:
            i += 1
    return out


@contextmanager
def keyboard(on_command: Callable[[Command], None]) -> Iterator[bool]:
    """Read single keys from a terminal stdin in a thread; yields whether it does.

    With stdin not a terminal (a pipe, CI), controls are off and playback runs through.
    """
    if not sys.stdin.isatty():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(fd, 32)
            except OSError:
                data = b""
            if not data:
                return  # the terminal went away: no more keys, playback goes on
            for command in parse_keys(data):
                on_command(command)

    tty.setcbreak(fd)  # one key at a time, no echo; Ctrl+C still interrupts
    thread = threading.Thread(target=loop, name="voice-coach-keys", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(timeout=1)
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)  # gone with its terminal


def status_line(st: Status) -> str:
    def clock(ms: int) -> str:
        return f"{ms // 60000}:{ms // 1000 % 60:02d}"

    state = "paused" if st.paused else ("waiting for speech" if st.waiting else "playing")
    step = f"step {st.step}/{st.steps} {st.step_name}" if st.step else st.step_name
    parts = [state, step]
    if st.side:
        parts.append(f"{st.side} side")
    if st.rep and st.reps and st.reps > 1:
        parts.append(f"rep {st.rep}/{st.reps}")
    if st.hold_left_ms is not None:
        parts.append(f"hold {clock(st.hold_left_ms)} left")
    total = clock(st.total_ms) if st.total_ms else "…"
    parts.append(f"{clock(st.position_ms)} / {total}")
    return " · ".join(parts)


@dataclass(frozen=True)
class PlayResult:
    finished: bool
    """Played to the end (not quit or interrupted)."""
    interrupted: bool
    """Stopped by Ctrl+C."""
    step: int
    """The step playing when it stopped."""
    underruns: int
    waited_ms: int
    """Silence played while waiting for synthesis."""
    lost_ms: int = 0
    """Silence the listener heard in underruns."""
    caught_up_ms: int = 0
    """How much of it was made up by shortening pauses."""
    quick_start: bool | None = None
    """Whether a quick-start head played first (None: it did not), and was the same
    audio the routine plays (False: it was outdated)."""


class _Synthesizer(threading.Thread):
    """Synthesizes the remaining lines in timeline order, feeding the session."""

    def __init__(self, cache: SpeechCache, texts: list[str], session: LiveSession) -> None:
        super().__init__(name="voice-coach-synth", daemon=True)
        self.cache, self.texts, self.session = cache, texts, session
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            batch: dict[str, Any] = {}
            last = time.monotonic()
            for text in self.texts:
                if self.stop.is_set():
                    return
                batch[text] = self.cache.clip(text)
                # Hand over often at first (playback may be waiting), then in batches.
                if time.monotonic() - last > 0.05 or len(batch) >= 16:
                    self.session.add_clips(batch)
                    batch, last = {}, time.monotonic()
            if batch:
                self.session.add_clips(batch)
        except BaseException as exc:  # reported by the player's loop
            self.error = exc


class _SessionSource:
    """The session as the output stream's `Source`."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session

    def read(self, frames: int) -> bytes:
        return self.session.read(frames).tobytes()

    def catch_up(self, frames: int) -> None:
        self.session.catch_up(frames)

    @property
    def finished(self) -> bool:
        return self.session.finished


def new_session(
    routine: Routine, cache: SpeechCache, start_step: int = 1, pacing: Pacing = Pacing()
) -> tuple[LiveSession, list[str]]:
    """A session for `routine` holding its first line, and every line in timeline order."""
    texts = spoken_texts(routine)
    first = cache.clip(texts[0])
    session = LiveSession(
        routine,
        first.sample_rate,
        speak=cache.clip,
        pacing=pacing,
        start_step=start_step,
        start_ms=pacing.lead_in_ms if start_step <= 1 else 0,
    )
    session.add_clips({texts[0]: first})
    return session, texts


def load_ahead(session: LiveSession, cache: SpeechCache, texts: list[str], frames: int) -> int:
    """Give the session its lines in timeline order, synchronously, until `frames` past
    its position are laid out; how many of `texts` it now has (the first included)."""
    count = 1
    while count < len(texts) and session.ready_ahead_frames < frames:
        session.add_clips({texts[count]: cache.clip(texts[count])})
        count += 1
    return count


def render_head(
    routine: Routine,
    cache: SpeechCache,
    start_step: int = 1,
    pacing: Pacing = Pacing(),
    seconds: float = HEAD_S,
) -> tuple[int, bytes, list[str]]:
    """What `play` hands the device first, exactly: (sample rate, the first `seconds`
    of audio, the lines it is made of). The quick start plays it for the next start."""
    session, texts = new_session(routine, cache, start_step, pacing)
    frames = round(seconds * session.sample_rate)
    used = load_ahead(session, cache, texts, frames)
    chunks = []
    done = 0
    while done < frames and not session.finished:
        n = min(4096, frames - done)
        chunks.append(session.read(n).tobytes())
        done += n
    return session.sample_rate, b"".join(chunks), texts[:used]


def _take_over(started: Started, session: LiveSession) -> tuple[bool, int]:
    """Hand the quick start's running stream to `session` at the frame it has reached.
    Returns whether the head played so far is what the session plays there, and the
    frames of silence played after the head ran out."""
    head, output = started.head, started.output
    with output.lock:  # between two callbacks
        reached = head.position
        played = min(reached, head.total_frames)
        same = session.read(played).tobytes() == head.pcm[: played * SAMPLE_BYTES]
        session.catch_up(head.debt)
        output.source = _SessionSource(session)
    return same, reached - played


def play(
    routine: Routine,
    cache: SpeechCache,
    device: int | None = None,
    start_step: int = 1,
    pacing: Pacing = Pacing(),
    on_status: Callable[[Status], None] | None = None,
    controls: bool = True,
) -> PlayResult:
    """Play `routine` on a sound device until it ends, is quit, or Ctrl+C. If the quick
    start is playing its head of this routine, the stream is taken over from it."""
    sd = sounddevice()
    session, texts = new_session(routine, cache, start_step, pacing)
    started = quickstart.take(session.sample_rate, device)
    quick: bool | None = None
    head_gap = 0
    if started is not None:
        loaded = load_ahead(session, cache, texts, started.head.total_frames)
        quick, head_gap = _take_over(started, session)
        output = started.output
    else:
        loaded = 1
        try:
            output = Output(sd, session.sample_rate, device, _SessionSource(session))
        except (sd.PortAudioError, ValueError) as exc:
            raise ToolError(
                f"cannot open the sound device: {exc}; "
                "make an MP3 with `voice-coach export` instead"
            ) from None
    synth = _Synthesizer(cache, texts[loaded:], session)
    synth.start()
    interrupted = False
    try:
        with keyboard(session.handle) if controls else _no_keys():
            while not output.done.wait(0.2):
                if synth.error is not None:
                    raise synth.error
                if on_status is not None:
                    on_status(session.status())
    except KeyboardInterrupt:
        interrupted = True
    finally:
        output.close()
        synth.stop.set()
        synth.join(timeout=5)
    if synth.error is not None:
        raise synth.error
    return PlayResult(
        finished=session.finished and not session.quit_requested and not interrupted,
        interrupted=interrupted,
        step=session.current_step(),
        underruns=output.underruns,
        lost_ms=output.lost.reported * 1000 // session.sample_rate,
        caught_up_ms=session.caught_up_frames * 1000 // session.sample_rate,
        waited_ms=(session.waited_frames + head_gap) * 1000 // session.sample_rate,
        quick_start=quick,
    )


@contextmanager
def _no_keys() -> Iterator[bool]:
    yield False
