"""A routine's loudness and true peak with a bed under it, in one pass that never
K-weights the whole mix; and again for other speech (limited) under the bed turned
down with it, from the parts kept, reading only the true peak again.

The K-weighting is linear, so the weighted mix is the weighted speech plus the
weighted bed. The speech is the weighted clips placed (`PlacedFiltered`); the bed is
played from K-weighted sources (`source_for(..., k_weighted=True)`: a filtered loop,
sinusoids through the filter's response, a filtered click) under the same envelope.
Putting the envelope after the filter rather than before is the one approximation:
the envelope moves over 150 ms or more, the filter's memory is a few ms, so a
reading moves by far less than 0.01 LU (the tests compare with `LoudnessMeter` on
the rendered mix). A bed file decoded as it plays has no weighted source: its part
of the mix is filtered as it comes, as the meter would.

What is kept is three energies per 100 ms sub-block, speech, bed and their cross
term (a float each per 100 ms, like the meter's own blocks), so the loudness with the
speech limited and the bed turned down with it (`MixLevels.with_speech`) is worked out
from them, without playing the weighted bed again; the true peak of that mix is read
where speech sounds (`mix_true_peak`), the bed alone being bounded by its largest
sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..timeline import Timeline
from .bed import BedPlan, BedTrack, weightable
from .clip import Clip
from .loudness import (
    FULL_SCALE,
    TRUE_PEAK_TAPS_PER_PHASE,
    Measurement,
    PlacedFiltered,
    _KFilter,
    _oversampled_peak,
    _peak_gain,
    loudness_of_sub_blocks,
    sub_block_frames,
)
from .mix import Mixer, event_clips, total_frames

FloatArray = npt.NDArray[np.float64]

SUB_BLOCKS_PER_CHUNK = 10
"""A second at a time."""


@dataclass(frozen=True)
class MixLevels:
    """The parts of a routine's loudness with a bed under it."""

    sub_block: int
    """Frames in 100 ms."""
    speech: FloatArray
    """K-weighted energy of the speech in each complete 100 ms sub-block."""
    bed: FloatArray
    """Of the bed, as placed, ducked and faded."""
    cross: FloatArray
    """Sum of the products of the two (the mix's energy is speech + 2 cross + bed)."""
    true_peak: float
    """Of the mix as rendered (full scale 1)."""
    bed_peak: float
    """The largest |bed sample|."""

    @property
    def speech_lufs(self) -> float:
        """The loudness of the speech alone."""
        return loudness_of_sub_blocks(self.speech, self.sub_block)

    def measurement(self) -> Measurement:
        """The mix as measured."""
        lufs = loudness_of_sub_blocks(self.speech + 2 * self.cross + self.bed, self.sub_block)
        return Measurement(lufs, _dbtp(self.true_peak))

    def with_speech(self, speech: FloatArray, bed_gain: float, true_peak: float) -> Measurement:
        """The mix with other speech in the same places (`speech`: its sub-block
        energies), the bed `bed_gain` times as loud, and `true_peak` (`mix_true_peak`).
        The cross term follows both: the bed's side exactly, the speech's by the ratio
        of its energies in each sub-block (it is under a thousandth of the speech's
        energy where speech sounds, the bed being ducked there)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.speech > 0, np.sqrt(speech / self.speech), 0.0)
        energies = speech + 2 * bed_gain * ratio * self.cross + bed_gain**2 * self.bed
        return Measurement(loudness_of_sub_blocks(energies, self.sub_block), _dbtp(true_peak))


def _dbtp(peak: float) -> float:
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure_mix(
    timeline: Timeline, clips: Mapping[str, Clip], sample_rate: int, bed: BedPlan
) -> MixLevels:
    """The loudness parts and true peak of `timeline` spoken with `clips`, `bed` under
    it: one pass, the bed played twice side by side (as heard, for the true peak;
    K-weighted, for the loudness)."""
    walk = _Walk(timeline, clips, sample_rate, bed, None)
    return MixLevels(walk.sub, walk.speech, walk.bed, walk.cross, walk.peak, walk.bed_peak)


def mix_true_peak(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    bed: BedPlan,
    bed_peak: float,
) -> float:
    """The true peak (full scale 1) of the mix as rendered, given the largest |bed
    sample| (`bed_peak`): the bed is made only where speech sounds, and where it
    alone could be the peak."""
    return _Walk(timeline, clips, sample_rate, bed, bed_peak).peak


class _Walk:
    """One pass over a routine with its bed, a second at a time."""

    def __init__(
        self,
        timeline: Timeline,
        clips: Mapping[str, Clip],
        sample_rate: int,
        bed: BedPlan,
        bed_peak: float | None,
    ) -> None:
        """With `bed_peak` None, the loudness parts too, and the bed's peak."""
        energies = bed_peak is None
        placed = event_clips(timeline, clips, sample_rate)
        total = total_frames(timeline, sample_rate)
        self.sub = sub = sub_block_frames(sample_rate)
        subs = total // sub
        self.speech, self.bed, self.cross = np.zeros(subs), np.zeros(subs), np.zeros(subs)
        speech_k = PlacedFiltered(placed, sample_rate)
        mixer = Mixer(placed)
        weighted = energies and weightable(bed)
        track = BedTrack(bed, timeline.events, total, sample_rate, k_weighted_too=weighted)
        filter_ = _KFilter(sample_rate) if energies and not weighted else None
        """A long file has no K-weighted source: its bed is filtered as it comes."""
        taps = TRUE_PEAK_TAPS_PER_PHASE
        history = np.zeros(taps - 1)
        self.peak = 0.0
        self.bed_peak = 0.0 if bed_peak is None else bed_peak
        gain = _peak_gain()
        chunk = sub * SUB_BLOCKS_PER_CHUNK
        silence = np.zeros(chunk, dtype=np.int16)
        try:
            for a in range(0, total, chunk):
                n = min(chunk, total - a)
                sounding = mixer.sounding(a, a + n)
                if not energies and not sounding and gain * self.bed_peak <= self.peak:
                    track.skip(a, n)  # the bed alone, which cannot beat the peak so far
                    history = np.zeros(taps - 1)
                    continue
                if weighted:
                    plain, kb = track.both(a, n)
                else:
                    plain = track.frames(a, n)
                    kb = _filtered(filter_, plain) if energies else plain
                if energies:
                    self.bed_peak = max(self.bed_peak, float(np.abs(plain).max(initial=0.0)))
                    whole = max(0, min(n, subs * sub - a))
                    kb = kb[:whole]
                    at = slice(a // sub, (a + whole) // sub)
                    self.bed[at] = (kb * kb).reshape(-1, sub).sum(axis=1)
                    ks = speech_k.frames(a, a + whole)
                    if ks is not None:
                        self.speech[at] = (ks * ks).reshape(-1, sub).sum(axis=1)
                        self.cross[at] = (ks * kb).reshape(-1, sub).sum(axis=1)
                if not sounding and gain * self.bed_peak <= self.peak:
                    # Nothing here can beat the peak so far: only the window's history.
                    last = np.round(plain[-(taps - 1) :] * FULL_SCALE) / FULL_SCALE
                    history = np.concatenate((history, last))[-(taps - 1) :]
                    continue
                # The mix exactly as `render` makes it.
                speech = mixer.frames(a, a + n) if sounding else silence[:n]
                mixed = np.round(plain * FULL_SCALE) + speech
                mixed = np.clip(mixed, -32768, 32767, out=mixed) / FULL_SCALE
                self.peak = max(self.peak, float(np.abs(mixed).max(initial=0.0)))
                self.peak = _oversampled_peak(np.concatenate((history, mixed)), self.peak)
                history = np.concatenate((history, mixed))[-(taps - 1) :]
        finally:
            track.close()


def _filtered(filter_: _KFilter | None, x: FloatArray) -> FloatArray:
    """`x` through a streaming K-weighting filter, in blocks it takes."""
    assert filter_ is not None
    out = np.empty(x.size)
    for at in range(0, x.size, filter_.block):
        y, filter_.tail = filter_.filter(x[at : at + filter_.block])
        out[at : at + y.size] = y
    return out
