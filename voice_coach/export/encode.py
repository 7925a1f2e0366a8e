"""Encode a rendered timeline into one audio file: streamed to ffmpeg, tagged, atomic.

The PCM is produced chunk by chunk and piped to one ffmpeg process, so memory does
not grow with the routine's length. ffmpeg writes a partial file beside the target
(`atomic.partial_beside`), with the chapters; tags and the cover are added to it
(`tags`); only then is it renamed onto the target, so an interrupted export never
leaves a file there, and one killed outright leaves a partial the next export removes.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .. import proc
from ..atomic import partial_beside, sweep_partials
from ..audio.clip import Clip
from ..audio.loudness import apply_gain, measure_placed, program_gain_db
from ..audio.mix import event_clips, render, total_frames
from ..errors import ExportError
from ..timeline import Chapter, Timeline
from .tags import TAGGERS, Tags, ffmetadata

Progress = Callable[[int, int], None]
Cover = Callable[[], bytes | None]
"""Makes the cover picture (a PNG), or None for none."""


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


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        # No ID3 tag from ffmpeg: `tags.write_id3` writes the whole tag, once.
        Format("mp3", "mp3", "libmp3lame", 64, ("-write_id3v2", "0")),
        Format("ogg", "ogg", "libvorbis", 64),
        Format("m4a", "ipod", "aac", 64),
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
) -> Path:
    """Encode `timeline` into `target`; return it. Nothing is left at `target` on failure,
    and what earlier exports killed mid-way left beside it is removed. `cover` makes the
    cover picture while the audio encodes."""
    sweep_partials(target.parent)

    def gained() -> Iterator[bytes]:
        # Measured when the first chunk is asked for: ffmpeg is starting meanwhile.
        gain_db = program_gain(timeline, clips, sample_rate, None)
        for chunk in render(timeline, clips, sample_rate):
            yield apply_gain(chunk, gain_db)

    try:
        encode_pcm(
            gained(),
            sample_rate,
            target,
            FORMATS[fmt],
            bitrate_kbps,
            tags or Tags(title=timeline.title),
            timeline.chapters,
            counting(progress, 0, total_frames(timeline, sample_rate)),
            cover,
        )
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def render_range(
    timeline: Timeline, clips: Mapping[str, Clip], sample_rate: int, start: int, end: int
) -> Iterator[bytes]:
    """PCM of frames [start, end), from the one-pass renderer."""
    return render(timeline, clips, sample_rate, start_frame=start, end_frame=end)


def program_gain(
    timeline: Timeline, clips: Mapping[str, Clip], sample_rate: int, progress: Progress | None
) -> float:
    """The gain (dB) that puts the routine at TARGET_LUFS with its true peak at most
    TRUE_PEAK_CEILING_DBTP (less gain if the peak needs it), measured from its clips
    where they are placed (`measure_placed`), without rendering it first."""
    frames = total_frames(timeline, sample_rate)
    measured = measure_placed(
        event_clips(timeline, clips, sample_rate),
        frames,
        sample_rate,
        lambda: render(timeline, clips, sample_rate),
    )
    if progress:
        progress(frames, 0)
    return program_gain_db(measured)


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
) -> None:
    """Stream PCM chunks through ffmpeg into `target`, then tag it; atomic. `cover`
    runs in a thread while ffmpeg encodes (which is what takes the time), and its
    picture goes into the tags."""
    kbps = bitrate_kbps or spec.default_kbps
    with ExitStack() as partials, ThreadPoolExecutor(1, "voice-coach-cover") as pool:
        drawn = pool.submit(cover) if cover is not None else None
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

        done = 0
        with proc.feeding(args) as stdin:
            # WAV rather than raw s16le: ffmpeg reads it in 4 KiB packets rather than
            # 40 ms ones, which with a second input's queue is 13% faster.
            stdin.write(_wav_stream_header(sample_rate))
            for chunk in chunks:
                stdin.write(chunk)
                done += len(chunk) // 2
                if progress:
                    progress(done, 0)
        if drawn is not None:
            tags = dataclasses.replace(tags, cover_png=drawn.result())
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
