"""Serve the export directory to a phone: a page to play the routines, a podcast
feed, and the files themselves, read-only, with the standard library's HTTP server.

The request handler is thin; what it decides is in functions tested on their own:
`locate` (which file a URL names, refusing anything outside the directory; it only
stats), and the pure `parse_range` (byte ranges, so players can seek),
`render_index` (the page) and `qr_svg`. `scan` reads what is exported, tags and
chapters included; the feed itself is built by `feed.py`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import ipaddress
import os
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, unquote

from . import __version__
from .errors import ServeError
from .feed import AUDIO_TYPES, FeedItem, build_feed, chapters_json
from .timeline import Chapter

DEFAULT_PORT = 8765
PLAYLIST_SUFFIXES = (".m3u8", ".m3u")
CONTENT_TYPES = {
    **AUDIO_TYPES,
    ".wav": "audio/wav",
    ".png": "image/png",
    ".m3u": "audio/x-mpegurl",
    ".m3u8": "audio/x-mpegurl",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
COPY_CHUNK_BYTES = 64 * 1024
NBSP = "\u00a0"

# -- which file a URL names ----------------------------------------------------------


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


# -- byte ranges ---------------------------------------------------------------------


class Unsatisfiable(Exception):
    """A Range header that selects no byte of the file (HTTP 416)."""


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str | None, size_bytes: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a Range header asks for, or None for the whole
    file. A header we do not understand (several ranges, another unit, garbage) is
    ignored, as HTTP allows; one that is valid but outside the file is `Unsatisfiable`.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_s, last_s = match.groups()
    if first_s == "":  # bytes=-N: the last N bytes
        suffix = int(last_s)
        if suffix == 0 or size_bytes == 0:
            raise Unsatisfiable
        return max(0, size_bytes - suffix), size_bytes - 1
    first = int(first_s)
    last = int(last_s) if last_s else size_bytes - 1
    if first >= size_bytes:
        raise Unsatisfiable
    if last < first:
        return None
    return first, min(last, size_bytes - 1)


# -- what is in the export directory -------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One exported audio file on the page."""

    item: FeedItem
    picture: str | None = None
    """Path of the timeline picture (NAME.png beside the audio), if there is one."""


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
            from .export import read_chapters

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
    return MediaInfo(title, duration_ms, tuple(chapters))


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
            by_folder.setdefault(key, []).append(Listed(item, picture_path))
    return [
        Group(folder, tuple(entries), playlists.get(folder))
        for folder, entries in sorted(by_folder.items(), key=lambda kv: (kv[0] != "", kv[0]))
    ]


# -- the page ------------------------------------------------------------------------


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG image: black modules on white, with the quiet zone."""
    import qrcode  # type: ignore[import-untyped,unused-ignore]

    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    size = len(matrix)
    # One horizontal run of dark modules per path segment keeps the SVG small.
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_terminal(text: str) -> str:
    """`text` as a QR code drawn with block characters, for the terminal.

    Inverted (light modules drawn) so it scans on the usual dark terminal."""
    import io

    import qrcode  # type: ignore[import-untyped,unused-ignore]

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.StringIO()
    code.print_ascii(out=buffer, invert=True)
    return buffer.getvalue()


def _asset(name: str) -> str:
    return (resources.files("voice_coach") / "web" / name).read_text(encoding="utf-8")


PAGE_CSS = _asset("page.css")
PAGE_JS = _asset("page.js")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {_csp_hash(PAGE_CSS)}; "
    f"script-src {_csp_hash(PAGE_JS)}; "
    "img-src 'self' data:; media-src 'self'; base-uri 'none'; form-action 'none'"
)
"""Only our own inline style and script run; the page loads nothing from elsewhere."""


def clock(ms: int) -> str:
    """m:ss (h:mm:ss from an hour on)."""
    hours, rest = divmod(round(ms / 1000), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def length_text(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _href(path: str) -> str:
    return _e("/" + quote(path))


def _entry_html(listed: Listed, index: int) -> str:
    item = listed.item
    fmt = PurePosixPath(item.path).suffix.lstrip(".").upper()
    meta = [length_text(item.duration_ms) if item.duration_ms is not None else None]
    if item.chapters:
        n = len(item.chapters)
        meta.append(f"{n} chapter{'' if n == 1 else 's'}")
    meta.append(f"{fmt}, {item.size_bytes / 1e6:.1f} MB")
    lines = [
        f'<article class="routine" id="routine-{index}">',
        f'<h2 class="title">{_e(item.title)}</h2>',
        # No-break spaces keep "5 min 02 s" and "1.0 MB" whole on a narrow screen.
        f'<p class="meta">{_e(" · ".join(m.replace(" ", NBSP) for m in meta if m))}</p>',
        f'<audio controls preload="metadata" src="{_href(item.path)}"></audio>',
    ]
    if item.chapters:
        lines.append(f'<ol class="chapters" aria-label="Chapters of {_e(item.title)}">')
        for chapter in item.chapters:
            lines.append(
                f'<li><button type="button" data-start="{chapter.start_ms / 1000:g}">'
                f'<span class="time">{clock(chapter.start_ms)}</span>'
                f"<span>{_e(chapter.title)}</span></button></li>"
            )
        lines.append("</ol>")
    if listed.picture:
        lines.append(
            f'<img class="picture" src="{_href(listed.picture)}" loading="lazy" '
            f'alt="Timeline of {_e(item.title)}">'
        )
    lines += [
        '<p class="links">',
        f'<a class="button" href="{_href(item.path)}" download>Download {_e(fmt)}</a>',
        "</p>",
        "</article>",
    ]
    return "\n".join(lines)


def render_index(groups: Sequence[Group], page_url: str) -> str:
    """The page: every routine with its player, chapters and downloads, and the QR code
    of `page_url` so a phone can open it."""
    count = count_entries(groups)
    feed_url = page_url.rstrip("/") + "/feed.xml"
    body: list[str] = []
    if count == 0:
        body.append(
            '<p class="empty">No exports yet. Make one with '
            "<code>voice-coach export sciatica-relief</code>, then reload.</p>"
        )
    index = 0
    for group in groups:
        if group.folder:
            body.append(f'<section class="group"><h2>{_e(group.folder)}</h2>')
            if group.playlist:
                body.append(
                    f'<p class="links"><a class="button" href="{_href(group.playlist)}">'
                    "Playlist</a></p>"
                )
        for listed in group.entries:
            index += 1
            body.append(_entry_html(listed, index))
        if group.folder:
            body.append("</section>")
    plural = "" if count == 1 else "s"
    qr = base64.b64encode(qr_svg(page_url).encode()).decode()
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="light dark">',
            "<title>voice_coach routines</title>",
            f"<style>{PAGE_CSS}</style>",
            "</head>",
            "<body>",
            "<header>",
            "<h1>Your routines</h1>",
            f'<p class="meta">{count} routine{plural} · <a href="/feed.xml">podcast feed</a></p>',
            "</header>",
            "<main>",
            *body,
            "</main>",
            '<footer class="qr">',
            "<h2>On your phone</h2>",
            f"<p>Scan to open this page: <code>{_e(page_url)}</code></p>",
            f'<img src="data:image/svg+xml;base64,{qr}" alt="QR code of {_e(page_url)}">',
            f"<p>In a podcast app (AntennaPod: add podcast by address): "
            f"<code>{_e(feed_url)}</code></p>",
            "</footer>",
            f"<script>{PAGE_JS}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


# -- addresses -----------------------------------------------------------------------

_PROBES = ("10.254.254.254", "192.168.254.254", "172.16.254.254")
"""Private addresses to route towards. A UDP `connect` only picks the route and so the
local address; it sends nothing."""


def is_lan_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def lan_address() -> str | None:
    """This machine's address on the local network, or None if it has none."""
    for probe in _PROBES:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((probe, 9))
                address = str(sock.getsockname()[0])
            except OSError:
                continue
        if is_lan_address(address):
            return address
    return None


def url_for(host: str, port: int) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}/"


_HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


# -- the server ----------------------------------------------------------------------


class ExportServer(ThreadingHTTPServer):
    """Serves `root` read-only. Threads are daemons so Ctrl+C never waits for a player."""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        address: tuple[str, int],
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root.resolve()
        self.log = log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        try:
            super().__init__(address, ExportHandler)
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {address[0]} port {address[1]}: {exc.strerror or exc}"
            ) from None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def loopback(self) -> bool:
        """Reachable from this computer only."""
        return ipaddress.ip_address(str(self.server_address[0])).is_loopback

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        if ipaddress.ip_address(host).is_unspecified:  # bound to every interface
            host = lan_address() or "127.0.0.1"
        return url_for(host, self.port)


class ExportHandler(BaseHTTPRequestHandler):
    server: ExportServer
    server_version = f"voice_coach/{__version__}"
    # Keep-alive: players make many small range requests while seeking.
    protocol_version = "HTTP/1.1"
    _send_body = True
    """False while answering HEAD: the same headers, no body."""

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _not_allowed(self) -> None:
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"Only GET and HEAD.\n",
            "text/plain; charset=utf-8",
            {"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def version_string(self) -> str:
        return self.server_version  # not the Python version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")

    # -- responses -------------------------------------------------------------------

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        if not _HOST_HEADER.fullmatch(host):
            return self.server.url
        return f"http://{host}/"

    def _respond(self, send_body: bool) -> None:
        self._send_body = send_body
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        try:
            if path == "/":
                page = render_index(scan(self.server.root), self._base_url())
                self._send(
                    HTTPStatus.OK,
                    page.encode(),
                    "text/html; charset=utf-8",
                    {
                        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                        "Cache-Control": "no-cache",
                    },
                )
            elif path == "/feed.xml":
                items = [
                    listed.item for group in scan(self.server.root) for listed in group.entries
                ]
                feed = build_feed(items, self._base_url())
                self._send(
                    HTTPStatus.OK,
                    feed.encode(),
                    "application/rss+xml; charset=utf-8",
                    {"Cache-Control": "no-cache"},
                )
            elif path.startswith("/chapters/") and path.endswith(".json"):
                audio = locate(self.server.root, path[len("/chapters") : -len(".json")])
                if audio.suffix.lower() not in AUDIO_TYPES:
                    raise Refused(HTTPStatus.NOT_FOUND)
                info = read_media(audio)
                doc = chapters_json(info.chapters, info.title)
                self._send(HTTPStatus.OK, doc.encode(), "application/json+chapters; charset=utf-8")
            else:
                self._send_file(locate(self.server.root, path))
        except Refused as refused:
            self._send(refused.status, f"{refused.status.phrase}\n".encode(), "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the player moved on (seeked, or closed)

    def _headers(
        self, status: HTTPStatus, content_type: str, length: int, extra: Mapping[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self._headers(status, content_type, len(body), extra or {})
        if self._send_body:
            self.wfile.write(body)

    def _send_file(self, path: Path) -> None:
        content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            size = st.st_size
            common = {
                "Accept-Ranges": "bytes",
                "Last-Modified": format_datetime(datetime.fromtimestamp(st.st_mtime, UTC), True),
            }
            try:
                wanted = parse_range(self.headers.get("Range"), size)
            except Unsatisfiable:
                self._send(
                    HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    b"",
                    content_type,
                    {**common, "Content-Range": f"bytes */{size}"},
                )
                return
            if wanted is None:
                first, last = 0, size - 1
                self._headers(HTTPStatus.OK, content_type, size, common)
            else:
                first, last = wanted
                self._headers(
                    HTTPStatus.PARTIAL_CONTENT,
                    content_type,
                    last - first + 1,
                    {**common, "Content-Range": f"bytes {first}-{last}/{size}"},
                )
            if self._send_body:
                _copy(f, self.wfile, first, last - first + 1)


def _copy(source: Any, sink: Any, offset: int, length: int) -> None:
    source.seek(offset)
    while length > 0:
        chunk = source.read(min(COPY_CHUNK_BYTES, length))
        if not chunk:
            break  # the file shrank while we sent it; the client sees a short body
        sink.write(chunk)
        length -= len(chunk)


def count_entries(groups: Iterable[Group]) -> int:
    return sum(len(g.entries) for g in groups)
