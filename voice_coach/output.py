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

    @property
    def finished(self) -> bool:
        """Nothing more will come: the stream may stop after the last read."""
        ...


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
        self.device = device
        self.source = source
        self.lock = threading.Lock()
        """Held while a callback reads; hold it to swap `source` between two reads."""
        self.frames = 0
        """Frames handed to the device so far."""
        self.underruns = 0
        """Times the device ran dry before a callback delivered."""
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
        if status.output_underflow:
            self.underruns += 1
        with self.lock:
            outdata[:] = self.source.read(frames)
            self.frames += frames
            finished = self.source.finished
        if finished:
            raise self._stop

    def close(self) -> None:
        """Stop at once (what is still buffered is dropped) and release the device."""
        self._stream.close()
        self.done.set()
