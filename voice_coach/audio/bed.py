"""A sound bed under the cues: a file of the person's own, a generated ambience (rain,
drone) or a pace click for walking, at a set level under the speech and ducked under
every cue from the timeline (not by a compressor listening to the mix).

Three parts, each usable alone:
- sources (`source_for`) give the bed's own samples, as float at full level, for a
  stretch of frames counted from the bed's own start;
- `duck_gain` is the envelope: 1 in silences, `duck_db` down under every cue and chime,
  with ramps placed exactly around them (a pure function of the events);
- `BedTrack` follows a routine: which bed plays in which stretch (a step may change it),
  crossfades between them, fades in and out, and applies level and envelope.
Export renders it chunk by chunk beside the speech; live play does the same in the
output callback, with the bed running on when the routine jumps.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .. import proc
from ..errors import Problem, SoundFileError, ToolError, ValidationError
from ..routine.model import DEFAULT_BED_LEVEL_LU, Bed, BedLevels, Routine
from ..timeline import Event
from .loudness import (
    TARGET_LUFS,
    LoudnessMeter,
    gain_for,
    k_response,
    k_weighted_blocks,
    k_weighting_impulse_response,
)
from .loudness import k_weighted as k_weighted_clip

FloatArray = npt.NDArray[np.float64]

MAX_FILE_S = 3 * 60 * 60
"""The longest sound file accepted as a bed."""
RAMP_DOWN_MS = 150
"""The bed is down by a cue's onset: it starts going down this long before it."""
RAMP_UP_MS = 400
"""After a cue ends, the bed comes back up over this long."""
FADE_IN_MS = 2000
FADE_OUT_MS = 3000
CROSSFADE_MS = 1500
"""Between two beds (a step that changes it), and between the end of a file and its
start again when it loops."""
LOOP_S = 8.0
"""Length of a generated ambience before it repeats (seamlessly)."""
CLICK_MS = 30
MEASURE_S = 60.0
"""A file's level is measured on its first minute (a bed is steady)."""
IN_MEMORY_S = 10 * 60
"""A sound file up to this long is decoded once (kept as int16, 26 MB at 22.05 kHz)
and looped from memory; a longer one is decoded as it plays, a pass per loop. A
decoder pass costs a process start: a short file looped from the decoder cost
seconds per export."""


# -- sources -----------------------------------------------------------------------------


class Source(Protocol):
    """A bed's own sound: full-level float samples in [-1, 1]."""

    def frames(self, start: int, n: int) -> FloatArray:
        """Frames [start, start + n) of the bed, counted from its own start."""
        ...


class LoopSource:
    """A buffer that repeats seamlessly (its end was crossfaded into its start)."""

    def __init__(self, loop: FloatArray) -> None:
        self.loop = loop

    def frames(self, start: int, n: int) -> FloatArray:
        size = self.loop.size
        at = start % size
        if at + n <= size:
            return self.loop[at : at + n]
        parts = [self.loop[at:]]
        left = n - parts[0].size
        while left > 0:
            parts.append(self.loop[: min(left, size)])
            left -= parts[-1].size
        return np.concatenate(parts)


DRONE_BLOCK = 1024
"""Frames the drone's table covers (small enough to stay in the CPU's cache)."""


class DroneSource:
    """A soft sustained chord (A2, E3, A3), slowly breathing: exact for any frame."""

    PARTIALS = ((110.0, 1.0), (164.81, 0.5), (220.0, 0.35))
    BREATH_HZ = 0.08

    def __init__(self, sample_rate: int, k_weighted: bool = False) -> None:
        self.rate = sample_rate
        self._omegas, self._amplitudes, self._phases, self._table = _drone_table(sample_rate)
        if k_weighted:  # each sinusoid through the filter's response at its frequency
            response = k_response(sample_rate, self._omegas)
            self._amplitudes = self._amplitudes * np.abs(response)
            self._phases = self._phases + np.angle(response)

    def frames(self, start: int, n: int) -> FloatArray:
        # Each sinusoid a*sin(w(s + k) + p) is sin(w s + p) cos(w k) + cos(w s + p)
        # sin(w k): one table of cos(w k), sin(w k) for a short block, weighted per
        # block (one matrix product for all blocks), instead of sin() of every sample.
        block = self._table.shape[1]
        starts = start + block * np.arange(-(-n // block))
        angle = np.remainder(np.outer(starts, self._omegas), 2 * np.pi) + self._phases
        weights = np.concatenate(
            (self._amplitudes * np.sin(angle), self._amplitudes * np.cos(angle)), axis=1
        )
        return np.asarray((weights @ self._table).ravel()[:n], dtype=np.float64)


@functools.cache
def _drone_table(sample_rate: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The drone as plain sinusoids (angular frequency per frame, amplitude, phase) and
    the rows cos(w k), sin(w k) for k in a block of DRONE_BLOCK. The breath is a product:
    a sin(x) (0.75 + 0.25 sin(y)) = 0.75a sin(x) + 0.125a (cos(x - y) - cos(x + y))."""
    breath = DroneSource.BREATH_HZ
    sines = []
    for hz, amplitude in DroneSource.PARTIALS:
        a = amplitude / 1.85
        sines += [(hz, 0.75 * a, 0.0), (hz - breath, 0.125 * a, np.pi / 2)]
        sines += [(hz + breath, -0.125 * a, np.pi / 2)]
    omegas = np.array([2 * np.pi * hz / sample_rate for hz, _, _ in sines])
    angles = np.outer(omegas, np.arange(DRONE_BLOCK))
    table = np.concatenate((np.cos(angles), np.sin(angles)))
    amplitudes = np.array([a for _, a, _ in sines])
    phases = np.array([p for _, _, p in sines])
    return omegas, amplitudes, phases, table


class PaceSource:
    """A soft click on every step: click k starts at frame round(k · rate · 60 / spm)."""

    def __init__(self, spm: float, sample_rate: int, k_weighted: bool = False) -> None:
        self.period = sample_rate * 60 / spm
        n = sample_rate * CLICK_MS // 1000
        t = np.arange(n) / sample_rate
        self.click = np.sin(2 * np.pi * 1500 * t) * np.exp(-t * 180)
        if k_weighted:  # the filtered train is the filtered click, tail and all, placed
            self.click = k_weighted_clip(self.click, sample_rate)

    def onset(self, k: int) -> int:
        return round(k * self.period)

    def frames(self, start: int, n: int) -> FloatArray:
        out = np.zeros(n)
        first = max(0, math.floor((start - self.click.size) / self.period))
        k = first
        while (at := self.onset(k)) < start + n:
            lo, hi = max(at, start), min(at + self.click.size, start + n)
            if lo < hi:
                out[lo - start : hi - start] += self.click[lo - at : hi - at]
            k += 1
        return out


@dataclass(frozen=True)
class FileIdentity:
    """A sound file as it is now: another file at the same path, or the same file
    written again, has another identity."""

    path: Path
    size_bytes: int
    mtime_ns: int


def file_identity(path: Path) -> FileIdentity | None:
    """The identity of the file at `path`; None when there is no file there."""
    try:
        st = path.stat()
    except OSError:
        return None
    return FileIdentity(path, st.st_size, st.st_mtime_ns)


class DecoderPass(Protocol):
    """One pass of a decoder over a file: mono s16le frames as they come."""

    def read(self, n: int) -> bytes:
        """Up to `n` bytes; fewer only at the end (a `ToolError` if it failed)."""
        ...

    def close(self) -> None: ...


Decoder = Callable[[Path, int], DecoderPass]
"""Starts a pass over a file at a sample rate."""


def ffmpeg_decoder(path: Path, sample_rate: int) -> DecoderPass:
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path)]
    return proc.Reading([*argv, "-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"])


class FileSource:
    """A sound file, decoded by ffmpeg as it is needed (never all at once, never
    copied), looped with a crossfade when it ends. Sequential: each `frames` call
    continues where the last ended (export and live both play a bed forward).

    Each loop is a new pass of the decoder. A pass may end before the length probed
    (an estimate, for some files); the source gives up with a `SoundFileError` naming
    the file when a pass yields no sound at all, when the decoder fails, or when a
    pass ends early and the file is no longer the one probed (removed, cut short or
    written again): it never restarts a decoder that has nothing to give."""

    def __init__(
        self,
        path: Path,
        sample_rate: int,
        length_frames: int,
        decoder: Decoder = ffmpeg_decoder,
    ) -> None:
        self.path, self.rate, self.length = path, sample_rate, length_frames
        self.identity = file_identity(path)
        """The file as it was when its length was probed."""
        self._decoder = decoder
        self._xfade = min(sample_rate * CROSSFADE_MS // 1000, length_frames // 4)
        self._pass: DecoderPass | None = None
        self._decoded = 0
        """Frames read from the current pass."""
        self._position = 0
        self._tail = np.zeros(0)

    def _start_pass(self) -> None:
        self.close()
        self._pass = self._decoder(self.path, self.rate)
        self._decoded = 0

    def _read(self, n: int) -> FloatArray:
        """Up to n frames of the current pass (fewer: it has ended)."""
        if self._pass is None:
            self._start_pass()
        assert self._pass is not None
        try:
            data = self._pass.read(2 * n)
        except ToolError as exc:
            raise SoundFileError(
                f"the sound file {self.path} could not be read on: {exc}"
            ) from None
        self._decoded += len(data) // 2
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2") / 32768.0

    def frames(self, start: int, n: int) -> FloatArray:
        if start != self._position:
            raise ValueError(f"a file bed plays forward only (asked {start}, at {self._position})")
        out = np.empty(n)
        filled = 0
        usable = self.length - self._xfade  # the rest is kept for the crossfade
        while filled < n:
            want = min(n - filled, max(0, usable - self._decoded))
            chunk = self._read(want)
            offset = self._decoded - chunk.size
            if offset < self._xfade and self._tail.size:
                chunk = self._crossfade_in(chunk, offset)
            out[filled : filled + chunk.size] = chunk
            filled += chunk.size
            if chunk.size < want:  # the decoder ended before the length probed
                self._check_short_pass()
                self._tail = np.zeros(0)
                self._start_pass()
            elif self._decoded >= usable:
                self._tail = self._read(self._xfade)  # the end, faded into the next pass
                self._start_pass()
        self._position += n
        return out

    def _check_short_pass(self) -> None:
        """A pass ended early: fine for a file whose probed length was long, a fault
        when it gave nothing or the file is not the one probed any more."""
        now = file_identity(self.path)
        if now is None:
            reason = "it was removed"
        elif now != self.identity:
            reason = "it changed (cut short or written again)"
        elif self._decoded == 0:
            reason = "it gave no sound"
        else:
            return
        raise SoundFileError(f"the sound file {self.path} could not be read on: {reason}")

    def _crossfade_in(self, chunk: FloatArray, offset: int) -> FloatArray:
        """The start of a pass, with the end of the last one fading out over it."""
        n = min(chunk.size, self._xfade - offset)
        ramp = (np.arange(offset, offset + n) + 0.5) / self._xfade
        mixed = chunk.copy()
        tail = self._tail[offset : offset + n]
        mixed[: tail.size] = chunk[: tail.size] * ramp[: tail.size] + tail * (1 - ramp[: tail.size])
        return mixed

    def close(self) -> None:
        if self._pass is not None:
            self._pass.close()
            self._pass = None


class DecodedFile:
    """A short sound file decoded once, played as `FileSource` plays it: the file,
    then again and again with its last CROSSFADE_MS faded into its start.

    Held as one pass (`body`, `usable` frames, times `scale`) and the heads that differ
    from it: of the first pass, and of every later one."""

    def __init__(
        self,
        body: npt.NDArray[np.int16] | npt.NDArray[np.float32],
        scale: float,
        first_head: FloatArray,
        loop_head: FloatArray,
    ) -> None:
        self.body, self.scale = body, scale
        self.first_head, self.loop_head = first_head, loop_head
        self.usable = body.size

    @classmethod
    def of(cls, pcm: npt.NDArray[np.int16], sample_rate: int) -> DecodedFile:
        xfade = min(sample_rate * CROSSFADE_MS // 1000, pcm.size // 4)
        usable = pcm.size - xfade
        ramp = (np.arange(xfade) + 0.5) / xfade
        head = (pcm[:xfade] * ramp + pcm[usable:] * (1 - ramp)) / 32768.0
        return cls(pcm[:usable], 1 / 32768.0, np.zeros(0), head)

    def k_weighted(self, sample_rate: int) -> DecodedFile:
        """The same, K-weighted: every later pass repeats, so it is filtered as one
        period (after its own end); the first starts from silence, which changes only
        its head."""
        loop = np.multiply(self.body, self.scale, dtype=np.float32)  # no float64 copy
        loop[: self.loop_head.size] = self.loop_head
        reach = self.loop_head.size + k_weighting_impulse_response(sample_rate).size
        steady = k_weighted_blocks(loop, sample_rate, before=loop[-reach:])
        first = k_weighted_blocks(np.asarray(self.body[:reach] * self.scale), sample_rate)
        return DecodedFile(steady, 1.0, first.astype(np.float64), np.zeros(0))

    def frames(self, start: int, n: int) -> FloatArray:
        out = np.empty(n)
        filled, usable = 0, self.usable
        while filled < n:
            pos = start + filled
            head, a = (self.first_head, pos) if pos < usable else (self.loop_head, None)
            if a is None:
                a = (pos - usable) % usable
            if a < head.size:
                b = min(head.size, a + n - filled)
                out[filled : filled + b - a] = head[a:b]
            else:
                b = min(usable, a + n - filled)
                np.multiply(self.body[a:b], self.scale, out=out[filled : filled + b - a])
            filled += b - a
        return out


@functools.lru_cache(maxsize=4)
def _decoded(identity: FileIdentity, sample_rate: int) -> DecodedFile | None:
    """The whole file decoded, kept for each identity of it (None if it gave nothing)."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(identity.path)]
    argv += ["-f", "s16le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"]
    try:
        data = proc.run(argv)
    except ToolError as exc:
        raise SoundFileError(f"the sound file {identity.path} could not be read: {exc}") from None
    pcm = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return DecodedFile.of(pcm, sample_rate) if pcm.size >= 4 else None


def _decoded_k_weighted(identity: FileIdentity, sample_rate: int) -> DecodedFile | None:
    """Made for each measurement (one per export), not kept: float32, 53 MB for 10
    minutes."""
    decoded = _decoded(identity, sample_rate)
    return None if decoded is None else decoded.k_weighted(sample_rate)


def probe_file(path: Path, where: str) -> float:
    """The file's length in seconds; `ValidationError` naming it when it is missing,
    not sound ffmpeg can decode, or longer than `MAX_FILE_S`. Probed once for each
    identity of the file."""
    identity = file_identity(path) if path.is_file() else None
    if identity is None:
        raise ValidationError([Problem(where, None, "", f"no sound file at {path}")])
    try:
        seconds = _probed_seconds(identity)
    except (ValueError, ToolError):
        raise ValidationError(
            [Problem(where, None, "", f"{path} is not a sound file ffmpeg can decode")]
        ) from None
    if seconds > MAX_FILE_S:
        raise ValidationError(
            [Problem(where, None, "", f"{path} is {seconds / 3600:.1f} hours long; at most 3")]
        )
    return seconds


@functools.lru_cache(maxsize=64)
def _probed_seconds(identity: FileIdentity) -> float:
    out = proc.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=duration:format=duration", "-of", "csv=p=0", str(identity.path)]
    )  # fmt: skip
    return max(float(x) for x in out.decode().split() if x not in ("", "N/A"))


@functools.cache
def _rain_loop(sample_rate: int) -> FloatArray:
    """Soft noise, darker than white (rain on a window, far off), looping seamlessly."""
    n = round(LOOP_S * sample_rate)
    x = np.random.default_rng(7).normal(size=n + sample_rate)
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / sample_rate)
    shape = 1 / np.sqrt(np.maximum(freqs, 40.0)) / (1 + (freqs / 3000) ** 2)
    y = np.fft.irfft(spectrum * shape, x.size)
    # Make it loop: the extra second is crossfaded into the start.
    fade = np.linspace(0, 1, sample_rate)
    loop = y[:n].copy()
    loop[:sample_rate] = y[:sample_rate] * fade + y[n : n + sample_rate] * (1 - fade)
    loop = np.asarray(loop / np.abs(loop).max(), dtype=np.float64)
    loop.flags.writeable = False  # shared by every rain bed: read only
    return loop


@functools.cache
def _rain_loop_k_weighted(sample_rate: int) -> FloatArray:
    loop = _rain_loop(sample_rate)
    weighted = np.asarray(k_weighted_blocks(loop, sample_rate, before=loop), dtype=np.float64)
    weighted.flags.writeable = False
    return weighted


# -- the envelope -------------------------------------------------------------------------


class Ducking:
    """The bed's gain under the cues, from the events: 1 away from them, `duck_db`
    down from each onset to its end, with ramps (linear in dB) from RAMP_DOWN_MS
    before the onset and for RAMP_UP_MS after the end; where cues are close, the
    lower gain wins. Everything sounding is ducked under: cues and chimes."""

    def __init__(self, events: Sequence[Event], sample_rate: int, duck_db: float) -> None:
        self.duck_db = duck_db
        self._down = RAMP_DOWN_MS * sample_rate // 1000
        self._up = RAMP_UP_MS * sample_rate // 1000
        spans = sorted(
            (e.start_ms * sample_rate // 1000, e.end_ms * sample_rate // 1000) for e in events
        )
        self._onsets = [a for a, _ in spans]
        self._spans = spans
        self._longest = max((b - a for a, b in spans), default=0)

    def gain(self, start: int, n: int) -> FloatArray:
        """Linear gain for frames [start, start + n) of the timeline."""
        out = np.ones(n)
        dip = self.dip(start, n)
        if dip is not None:
            out[dip[0] : dip[0] + dip[1].size] = dip[1]
        return out

    def dip(self, start: int, n: int) -> tuple[int, FloatArray] | None:
        """Where frames [start, start + n) are ducked: the offset of the first frame
        under 1 and the gain from there to the last; None when none is."""
        if self.duck_db <= 0:
            return None
        first = bisect.bisect_left(self._onsets, start - self._longest - self._up)
        last = bisect.bisect_left(self._onsets, start + n + self._down)
        spans = [
            (max(start, onset - self._down), min(start + n, end + self._up), onset, end)
            for onset, end in self._spans[first:last]
        ]
        spans = [span for span in spans if span[0] < span[1]]
        if not spans:
            return None
        lo, hi = min(a for a, *_ in spans), max(b for _, b, *_ in spans)
        depth = np.zeros(hi - lo)
        for a, b, onset, end in spans:
            # Down over the ramp before the onset, down until the end, up after it.
            into = depth[a - lo : b - lo]
            down_to = min(b, onset)
            if a < down_to:
                ramp = (np.arange(a, down_to) - (onset - self._down)) / self._down
                np.maximum(into[: down_to - a], ramp, out=into[: down_to - a])
            flat = slice(max(a, onset) - a, max(a, min(b, end + 1)) - a)
            into[flat] = 1.0
            up_from = max(a, end + 1)
            if up_from < b:
                ramp = 1 - (np.arange(up_from, b) - end) / self._up
                np.maximum(into[up_from - a :], ramp, out=into[up_from - a :])
        # 10 ** (-depth * duck_db / 20), as an exponential (several times faster)
        return lo - start, np.exp(depth * (-self.duck_db * math.log(10) / 20))


# -- playing beds one after another ---------------------------------------------------------


def source_for(spec: Bed, sample_rate: int, k_weighted: bool = False) -> Source:
    """The sound of `spec`, from its start; K-weighted (as the loudness meter hears
    it) if asked, which a file too long to decode at once cannot be (`ValueError`:
    see `weightable`). A file must have been checked (`probe_file`)."""
    if spec.kind == "rain":
        return LoopSource(
            _rain_loop_k_weighted(sample_rate) if k_weighted else _rain_loop(sample_rate)
        )
    if spec.kind == "drone":
        return DroneSource(sample_rate, k_weighted)
    if spec.kind == "pace":
        assert spec.pace_spm is not None
        return PaceSource(spec.pace_spm, sample_rate, k_weighted)
    path = Path(spec.path or "")
    seconds = probe_file(path, spec.where or "bed")
    identity = file_identity(path)
    if identity is not None and seconds <= IN_MEMORY_S:
        decode = _decoded_k_weighted if k_weighted else _decoded
        decoded = decode(identity, sample_rate)
        if decoded is None:
            raise SoundFileError(f"the sound file {path} gave no sound")
        return decoded
    if k_weighted:
        raise ValueError(f"{path} is decoded as it plays: it cannot be K-weighted ahead")
    return FileSource(path, sample_rate, round(seconds * sample_rate))


def weightable(plan: BedPlan) -> bool:
    """Whether every bed of `plan` has a K-weighted source (`source_for`)."""
    return all(
        spec is None
        or spec.kind != "file"
        or probe_file(Path(spec.path or ""), "bed") <= IN_MEMORY_S
        for _, spec in plan.segments
    )


def unit_gain(spec: Bed, sample_rate: int) -> float:
    """The gain that puts `spec`'s sound at TARGET_LUFS (a file: on its first minute).
    Measured once for each generated bed, and for each identity of a file: a file
    written again at the same path is measured again (a server runs for weeks)."""
    if spec.kind != "file":
        return _generated_gain(spec, sample_rate)
    path = Path(spec.path or "")
    probe_file(path, spec.where or "bed")  # there, and sound ffmpeg decodes
    identity = file_identity(path)
    assert identity is not None
    return _file_gain(identity, sample_rate)


@functools.cache
def _generated_gain(spec: Bed, sample_rate: int) -> float:
    seconds = {"pace": 4.0, "drone": 1 / DroneSource.BREATH_HZ}.get(spec.kind, LOOP_S)
    x = source_for(spec, sample_rate).frames(0, round(seconds * sample_rate))
    return _gain_to_target(x, sample_rate)


@functools.lru_cache(maxsize=64)
def _file_gain(identity: FileIdentity, sample_rate: int) -> float:
    source = source_for(Bed("file", path=str(identity.path)), sample_rate)
    try:
        return _gain_to_target(source.frames(0, round(MEASURE_S * sample_rate)), sample_rate)
    finally:
        if isinstance(source, FileSource):
            source.close()


def _gain_to_target(x: FloatArray, sample_rate: int) -> float:
    """The gain that puts the sound `x` at TARGET_LUFS; 0 for silence."""
    if not x.any():
        return 0.0
    peak = float(np.abs(x).max())
    pcm = np.clip(np.round(x / peak * 16384), -32768, 32767).astype("<i2")
    meter = LoudnessMeter(sample_rate)  # streaming: a minute in one FFT would take 100 MB
    for at in range(0, pcm.size, sample_rate):
        meter.add(pcm[at : at + sample_rate])
    lufs = meter.integrated_lufs()
    if not math.isfinite(lufs):
        return 0.0
    return 0.5 / peak * 10 ** (gain_for(lufs, TARGET_LUFS) / 20)


@dataclass
class _Playing:
    spec: Bed
    source: Source
    gain: float
    position: int = 0
    fade_left: int = 0
    """While fading out: frames left."""


class BedPlayer:
    """Beds played forward in time: `next(n, spec)` gives the next n frames of `spec`
    (None: no bed), crossfading over CROSSFADE_MS when the spec changes; each bed
    starts from its own beginning. At `level_lu` under the speech; ducking and the
    fades at the routine's ends are applied by the caller."""

    def __init__(
        self, sample_rate: int, level_lu: float = DEFAULT_BED_LEVEL_LU, k_weighted: bool = False
    ) -> None:
        self.rate = sample_rate
        self.level = 10 ** (level_lu / 20)
        self.k_weighted = k_weighted
        """Play the K-weighted sources (`source_for`): what the loudness meter hears."""
        self._xfade = sample_rate * CROSSFADE_MS // 1000
        self._current: _Playing | None = None
        self._fading: list[_Playing] = []

    def next(self, n: int, spec: Bed | None) -> FloatArray:
        if (self._current.spec if self._current else None) != spec:
            if self._current is not None:
                self._current.fade_left = self._xfade
                self._fading.append(self._current)
            self._current = None
            if spec is not None:
                source = source_for(spec, self.rate, self.k_weighted)
                self._current = _Playing(spec, source, unit_gain(spec, self.rate))
        out = None
        if self._current is not None:
            out = self._take(self._current, n, fade_in=bool(self._fading))
        for fading in list(self._fading):
            x = self._take(fading, n, fade_in=False)
            out = x if out is None else np.add(out, x, out=out)
            if fading.fade_left <= 0:
                self._fading.remove(fading)
                if isinstance(fading.source, FileSource):
                    fading.source.close()
        return np.zeros(n) if out is None else out

    def skip(self, n: int, spec: Bed | None) -> None:
        """`next` without the sound: the beds move on (a file is still read: it plays
        forward only)."""
        if (self._current.spec if self._current else None) != spec or any(
            isinstance(p.source, FileSource) for p in [self._current, *self._fading] if p
        ):
            self.next(n, spec)
            return
        for playing in [self._current, *self._fading]:
            if playing is not None:
                playing.position += n
                playing.fade_left = max(0, playing.fade_left - n) if playing.fade_left else 0
        self._fading = [p for p in self._fading if p.fade_left > 0]

    def _take(self, playing: _Playing, n: int, fade_in: bool) -> FloatArray:
        """The next n frames of `playing` at its gain and the level (a new array)."""
        x = playing.source.frames(playing.position, n) * (playing.gain * self.level)
        if playing.fade_left:
            left = np.arange(playing.fade_left, playing.fade_left - n, -1)
            x *= np.clip(left / self._xfade, 0, 1)
            playing.fade_left = max(0, playing.fade_left - n)
        elif fade_in and playing.position < self._xfade:
            ramp = (np.arange(playing.position, playing.position + n) + 1) / self._xfade
            x *= np.clip(ramp, 0, 1)
        playing.position += n
        return x

    def close(self) -> None:
        for playing in [self._current, *self._fading]:
            if playing is not None and isinstance(playing.source, FileSource):
                playing.source.close()


def fade_out(start: int, n: int, total: int, sample_rate: int) -> FloatArray:
    """The bed's fade out at the routine's end (`total` frames), for [start, start+n)."""
    frames = np.arange(start, start + n)
    return np.asarray(
        np.clip((total - frames) / (sample_rate * FADE_OUT_MS / 1000), 0, 1), dtype=np.float64
    )


def edge_fades(start: int, n: int, total: int, sample_rate: int) -> FloatArray:
    """Fade in at the routine's start and out at its end, for frames [start, start+n)."""
    frames = np.arange(start, start + n)
    fade_in = np.clip(frames / (sample_rate * FADE_IN_MS / 1000), 0, 1)
    return np.asarray(np.minimum(fade_in, fade_out(start, n, total, sample_rate)), dtype=np.float64)


# -- a routine's bed -------------------------------------------------------------------------


@dataclass(frozen=True)
class BedPlan:
    """Which bed plays where in a routine, and how loud."""

    segments: tuple[tuple[int, Bed | None], ...]
    """(start ms, bed or None for none), in time order, from 0."""
    levels: BedLevels = BedLevels()

    def spec_at(self, ms: int) -> Bed | None:
        starts = [s for s, _ in self.segments]
        i = bisect.bisect_right(starts, ms) - 1
        return self.segments[i][1] if i >= 0 else None

    @property
    def silent(self) -> bool:
        return all(spec is None for _, spec in self.segments)

    def label(self) -> str:
        """The beds used, for the cover, tags and `show`: "rain", "pace 90, pace 115"."""
        names = [spec.label() for _, spec in self.segments if spec is not None]
        return ", ".join(dict.fromkeys(names))

    def shifted(self, lu: float) -> BedPlan:
        """The same beds, `lu` louder (negative: quieter)."""
        levels = dataclasses.replace(self.levels, level_lu=self.levels.level_lu + lu)
        return dataclasses.replace(self, levels=levels)


def step_bed(routine: Routine, step: int) -> Bed | None:
    """The bed under step `step` of `routine` (0: the introduction and the finish)."""
    spec = routine.bed
    if 0 < step <= len(routine.steps) and routine.steps[step - 1].bed is not None:
        spec = routine.steps[step - 1].bed
    return None if spec is None or spec.kind == "off" else spec


def has_bed(routine: Routine) -> bool:
    return any(step_bed(routine, k) is not None for k in range(len(routine.steps) + 1))


def routine_bed_plan(routine: Routine, chapter_starts_ms: Sequence[int]) -> BedPlan | None:
    """The plan of `routine`'s beds along its timeline (chapters: the introduction, then
    one per step); None when it has none."""
    if not has_bed(routine):
        return None
    step_beds = [s.bed for s in routine.steps]
    return plan_bed(chapter_starts_ms, routine.bed, step_beds, routine.bed_levels)


def check_files(routine: Routine, sample_rate: int | None = None) -> None:
    """Every sound file `routine`'s beds name exists, decodes and is at most 3 hours
    long; else a `ValidationError` naming it (before anything is written or played).
    With `sample_rate`, each is also measured (and a short one decoded) ahead, as live
    play needs: not in the device's callback when its bed starts."""
    for spec in routine.bed_files():
        probe_file(Path(spec.path or ""), spec.where or "bed")
        if sample_rate is not None:
            unit_gain(spec, sample_rate)


def plan_bed(
    chapter_starts_ms: Sequence[int],
    routine_bed: Bed | None,
    step_beds: Sequence[Bed | None],
    levels: BedLevels = BedLevels(),
) -> BedPlan:
    """The routine's bed (`routine_bed`) from the start, changed where a step says
    (`step_beds[i]`: a bed, Bed("off") for none, None to keep the routine's) from that
    step's chapter (`chapter_starts_ms[i + 1]`; the first chapter is the introduction).
    Neighbouring stretches with the same bed are one: it plays on through them."""
    segments: list[tuple[int, Bed | None]] = [(0, routine_bed)]
    for start_ms, step_bed in zip(chapter_starts_ms[1:], step_beds, strict=False):
        spec = routine_bed if step_bed is None else step_bed
        spec = None if spec is not None and spec.kind == "off" else spec
        if spec != segments[-1][1]:
            segments.append((start_ms, spec))
    return BedPlan(tuple(segments), levels)


class BedTrack:
    """A routine's bed as it sounds under it, frame by frame from the start (forward
    only): the beds of its plan, at their level, ducked under every event, faded in at
    the start and out at the end. With `k_weighted_too`, `both` also gives the same
    bed K-weighted (`source_for`) under the same envelope, for measuring it."""

    def __init__(
        self,
        plan: BedPlan,
        events: Sequence[Event],
        total_frames: int,
        sample_rate: int,
        k_weighted_too: bool = False,
    ) -> None:
        self.plan, self.total, self.rate = plan, total_frames, sample_rate
        self._player = BedPlayer(sample_rate, plan.levels.level_lu)
        self._weighted = (
            BedPlayer(sample_rate, plan.levels.level_lu, k_weighted=True)
            if k_weighted_too
            else None
        )
        self._ducking = Ducking(events, sample_rate, plan.levels.duck_db)
        self._bounds = [start * sample_rate // 1000 for start, _ in plan.segments]
        self._fade_in = sample_rate * FADE_IN_MS // 1000 + 1
        self._fade_out = sample_rate * FADE_OUT_MS // 1000 + 1
        """Frames at each end where `edge_fades` may be under 1."""

    def frames(self, start: int, n: int) -> FloatArray:
        x = self._play(self._player, start, n)
        self._envelope(start, n, x)
        return x

    def both(self, start: int, n: int) -> tuple[FloatArray, FloatArray]:
        """`frames`, and the same frames K-weighted."""
        assert self._weighted is not None
        x, k = self._play(self._player, start, n), self._play(self._weighted, start, n)
        self._envelope(start, n, x, k)
        return x, k

    def skip(self, start: int, n: int) -> None:
        """`frames` without the sound: the beds move on."""
        for player in (self._player, self._weighted):
            if player is not None:
                for spec, m in self._segments(start, n):
                    player.skip(m, spec)

    def _segments(self, start: int, n: int) -> list[tuple[Bed | None, int]]:
        """The plan's beds over frames [start, start + n): (bed, frames) in order."""
        out = []
        a, end = start, start + n
        while a < end:
            i = bisect.bisect_right(self._bounds, a) - 1
            b = min(end, self._bounds[i + 1]) if i + 1 < len(self._bounds) else end
            out.append((self.plan.segments[max(i, 0)][1], b - a))
            a = b
        return out

    def _play(self, player: BedPlayer, start: int, n: int) -> FloatArray:
        parts = [player.next(m, spec) for spec, m in self._segments(start, n)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0)

    def _envelope(self, start: int, n: int, *tracks: FloatArray) -> None:
        """Duck and fade `tracks` (frames [start, start + n)) in place."""
        dip = self._ducking.dip(start, n)
        fades = None
        if start < self._fade_in or start + n > self.total - self._fade_out:
            fades = edge_fades(start, n, self.total, self.rate)
        for x in tracks:
            if dip is not None:
                x[dip[0] : dip[0] + dip[1].size] *= dip[1]
            if fades is not None:
                x *= fades

    def close(self) -> None:
        self._player.close()
        if self._weighted is not None:
            self._weighted.close()
