"""Encode a rendered timeline into one audio file: streamed to ffmpeg, tagged, atomic.

The PCM is produced chunk by chunk and piped to one ffmpeg process, so memory does
not grow with the routine's length. ffmpeg writes a partial file beside the target
(`atomic.partial_beside`), with the chapters; tags and the cover are added to it
(`tags`); only then is it renamed onto the target, so an interrupted export never
leaves a file there, and one killed outright leaves a partial the next export removes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .. import proc
from ..atomic import partial_beside, sweep_partials
from ..audio.bed import BedPlan
from ..audio.clip import Clip
from ..audio.loudness import (
    TARGET_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    TRUE_PEAK_MARGIN_DB,
    Measurement,
    apply_gain,
    gain_for,
    limit_clip,
    loudness_of_sub_blocks,
    measure_pcm,
    measure_placed,
    placed_energies,
    program_gain_db,
)
from ..audio.mix import event_clips, render, total_frames
from ..audio.mixlevel import measure_mix, mix_true_peak
from ..errors import ExportError
from ..timeline import Chapter, Timeline
from .peakcheck import DecodedPeak, OverCeiling
from .tags import TAGGERS, Tags, ffmetadata

Progress = Callable[[int, int], None]
Cover = Callable[[], bytes | None]
"""Makes the cover picture (a PNG), or None for none."""


def lame_input_gain_db(kbps: int, sample_rate: int) -> float:
    """The gain libmp3lame applies to its input at a constant (or average) bitrate.

    LAME's presets for those modes scale the input down against clipping at low
    bitrates: by 0.95 (-0.45 dB) up to 160 kbit/s, 0.97 at 192, 0.98 at 224, not at
    all from 256. ffmpeg has no option to turn that off, so the export's gain makes up
    for it: the export's own true-peak ceiling is what keeps it from clipping. Below
    32 kHz (MPEG-2) LAME caps the bitrate at 160 kbit/s. The test derives these again
    from ffmpeg (`tests/integration/test_loudness_real.py`).
    """
    if sample_rate < 32000:
        kbps = min(kbps, 160)
    scale = 0.95 if kbps <= 160 else {192: 0.97, 224: 0.98}.get(kbps, 1.0)
    return 20 * math.log10(scale)


@dataclass(frozen=True)
class Format:
    name: str
    muxer: str
    """ffmpeg's -f name."""
    codec: str
    default_kbps: int | None
    """None for uncompressed formats, where a bitrate does not apply."""
    muxer_options: tuple[str, ...] = ()
    """ffmpeg options for this muxer."""
    encoder_gain_db: Callable[[int, int], float] | None = None
    """The gain (dB) the encoder applies to its input by itself, at (kbit/s, sample
    rate); None if it applies none."""
    peak_rise_db: tuple[tuple[int, float], ...] = ()
    """How far encoding may raise the true peak of our speech over the PCM's (dB), by
    bitrate: (up to kbit/s, dB) in rising order. Empty for uncompressed formats."""
    max_kbps: int | None = None
    """The most its encoder takes for mono speech (22.05 kHz); None: any listed."""
    decodes_while_written: bool = False
    """Whether its file can be decoded as ffmpeg writes it (`DecodedPeak`): not M4A,
    whose index comes last."""

    @property
    def lossy(self) -> bool:
        """Whether encoding changes the samples (and may raise their true peak)."""
        return self.default_kbps is not None

    def kbps(self, bitrate_kbps: int | None) -> int | None:
        """The bitrate an export asking for `bitrate_kbps` (None: the default) gets."""
        return bitrate_kbps or self.default_kbps

    def input_gain_db(self, bitrate_kbps: int | None, sample_rate: int) -> float:
        """What the encoder itself does to the level of the PCM it is given."""
        kbps = self.kbps(bitrate_kbps)
        if self.encoder_gain_db is None or kbps is None:
            return 0.0
        return self.encoder_gain_db(kbps, sample_rate)

    def true_peak_rise_db(self, bitrate_kbps: int | None) -> float:
        """How far encoding may raise the true peak at this bitrate (None: the default)."""
        kbps = self.kbps(bitrate_kbps)
        if kbps is None:
            return 0.0
        return next((db for up_to, db in self.peak_rise_db if kbps <= up_to), 0.0)

    def true_peak_ceiling_dbtp(self, bitrate_kbps: int | None) -> float:
        """The ceiling for the PCM's true peak, so that the decoded file's stays under
        TRUE_PEAK_CEILING_DBTP."""
        return TRUE_PEAK_CEILING_DBTP - self.true_peak_rise_db(bitrate_kbps)


# How far encoding may raise the true peak (`peak_rise_db`). It varies with the
# synthesis (piper's differs from run to run): over 30 fresh syntheses of the sciatica
# routine with piper, up to 48 / 56-80 / from 96 kbit/s, the most seen was MP3 2.40 /
# 1.00 / 0.16 dB, Ogg 3.12 / 1.64 / - (libvorbis takes at most 80 kbit/s mono at 22.05
# kHz), M4A 2.23 / 1.12 / 0.42 dB (and over 0.55 once in a test run). The integration
# test measures it again. A routine's peaks sit about 1.1 dB under the ceiling at the
# target: more room than that makes `level` limit them, which costs a warm export of
# the sciatica routine about 2.5 s; MP3 at 64 kbit/s, the default, keeps 1.0 dB and
# limits nothing. Limited speech rises further at 32 kbit/s than these figures: the
# sciatica routine exported at 32 kbit/s read -0.72 dBTP in MP3, -0.62 in Ogg. The room
# is a first guess: a file whose decoded peak is over anyway is encoded again
# (`within_ceiling`), and the room spares most exports that.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        # No ID3 tag from ffmpeg: `tags.write_id3` writes the whole tag, once.
        Format(
            "mp3",
            "mp3",
            "libmp3lame",
            64,
            ("-write_id3v2", "0"),
            encoder_gain_db=lame_input_gain_db,
            peak_rise_db=((48, 3.0), (80, 1.0), (320, 0.5)),
            decodes_while_written=True,
        ),
        Format(
            "ogg",
            "ogg",
            "libvorbis",
            64,
            peak_rise_db=((48, 3.5), (80, 2.0), (320, 0.5)),
            max_kbps=80,  # libvorbis refuses more for mono at 22.05 kHz
            decodes_while_written=True,
        ),
        Format("m4a", "ipod", "aac", 64, peak_rise_db=((48, 3.0), (80, 1.3), (320, 0.8))),
        Format("wav", "wav", "pcm_s16le", None),
    )
}
BITRATES_KBPS = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
"""Mono speech is clear from 48 kbps; 64 is the default."""


def export_audio(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    target: Path,
    fmt: str = "mp3",
    bitrate_kbps: int | None = None,
    tags: Tags | None = None,
    progress: Progress | None = None,
    cover: Cover | None = None,
    bed: BedPlan | None = None,
    check_peak: bool = True,
) -> Path:
    """Encode `timeline`, with `bed` under it, into `target`; return it. Nothing is left
    at `target` on failure, and what earlier exports killed mid-way left beside it is
    removed. `cover` makes the cover picture while the audio encodes. A lossy file is
    decoded as it is written and, if its true peak is over the ceiling, encoded again
    with more room (`within_ceiling`); `check_peak=False` skips that (benchmarks)."""
    sweep_partials(target.parent)

    spec = FORMATS[fmt]

    def gained(room: Room) -> Iterator[bytes]:
        # Measured when the first chunk is asked for: ffmpeg is starting meanwhile.
        leveled = level(timeline, clips, sample_rate, spec, bitrate_kbps, None, bed, room)
        for chunk in render(timeline, leveled.clips, sample_rate, bed=leveled.bed):
            yield apply_gain(chunk, leveled.gain_db)

    def encode(room: Room, ceiling_dbtp: float | None) -> None:
        encode_pcm(
            gained(room),
            sample_rate,
            target,
            spec,
            bitrate_kbps,
            tags or Tags(title=timeline.title),
            timeline.chapters,
            counting(progress, 0, total_frames(timeline, sample_rate)),
            cover,
            ceiling_dbtp,
        )

    try:
        within_ceiling(encode, spec.lossy and check_peak)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


ENCODINGS = 4
"""How often an export is encoded at most: again while its decoded true peak is over
the ceiling (`within_ceiling`)."""
DECODED_CEILING_DBTP = TRUE_PEAK_CEILING_DBTP - TRUE_PEAK_MARGIN_DB
"""The most a decoded file may read: under the ceiling by the margin its PCM keeps,
for other meters (ffmpeg's reads at 48 kHz)."""
RETRY_MARGIN_DB = 0.25
"""Kept under the ceiling besides the excess when encoding again (`within_ceiling`)."""


def within_ceiling(encode: Callable[[Room, float | None], None], check: bool) -> int:
    """Run `encode(room, ceiling_dbtp)` until the file it writes is within the ceiling;
    return how many times it ran. With `ceiling_dbtp` given, `encode` decodes its file
    and raises `OverCeiling` rather than put it in place if its true peak is over.

    The second run limits the peaks further by the excess and RETRY_MARGIN_DB, which
    keeps the loudness; from the third the file is turned down by what is still over
    (and the margin). Neither lowers the decoded peak in proportion: what the encoder
    adds changes with what it is given (M4A at 64 kbit/s, limited 0.54 dB further,
    decoded 0.23 dB higher, and 0.68 dB lower when limited 0.74 dB further; at 32
    kbit/s limiting hardly moves it). The last of ENCODINGS runs is not checked, and
    without `check` (a lossless format) neither is the first."""
    room = Room()
    for run in range(1, ENCODINGS + 1):
        try:
            encode(room, DECODED_CEILING_DBTP if check and run < ENCODINGS else None)
        except OverCeiling as over:
            more = over.excess_db + RETRY_MARGIN_DB
            if run == 1:
                room = dataclasses.replace(room, limit_db=room.limit_db + more)
            else:
                room = dataclasses.replace(room, lower_db=room.lower_db + more)
            continue
        return run
    raise AssertionError("the last encoding is not checked")  # pragma: no cover


def measure_program(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    bed: BedPlan | None = None,
) -> Measurement:
    """The routine's loudness and true peak: measured from its clips where they are
    placed (`measure_placed`), without rendering it first; with a bed, from the mix
    (a bed sounds everywhere, so there is no short cut)."""
    if bed is not None and not bed.silent:
        return measure_pcm(render(timeline, clips, sample_rate, bed=bed), sample_rate)
    return measure_placed(
        event_clips(timeline, clips, sample_rate),
        total_frames(timeline, sample_rate),
        sample_rate,
        lambda: render(timeline, clips, sample_rate),
    )


PEAK_LIMIT_FROM_LU = 0.2
"""A routine whose true peak would hold it more than this under TARGET_LUFS has its
clips' peaks limited rather than being turned down as a whole. That happens to short
routines and ones of short lines (they read lower against their clips), at low
bitrates and in Ogg and M4A (their encoders need more room). A smaller shortfall is
left: limiting costs another measurement of the routine."""
LIMITING_TAKES = 0.5
"""Limiting the peaks of our normalized speech by 1 dB takes about this many LU off
its loudness (0.45-0.6 measured: its clips are limited already), which the first
ceiling tried allows for. Too much only limits a little deeper than needed (the gain
then reaches the target); too little is corrected by a second try."""
LIMITED_WITHIN_LU = 0.1
LIMIT_PASSES = 2
"""If the limited routine's peaks still hold it back by more than LIMITED_WITHIN_LU,
the clips are limited again from the originals, to a ceiling found by the secant
through the two measurements."""
LIMITED_ROOM_DB = 0.1
"""Limited clips are held this far under what the gain leaves them: the margin
`program_gain_db` keeps, and `limit_clip`'s hair."""


@dataclass(frozen=True)
class Room:
    """What an encoding keeps under the ceiling besides `Format.peak_rise_db`, after an
    earlier one decoded over it (`within_ceiling`)."""

    limit_db: float = 0.0
    """Kept by `level`: the clips' peaks limited further, the loudness kept."""
    lower_db: float = 0.0
    """The whole file turned down: the loudness goes down with it."""


@dataclass(frozen=True)
class Leveled:
    """What is encoded: the routine's clips, its bed, and the gain for the PCM."""

    clips: Mapping[str, Clip]
    """The routine's clips, their peaks limited if the routine needed it."""
    gain_db: float
    """For the PCM given to the encoder: the decoded file is at TARGET_LUFS, its true
    peak under TRUE_PEAK_CEILING_DBTP (lower by `Room.lower_db` if the encoder left no
    other way)."""
    bed: BedPlan | None = None
    """The bed to render under them: lowered by what limiting took off the speech, so
    it stays at its level under the speech as heard."""
    short_lu: float = 0.0
    """How far the true-peak ceiling holds the file under TARGET_LUFS."""


def level(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    spec: Format,
    bitrate_kbps: int | None,
    progress: Progress | None,
    bed: BedPlan | None = None,
    room: Room = Room(),
) -> Leveled:
    """The gain that puts the encoded file at TARGET_LUFS with room under the true-peak
    ceiling for what encoding adds to the peaks, less what the encoder does to the
    level itself; with the clips' peaks limited if the ceiling would otherwise hold the
    routine more than PEAK_LIMIT_FROM_LU under. Measured with `bed` under the speech:
    the targets hold for the mix. `room` is kept besides: what an earlier encoding's
    decoded peak showed it needs."""
    ceiling_dbtp = spec.true_peak_ceiling_dbtp(bitrate_kbps) - room.limit_db
    # With a bed, the mix is measured once, in parts (`measure_mix`); the speech
    # limited and the bed turned down with it are worked out from those parts.
    mix = measure_mix(timeline, clips, sample_rate, bed) if bed and not bed.silent else None

    def leveled(limited: Mapping[str, Clip]) -> Leveled:
        under = bed
        if mix is None:
            measured = measure_program(timeline, limited, sample_rate)
        elif limited is clips:
            measured = mix.measurement()
        else:
            # Limiting took loudness off the speech: the bed goes down with it.
            assert bed is not None
            placed = event_clips(timeline, limited, sample_rate)
            speech = placed_energies(placed, total_frames(timeline, sample_rate), sample_rate)
            shift_lu = loudness_of_sub_blocks(speech, mix.sub_block) - mix.speech_lufs
            under = bed.shifted(shift_lu)
            bed_gain = 10 ** (shift_lu / 20)
            peak = mix_true_peak(timeline, limited, sample_rate, under, bed_gain * mix.bed_peak)
            measured = mix.with_speech(speech, bed_gain, peak)
        gain_db = program_gain_db(measured, ceiling_dbtp=ceiling_dbtp)
        short_lu = gain_for(measured.integrated_lufs, TARGET_LUFS) - gain_db
        return Leveled(limited, gain_db, under, short_lu)

    def limited_to(clip_ceiling_dbtp: float) -> Leveled:
        return leveled({text: limit_clip(c, clip_ceiling_dbtp) for text, c in clips.items()})

    best = leveled(clips)
    if best.short_lu > PEAK_LIMIT_FROM_LU:
        # Peaks at `peak_dbtp` leave `short_lu`: limiting them by d lets the gain up
        # by d but takes about LIMITING_TAKES * d of loudness off.
        peak_dbtp = ceiling_dbtp - TRUE_PEAK_MARGIN_DB - best.gain_db
        previous = (peak_dbtp, best.short_lu)
        clip_ceiling_dbtp = peak_dbtp - best.short_lu / (1 - LIMITING_TAKES) - LIMITED_ROOM_DB
        for _ in range(LIMIT_PASSES):
            tried = limited_to(clip_ceiling_dbtp)
            best = min(best, tried, key=lambda t: t.short_lu)
            if tried.short_lu <= LIMITED_WITHIN_LU:
                break
            (c0, s0), (c1, s1) = previous, (clip_ceiling_dbtp, tried.short_lu)
            previous = (c1, s1)
            clip_ceiling_dbtp = c1 - s1 * (c1 - c0) / (s1 - s0) if s1 != s0 else c1 - s1
    if progress:
        progress(total_frames(timeline, sample_rate), 0)
    gain_db = best.gain_db - spec.input_gain_db(bitrate_kbps, sample_rate) - room.lower_db
    return dataclasses.replace(best, gain_db=gain_db)


def counting(progress: Progress | None, offset: int, total: int) -> Progress | None:
    if progress is None:
        return None
    return lambda done, _: progress(offset + done, total)


def encode_pcm(
    chunks: Iterable[bytes],
    sample_rate: int,
    target: Path,
    spec: Format,
    bitrate_kbps: int | None,
    tags: Tags,
    chapters: Sequence[Chapter],
    progress: Progress | None,
    cover: Cover | None = None,
    ceiling_dbtp: float | None = None,
) -> None:
    """Stream PCM chunks through ffmpeg into `target`, then tag it; atomic. `cover`
    runs in a thread while ffmpeg encodes (which is what takes the time), and its
    picture goes into the tags. With `ceiling_dbtp`, the file is decoded (`DecodedPeak`)
    and `OverCeiling` raised, with nothing put in place, if its true peak is over."""
    kbps = spec.kbps(bitrate_kbps)
    with ExitStack() as partials, ThreadPoolExecutor(1, "voice-coach-cover") as pool:
        drawn = None
        tmp = partials.enter_context(partial_beside(target))
        args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "wav"]
        # M4A chapters can only be written by the muxer, and WAV's tags only by ffmpeg:
        # they come from a second input, an ffmetadata file. MP3 and OGG are tagged
        # afterwards (`tags`): a second input costs ffmpeg 10% more time (its inputs
        # are read in threads that hand over every packet).
        with_meta = spec.name in ("m4a", "wav")
        if with_meta:
            # With a second input ffmpeg reads each in a thread through a queue of
            # packets; the default (8) makes it idle-wait on a pipe, 5-10x slower.
            args += ["-thread_queue_size", "1024"]
        args += ["-i", "pipe:0"]
        if with_meta:
            meta = partials.enter_context(partial_beside(target))
            meta.write_text(ffmetadata(tags, chapters), encoding="utf-8")
            args += ["-f", "ffmetadata", "-i", str(meta)]
            args += ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        args += ["-c:a", spec.codec]
        if kbps is not None:
            args += ["-b:a", f"{kbps}k"]
        args += [*spec.muxer_options, "-f", spec.muxer, str(tmp)]

        decoded = None
        if ceiling_dbtp is not None:
            decoded = partials.enter_context(DecodedPeak(tmp, spec.decodes_while_written))
        done = 0
        with proc.feeding(args) as stdin:
            # WAV rather than raw s16le: ffmpeg reads it in 4 KiB packets rather than
            # 40 ms ones, which with a second input's queue is 13% faster.
            stdin.write(_wav_stream_header(sample_rate))
            for chunk in chunks:
                stdin.write(chunk)
                if drawn is None and cover is not None:
                    # Once the audio flows: the first chunk waits for the level's
                    # measurement, which the drawing would only slow down.
                    drawn = pool.submit(cover)
                done += len(chunk) // 2
                if progress:
                    progress(done, 0)
        if decoded is not None and ceiling_dbtp is not None:
            peak_dbtp = decoded.written()
            if peak_dbtp > ceiling_dbtp:
                raise OverCeiling(peak_dbtp, ceiling_dbtp)
        if cover is not None:
            tags = dataclasses.replace(tags, cover_png=(drawn or pool.submit(cover)).result())
        TAGGERS[spec.name](tmp, tags, chapters)
        os.replace(tmp, target)


def _wav_stream_header(sample_rate: int) -> bytes:
    """The header of a mono 16-bit WAV stream of unknown length: both sizes are
    0xFFFFFFFF, which readers take as "until the end of the input"."""
    unknown = struct.pack("<I", 0xFFFFFFFF)
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, 2 * sample_rate, 2, 16)  # PCM, mono
    return b"RIFF" + unknown + b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + unknown


def default_export_path(slug: str, fmt: str, directory: Path = Path("exports")) -> Path:
    return directory / f"{slug}.{fmt}"
