"""Encode a rendered timeline into one audio file: streamed to ffmpeg, tagged, atomic.

The PCM is produced chunk by chunk and piped to one ffmpeg process, so memory does
not grow with the routine's length. The encoder writes a temporary file next to
the target; tags, chapters and the cover are added to it (`tags`); only then is it
renamed onto the target, so an interrupted export never leaves a file there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import proc
from ..atomic import new_temp_beside
from ..audio.clip import Clip
from ..audio.loudness import LoudnessMeter, apply_gain, program_gain_db
from ..audio.mix import render, total_frames
from ..errors import ExportError
from ..timeline import Chapter, Timeline
from .tags import TAGGERS, Tags, ffmetadata

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Format:
    name: str
    muxer: str
    """ffmpeg's -f name."""
    codec: str
    default_kbps: int | None
    """None for uncompressed formats, where a bitrate does not apply."""


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("mp3", "mp3", "libmp3lame", 64),
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
) -> Path:
    """Encode `timeline` into `target`; return it. Nothing is left at `target` on failure."""
    frames = total_frames(timeline, sample_rate)
    gain_db = program_gain(timeline, clips, sample_rate, counting(progress, 0, 2 * frames))
    try:
        encode_pcm(
            (apply_gain(chunk, gain_db) for chunk in render(timeline, clips, sample_rate)),
            sample_rate,
            target,
            FORMATS[fmt],
            bitrate_kbps,
            tags or Tags(title=timeline.title),
            timeline.chapters,
            counting(progress, frames, 2 * frames),
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
    """A first pass over the rendered routine: the gain (dB) that puts it at TARGET_LUFS
    with its true peak at most TRUE_PEAK_CEILING_DBTP (less gain if the peak needs it)."""
    meter = LoudnessMeter(sample_rate)
    for chunk in render(timeline, clips, sample_rate):
        meter.add_pcm(chunk)
        if progress:
            progress(meter.frames, 0)
    return program_gain_db(meter.measurement())


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
) -> None:
    """Stream PCM chunks through ffmpeg into `target`, then tag it; atomic."""
    kbps = bitrate_kbps or spec.default_kbps
    tmp = new_temp_beside(target)
    meta: Path | None = None
    try:
        args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        args += ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1"]
        with_meta = spec.name in ("m4a", "wav")
        if with_meta:
            # With a second input ffmpeg reads each in a thread through a queue of
            # packets; the default (8) makes it idle-wait on a pipe, 5-10x slower.
            args += ["-thread_queue_size", "1024"]
        args += ["-i", "pipe:0"]
        if with_meta:
            # MP4 chapters can only be written by the muxer; MP3 and OGG are
            # tagged afterwards with mutagen, which writes what ffmpeg cannot.
            meta = tmp.with_suffix(".ffmeta")
            meta.write_text(ffmetadata(tags, chapters), encoding="utf-8")
            args += ["-f", "ffmetadata", "-i", str(meta)]
            args += ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        args += ["-c:a", spec.codec]
        if kbps is not None:
            args += ["-b:a", f"{kbps}k"]
        args += ["-f", spec.muxer, str(tmp)]

        done = 0
        with proc.feeding(args) as stdin:
            for chunk in chunks:
                stdin.write(chunk)
                done += len(chunk) // 2
                if progress:
                    progress(done, 0)
        TAGGERS[spec.name](tmp, tags, chapters)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        if meta is not None:
            meta.unlink(missing_ok=True)


def default_export_path(slug: str, fmt: str, directory: Path = Path("exports")) -> Path:
    return directory / f"{slug}.{fmt}"
