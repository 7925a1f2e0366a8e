"""The sound device end of live playback: one raw output stream, pulled by its callback.

The callback asks a `Source` for exactly the frames the device needs, so the count of
frames handed out is the playback clock. `play` first opens a short stream that plays
the start tone (`StartTone`) while the program loads; the player opens its own stream
once the tone has played out, so that the routine's first sound is at the front of
a fresh device buffer rather than behind a buffer of silence.

The stream itself comes from a `StreamFactory`: PortAudio through sounddevice
(`devices.sounddevice_stream`) in the product, a fake in unit tests. Imports only the
standard library, so the stream can start before numpy and the rest are loaded.
"""

from __future__ import annotations

import array
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

SAMPLE_BYTES = 2
"""Mono signed 16-bit little-endian frames."""
SAMPLE_RATE = 22050
"""The stream's rate: what the default speech engines produce. Clips at other rates
are resampled by the mixer."""
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


Fill = Callable[[memoryview, int, bool], bool]
"""The stream's callback: (buffer to fill, frames, whether the device ran dry before
this call) -> whether to go on. Called from the device's own thread."""


class RawStream(Protocol):
    """A started output stream; `close` stops it at once and frees the device."""

    def close(self) -> None: ...


class StreamFactory(Protocol):
    """Opens and starts a mono int16 output stream that calls `fill` for its frames
    and `on_finished` once it has stopped."""

    def __call__(
        self,
        sample_rate: int,
        device: int | None,
        latency_s: float,
        fill: Fill,
        on_finished: Callable[[], None],
    ) -> RawStream: ...


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
    """A started mono int16 output stream whose callback reads from a source."""

    def __init__(
        self,
        factory: StreamFactory,
        source: Source,
        sample_rate: int = SAMPLE_RATE,
        device: int | None = None,
        latency_s: float = LATENCY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sample_rate = sample_rate
        self._source = source
        self._clock = clock
        self.frames = 0
        """Frames handed to the device so far."""
        self.underruns = 0
        """Times the device ran dry before a callback delivered."""
        self.lost = LostTime(sample_rate)
        """The time those underruns cost the listener (the source makes it up)."""
        self.started = threading.Event()
        """Set once the device has asked for its first frames."""
        self._started_at = 0.0
        self._latency_s = latency_s
        self.done = threading.Event()
        """Set when the stream has stopped: its source finished and the device has
        played out its buffer, or it was closed."""
        self.error: Exception | None = None
        """What the source raised, if it did: the stream stopped there (a bed file
        removed mid-way), and the player reports it."""
        self._closed = False
        self._stream = factory(sample_rate, device, latency_s, self._fill, self.done.set)

    def _fill(self, out: memoryview, frames: int, underflow: bool) -> bool:
        if underflow:
            self.underruns += 1
        try:
            out[:] = self._source.read(frames)
        except Exception as exc:  # the device's thread: the player raises it
            out[:] = bytes(len(out))
            self.error = exc
            return False
        if not self.frames:
            self._started_at = self._clock()
            self.started.set()
        self.frames += frames
        lost = self.lost.update(self._clock(), self.frames, underflow)
        if lost:
            self._source.catch_up(lost)
        return not self._source.finished

    def heard_by(self) -> float:
        """When (on the clock) what was handed out so far will have been heard: from
        the first callback, the frames handed out, then the device buffer. The start
        tone's stream is closed then: PortAudio's own notice that a stream has played
        out comes late through some sound servers (seconds, through PulseAudio's ALSA
        plugin)."""
        return self._started_at + self.frames / self.sample_rate + self._latency_s

    def close(self) -> None:
        """Stop at once (what is still buffered is dropped) and release the device.
        Closing again does nothing."""
        if not self._closed:
            self._closed = True
            self._stream.close()
        self.done.set()


# -- the start tone ------------------------------------------------------------------

TONE_MS = 160
TONE_HZ = (523.25, 784.0)
"""C5 then G5: a rising fifth, distinct from the chimes that mark holds."""
TONE_PEAK = 0.12
"""Of full scale: about as loud as a chime, well under the speech."""
TONE_GAP_MS = 40
"""Silence after the tone, before its stream stops (opening the routine's stream adds
a little more)."""
TONE_LATENCY_S = 0.05
"""The tone's stream buffers less than the routine's: it is short and made before
anything else runs, and it stops (so that the routine can start) only once its
buffer has played out."""


def start_tone(sample_rate: int = SAMPLE_RATE) -> bytes:
    """A short, soft rising two-note tone as PCM: "the coach heard you, it is coming".

    Standard library only (it plays before numpy is loaded)."""
    n = sample_rate * TONE_MS // 1000
    fade = sample_rate * 20 // 1000
    out = array.array("h")
    phase = 0.0
    for i in range(n):
        hz = TONE_HZ[0] if i < n // 2 else TONE_HZ[1]
        phase += 2 * math.pi * hz / sample_rate
        envelope = min(1.0, (i + 1) / fade, (n - i) / fade)
        out.append(round(math.sin(phase) * envelope * TONE_PEAK * 32767))
    if array.array("h", [1]).tobytes() != b"\x01\x00":
        out.byteswap()  # the stream is little-endian whatever this machine is
    return out.tobytes()


class StartTone:
    """A `Source` that plays the start tone and a short silence, then finishes."""

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        gap = bytes(SAMPLE_BYTES * (sample_rate * TONE_GAP_MS // 1000))
        self.pcm = start_tone(sample_rate) + gap
        self.position = 0
        """Frames handed out."""

    def read(self, frames: int) -> bytes:
        start = self.position * SAMPLE_BYTES
        chunk = self.pcm[start : start + frames * SAMPLE_BYTES]
        self.position += frames
        return chunk + bytes(frames * SAMPLE_BYTES - len(chunk))

    def catch_up(self, frames: int) -> None:
        """Nothing to make up: the routine has not started."""

    @property
    def finished(self) -> bool:
        return self.position * SAMPLE_BYTES >= len(self.pcm)
