"""Loudness by ITU-R BS.1770-4: K-weighted, gated integrated loudness and true peak.

Everything is numpy without scipy. The K-weighting is an IIR filter; numpy has no
IIR filtering, so its impulse response is computed once per sample rate and applied
by FFT convolution. `LoudnessMeter` is streaming: it keeps one float per 100 ms of
audio (the gating-block powers) plus a few fixed-size buffers, so it measures an
hour-long export as easily as a cue.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import math
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from .clip import Clip

FloatArray = npt.NDArray[np.float64]

TARGET_LUFS = -16.0
"""Integrated loudness of every export and of every spoken cue."""
TRUE_PEAK_CEILING_DBTP = -1.0
"""No export's true peak goes above this."""
CHIME_UNDER_SPEECH_LU = 10.0
"""Chimes sit this far under the speech."""
CLIP_TRUE_PEAK_CEILING_DBTP = TRUE_PEAK_CEILING_DBTP - 1.5
"""True-peak ceiling for single clips. A program of clips at -16 LUFS reads about
1 LU lower (blocks straddling a cue's edges, chimes), so the export raises it by about
1 dB: 1.5 dB of room keeps that gain clear of the export's ceiling."""

FULL_SCALE = 32768.0
"""int16 full scale, as ffmpeg counts it (a sample of -32768 is 0 dBFS)."""
LOUDNESS_OFFSET_DB = -0.691
"""BS.1770's constant: a 997 Hz sine at 0 dBFS reads -3.01 LUFS."""
SUB_BLOCK_MS = 100
"""Gating blocks are 400 ms long and start every 100 ms (75% overlap)."""
SUB_BLOCKS_PER_BLOCK = 4
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
OVERSAMPLING = 4
"""True peak is read on a 4x oversampled signal."""
TRUE_PEAK_TAPS_PER_PHASE = 16
TRUE_PEAK_KAISER_BETA = 7.0
LIMITER_WINDOW_MS = 5
"""Look-ahead (and release) of the clip limiter: short, so that it shaves single
peaks of a voice rather than turning whole syllables down."""
MAX_MAKEUP_DB = 8.0
"""How far past the plain gain a clip is pushed into the limiter to reach its target.
espeak-ng speech has true peaks 16-19 dB over its loudness; at -16 LUFS under -2.5
dBTP that takes up to about 6 dB here."""
TRUE_PEAK_MARGIN_DB = 0.05
"""Kept under the ceiling when setting a program gain: rounding to int16 after the
gain can move a peak by a fraction of a step."""

_IMPULSE_TAIL = 1e-12
"""The K-weighting impulse response is cut where it is below this (full scale 1)."""
_MIN_FFT_SIZE = 1 << 13


# --- K-weighting --------------------------------------------------------------


@dataclass(frozen=True)
class Biquad:
    """A second-order IIR section, a0 normalised to 1."""

    b0: float
    b1: float
    b2: float
    a1: float
    a2: float


@dataclass(frozen=True)
class AnalogBiquad:
    """H(s) = (n2 s^2 + n1 s + n0) / (s^2 + s/q + 1), with s in units of 2*pi*f0."""

    f0_hz: float
    q: float
    n2: float
    """High-frequency gain."""
    n1: float
    n0: float
    """DC gain."""

    @classmethod
    def from_digital(cls, bq: Biquad, sample_rate: int) -> AnalogBiquad:
        """The prototype whose bilinear transform (pre-warped at f0) is `bq`."""
        # With K = tan(pi f0 / fs) and D = 1 + K/q + K^2 the transform gives
        # 1 - a1 + a2 = 4/D and 1 + a1 + a2 = 4K^2/D; the numerator likewise.
        d = 4.0 / (1.0 - bq.a1 + bq.a2)
        k2 = (1.0 + bq.a1 + bq.a2) / (1.0 - bq.a1 + bq.a2)
        k = math.sqrt(k2)
        return cls(
            f0_hz=math.atan(k) * sample_rate / math.pi,
            q=k / (d - 1.0 - k2),
            n2=(bq.b0 - bq.b1 + bq.b2) * d / 4.0,
            n1=(bq.b0 - bq.b2) * d / (2.0 * k),
            n0=(bq.b0 + bq.b1 + bq.b2) * d / (4.0 * k2),
        )

    def bilinear(self, sample_rate: int) -> Biquad:
        """The digital filter at `sample_rate`, pre-warped so f0 stays exact."""
        k = math.tan(math.pi * self.f0_hz / sample_rate)
        a0 = 1.0 + k / self.q + k * k
        return Biquad(
            b0=(self.n2 + self.n1 * k + self.n0 * k * k) / a0,
            b1=2.0 * (self.n0 * k * k - self.n2) / a0,
            b2=(self.n2 - self.n1 * k + self.n0 * k * k) / a0,
            a1=2.0 * (k * k - 1.0) / a0,
            a2=(1.0 - k / self.q + k * k) / a0,
        )


# BS.1770 defines the K-weighting by its coefficients at 48 kHz. We recover the analog
# prototypes they come from (a +4 dB high shelf at 1681.97 Hz, Q 0.7072, and a
# high-pass at 38.135 Hz, Q 0.5003) and transform them back at any other rate, so the
# curve is the standard's wherever the bilinear transform's warping allows.
STANDARD_RATE = 48000
STANDARD_SHELF = Biquad(
    1.53512485958697, -2.69169618940638, 1.19839281085285, -1.69065929318241, 0.73248077421585
)
STANDARD_HIGH_PASS = Biquad(1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621)
SHELF = AnalogBiquad.from_digital(STANDARD_SHELF, STANDARD_RATE)
HIGH_PASS = AnalogBiquad.from_digital(STANDARD_HIGH_PASS, STANDARD_RATE)


def k_weighting(sample_rate: int) -> tuple[Biquad, Biquad]:
    """The two K-weighting stages (shelf, then high-pass) at `sample_rate`."""
    if sample_rate <= 2 * SHELF.f0_hz:
        raise ValueError(f"cannot K-weight at {sample_rate} Hz: the shelf is above Nyquist")
    return SHELF.bilinear(sample_rate), HIGH_PASS.bilinear(sample_rate)


def _pole_radius(bq: Biquad) -> float:
    disc = bq.a1 * bq.a1 - 4.0 * bq.a2
    if disc < 0:
        return math.sqrt(bq.a2)
    root = math.sqrt(disc)
    return max(abs(-bq.a1 + root), abs(-bq.a1 - root)) / 2.0


@functools.cache
def k_weighting_impulse_response(sample_rate: int) -> FloatArray:
    """The K-weighting cascade's impulse response, cut once it has decayed away.

    Its slowest pole (the 38 Hz high-pass) has radius r < 1, and the response is
    bounded by about n * r**n, so it is cut where that bound is under 1e-12: about
    150 ms, 3,400 samples at 22,050 Hz.
    """
    stages = k_weighting(sample_rate)
    r = max(_pole_radius(s) for s in stages)
    n = math.ceil(math.log(_IMPULSE_TAIL) / math.log(r))
    while n * r**n > _IMPULSE_TAIL:
        n = math.ceil(n * 1.05)
    signal = [1.0] + [0.0] * (n - 1)
    for s in stages:
        out = [0.0] * n
        x1 = x2 = y1 = y2 = 0.0
        for i, x in enumerate(signal):
            y = s.b0 * x + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2
            out[i] = y
            x1, x2, y1, y2 = x, x1, y, y1
        signal = out
    h = np.array(signal)
    h.flags.writeable = False  # shared by every meter at this rate
    return h


class _KFilter:
    """Streaming K-weighting: FFT convolution with overlap-add over fixed blocks.

    Why this is exact enough for loudness: convolution with the impulse response *is*
    the IIR filter; the only differences are the cut tail (each dropped sample is
    under 1e-12, summing to about 1e-10 of full scale, below -190 dB) and FFT rounding
    (about 1e-15 relative). Loudness is a mean power, so these change a reading by
    far less than 0.001 LU. Blocks have a fixed length, so how a caller chunks its
    audio cannot change the result.
    """

    def __init__(self, sample_rate: int) -> None:
        h = k_weighting_impulse_response(sample_rate)
        self.fft_size = max(_MIN_FFT_SIZE, 1 << math.ceil(math.log2(4 * h.size)))
        self.block = self.fft_size - h.size + 1
        self._spectrum = np.fft.rfft(h, self.fft_size)
        self.tail = np.zeros(h.size - 1)
        """Filter output that spills past the blocks seen so far."""

    def filter(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Filtered `x` (at most one block) and the tail it leaves; state unchanged."""
        if not x.any() and x.size >= self.tail.size:
            # Silence (holds are long) filters to the old tail alone: no FFT needed.
            y = np.zeros(x.size)
            y[: self.tail.size] = self.tail
            return y, np.zeros_like(self.tail)
        full = np.fft.irfft(np.fft.rfft(x, self.fft_size) * self._spectrum, self.fft_size)
        y = full[: x.size].copy()
        overlap = min(x.size, self.tail.size)
        y[:overlap] += self.tail[:overlap]
        tail = full[x.size : x.size + self.tail.size].copy()
        tail[: self.tail.size - overlap] += self.tail[overlap:]
        return y, tail


# --- True peak ------------------------------------------------------------------


@functools.cache
def _interpolation_phases() -> FloatArray:
    """One fractional-delay filter per oversampling phase: Kaiser-windowed sincs.

    Row p interpolates at p/4 of a sample; row 0 is a pure delay, so sample peaks are
    always among the values read.
    """
    taps = TRUE_PEAK_TAPS_PER_PHASE
    d = np.arange(taps) - taps // 2
    rows = []
    for p in range(OVERSAMPLING):
        t = d + p / OVERSAMPLING
        window = np.i0(TRUE_PEAK_KAISER_BETA * np.sqrt(np.clip(1 - (2 * t / taps) ** 2, 0, 1)))
        c = np.sinc(t) * window
        rows.append(c / c.sum())
    return np.array(rows)


def _oversampled_peak(x: FloatArray, floor: float = 0.0) -> float:
    """Largest |value| of `x` 4x oversampled, if above `floor` (else at most `floor`).

    Only interpolated values whose window holds a sample louder than `floor` divided
    by the filters' gain bound can beat `floor`; once a program's peak is known that
    is a small part of it, so only those windows are computed (as a matrix product).
    Values that would need samples past the end of `x` are left for the next call.
    """
    phases = _interpolation_phases()[1:]  # row 0 is a pure delay: the samples themselves
    taps = phases.shape[1]
    outputs = x.size - taps + 1
    if outputs <= 0:
        return floor
    magnitude = np.abs(x)
    hot = floor / _peak_gain()
    if magnitude.max() <= hot:
        return floor
    # Window i covers x[i : i + taps]. Mark the hot samples, then spread each mark back
    # over the windows holding it (doubling the reach each step).
    needed = magnitude > hot
    reach = 1
    while reach < taps:
        step = min(reach, taps - reach)
        needed[:-step] |= needed[step:]
        reach += step
    starts = np.flatnonzero(needed[:outputs])
    if starts.size > outputs // 4:
        values = np.stack([np.convolve(x, c, "valid") for c in phases])
    else:
        values = sliding_window_view(x, taps)[starts] @ phases[:, ::-1].T
    return max(floor, float(values.max(initial=0.0)), float(-values.min(initial=0.0)))


@functools.cache
def _peak_gain() -> float:
    """No interpolated value exceeds this times the largest |sample| in its window."""
    return float(np.abs(_interpolation_phases()).sum(axis=1).max())


def true_peak_envelope(x: FloatArray) -> FloatArray:
    """For each sample n, the largest |value| of `x` 4x oversampled on [n, n + 1).

    Whole-array version of what the meter reads (silence assumed on both sides).
    """
    taps = TRUE_PEAK_TAPS_PER_PHASE
    envelope = np.abs(x)
    for c in _interpolation_phases()[1:]:
        # Full convolution index n + taps/2 is the value at n + p/4.
        between = np.convolve(x, c)[taps // 2 : taps // 2 + x.size]
        np.maximum(envelope, np.abs(between), out=envelope)
    return envelope


# --- Gating ------------------------------------------------------------------------


def power_to_lufs(mean_square: float) -> float:
    """Loudness of a K-weighted mean square (full scale 1); -inf for silence."""
    return LOUDNESS_OFFSET_DB + 10 * math.log10(mean_square) if mean_square > 0 else -math.inf


def gated_loudness(block_powers: FloatArray) -> float:
    """BS.1770 integrated loudness from the 400 ms blocks' K-weighted mean squares."""
    with np.errstate(divide="ignore"):
        levels = LOUDNESS_OFFSET_DB + 10 * np.log10(block_powers)
    loud = levels > ABSOLUTE_GATE_LUFS
    if not loud.any():
        return -math.inf
    relative_gate = power_to_lufs(float(block_powers[loud].mean())) + RELATIVE_GATE_LU
    kept = loud & (levels > relative_gate)
    return power_to_lufs(float(block_powers[kept].mean()))


# --- The meter ------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """A program's loudness, as measured before the export's final gain."""

    integrated_lufs: float
    true_peak_dbtp: float


@dataclass
class _Gating:
    """Sub-block energies being gathered into 400 ms blocks."""

    sub_block: int
    """Samples in 100 ms."""
    partial: float = 0.0
    """Energy of the sub-block being filled."""
    filled: int = 0
    """Samples in it so far."""
    recent: deque[float] = dataclasses.field(default_factory=lambda: deque(maxlen=4))
    """Energies of the last completed sub-blocks (at most four)."""

    def copy(self) -> _Gating:
        return dataclasses.replace(self, recent=deque(self.recent, maxlen=4))

    def feed(self, squares: FloatArray, out: array[float]) -> None:
        """Add K-weighted squares; append each completed block's mean square to `out`."""
        i = 0
        if self.filled:
            i = min(self.sub_block - self.filled, squares.size)
            self.partial += float(squares[:i].sum())
            self.filled += i
            if self.filled == self.sub_block:
                self._complete(self.partial, out)
                self.partial, self.filled = 0.0, 0
        whole = (squares.size - i) // self.sub_block
        end = i + whole * self.sub_block
        for energy in squares[i:end].reshape(whole, self.sub_block).sum(axis=1).tolist():
            self._complete(energy, out)
        if end < squares.size:
            self.partial += float(squares[end:].sum())
            self.filled += squares.size - end

    def feed_silence(self, samples: int, out: array[float]) -> None:
        """`feed` of `samples` zeros, without making them."""
        i = 0
        if self.filled:
            i = min(self.sub_block - self.filled, samples)
            self.filled += i
            if self.filled == self.sub_block:
                self._complete(self.partial, out)
                self.partial, self.filled = 0.0, 0
        whole, rest = divmod(samples - i, self.sub_block)
        for _ in range(min(whole, SUB_BLOCKS_PER_BLOCK)):
            self._complete(0.0, out)
        if whole > SUB_BLOCKS_PER_BLOCK:  # every block after that is silent too
            out.extend(array("d", bytes(8 * (whole - SUB_BLOCKS_PER_BLOCK))))
        self.filled += rest

    def _complete(self, energy: float, out: array[float]) -> None:
        self.recent.append(energy)
        if len(self.recent) == SUB_BLOCKS_PER_BLOCK:
            out.append(sum(self.recent) / (SUB_BLOCKS_PER_BLOCK * self.sub_block))


class TruePeakMeter:
    """Streaming true peak of full-scale-1 audio: the largest 4x oversampled |value|,
    read as `LoudnessMeter` reads it, in chunks of any size. Once the peak so far is
    known, only the neighbourhoods of louder samples are interpolated
    (`_oversampled_peak`), so most of a program costs a comparison."""

    def __init__(self) -> None:
        self._history = np.zeros(TRUE_PEAK_TAPS_PER_PHASE - 1)
        """The last input samples, which the next interpolated values also need."""
        self.peak = 0.0
        """Largest oversampled |value| of what was added (full scale 1), but for the
        last few samples' neighbourhoods, which need what comes next."""

    def add(self, x: FloatArray) -> None:
        self.peak = self._read(x, self.peak)
        self._history = np.concatenate((self._history, x))[-self._history.size :]

    def sounding(self) -> bool:
        """Whether the last samples added are not all silence."""
        return bool(self._history.any())

    def _read(self, x: FloatArray, peak: float) -> float:
        peak = max(peak, float(np.abs(x).max(initial=0.0)))
        return _oversampled_peak(np.concatenate((self._history, x)), peak)

    def dbtp(self, pending: FloatArray | None = None) -> float:
        """The true peak of everything added and then `pending`, followed by silence,
        in dB of full scale (-inf for silence). Adds nothing."""
        rest = pending if pending is not None else np.zeros(0)
        # Past the end the signal is silence: the last samples' neighbourhoods need it.
        flush = np.concatenate((rest, np.zeros(TRUE_PEAK_TAPS_PER_PHASE - 1)))
        peak = self._read(flush, self.peak)
        return 20 * math.log10(peak) if peak > 0 else -math.inf


class LoudnessMeter:
    """Streaming BS.1770-4 meter for mono int16 audio: integrated loudness and true peak.

    `add` takes chunks of any size; results do not depend on how the audio was cut.
    State: the 400 ms block powers (one float per 100 ms) and fixed-size buffers.
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._filter = _KFilter(sample_rate)
        self._pending = np.zeros(self._filter.block)
        """Input waiting for a full block, in [-1, 1)."""
        self._pending_len = 0
        self._gating = _Gating(sub_block=round(sample_rate * SUB_BLOCK_MS / 1000))
        self.block_powers: array[float] = array("d")
        """K-weighted mean square of every complete 400 ms gating block so far."""
        self._peaks = TruePeakMeter()
        self.frames = 0

    def add(self, samples: npt.NDArray[np.int16]) -> None:
        x = np.asarray(samples).ravel()
        self.frames += x.size
        while x.size:
            take = min(x.size, self._pending.size - self._pending_len)
            into = self._pending[self._pending_len : self._pending_len + take]
            np.multiply(x[:take], 1 / FULL_SCALE, out=into)
            self._pending_len += take
            x = x[take:]
            if self._pending_len == self._pending.size:
                self._process(self._pending)
                self._pending_len = 0

    def add_pcm(self, pcm: bytes) -> None:
        """Add little-endian int16 PCM, as `render` yields it."""
        self.add(np.frombuffer(pcm, dtype="<i2"))

    def _process(self, x: FloatArray) -> None:
        if not (x.any() or self._filter.tail.any() or self._peaks.sounding()):
            # Silence after silence (most of a hold): nothing to filter or to peak.
            self._gating.feed_silence(x.size, self.block_powers)
            return
        y, self._filter.tail = self._filter.filter(x)
        self._gating.feed(y * y, self.block_powers)
        self._peaks.add(x)

    def integrated_lufs(self) -> float:
        """Gated integrated loudness of everything added; -inf if all below the gate."""
        pending = self._pending[: self._pending_len]
        extra: array[float] = array("d")
        if pending.size:
            y, _ = self._filter.filter(pending)
            self._gating.copy().feed(y * y, extra)
        blocks = np.concatenate((np.frombuffer(self.block_powers), np.frombuffer(extra)))
        return gated_loudness(blocks)

    def true_peak_dbtp(self) -> float:
        """Largest 4x oversampled |value| so far, in dB of full scale; -inf for silence."""
        return self._peaks.dbtp(self._pending[: self._pending_len])

    def measurement(self) -> Measurement:
        return Measurement(self.integrated_lufs(), self.true_peak_dbtp())


# --- Clips and programs -------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _k_spectrum(sample_rate: int, fft_size: int) -> npt.NDArray[np.complex128]:
    return np.fft.rfft(k_weighting_impulse_response(sample_rate), fft_size)


def clip_loudness_lufs(clip: Clip) -> float:
    """Loudness of a clip: gated if it spans a gating block, else its whole mean square.

    The same measure as `LoudnessMeter`, in one FFT and without the true peak.
    """
    if clip.frames == 0:
        return -math.inf
    x = clip.samples() / FULL_SCALE
    h_size = k_weighting_impulse_response(clip.sample_rate).size
    size = 1 << math.ceil(math.log2(x.size + h_size - 1))
    y = np.fft.irfft(np.fft.rfft(x, size) * _k_spectrum(clip.sample_rate, size), size)
    y = y[: x.size]
    gating = _Gating(sub_block=round(clip.sample_rate * SUB_BLOCK_MS / 1000))
    if x.size < SUB_BLOCKS_PER_BLOCK * gating.sub_block:
        return power_to_lufs(float(np.mean(y * y)))
    blocks: array[float] = array("d")
    gating.feed(y * y, blocks)
    return gated_loudness(np.frombuffer(blocks))


def gain_for(measured_lufs: float, target_lufs: float) -> float:
    """Gain in dB that moves `measured_lufs` to `target_lufs`; 0 for silence."""
    return target_lufs - measured_lufs if math.isfinite(measured_lufs) else 0.0


def _sliding_min(a: FloatArray, width: int) -> FloatArray:
    """out[i] = min(a[i : i + width]) in O(n): running minima inside fixed blocks."""
    n = a.size
    blocks = np.concatenate((a, np.full(-n % width, np.inf))).reshape(-1, width)
    from_start = np.minimum.accumulate(blocks, axis=1).ravel()
    to_end = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    # A window starting at i is the end of i's block plus the start of the next one.
    return np.minimum(to_end[: n - width + 1], from_start[width - 1 : n])


def limit(
    x: FloatArray, ceiling: float, window: int, envelope: FloatArray | None = None
) -> FloatArray:
    """`x` with a smooth gain that keeps its true peak at (about) `ceiling` or under.

    The gain each sample needs (from the 4x oversampled envelope) is first spread to
    +-`window` samples by a sliding minimum, then smoothed by a moving average over
    the same span. Every value in that average is a minimum over a window containing
    the sample itself, so the smoothed gain is never more than the sample needs:
    look-ahead without overshoot. (Between samples the gain is not quite constant
    over the interpolation filter, so the ceiling can be passed by a hair.)
    `envelope` is `true_peak_envelope(x)`, if the caller has it already.
    """
    if envelope is None:
        envelope = true_peak_envelope(x)
    if x.size == 0 or envelope.max() <= ceiling:
        return x
    need = np.ones(x.size + 4 * window)
    loud = envelope > ceiling
    need[2 * window : 2 * window + x.size][loud] = ceiling / envelope[loud]
    spread = _sliding_min(need, 2 * window + 1)
    sums = np.concatenate(([0.0], np.cumsum(spread)))
    smooth = (sums[2 * window + 1 :] - sums[: -(2 * window + 1)]) / (2 * window + 1)
    return x * smooth


_ROUNDING = 0.5
"""Rounding to int16 moves a sample by this at most (an interpolated value by this
times `_peak_gain()`)."""


def normalize_clip(
    clip: Clip,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CLIP_TRUE_PEAK_CEILING_DBTP,
) -> Clip:
    """A new clip at `target_lufs`, its true peak held under `ceiling_dbtp`.

    Limiting costs loudness, so when the limiter acts the gain is raised again
    (secant steps, at most `MAX_MAKEUP_DB` over the plain gain) until the clip is
    within 0.02 LU of the target. Silence is returned unchanged.
    """
    measured = clip_loudness_lufs(clip)
    if not math.isfinite(measured):
        return clip
    x = clip.samples().astype(np.float64)
    ceiling = min(10 ** (ceiling_dbtp / 20) * FULL_SCALE, 32767.0)
    # Aim under the ceiling by what rounding can add, so the result needs no check.
    aim = ceiling - _ROUNDING * _peak_gain()
    window = max(1, clip.sample_rate * LIMITER_WINDOW_MS // 1000)
    envelope = true_peak_envelope(x)

    def at(gain_db: float) -> tuple[Clip, float]:
        gain = 10 ** (gain_db / 20)
        if envelope.max() * gain <= aim:  # no limiting: loudness moves by the gain
            y, lufs = np.round(x * gain), measured + gain_db
        else:
            y = np.round(limit(x * gain, aim, window, envelope * gain))
            peak = true_peak_envelope(y).max()
            if peak > ceiling:  # the gain is not quite constant under the filter
                y = np.round(y * (aim / peak))
            lufs = math.nan
        out = dataclasses.replace(clip, pcm=y.astype("<i2").tobytes())
        return out, lufs if math.isfinite(lufs) else clip_loudness_lufs(out)

    plain_db = gain_for(measured, target_lufs)
    gain_db, (out, lufs) = plain_db, at(plain_db)
    previous: tuple[float, float] | None = None
    for _ in range(6):
        miss = target_lufs - lufs
        if abs(miss) < 0.02:
            break
        step = miss
        if previous is not None and lufs != previous[1]:
            step = miss * (gain_db - previous[0]) / (lufs - previous[1])
        previous = (gain_db, lufs)
        gain_db = min(gain_db + step, plain_db + MAX_MAKEUP_DB)
        if gain_db == previous[0]:
            break
        out, lufs = at(gain_db)
    return out


def limit_clip(clip: Clip, ceiling_dbtp: float) -> Clip:
    """`clip` with its true peak held at about `ceiling_dbtp` by the limiter (near its
    peaks only, so a hair quieter where it acts); `clip` itself if already under.
    Unlike `normalize_clip` it does not measure the result: "about" is `limit`'s hair
    over, which a caller that measures the result anyway can allow for."""
    if clip.frames == 0:
        return clip
    x = clip.samples().astype(np.float64)
    aim = min(10 ** (ceiling_dbtp / 20) * FULL_SCALE, 32767.0) - _ROUNDING * _peak_gain()
    envelope = true_peak_envelope(x)
    if envelope.max() <= aim:
        return clip
    window = max(1, clip.sample_rate * LIMITER_WINDOW_MS // 1000)
    y = np.round(limit(x, aim, window, envelope))
    return dataclasses.replace(clip, pcm=y.astype("<i2").tobytes())


FILTERED_CLIPS_KEPT = 32
"""K-weighted clips `measure_placed` keeps at once."""


class PlacedFiltered:
    """The K-weighted sum of clips placed in silence (start frame, clip), for any
    stretch: each distinct clip is filtered once and kept while it is needed (at most
    FILTERED_CLIPS_KEPT at once: memory stays flat with the number of distinct lines,
    and the lines a routine repeats stay filtered); each stretch is the sum of the
    filtered clips that reach into it, their tails included. Exact: the K-weighting is
    linear."""

    def __init__(self, placed: Sequence[tuple[int, Clip]], sample_rate: int) -> None:
        self.order = sorted(placed, key=lambda p: p[0])
        self.starts = [at for at, _ in self.order]
        self._h_size = k_weighting_impulse_response(sample_rate).size
        self._rate = sample_rate
        distinct = {id(clip): clip for _, clip in self.order}
        self.longest = max((c.frames for c in distinct.values()), default=0) + self._h_size - 1

        @functools.lru_cache(maxsize=FILTERED_CLIPS_KEPT)
        def filtered(key: int) -> FloatArray:
            return k_weighted(distinct[key].samples() / FULL_SCALE, self._rate)

        self._filtered = filtered

    def frames(self, a: int, b: int) -> FloatArray | None:
        """Frames [a, b) of the filtered sum; None when no clip reaches into them."""
        first = bisect.bisect_left(self.starts, a - self.longest)
        near = self.order[first : bisect.bisect_left(self.starts, b)]
        y = None
        for at, clip in near:
            reach = clip.frames + self._h_size - 1
            lo, hi = max(at, a), min(at + reach, b)
            if lo < hi:
                y = np.zeros(b - a) if y is None else y
                y[lo - a : hi - a] += self._filtered(id(clip))[lo - at : hi - at]
        return y

    def next_start(self, b: int) -> int | None:
        """The first clip start at or after frame `b`."""
        following = bisect.bisect_left(self.starts, b)
        return self.starts[following] if following < len(self.starts) else None


def placed_true_peak(placed: Sequence[tuple[int, Clip]]) -> float:
    """The largest 4x oversampled |value| (full scale 1) of placed clips that are never
    within the interpolation window of each other: the largest clip's, with silence
    on both sides."""
    distinct = {id(clip): clip for _, clip in placed}
    taps = TRUE_PEAK_TAPS_PER_PHASE
    # Loudest first: a clip's peak is then worked out only where it could beat the
    # peak so far (`_oversampled_peak`), with silence on both sides as in the program.
    edge = np.zeros(taps - 1)
    peak = 0.0
    for c in sorted(distinct.values(), key=lambda c: -int(np.abs(c.samples()).max(initial=0))):
        x = c.samples() / FULL_SCALE
        floor = max(peak, float(np.abs(x).max(initial=0.0)))
        peak = _oversampled_peak(np.concatenate((edge, x, edge)), floor)
    return peak


def clips_too_close(placed: Sequence[tuple[int, Clip]]) -> bool:
    """Whether two placed clips are within the true-peak interpolation window of each
    other (then their peak depends on where they are)."""
    order = sorted(placed, key=lambda p: p[0])
    taps = TRUE_PEAK_TAPS_PER_PHASE
    return any(b[0] < a[0] + a[1].frames + taps for a, b in itertools.pairwise(order))


def measure_placed(
    placed: Sequence[tuple[int, Clip]],
    total_frames: int,
    sample_rate: int,
    mixed: Callable[[], Iterable[bytes]],
) -> Measurement:
    """What `LoudnessMeter` reads for the mix of `placed` clips (start frame, clip) in
    `total_frames` of silence, without mixing or filtering the whole program.

    A routine is a few dozen distinct clips placed many times in long silences. The
    K-weighting is linear, so the filtered program is the sum of the filtered clips at
    their places (`PlacedFiltered`). A clip's true peak does not depend on where it is
    when nothing else sounds within the interpolation window of it, so the program's
    is the largest clip's; were two clips that close, the mix (`mixed()`, PCM chunks)
    is metered instead.
    """
    if clips_too_close(placed):
        return measure_pcm(mixed(), sample_rate)
    peak = placed_true_peak(placed)
    energies = placed_energies(placed, total_frames, sample_rate)
    lufs = loudness_of_sub_blocks(energies, sub_block_frames(sample_rate))
    return Measurement(lufs, 20 * math.log10(peak) if peak > 0 else -math.inf)


def placed_energies(
    placed: Sequence[tuple[int, Clip]], total_frames: int, sample_rate: int
) -> FloatArray:
    """The K-weighted energy of placed clips in each complete 100 ms sub-block of
    `total_frames`; silence is skipped, not filtered."""
    sub = sub_block_frames(sample_rate)
    out = np.zeros(total_frames // sub)
    end = out.size * sub
    speech = PlacedFiltered(placed, sample_rate)
    chunk = sub * 10
    a = 0
    while a < end:
        b = min(a + chunk, end)
        y = speech.frames(a, b)
        if y is None:  # silence up to the next clip's start, in one go
            following = speech.next_start(b)
            a = end if following is None else max(b, following // sub * sub)
            continue
        out[a // sub : b // sub] = (y * y).reshape(-1, sub).sum(axis=1)
        a = b
    return out


def sub_block_frames(sample_rate: int) -> int:
    """Frames in one 100 ms gating sub-block."""
    return round(sample_rate * SUB_BLOCK_MS / 1000)


def loudness_of_sub_blocks(energies: FloatArray, sub_block: int) -> float:
    """Gated integrated loudness from the K-weighted energy of every complete 100 ms
    sub-block, in order (what `LoudnessMeter` gathers into its 400 ms blocks)."""
    n = SUB_BLOCKS_PER_BLOCK
    if energies.size < n:
        return -math.inf
    sums = np.convolve(energies, np.ones(n), "valid")
    return gated_loudness(sums / (n * sub_block))


def k_weighted(x: FloatArray, sample_rate: int) -> FloatArray:
    """`x` K-weighted from silence, with the tail the filter leaves after it. In the
    meter's fixed blocks: about twice as fast as one FFT of the whole padded to a
    power of two, for clips of a second or more."""
    f = _KFilter(sample_rate)
    out = np.empty(x.size + f.tail.size)
    for at in range(0, x.size, f.block):
        y, f.tail = f.filter(x[at : at + f.block])
        out[at : at + y.size] = y
    out[x.size :] = f.tail
    return out


def k_response(sample_rate: int, omegas: FloatArray) -> npt.NDArray[np.complex128]:
    """The K-weighting's frequency response at angular frequencies `omegas` (radians
    per frame)."""
    z = np.exp(-1j * np.asarray(omegas, dtype=np.float64))
    out = np.ones(z.shape, dtype=np.complex128)
    for bq in k_weighting(sample_rate):
        out *= (bq.b0 + bq.b1 * z + bq.b2 * z * z) / (1 + bq.a1 * z + bq.a2 * z * z)
    return out


def k_weighted_blocks(
    x: npt.NDArray[np.float64] | npt.NDArray[np.float32],
    sample_rate: int,
    before: npt.NDArray[np.float64] | npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """`x` K-weighted as if `before` had sounded just before it (silence if None),
    without the tail past its end: block by block, so a long `x` takes no more
    memory than its result (float32). With the end of `x` as `before`, one period of
    a signal that repeats forever, in the steady state."""
    f = _KFilter(sample_rate)
    if before is not None:
        for at in range(0, before.size, f.block):
            _, f.tail = f.filter(np.asarray(before[at : at + f.block], dtype=np.float64))
    out = np.empty(x.size, dtype=np.float32)
    for at in range(0, x.size, f.block):
        y, f.tail = f.filter(np.asarray(x[at : at + f.block], dtype=np.float64))
        out[at : at + y.size] = y
    return out


def measure_pcm(chunks: Iterable[bytes], sample_rate: int) -> Measurement:
    """Integrated loudness and true peak of little-endian int16 PCM chunks."""
    meter = LoudnessMeter(sample_rate)
    for chunk in chunks:
        meter.add_pcm(chunk)
    return meter.measurement()


def program_gain_db(
    measured: Measurement,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = TRUE_PEAK_CEILING_DBTP,
) -> float:
    """The gain that brings a program to `target_lufs`, lowered if its true peak
    would then pass `ceiling_dbtp` (a quiet, peaky program stays under target)."""
    gain_db = gain_for(measured.integrated_lufs, target_lufs)
    if math.isfinite(measured.true_peak_dbtp):
        gain_db = min(gain_db, ceiling_dbtp - TRUE_PEAK_MARGIN_DB - measured.true_peak_dbtp)
    return gain_db


def apply_gain(pcm: bytes, gain_db: float) -> bytes:
    """Little-endian int16 PCM scaled by `gain_db`, rounded and clipped to int16."""
    samples = np.frombuffer(pcm, dtype="<i2")
    if gain_db == 0 or not samples.any():  # most chunks of a routine are silence
        return pcm
    x = samples * 10 ** (gain_db / 20)
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()
