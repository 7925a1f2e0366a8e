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
from ..model import DEFAULT_BED_LEVEL_LU, Bed, BedLevels, Routine
from ..timeline import Event
from .loudness import TARGET_LUFS, LoudnessMeter, gain_for

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
IN_MEMORY_S = 5 * 60
"""A sound file up to this long is decoded once (kept as int16, 13 MB at 22.05 kHz)
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


class DroneSource:
    """A soft sustained chord (A2, E3, A3), slowly breathing: exact for any frame."""

    PARTIALS = ((110.0, 1.0), (164.81, 0.5), (220.0, 0.35))
    BREATH_HZ = 0.08

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self._omegas, self._amplitudes, self._phases, self._table = _drone_table(sample_rate)

    def frames(self, start: int, n: int) -> FloatArray:
        # Each sinusoid a*sin(w(start + k) + p) is sin(w start + p) cos(w k) +
        # cos(w start + p) sin(w k): a table of cos(w k), sin(w k) made once, weighted
        # per block, instead of sin() of every sample.
        out = np.empty(n)
        block = self._table.shape[1]
        for at in range(0, n, block):
            m = min(block, n - at)
            angle = np.remainder(self._omegas * (start + at), 2 * np.pi) + self._phases
            weights = np.concatenate(
                (self._amplitudes * np.sin(angle), self._amplitudes * np.cos(angle))
            )
            out[at : at + m] = weights @ self._table[:, :m]
        return out


@functools.cache
def _drone_table(sample_rate: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The drone as plain sinusoids (angular frequency per frame, amplitude, phase) and
    the rows cos(w k), sin(w k) for k in one second. The breath is a product:
    a sin(x) (0.75 + 0.25 sin(y)) = 0.75a sin(x) + 0.125a (cos(x - y) - cos(x + y))."""
    breath = DroneSource.BREATH_HZ
    sines = []
    for hz, amplitude in DroneSource.PARTIALS:
        a = amplitude / 1.85
        sines += [(hz, 0.75 * a, 0.0), (hz - breath, 0.125 * a, np.pi / 2)]
        sines += [(hz + breath, -0.125 * a, np.pi / 2)]
    omegas = np.array([2 * np.pi * hz / sample_rate for hz, _, _ in sines])
    k = np.arange(sample_rate)
    angles = np.outer(omegas, k)
    table = np.concatenate((np.cos(angles), np.sin(angles)))
    amplitudes = np.array([a for _, a, _ in sines])
    phases = np.array([p for _, _, p in sines])
    return omegas, amplitudes, phases, table


class PaceSource:
    """A soft click on every step: click k starts at frame round(k · rate · 60 / spm)."""

    def __init__(self, spm: float, sample_rate: int) -> None:
        self.period = sample_rate * 60 / spm
        n = sample_rate * CLICK_MS // 1000
        t = np.arange(n) / sample_rate
        self.click = np.sin(2 * np.pi * 1500 * t) * np.exp(-t * 180)

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
    then again and again with its last CROSSFADE_MS faded into its start."""

    def __init__(self, pcm: npt.NDArray[np.int16], sample_rate: int) -> None:
        self.pcm = pcm
        self._xfade = min(sample_rate * CROSSFADE_MS // 1000, pcm.size // 4)
        self._usable = pcm.size - self._xfade
        ramp = (np.arange(self._xfade) + 0.5) / self._xfade
        head = pcm[: self._xfade] * ramp + pcm[self._usable :] * (1 - ramp)
        self._head = head / 32768.0
        """The start of every pass after the first."""

    def frames(self, start: int, n: int) -> FloatArray:
        out = np.empty(n)
        filled, usable = 0, self._usable
        while filled < n:
            pos = start + filled
            if pos < usable:  # the first pass
                a, b, part = pos, min(usable, pos + n - filled), self.pcm
            else:
                a = (pos - usable) % usable
                if a < self._xfade:
                    b = min(self._xfade, a + n - filled)
                    out[filled : filled + b - a] = self._head[a:b]
                    filled += b - a
                    continue
                b, part = min(usable, a + n - filled), self.pcm
            np.multiply(part[a:b], 1 / 32768.0, out=out[filled : filled + b - a])
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
    return DecodedFile(pcm, sample_rate) if pcm.size >= 4 else None


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
        depth_db = np.zeros(n)
        if self.duck_db <= 0:
            return np.ones(n)
        frames = np.arange(start, start + n)
        first = bisect.bisect_left(self._onsets, start - self._longest - self._up)
        last = bisect.bisect_left(self._onsets, start + n + self._down)
        for onset, end in self._spans[first:last]:
            if end + self._up <= start:
                continue
            d = np.clip((frames - (onset - self._down)) / self._down, 0, 1)
            d = np.where(frames > end, np.clip(1 - (frames - end) / self._up, 0, 1), d)
            np.maximum(depth_db, d * self.duck_db, out=depth_db)
        return np.asarray(10 ** (-depth_db / 20), dtype=np.float64)


# -- playing beds one after another ---------------------------------------------------------


def source_for(spec: Bed, sample_rate: int) -> Source:
    """The sound of `spec`, from its start. A file must have been checked (`probe_file`)."""
    if spec.kind == "rain":
        return LoopSource(_rain_loop(sample_rate))
    if spec.kind == "drone":
        return DroneSource(sample_rate)
    if spec.kind == "pace":
        assert spec.pace_spm is not None
        return PaceSource(spec.pace_spm, sample_rate)
    path = Path(spec.path or "")
    seconds = probe_file(path, spec.where or "bed")
    identity = file_identity(path)
    if identity is not None and seconds <= IN_MEMORY_S:
        decoded = _decoded(identity, sample_rate)
        if decoded is None:
            raise SoundFileError(f"the sound file {path} gave no sound")
        return decoded
    return FileSource(path, sample_rate, round(seconds * sample_rate))


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

    def __init__(self, sample_rate: int, level_lu: float = DEFAULT_BED_LEVEL_LU) -> None:
        self.rate = sample_rate
        self.level = 10 ** (level_lu / 20)
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
                source = source_for(spec, self.rate)
                self._current = _Playing(spec, source, unit_gain(spec, self.rate))
        out = np.zeros(n)
        if self._current is not None:
            out += self._take(self._current, n, fade_in=bool(self._fading))
        for fading in list(self._fading):
            out += self._take(fading, n, fade_in=False)
            if fading.fade_left <= 0:
                self._fading.remove(fading)
                if isinstance(fading.source, FileSource):
                    fading.source.close()
        return out * self.level

    def _take(self, playing: _Playing, n: int, fade_in: bool) -> FloatArray:
        x = playing.source.frames(playing.position, n) * playing.gain
        if playing.fade_left:
            left = np.arange(playing.fade_left, playing.fade_left - n, -1)
            x = x * np.clip(left / self._xfade, 0, 1)
            playing.fade_left = max(0, playing.fade_left - n)
        elif fade_in and playing.position < self._xfade:
            x = x * np.clip(
                (np.arange(playing.position, playing.position + n) + 1) / self._xfade, 0, 1
            )
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


def check_files(routine: Routine) -> None:
    """Every sound file `routine`'s beds name exists, decodes and is at most 3 hours
    long; else a `ValidationError` naming it (before anything is written or played)."""
    for spec in routine.bed_files():
        probe_file(Path(spec.path or ""), spec.where or "bed")


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
    the start and out at the end."""

    def __init__(
        self, plan: BedPlan, events: Sequence[Event], total_frames: int, sample_rate: int
    ) -> None:
        self.plan, self.total, self.rate = plan, total_frames, sample_rate
        self._player = BedPlayer(sample_rate, plan.levels.level_lu)
        self._ducking = Ducking(events, sample_rate, plan.levels.duck_db)
        self._bounds = [start * sample_rate // 1000 for start, _ in plan.segments]

    def frames(self, start: int, n: int) -> FloatArray:
        parts = []
        a, end = start, start + n
        while a < end:
            i = bisect.bisect_right(self._bounds, a) - 1
            b = min(end, self._bounds[i + 1]) if i + 1 < len(self._bounds) else end
            parts.append(self._player.next(b - a, self.plan.segments[max(i, 0)][1]))
            a = b
        x = np.concatenate(parts) if parts else np.zeros(0)
        fades = edge_fades(start, n, self.total, self.rate)
        return x * self._ducking.gain(start, n) * fades

    def close(self) -> None:
        self._player.close()
