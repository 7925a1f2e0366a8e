"""Write a rendered timeline to an audio file: streamed to ffmpeg, tagged, atomic.

The PCM is produced chunk by chunk and piped to one ffmpeg process, so memory does
not grow with the routine's length. The encoder writes a temporary file next to
the target; tags and chapters are added to it; only then is it renamed onto the
target, so an interrupted export never leaves a file there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import proc
from .audio import Clip, render, total_frames
from .cache import new_temp_beside
from .errors import ExportError
from .timeline import Chapter, Timeline

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


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str = "voice_coach"
    album: str = "voice_coach routines"
    track: int = 1
    genre: str = "Fitness"
    comment: str = ""


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
    spec = FORMATS[fmt]
    kbps = bitrate_kbps or spec.default_kbps
    tags = tags or Tags(title=timeline.title)
    tmp = new_temp_beside(target)
    meta: Path | None = None
    try:
        args = [
            "ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "s16le",
            "-ar",
            str(sample_rate),
            "-ac",
            "1",
            "-i",
            "pipe:0",
        ]
        if spec.name != "mp3":
            meta = tmp.with_suffix(".ffmeta")
            meta.write_text(ffmetadata(tags, timeline.chapters), encoding="utf-8")
            args += [
                "-f",
                "ffmetadata",
                "-i",
                str(meta),
                "-map",
                "0:a",
                "-map_metadata",
                "1",
                "-map_chapters",
                "1",
            ]
        args += ["-c:a", spec.codec]
        if kbps is not None:
            args += ["-b:a", f"{kbps}k"]
        args += ["-f", spec.muxer, str(tmp)]

        frames = total_frames(timeline, sample_rate)
        done = 0
        with proc.feeding(args) as stdin:
            for chunk in render(timeline, clips, sample_rate):
                stdin.write(chunk)
                done += len(chunk) // 2
                if progress:
                    progress(done, frames)
        if spec.name == "mp3":
            write_id3(tmp, tags, timeline.chapters)
        os.replace(tmp, target)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
        if meta is not None:
            meta.unlink(missing_ok=True)
    return target


def _escape(value: str) -> str:
    for ch in "\\=;#\n":
        value = value.replace(ch, "\\" + ch)
    return value


def ffmetadata(tags: Tags, chapters: Sequence[Chapter]) -> str:
    """ffmpeg's metadata file: tags, and chapters in milliseconds (TIMEBASE=1/1000)."""
    lines = [";FFMETADATA1"]
    for key, value in (
        ("title", tags.title),
        ("artist", tags.artist),
        ("album", tags.album),
        ("track", str(tags.track)),
        ("genre", tags.genre),
        ("comment", tags.comment),
    ):
        if value:
            lines.append(f"{key}={_escape(value)}")
    for ch in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={ch.start_ms}",
            f"END={ch.end_ms}",
            f"title={_escape(ch.title)}",
        ]
    return "\n".join(lines) + "\n"


def write_id3(path: Path, tags: Tags, chapters: Sequence[Chapter]) -> None:
    """ID3v2.3 tags plus one CHAP frame per chapter and a CTOC listing them in time order."""
    from mutagen.id3 import (
        CHAP,
        COMM,
        CTOC,
        ID3,
        TALB,
        TCON,
        TIT2,
        TPE1,
        TRCK,
        CTOCFlags,
        ID3NoHeaderError,
    )

    try:
        id3 = ID3(path)
        id3.delete(path)
    except ID3NoHeaderError:
        pass
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TRCK(encoding=3, text=str(tags.track)))
    id3.add(TCON(encoding=3, text=tags.genre))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    ids = [f"chp{i}" for i in range(len(chapters))]
    # mutagen writes frames ordered by size, not by time: players that list chapters
    # follow the CTOC's child list, so that list carries the time order.
    id3.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=tags.title)],
        )
    )
    for element_id, ch in zip(ids, chapters, strict=True):
        id3.add(
            CHAP(
                element_id=element_id,
                start_time=ch.start_ms,
                end_time=ch.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=ch.title)],
            )
        )
    id3.save(path, v2_version=3)


def read_chapters(path: Path) -> list[Chapter]:
    """Chapters of an exported MP3, in CTOC order (for tests and `info`)."""
    from mutagen.id3 import ID3

    id3 = ID3(path)
    tocs = id3.getall("CTOC")
    chaps = {f.element_id: f for f in id3.getall("CHAP")}
    order = (
        list(tocs[0].child_element_ids)
        if tocs
        else sorted(chaps, key=lambda k: chaps[k].start_time)
    )
    out = []
    for element_id in order:
        f = chaps[element_id]
        title = str(f.sub_frames["TIT2"]) if "TIT2" in f.sub_frames else element_id
        out.append(Chapter(title, f.start_time, f.end_time))
    return out


def default_export_path(slug: str, fmt: str, directory: Path = Path("exports")) -> Path:
    return directory / f"{slug}.{fmt}"
