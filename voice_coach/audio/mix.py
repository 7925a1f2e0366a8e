"""The one-pass renderer that turns a timeline into PCM, and the chimes it places.

Rendering never concatenates clips one by one (that is quadratic); it fills
fixed-size chunks, mixing in only the events that overlap each chunk, so memory
stays flat however long the routine is.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..timeline import CHIME_START, Event, Timeline
from .bed import BedPlan, BedTrack
from .clip import Clip, ms_to_frames, resample
from .loudness import CHIME_UNDER_SPEECH_LU, FULL_SCALE, TARGET_LUFS, normalize_clip

CHIME_LUFS = TARGET_LUFS - CHIME_UNDER_SPEECH_LU
"""Loudness of a chime: a set level under the speech, which is at TARGET_LUFS."""


@functools.cache
def chime(kind: str, duration_ms: int, sample_rate: int) -> Clip:
    """A soft two-note tone: rising for the start of a hold, falling for its end.

    Made once per kind, length and rate: every render of every timeline reuses it."""
    n = sample_rate * duration_ms // 1000
    low, high = 660.0, 880.0
    first, second = (low, high) if kind == CHIME_START else (high, low)
    freq = np.where(np.arange(n) < n // 2, first, second)
    phase = 2 * np.pi * np.cumsum(freq) / sample_rate
    fade = max(1, sample_rate * 15 // 1000)
    envelope = np.minimum(1.0, np.minimum(np.arange(n) + 1, n - np.arange(n)) / fade)
    wave_ = np.sin(phase) * envelope * 0.5 * 32767
    return normalize_clip(Clip(np.round(wave_).astype("<i2").tobytes(), sample_rate), CHIME_LUFS)


def total_frames(timeline: Timeline, sample_rate: int) -> int:
    return ms_to_frames(timeline.total_ms, sample_rate)


def event_clips(
    events: Timeline | Iterable[Event], speech: Mapping[str, Clip], sample_rate: int
) -> list[tuple[int, Clip]]:
    """Each event's start frame and sound, in start order."""
    return [
        (
            ms_to_frames(e.start_ms, sample_rate),
            resample(speech[e.text], sample_rate)
            if e.is_speech
            else chime(e.text, e.duration_ms, sample_rate),
        )
        for e in (events.events if isinstance(events, Timeline) else events)
    ]


class Mixer:
    """Random access to the mixed audio of a set of placed clips.

    `frames(a, b)` mixes only the clips that overlap [a, b): a binary search on start
    frames, bounded by the longest clip, so the cost does not grow with the routine.
    """

    def __init__(self, placed: Sequence[tuple[int, Clip]]) -> None:
        self._placed = sorted(placed, key=lambda p: p[0])
        self._starts = [at for at, _ in self._placed]
        self._longest = max((clip.frames for _, clip in self._placed), default=0)

    def frames(self, a: int, b: int) -> npt.NDArray[np.int16]:
        mix = np.zeros(max(0, b - a), dtype=np.int32)
        first = bisect.bisect_left(self._starts, a - self._longest)
        last = bisect.bisect_left(self._starts, b)
        for at, clip in self._placed[first:last]:
            lo, hi = max(at, a), min(at + clip.frames, b)
            if lo < hi:
                mix[lo - a : hi - a] += clip.samples()[lo - at : hi - at]
        return np.clip(mix, -32768, 32767).astype("<i2")

    def sounding(self, a: int, b: int) -> list[tuple[int, int]]:
        """The stretches of [a, b) that a clip sounds in, one per clip (start, end)."""
        first = bisect.bisect_left(self._starts, a - self._longest)
        last = bisect.bisect_left(self._starts, b)
        spans = [(max(at, a), min(at + clip.frames, b)) for at, clip in self._placed[first:last]]
        return [(lo, hi) for lo, hi in spans if lo < hi]

    def quiet_frames(self, a: int, limit: int) -> int:
        """How many frames from `a` on no clip sounds in, at most `limit`."""
        first = bisect.bisect_left(self._starts, a - self._longest)
        for at, clip in self._placed[first:]:
            if at >= a + limit:
                break
            if at + clip.frames > a:
                return max(0, at - a)
        return max(0, limit)


def render(
    timeline: Timeline,
    speech: Mapping[str, Clip],
    sample_rate: int,
    chunk_frames: int | None = None,
    start_frame: int = 0,
    end_frame: int | None = None,
    bed: BedPlan | None = None,
    breaks: Sequence[int] = (),
) -> Generator[bytes, None, None]:
    """The timeline as PCM chunks, frames [start_frame, end_frame) (default: to the end),
    in one pass, with `bed` under it. No chunk spans one of the frames in `breaks`: a
    split export cuts its tracks there from the one pass."""
    chunk_frames = chunk_frames or sample_rate
    mixer = Mixer(event_clips(timeline, speech, sample_rate))
    total = total_frames(timeline, sample_rate)
    end = total if end_frame is None else min(end_frame, total)
    track = None
    if bed is not None and not bed.silent:
        track = BedTrack(bed, timeline.events, total, sample_rate)
        for skip in range(0, start_frame, chunk_frames):  # a bed plays forward only
            track.frames(skip, min(chunk_frames, start_frame - skip))
    try:
        for pos, n in chunk_spans(start_frame, end, chunk_frames, breaks):
            if track is None:
                yield mixer.frames(pos, pos + n).tobytes()
                continue
            mixed = track.frames(pos, n)
            mixed *= FULL_SCALE
            np.round(mixed, out=mixed)
            mixed += mixer.frames(pos, pos + n)
            yield np.clip(mixed, -32768, 32767, out=mixed).astype("<i2").tobytes()
    finally:
        if track is not None:
            track.close()


def chunk_spans(
    start: int, end: int, chunk_frames: int, breaks: Sequence[int] = ()
) -> Iterator[tuple[int, int]]:
    """(start, length) of chunks of at most `chunk_frames` covering [start, end), cut at
    every frame in `breaks`."""
    pos = start
    for stop in [*sorted(b for b in set(breaks) if start < b < end), end]:
        while pos < stop:
            n = min(stop, pos + chunk_frames) - pos
            yield pos, n
            pos += n
