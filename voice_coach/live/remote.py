"""What a source of commands may do with a live session (`Remote`), what the coach
put on the air and when (`Airtime`), and several sources at once (`combined`).

Sources of commands: the terminal's keys (`keys.py`), the voice (`listen.py`) and
the desktop's media keys (`mpris.py`). Each is a `Controls`: given the `Remote`, it
delivers commands for the duration of a `with` block. The voice needs more than
`handle`: where playback is, what the coach is saying when (so that it does not
obey itself), and a way to answer out loud. The `Remote` holds all of that.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..audio.clip import Clip, resample
from ..routine.model import Routine
from ..timeline import Event, routine_phrases, spoken_texts
from .checkin import Desk
from .session import Command, LiveSession, Status

ACK_HZ = 1175.0
"""D6: one short note, higher than the chimes (660/880 Hz) and the start tone."""
ACK_MS = 90
ACK_PEAK = 0.15
"""Of full scale: about as loud as a chime."""
LOUD_PEAK = 330
"""A block whose peak passes this (about -40 dBFS) counts as sound on the air."""
KEPT_S = 60.0
"""How long `Airtime` remembers what it sent."""


def ack_tone(sample_rate: int) -> npt.NDArray[np.int16]:
    """A soft single short note: "heard you"."""
    n = sample_rate * ACK_MS // 1000
    t = np.arange(n) / sample_rate
    fade = max(1, sample_rate * 10 // 1000)
    envelope = np.minimum(1.0, np.minimum(np.arange(n) + 1, n - np.arange(n)) / fade)
    wave_ = np.sin(2 * np.pi * ACK_HZ * t) * envelope * ACK_PEAK * 32767
    return np.round(wave_).astype("<i2")


@dataclass(frozen=True)
class Sent:
    """One block handed to the sound device."""

    at_s: float
    """Clock time of the hand-over."""
    frames: int
    loud: bool
    """Anything audible in it (a cue, a chime, an answer)."""
    from_ms: int
    to_ms: int
    """The session's position before and after the block (the routine's own sound)."""
    said: str | None
    """The text of a spoken answer mixed into the block, if any."""


class Airtime:
    """The output as it went out: each block handed to the device with the time, the
    session's position and whether it was loud; and short sounds (answers, the
    acknowledgement tone) mixed over the routine.

    The device plays a block from about when it is handed over until `latency_s`
    later, so a block counts as heard over that span (see `sounding`)."""

    def __init__(
        self, sample_rate: int, latency_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sample_rate = sample_rate
        self.latency_s = latency_s
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: deque[Sent] = deque()
        self._overlay: deque[tuple[npt.NDArray[np.int16], str | None]] = deque()

    def play(self, samples: npt.NDArray[np.int16], said: str | None = None) -> None:
        """Mix `samples` (at the stream's rate) into the output from the next block on."""
        with self._lock:
            self._overlay.append((samples, said))

    def mix(self, block: npt.NDArray[np.int16], from_ms: int, to_ms: int) -> npt.NDArray[np.int16]:
        """In the device's callback: `block` with any pending short sound mixed in,
        remembered as sent now."""
        said = None
        with self._lock:
            if self._overlay:
                # Several short sounds play one after the other, not on top of each other.
                extra = np.zeros(block.size, dtype=np.int32)
                filled = 0
                while self._overlay and filled < block.size:
                    samples, text = self._overlay[0]
                    take = min(block.size - filled, samples.size)
                    extra[filled : filled + take] = samples[:take]
                    said = said or text
                    filled += take
                    if take < samples.size:
                        self._overlay[0] = (samples[take:], text)
                    else:
                        self._overlay.popleft()
                block = np.clip(block + extra, -32768, 32767).astype("<i2")
            now = self._clock()
            loud = bool(block.size) and int(np.abs(block).max()) > LOUD_PEAK
            self._sent.append(Sent(now, block.size, loud, from_ms, to_ms, said))
            while self._sent and self._sent[0].at_s < now - KEPT_S:
                self._sent.popleft()
        return block

    def busy(self) -> bool:
        """Short sounds still to mix in, or anything loud still in the device."""
        with self._lock:
            pending = bool(self._overlay)
        now = self._clock()
        return pending or bool(self.sounding(now, now, 0.0))

    def sounding(self, start_s: float, end_s: float, tail_s: float) -> list[Sent]:
        """The loud blocks heard at some time in [start_s, end_s] (clock times), counting
        each as heard from its hand-over to `latency_s` + `tail_s` after its end."""
        with self._lock:
            sent = list(self._sent)
        out = []
        for s in sent:
            heard_until = s.at_s + s.frames / self.sample_rate + self.latency_s + tail_s
            if s.loud and s.at_s <= end_s and heard_until >= start_s:
                out.append(s)
        return out


class Remote:
    """A live session as a source of commands sees it. Calling it handles a command
    (so the terminal's keys take it as a plain handler)."""

    def __init__(
        self,
        session: LiveSession,
        airtime: Airtime,
        speak: Callable[[str], Clip],
        cache_dir: Path,
    ) -> None:
        self.session = session
        self.airtime = airtime
        self._speak = speak
        self.cache_dir = cache_dir
        """Where a source may keep files (the cover MPRIS shows)."""
        self._lock = threading.Lock()
        self._all_texts: tuple[str, ...] | None = None
        self.desk = Desk()
        """Where keys and voice hand in a pain rating while the coach asks for one."""

    @property
    def routine(self) -> Routine:
        return self.session.routine

    def __call__(self, command: Command) -> None:
        self.handle(command)

    def handle(self, command: Command) -> None:
        # One at a time: keys, voice and media keys run in threads of their own, and
        # PAUSE is a toggle.
        with self._lock:
            self.session.handle(command)

    def status(self) -> Status:
        return self.session.status()

    def acknowledge(self) -> None:
        """Play the short "heard you" note."""
        self.airtime.play(ack_tone(self.airtime.sample_rate))

    def say(self, text: str) -> None:
        """Speak `text` over the routine (the routine goes on underneath)."""
        clip = resample(self._speak(text), self.airtime.sample_rate)
        self.airtime.play(clip.samples(), said=text)

    def remaining_text(self, seconds: float) -> str:
        """ "20 seconds left", in the routine's language."""
        return routine_phrases(self.routine)[0].remaining_text(seconds)

    def spoken_between(self, from_ms: int, to_ms: int) -> Sequence[str]:
        """The routine's lines sounding between two positions; every line the routine
        can speak while its timeline is not complete."""
        timeline = self.session.timeline
        if timeline is None:
            if self._all_texts is None:
                self._all_texts = tuple(spoken_texts(self.routine))
            return self._all_texts
        return [e.text for e in _overlapping(timeline.events, from_ms, to_ms) if e.is_speech]


def _overlapping(events: Sequence[Event], from_ms: int, to_ms: int) -> list[Event]:
    return [e for e in events if e.start_ms < to_ms and e.end_ms > from_ms]


Controls = Callable[[Remote], AbstractContextManager[bool]]
"""Starts delivering commands to a session for the duration of a `with` block (the
terminal's keys, say); the block's value says whether it does."""


@contextmanager
def no_controls(_remote: Remote) -> Iterator[bool]:
    yield False


def combined(*sources: Controls) -> Controls:
    """All of `sources` at once; on if any is."""

    @contextmanager
    def controls(remote: Remote) -> Iterator[bool]:
        with ExitStack() as stack:
            on = [stack.enter_context(source(remote)) for source in sources]
            yield any(on)

    return controls
