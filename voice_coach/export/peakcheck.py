"""The true peak of an encoded file as a player reads it: decoded by ffmpeg.

Encoding raises the true peak of speech over its PCM's by an amount that depends on
the codec, the bitrate and the very syllables. `level` keeps room for it from
measurements (`Format.peak_rise_db`), but the rise has a long tail: synthesis differs
from run to run, and where 30 fresh syntheses of the sciatica routine read -1.8 to
-1.1 dBTP in M4A at 64 kbit/s, one in CI read -0.7. So every lossy export is decoded
and its true peak read (`DecodedPeak`); a file over the ceiling is never put in place
but encoded again with the room it turned out to need (`OverCeiling`,
`encode.within_ceiling`).

MP3 and Ogg are decoded while ffmpeg writes them: a thread follows the partial file
and pipes what is written to a second ffmpeg, whose PCM another thread meters, on
the core the encoder leaves free. An M4A's index is written last, so it is decoded
once complete (34 minutes of it decode in 0.4 s of CPU here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import TracebackType

import numpy as np

from .. import proc
from ..audio.loudness import TruePeakMeter

CHUNK_BYTES = 1 << 16
POLL_S = 0.02
"""How long the follower waits for ffmpeg to write more."""


class OverCeiling(Exception):
    """A decoded file's true peak is over the ceiling it was encoded for."""

    def __init__(self, peak_dbtp: float, ceiling_dbtp: float) -> None:
        super().__init__(f"decoded true peak {peak_dbtp:.2f} dBTP over {ceiling_dbtp:.2f}")
        self.peak_dbtp = peak_dbtp
        self.excess_db = peak_dbtp - ceiling_dbtp


def _decoder(source: str, fed: bool) -> proc.Reading:
    # Decoded at the file's own rate (the true peak is read 4x oversampled in any case)
    # to floats: in 16 bits, what the decoder makes over full scale would be clipped
    # there, and the excess read short.
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", source]
    return proc.Reading([*args, "-vn", "-f", "f32le", "-ac", "1", "pipe:1"], fed=fed)


class DecodedPeak:
    """The true peak of `path` as ffmpeg decodes it. With `follow`, decoding runs
    while the file is written (from entering the block): call `written` once the
    writer has finished. Without, `written` decodes the finished file. Leaving the
    block stops whatever still runs (the encoder failed, say)."""

    def __init__(self, path: Path, follow: bool) -> None:
        self.path = path
        self.follow = follow
        self._meter = TruePeakMeter()
        self._finished = threading.Event()
        self._decoder: proc.Reading | None = None
        self._threads: list[threading.Thread] = []
        self._failures: list[BaseException] = []

    def __enter__(self) -> DecodedPeak:
        if self.follow:
            self._decoder = _decoder("pipe:0", fed=True)
            self._threads = [
                threading.Thread(target=self._guarded, args=(f,), name=f"voice-coach-{n}")
                for f, n in ((self._feed, "follow"), (self._meter_all, "decoded-peak"))
            ]
            for t in self._threads:
                t.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finished.set()
        if self._decoder is not None:
            self._decoder.kill()
        for t in self._threads:
            t.join()
        if self._decoder is not None:
            self._decoder.close()

    def written(self) -> float:
        """The writer has finished: the file's true peak in dBTP (-inf for silence).
        Raises `ToolError` if ffmpeg cannot decode it, `OSError` if it cannot be read."""
        if not self.follow:
            self._decoder = _decoder(str(self.path), fed=False)
            self._meter_all()
        self._finished.set()
        for t in self._threads:
            t.join()
        if self._failures:
            raise self._failures[0]
        return self._meter.dbtp()

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # handed to `written`, in the caller's thread
            self._failures.append(exc)
            self._finished.set()
            if self._decoder is not None:
                self._decoder.kill()

    def _feed(self) -> None:
        """Pipe the file to the decoder as it grows, to its end once the writer is done."""
        assert self._decoder is not None and self._decoder.stdin is not None
        stdin = self._decoder.stdin
        try:
            with self.path.open("rb") as f:
                while True:
                    finished = self._finished.is_set()  # before reading: then nothing is left
                    data = f.read(CHUNK_BYTES)
                    if data:
                        stdin.write(data)
                    elif finished:
                        break
                    else:
                        self._finished.wait(POLL_S)
        except BrokenPipeError:
            pass  # the decoder stopped: its exit code and stderr say why
        finally:
            with suppress(BrokenPipeError):
                stdin.close()

    def _meter_all(self) -> None:
        assert self._decoder is not None
        while chunk := self._decoder.read(CHUNK_BYTES):
            usable = len(chunk) // 4 * 4  # only the very last read can be cut
            self._meter.add(np.frombuffer(chunk[:usable], dtype="<f4").astype(np.float64))
