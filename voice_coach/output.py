"""The sound device end of live playback: one raw output stream, pulled by its callback.

The callback asks a `Source` for exactly the frames the device needs, so the count of
frames handed out is the playback clock. The source can be swapped while the stream
runs (under `Output.lock`, between two callbacks): the quick start plays a recorded
head of the routine first, and the player takes the stream over at the frame reached.

Imports only the standard library; the caller passes the sounddevice module in, so
this can run before numpy and the rest of the program are loaded.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from types import ModuleType
from typing import Any, Protocol

SAMPLE_BYTES = 2
"""Mono signed 16-bit little-endian frames."""
LATENCY_S = 0.2
"""Device buffer: enough to ride out a busy moment on a 2-core machine (with 0.1 s,
a loaded machine ran the device dry now and then, and each time delays every later cue:
the clock is the frames played)."""


class Source(Protocol):
    """Where the stream's frames come from."""

    def read(self, frames: int) -> bytes:
        """Exactly `frames` frames (silence when there is nothing to play)."""
        ...

    def catch_up(self, frames: int) -> None:
        """The listener lost `frames` to an underrun: make them up (in a pause)."""
        ...

    @property
    def finished(self) -> bool:
        """Nothing more will come: the stream may stop after the last read."""
        ...


class LostTime:
    """How much the listener missed when the device ran dry (an underrun).

    Between callbacks the device drains its buffer in real time, so the frames handed
    out minus the elapsed time (monotonic clock) times the rate, the *level*, peaks at
    the same value after every refill. When the device runs dry it goes silent while
    the clock runs on, and the level drops by just that silence. So after an underrun
    is flagged, once the buffer has refilled (`SETTLE_S`), the drop of the peak level
    against the peak of the `WINDOW_S` before is the time lost. (PortAudio's stream
    time is not used: under PulseAudio it can stand still.) Measured here through
    PulseAudio: process stalls of 0.5 and 1.0 s gave 257 and 747 ms, against 266 and
    766 ms of silence in the recording.

    Only flagged underruns count: a stall at start-up, before anything was heard,
    or a slow drift between the sound card's clock and the computer's is not a loss.
    """

    WINDOW_S = 5.0
    SETTLE_S = 0.5
    MIN_S = 0.005
    """Smaller losses are not worth a correction."""

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self.reported = 0
        """Frames reported lost so far (counted as played from then on)."""
        self._t0: float | None = None
        self._recent: deque[tuple[float, float]] = deque()
        self._reference: float | None = None
        self._settle_until = 0.0
        self._peak_after = 0.0

    def update(self, now: float, handed: int, underflow: bool) -> int:
        """After a callback: `now` (seconds), frames handed out in all, whether the
        device reported an underflow. Returns frames newly found lost (mostly 0)."""
        if self._t0 is None:
            self._t0 = now
        level = handed + self.reported - (now - self._t0) * self.rate
        if underflow:
            if self._reference is None:
                if not self._recent:
                    return 0  # nothing heard yet to compare with
                self._reference = max(lv for _, lv in self._recent)
                self._peak_after = level
            self._settle_until = now + self.SETTLE_S
        if self._reference is None:
            self._recent.append((now, level))
            while self._recent[0][0] < now - self.WINDOW_S:
                self._recent.popleft()
            return 0
        self._peak_after = max(self._peak_after, level)
        if now < self._settle_until:
            return 0
        lost = round(self._reference - self._peak_after)
        self._reference = None
        self._recent.clear()
        if lost < self.MIN_S * self.rate:
            return 0
        self.reported += lost
        return lost


class Output:
    """A started mono int16 output stream whose callback reads from `source`."""

    def __init__(
        self,
        sd: ModuleType,
        sample_rate: int,
        device: int | None,
        source: Source,
        latency_s: float = LATENCY_S,
    ) -> None:
        self.sample_rate = sample_rate
        self.source = source
        self.lock = threading.Lock()
        """Held while a callback reads; hold it to swap `source` between two reads."""
        self.frames = 0
        """Frames handed to the device so far."""
        self.underruns = 0
        """Times the device ran dry before a callback delivered."""
        self.lost = LostTime(sample_rate)
        """The time those underruns cost the listener (the source makes it up)."""
        self.done = threading.Event()
        """Set when the stream has stopped (played out its source, or closed)."""
        self._stop = sd.CallbackStop
        self._stream = sd.RawOutputStream(
            samplerate=sample_rate,
            channels=1,
            dtype="int16",
            device=device,
            latency=latency_s,
            callback=self._callback,
            finished_callback=self.done.set,
        )
        self._stream.start()

    def _callback(self, outdata: Any, frames: int, _time: Any, status: Any) -> None:
        underflow = bool(status.output_underflow)
        if underflow:
            self.underruns += 1
        with self.lock:
            outdata[:] = self.source.read(frames)
            self.frames += frames
            lost = self.lost.update(time.monotonic(), self.frames, underflow)
            if lost:
                self.source.catch_up(lost)
            finished = self.source.finished
        if finished:
            raise self._stop

    def close(self) -> None:
        """Stop at once (what is still buffered is dropped) and release the device."""
        self._stream.close()
        self.done.set()
