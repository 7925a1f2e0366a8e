"""Tags, chapters and covers, written into an encoded file in each format's own way.

MP3: ID3v2.3 tags, chapters (CTOC and CHAP frames, in time order) and the cover (APIC);
OGG: Vorbis comments (CHAPTERnnn) and a picture block; M4A: ffmpeg writes tags and
chapters from an `ffmetadata` file, the cover and the track total are added here;
WAV: ffmpeg's INFO tags only.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExportError
from ..timefmt import hms_millis
from ..timeline import Chapter


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str = "voice_coach"
    album: str = "voice_coach routines"
    track: int = 1
    track_total: int | None = None
    """Tracks in the album (a split export); None writes the track number alone."""
    genre: str = "Fitness"
    comment: str = ""
    cover_png: bytes | None = field(default=None, repr=False)
    """A PNG embedded as the front cover in MP3, M4A and OGG (WAV has no place for it)."""

    @property
    def track_text(self) -> str:
        return f"{self.track}/{self.track_total}" if self.track_total else str(self.track)


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
        ("track", tags.track_text),
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
    """ID3v2.3 tags, the cover (APIC), and the chapters: a CTOC listing one CHAP frame
    per chapter, the CHAP frames in time order (players that ignore the CTOC list them
    in file order).

    mutagen writes the frames it knows ordered by size, which would shuffle the CHAP
    frames; frames it is not given a class for (`known_frames`) it keeps as read, and
    writes back after its own. So the tags are saved first, then the CHAP frames one
    at a time from the last: each save writes the new one before those kept. With
    room left for them in the first save, every later one rewrites only the tag.
    """
    from mutagen.id3 import (
        APIC,
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
        Frames,
        ID3NoHeaderError,
        PictureType,
    )

    with contextlib.suppress(ID3NoHeaderError):
        ID3(path).delete(path)  # an earlier tag; ffmpeg was asked to write none
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TRCK(encoding=3, text=tags.track_text))
    id3.add(TCON(encoding=3, text=tags.genre))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    if tags.cover_png:
        id3.add(
            APIC(
                encoding=3,
                mime="image/png",
                type=PictureType.COVER_FRONT,
                desc="Cover",
                data=tags.cover_png,
            )
        )
    ids = [f"chp{i}" for i in range(len(chapters))]
    if chapters:
        flags = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
        id3.add(CTOC(element_id="toc", flags=flags, child_element_ids=ids, sub_frames=[]))
    room = sum(CHAP_FRAME_BYTES + 4 * len(ch.title) for ch in chapters)
    id3.save(path, v2_version=3, padding=lambda info: max(info.padding, room))
    known = {name: frame for name, frame in Frames.items() if name not in ("CHAP", "CTOC")}
    for element_id, ch in reversed(list(zip(ids, chapters, strict=True))):
        id3 = ID3(path, known_frames=known, v2_version=3)
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
        id3.save(path, v2_version=3, padding=lambda info: max(info.padding, 0))


CHAP_FRAME_BYTES = 64
"""A CHAP frame's size but for its title: headers, id, times and offsets."""


def vorbis_comments(tags: Tags, chapters: Sequence[Chapter]) -> list[tuple[str, str]]:
    """Vorbis comments, with chapters as CHAPTERnnn / CHAPTERnnnNAME (what ffmpeg and
    most players read). The cover is added separately: it is binary."""
    if len(chapters) > 999:
        raise ExportError("an OGG file holds at most 999 chapters")
    out = [
        ("TITLE", tags.title),
        ("ARTIST", tags.artist),
        ("ALBUM", tags.album),
        ("TRACKNUMBER", str(tags.track)),
        ("GENRE", tags.genre),
    ]
    if tags.track_total:
        out.append(("TRACKTOTAL", str(tags.track_total)))
    if tags.comment:
        out.append(("COMMENT", tags.comment))
    for n, ch in enumerate(chapters, start=1):
        out += [(f"CHAPTER{n:03d}", hms_millis(ch.start_ms)), (f"CHAPTER{n:03d}NAME", ch.title)]
    return out


def write_vorbis(path: Path, tags: Tags, chapters: Sequence[Chapter]) -> None:
    """Replace an OGG Vorbis file's comments with our tags, chapters and cover."""
    from mutagen.flac import Picture
    from mutagen.id3 import PictureType
    from mutagen.oggvorbis import OggVorbis

    ogg = OggVorbis(path)
    assert ogg.tags is not None  # every Vorbis stream has a comment header
    ogg.tags.clear()
    for key, value in vorbis_comments(tags, chapters):
        ogg.tags.append((key, value))
    if tags.cover_png:
        width, height = _png_size(tags.cover_png)
        picture = Picture()
        picture.type = PictureType.COVER_FRONT
        picture.mime = "image/png"
        picture.desc = "Cover"
        picture.width, picture.height, picture.depth = width, height, 24
        picture.data = tags.cover_png
        block = base64.b64encode(picture.write()).decode("ascii")
        ogg.tags.append(("METADATA_BLOCK_PICTURE", block))
    ogg.save()


def write_mp4(path: Path, tags: Tags, chapters: Sequence[Chapter]) -> None:
    """The cover and the track total of an M4A; ffmpeg wrote the rest and the chapters
    (mutagen keeps both when it saves)."""
    from mutagen.mp4 import MP4, MP4Cover

    mp4 = MP4(path)
    if mp4.tags is None:
        mp4.add_tags()
    assert mp4.tags is not None
    mp4.tags["trkn"] = [(tags.track, tags.track_total or 0)]
    if tags.cover_png:
        mp4.tags["covr"] = [MP4Cover(tags.cover_png, imageformat=MP4Cover.FORMAT_PNG)]
    mp4.save()


def _no_tags(path: Path, tags: Tags, chapters: Sequence[Chapter]) -> None:
    """WAV: ffmpeg's INFO tags are all it holds."""


TAGGERS: dict[str, Callable[[Path, Tags, Sequence[Chapter]], None]] = {
    "mp3": write_id3,
    "ogg": write_vorbis,
    "m4a": write_mp4,
    "wav": _no_tags,
}


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ExportError("the cover is not a PNG image")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


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
