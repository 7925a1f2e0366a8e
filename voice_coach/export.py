"""Write a rendered timeline to audio files: streamed to ffmpeg, tagged, atomic.

The PCM is produced chunk by chunk and piped to one ffmpeg process, so memory does
not grow with the routine's length. The encoder writes a temporary file next to
the target; tags, chapters and the cover are added to it; only then is it renamed
onto the target, so an interrupted export never leaves a file there.

A split export writes one track per chapter plus an M3U8 playlist into a temporary
folder next to the target folder, and renames that folder into place at the end.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import proc
from .audio import Clip, ms_to_frames, render, total_frames
from .errors import ExportError
from .files import new_temp_beside, write_atomically
from .loudness import LoudnessMeter, apply_gain, program_gain_db
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
PLAYLIST_SUFFIX = ".m3u8"
TITLE_SEPARATOR = " \N{EN DASH} "
"""Between the routine and the step in playlist titles (an en dash, as in print)."""


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


@dataclass(frozen=True)
class SplitExport:
    folder: Path
    tracks: tuple[Path, ...]
    """In playing order."""
    playlist: Path


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
    gain_db = program_gain(timeline, clips, sample_rate, _counting(progress, 0, 2 * frames))
    try:
        _encode(
            (apply_gain(chunk, gain_db) for chunk in render(timeline, clips, sample_rate)),
            sample_rate,
            target,
            FORMATS[fmt],
            bitrate_kbps,
            tags or Tags(title=timeline.title),
            timeline.chapters,
            _counting(progress, frames, 2 * frames),
        )
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def export_split(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    folder: Path,
    fmt: str = "mp3",
    bitrate_kbps: int | None = None,
    tags: Tags | None = None,
    progress: Progress | None = None,
) -> SplitExport:
    """One track per chapter and a playlist, in `folder` (replaced if it holds an earlier
    split export). Track k holds exactly the frames of chapter k, so the tracks played
    in order are the whole routine. Nothing is left behind on failure."""
    spec = FORMATS[fmt]
    base = tags or Tags(title=timeline.title, album=timeline.title)
    chapters = timeline.chapters
    bounds = [
        (ms_to_frames(c.start_ms, sample_rate), ms_to_frames(c.end_ms, sample_rate))
        for c in chapters
    ]
    total = total_frames(timeline, sample_rate)
    # One gain for the whole routine, so its tracks keep their levels relative to each other.
    gain_db = program_gain(timeline, clips, sample_rate, _counting(progress, 0, 2 * total))
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
    try:
        tmp = _new_temp_dir_beside(folder)
        try:
            for n, (chapter, (a, b), name) in enumerate(
                zip(chapters, bounds, names, strict=True), start=1
            ):
                track_tags = dataclasses.replace(
                    base, title=chapter.title, track=n, track_total=len(chapters)
                )
                _encode(
                    (
                        apply_gain(c, gain_db)
                        for c in render_range(timeline, clips, sample_rate, a, b)
                    ),
                    sample_rate,
                    tmp / name,
                    spec,
                    bitrate_kbps,
                    track_tags,
                    (),
                    _counting(progress, total + a, 2 * total),
                )
            entries = [
                (c.end_ms - c.start_ms, f"{timeline.title}{TITLE_SEPARATOR}{c.title}", name)
                for c, name in zip(chapters, names, strict=True)
            ]
            write_atomically(tmp / playlist_name, m3u8(entries).encode("utf-8"))
            _swap_in(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise ExportError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return SplitExport(folder, tuple(folder / n for n in names), folder / playlist_name)


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


def _counting(progress: Progress | None, offset: int, total: int) -> Progress | None:
    if progress is None:
        return None
    return lambda done, _: progress(offset + done, total)


def _encode(
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


# -- tags -------------------------------------------------------------------------------


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
    """ID3v2.3 tags, the cover (APIC), and one CHAP frame per chapter with a CTOC
    listing them in time order."""
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
        ID3NoHeaderError,
        PictureType,
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
    if chapters:
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


def _vorbis_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


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
        out += [(f"CHAPTER{n:03d}", _vorbis_time(ch.start_ms)), (f"CHAPTER{n:03d}NAME", ch.title)]
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


# -- split exports: names, playlist, folder swap ------------------------------------------

_SEPARATORS = re.compile(r"[/\\|]+")
_UNSAFE = re.compile(r'[<>:"?*\x00-\x1f\x7f]+')
MAX_NAME_CHARS = 80


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


def parse_m3u8(text: str) -> list[tuple[int, str, str]]:
    """The (seconds, title, file name) entries of an extended M3U playlist."""
    out: list[tuple[int, str, str]] = []
    pending: tuple[int, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            seconds, _, title = line[len("#EXTINF:") :].partition(",")
            pending = (round(float(seconds)), title)
        elif line and not line.startswith("#"):
            seconds_, title_ = pending or (-1, "")
            out.append((seconds_, title_, line))
            pending = None
    return out


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


def _new_temp_dir_beside(folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".partial"))
    mask = os.umask(0)
    os.umask(mask)
    tmp.chmod(0o777 & ~mask)
    return tmp


def _swap_in(tmp: Path, folder: Path) -> None:
    """Rename the finished `tmp` folder to `folder`, replacing an earlier one."""
    if not folder.exists():
        os.rename(tmp, folder)
        return
    # A folder cannot be renamed over a non-empty one: move the old one aside first.
    old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
    os.rename(folder, old / folder.name)
    try:
        os.rename(tmp, folder)
    except BaseException:
        os.rename(old / folder.name, folder)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def default_export_path(slug: str, fmt: str, directory: Path = Path("exports")) -> Path:
    return directory / f"{slug}.{fmt}"


def default_split_folder(slug: str, directory: Path = Path("exports")) -> Path:
    return directory / slug
