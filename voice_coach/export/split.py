"""A split export: one track per chapter and an M3U8 playlist, for players without
chapters.

The tracks and the playlist are written into a partial folder next to the target
folder (`atomic.partial_beside`), which is renamed into place at the end: an
interrupted export leaves nothing, and one killed outright leaves a partial folder
that the next export removes.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..atomic import partial_beside, sweep_partials, write_atomically
from ..audio.bed import BedPlan
from ..audio.clip import Clip, ms_to_frames
from ..audio.loudness import apply_gain
from ..audio.mix import render, total_frames
from ..errors import ExportError
from ..timeline import Timeline
from .encode import (
    FORMATS,
    Cover,
    Progress,
    Room,
    counting,
    encode_pcm,
    level,
    within_ceiling,
)
from .tags import Tags

PLAYLIST_SUFFIX = ".m3u8"
TITLE_SEPARATOR = " \N{EN DASH} "
"""Between the routine and the step in playlist titles (an en dash, as in print)."""


@dataclass(frozen=True)
class SplitExport:
    folder: Path
    tracks: tuple[Path, ...]
    """In playing order."""
    playlist: Path


def export_split(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    folder: Path,
    fmt: str = "mp3",
    bitrate_kbps: int | None = None,
    tags: Tags | None = None,
    progress: Progress | None = None,
    cover: Cover | None = None,
    bed: BedPlan | None = None,
    check_peak: bool = True,
) -> SplitExport:
    """One track per chapter and a playlist, in `folder` (replaced if it holds an earlier
    split export). Track k holds exactly the frames of chapter k, so the tracks played
    in order are the whole routine. Nothing is left behind on failure, and what earlier
    exports killed mid-way left beside `folder` is removed. `cover` makes the picture
    every track carries, while the first one encodes. The routine is rendered once, with
    `bed` under it, and cut into the tracks as it goes. Lossy tracks are decoded as they
    are written and, if one's true peak is over the ceiling, all are encoded again with
    more room (`within_ceiling`); `check_peak=False` skips that."""
    cover = functools.cache(cover) if cover is not None else None
    spec = FORMATS[fmt]
    base = tags or Tags(title=timeline.title, album=timeline.title)
    chapters = timeline.chapters
    bounds = [
        (ms_to_frames(c.start_ms, sample_rate), ms_to_frames(c.end_ms, sample_rate))
        for c in chapters
    ]
    total = total_frames(timeline, sample_rate)
    width = max(2, len(str(len(chapters))))
    names = [
        f"{n:0{width}d} {safe_file_name(c.title)}.{spec.name}"
        for n, c in enumerate(chapters, start=1)
    ]
    playlist_name = safe_file_name(folder.name) + PLAYLIST_SUFFIX
    if folder.exists() and not _is_split_folder(folder):
        raise ExportError(
            f"cannot write {folder}: it exists and holds files that are not an earlier "
            "split export; choose another folder with -o"
        )
    sweep_partials(folder.parent)

    def encode(room: Room, ceiling_dbtp: float | None) -> None:
        # One gain for the whole routine, so its tracks keep their levels relative to
        # each other; a track over the ceiling has them all encoded again.
        leveled = level(
            timeline,
            clips,
            sample_rate,
            spec,
            bitrate_kbps,
            counting(progress, 0, 2 * total),
            bed,
            room,
        )
        pcm = render(
            timeline, leveled.clips, sample_rate, bed=leveled.bed, breaks=[a for a, _ in bounds]
        )
        try:
            with partial_beside(folder, folder=True) as tmp:
                for n, (chapter, (a, b), name) in enumerate(
                    zip(chapters, bounds, names, strict=True), start=1
                ):
                    track_tags = dataclasses.replace(
                        base, title=chapter.title, track=n, track_total=len(chapters)
                    )
                    encode_pcm(
                        (apply_gain(c, leveled.gain_db) for c in _take_frames(pcm, b - a)),
                        sample_rate,
                        tmp / name,
                        spec,
                        bitrate_kbps,
                        track_tags,
                        (),
                        counting(progress, total + a, 2 * total),
                        cover,
                        ceiling_dbtp,
                    )
                entries = [
                    (c.end_ms - c.start_ms, f"{timeline.title}{TITLE_SEPARATOR}{c.title}", name)
                    for c, name in zip(chapters, names, strict=True)
                ]
                write_atomically(tmp / playlist_name, m3u8(entries).encode("utf-8"))
                _swap_in(tmp, folder)
        finally:
            pcm.close()

    try:
        within_ceiling(encode, spec.lossy and check_peak)
    except OSError as exc:
        raise ExportError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return SplitExport(folder, tuple(folder / n for n in names), folder / playlist_name)


_SEPARATORS = re.compile(r"[/\\|]+")
_UNSAFE = re.compile(r'[<>:"?*\x00-\x1f\x7f]+')
MAX_NAME_CHARS = 80


def _take_frames(pcm: Iterator[bytes], frames: int) -> Iterator[bytes]:
    """The next chunks of `pcm` up to `frames` frames (chunks end on a track's edge)."""
    while frames > 0:
        chunk = next(pcm)
        frames -= len(chunk) // 2
        yield chunk


def safe_file_name(text: str) -> str:
    """`text` as a file name that phones, SD cards (FAT) and Windows accept."""
    name = _SEPARATORS.sub("-", unicodedata.normalize("NFC", text))
    name = _UNSAFE.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip(" .-")
    name = name[:MAX_NAME_CHARS].rstrip(" .")
    return name or "Track"


def m3u8(entries: Sequence[tuple[int, str, str]]) -> str:
    """An extended M3U playlist of (duration_ms, title, relative file name)."""
    lines = ["#EXTM3U"]
    for duration_ms, title, name in entries:
        title = " ".join(title.split())  # one line each, whatever the title holds
        lines += [f"#EXTINF:{round(duration_ms / 1000)},{title}", name]
    return "\n".join(lines) + "\n"


_SPLIT_SUFFIXES = {f".{name}" for name in FORMATS} | {PLAYLIST_SUFFIX}


def _is_split_folder(folder: Path) -> bool:
    """Whether replacing `folder` loses only an earlier split export (never a user's
    other files, if -o named, say, their music folder)."""
    if not folder.is_dir():
        return False
    return all(
        p.is_file() and (p.suffix.lower() in _SPLIT_SUFFIXES or p.name.startswith("."))
        for p in folder.iterdir()
    )


def _swap_in(tmp: Path, folder: Path) -> None:
    """Rename the finished `tmp` folder to `folder`, replacing an earlier one."""
    if not folder.exists():
        os.rename(tmp, folder)
        return
    # A folder cannot be renamed over a non-empty one: move the old one aside first
    # (into a partial, so that it is removed at the end, or swept if we are killed).
    with partial_beside(folder, folder=True) as old:
        os.rename(folder, old / folder.name)
        try:
            os.rename(tmp, folder)
        except BaseException:
            os.rename(old / folder.name, folder)
            raise


def default_split_folder(slug: str, directory: Path = Path("exports")) -> Path:
    return directory / slug
