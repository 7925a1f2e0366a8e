"""What is in the export folder: every exported file with its title, length, chapters
and cover (read from its tags), grouped by folder; and which file a URL names, never
one outside the folder."""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote

from ..timeline import Chapter
from .feed import AUDIO_TYPES, FeedItem

PLAYLIST_SUFFIXES = (".m3u8", ".m3u")


class Refused(Exception):
    """A request path that names no servable file; `status` is 403 or 404."""

    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


def locate(root: Path, url_path: str) -> Path:
    """The file under `root` that `url_path` (as sent, still %-encoded) names.

    Refuses (403) anything that could step outside: `..` or `.` segments, empty
    segments, backslashes, NUL, a `%` left after decoding once (double encoding),
    and symlinks that resolve outside `root`. Hidden files (unfinished exports are
    `.NAME.partial`), directories and missing files are 404: there are no listings.
    """
    if not url_path.startswith("/") or "\\" in url_path:
        raise Refused(HTTPStatus.FORBIDDEN)
    try:
        decoded = unquote(url_path, errors="strict")
    except UnicodeDecodeError:
        raise Refused(HTTPStatus.FORBIDDEN) from None
    if "%" in decoded or "\\" in decoded or "\0" in decoded:
        raise Refused(HTTPStatus.FORBIDDEN)
    folder = decoded.endswith("/")  # asks for a listing, which there is none of
    parts = decoded[1:].removesuffix("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise Refused(HTTPStatus.FORBIDDEN)
    if folder or any(part.startswith(".") for part in parts):
        raise Refused(HTTPStatus.NOT_FOUND)
    base = root.resolve()
    try:
        target = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        raise Refused(HTTPStatus.NOT_FOUND) from None
    if not target.is_relative_to(base):
        raise Refused(HTTPStatus.FORBIDDEN)
    if not target.is_file():
        raise Refused(HTTPStatus.NOT_FOUND)
    return target


@dataclass(frozen=True)
class Listed:
    """One exported audio file on the page."""

    item: FeedItem
    picture: str | None = None
    """Path of the timeline picture (NAME.png beside the audio), if there is one."""
    cover: bool = False
    """The file embeds a cover picture (served at /cover/PATH.png)."""


@dataclass(frozen=True)
class Group:
    """The exports of one folder: the top level, or e.g. a routine split into parts."""

    folder: str
    """'/'-separated path under the export directory; '' for the top level."""
    entries: tuple[Listed, ...]
    playlist: str | None = None
    """Path of the folder's .m3u8/.m3u playlist, if there is one."""


@dataclass(frozen=True)
class MediaInfo:
    title: str | None
    duration_ms: int | None
    chapters: tuple[Chapter, ...]
    cover: bool = False
    """The file embeds a cover that `read_cover` returns."""


@dataclass(frozen=True)
class Cover:
    """A picture embedded in an exported file."""

    data: bytes = field(repr=False)
    media_type: str
    """'image/png' or 'image/jpeg', from the bytes themselves, not from the tag."""


IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
"""The picture formats served as covers. Anything else a foreign file embeds is left
out: the tag's own MIME type is not trusted with a Content-Type."""


def vorbis_chapters(comments: Mapping[str, Sequence[str]], total_ms: int | None) -> list[Chapter]:
    """Chapters from Vorbis comments (CHAPTER001=HH:MM:SS.mmm, CHAPTER001NAME=title)."""
    keys = {k.upper(): v for k, v in comments.items() if v}
    starts: list[tuple[int, str]] = []
    for n in range(1, 1000):
        stamp = keys.get(f"CHAPTER{n:03d}")
        if stamp is None:
            break
        match = re.fullmatch(r"(\d+):(\d{2}):(\d{2})(?:\.(\d{1,3}))?", stamp[0].strip())
        if match is None:
            break
        h, m, s, frac = match.groups()
        ms = ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int((frac or "0").ljust(3, "0"))
        starts.append((ms, keys.get(f"CHAPTER{n:03d}NAME", [f"Chapter {n}"])[0]))
    return _chapters_from_starts(starts, total_ms)


def _chapters_from_starts(starts: list[tuple[int, str]], total_ms: int | None) -> list[Chapter]:
    if not starts:
        return []
    ends = [s for s, _ in starts[1:]] + [total_ms if total_ms is not None else starts[-1][0]]
    return [
        Chapter(title, start, max(start, end))
        for (start, title), end in zip(starts, ends, strict=True)
    ]


def read_media(path: Path) -> MediaInfo:
    """Title, length and chapters from an exported file's tags; whatever is unreadable
    (a damaged or foreign file) is simply left out."""
    return _read_media(path, *_stamp(path))


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=1024)
def _read_media(path: Path, mtime_ns: int, size: int) -> MediaInfo:
    # The stamp is part of the cache key: a file exported again is read again.
    import mutagen

    title: str | None = None
    duration_ms: int | None = None
    chapters: list[Chapter] = []
    try:
        audio: Any = mutagen.File(path, easy=True)
        if audio is not None:
            seconds = getattr(audio.info, "length", None)
            if seconds:
                duration_ms = round(seconds * 1000)
            names = (audio.tags or {}).get("title") or [""]
            title = str(names[0]).strip() or None
        suffix = path.suffix.lower()
        if suffix == ".mp3":
            from ..export.tags import read_chapters

            chapters = read_chapters(path)
        elif suffix == ".m4a":
            import mutagen.mp4

            mp4: Any = mutagen.mp4.MP4  # untyped: mutagen has no annotations here
            marks = mp4(path).chapters or []
            starts = [(round(c.start * 1000), str(c.title)) for c in marks]
            chapters = _chapters_from_starts(starts, duration_ms)
        elif suffix == ".ogg" and audio is not None and audio.tags is not None:
            chapters = vorbis_chapters(audio.tags.as_dict(), duration_ms)
    except (mutagen.MutagenError, OSError, ValueError, KeyError):
        pass
    cover = _read_cover(path, mtime_ns, size) is not None
    return MediaInfo(title, duration_ms, tuple(chapters), cover)


def read_cover(path: Path) -> Cover | None:
    """The cover embedded in an exported file (APIC in MP3, covr in M4A,
    METADATA_BLOCK_PICTURE in OGG), or None: none, unreadable, or neither PNG nor JPEG."""
    return _read_cover(path, *_stamp(path))


@functools.lru_cache(maxsize=32)
def _read_cover(path: Path, mtime_ns: int, size: int) -> Cover | None:
    # Keyed by the stamp as `_read_media` is; fewer entries, as a foreign file's
    # cover can be megabytes.
    import mutagen

    try:
        data = _embedded_picture(path)
    except (mutagen.MutagenError, OSError, ValueError, KeyError):
        return None
    if data is None:
        return None
    for signature, media_type in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return Cover(data, media_type)
    return None


def _embedded_picture(path: Path) -> bytes | None:
    """The front cover's bytes, else the first picture's; None when there is none. Only
    the tags are read: a cover is found even where the audio does not parse."""
    import mutagen.flac
    import mutagen.id3
    import mutagen.mp4
    import mutagen.oggvorbis

    formats: Any = mutagen  # untyped: mutagen has no annotations here
    front = mutagen.id3.PictureType.COVER_FRONT  # FLAC picture blocks share ID3's types
    suffix = path.suffix.lower()
    if suffix == ".mp3":
        pictures = [(f.type, f.data) for f in formats.id3.ID3(path).getall("APIC")]
    elif suffix == ".m4a":
        covers = formats.mp4.MP4(path).tags or {}
        pictures = [(front, bytes(cover)) for cover in covers.get("covr", [])]
    elif suffix == ".ogg":
        comments = formats.oggvorbis.OggVorbis(path).tags or {}
        blocks = comments.get("METADATA_BLOCK_PICTURE", [])
        decoded = [formats.flac.Picture(base64.b64decode(block)) for block in blocks]
        pictures = [(picture.type, picture.data) for picture in decoded]
    else:
        return None
    pictures.sort(key=lambda picture: picture[0] != front)
    return bytes(pictures[0][1]) if pictures else None


def _hidden(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def scan(root: Path) -> list[Group]:
    """Every exported audio file under `root` (subfolders too), grouped by folder,
    in name order; the top level first. Hidden files and links leading outside are
    left out."""
    base = root.resolve()
    by_folder: dict[str, list[Listed]] = {}
    playlists: dict[str, str] = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_folder = PurePosixPath(Path(folder).relative_to(base).as_posix())
        for name in sorted(files):
            rel = rel_folder / name
            if _hidden(rel):
                continue
            suffix = PurePosixPath(name).suffix.lower()
            key = "" if str(rel_folder) == "." else str(rel_folder)
            if suffix in PLAYLIST_SUFFIXES:
                playlists.setdefault(key, str(rel))
            if suffix not in AUDIO_TYPES:
                continue
            try:
                path = locate(base, "/" + quote(str(rel)))
                mtime_ns, size = _stamp(path)
            except (Refused, OSError):
                continue
            info = _read_media(path, mtime_ns, size)
            picture = rel.with_suffix(".png")
            try:
                locate(base, "/" + quote(str(picture)))
                picture_path: str | None = str(picture)
            except Refused:
                picture_path = None
            item = FeedItem(
                path=str(rel),
                title=info.title or rel.stem,
                size_bytes=size,
                modified=datetime.fromtimestamp(mtime_ns / 1e9, UTC),
                duration_ms=info.duration_ms,
                chapters=info.chapters,
                guid=f"voice-coach:{rel}:{mtime_ns}",
            )
            by_folder.setdefault(key, []).append(Listed(item, picture_path, info.cover))
    return [
        Group(folder, tuple(entries), playlists.get(folder))
        for folder, entries in sorted(by_folder.items(), key=lambda kv: (kv[0] != "", kv[0]))
    ]


def count_entries(groups: Iterable[Group]) -> int:
    return sum(len(g.entries) for g in groups)
