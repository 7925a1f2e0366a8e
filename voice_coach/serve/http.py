"""Serve the export folder to a phone with the standard library's HTTP server: the
page, the podcast feed, chapters, covers and the files themselves, read-only; and the
JSON API under /api/, whose writes (make, save, log) need the key.

The request handler is thin; what it decides is in functions tested on their own:
`scan.locate` (which file a URL names), `derived` (which export a chapters or cover URL
is about), `parse_range` (byte ranges, so players can seek), `page.render_index`,
`feed.build_feed`, `keys` (who may write) and `api.Api` (everything under /api/).
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote

from .. import __version__
from ..errors import Problem, ServeError, ValidationError, VoiceCoachError
from .api import Api, ApiError, Request, error_reply
from .calendar import CONTENT_TYPE as CALENDAR_TYPE
from .calendar import PREFIX as CALENDAR_PREFIX
from .calendar import CalendarFeed, calendar_path, not_modified
from .calendar import allowed as calendar_allowed
from .feed import AUDIO_TYPES, build_feed, chapters_json
from .keys import cookie_key, key_cookie, load_key, same_key
from .net import HOST_HEADER, lan_address, url_for
from .page import CONTENT_SECURITY_POLICY, render_index
from .renders import MAX_WAITING
from .scan import Refused, count_entries, locate, read_cover, read_media, scan

DEFAULT_PORT = 8765
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
DRAIN_MAX_BYTES = 1024 * 1024
"""A refused body up to this size is read and dropped, keeping the connection."""


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


def derived(url_path: str, prefix: str, suffix: str) -> str | None:
    """The URL path of the export that a derived URL is about (`/cover/a.mp3.png` with
    prefix `/cover` and suffix `.png` is about `/a.mp3`), or None when `url_path` is not
    one: it then names a file, e.g. a timeline picture in a folder called "cover"."""
    if not (url_path.startswith(prefix + "/") and url_path.endswith(suffix)):
        return None
    inner = url_path[len(prefix) : -len(suffix)]
    return inner if PurePosixPath(unquote(inner)).suffix.lower() in AUDIO_TYPES else None


class ExportServer(ThreadingHTTPServer):
    """Serves `root`, and its API with `key` (None: a new one, kept only while this
    server runs). Threads are daemons so Ctrl+C never waits for a player."""

    daemon_threads = True
    request_queue_size = 128
    """The listen backlog. A player's page opens many range requests at once; with the
    default (5) a burst of 32 clients overflowed it and some waited 1 s for a retry."""

    def __init__(
        self,
        root: Path,
        address: tuple[str, int],
        log: Callable[[str], None] | None = None,
        key: str | None = None,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.root = root.resolve()
        self.log = log
        self.key = key or secrets.token_urlsafe(24)
        # Made first: a failed bind closes the server (`server_close`), and it with it.
        self.api = Api(self.root, self.key, max_waiting, log)
        self.calendar = CalendarFeed(self.root)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        try:
            super().__init__(address, ExportHandler)
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {address[0]} port {address[1]}: {exc.strerror or exc}"
            ) from None

    def server_close(self) -> None:
        self.api.close()
        super().server_close()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def loopback(self) -> bool:
        """Reachable from this computer only."""
        return ipaddress.ip_address(str(self.server_address[0])).is_loopback

    def routine_count(self) -> int:
        """Exported files in the folder now."""
        return count_entries(scan(self.root))

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        if ipaddress.ip_address(host).is_unspecified:  # bound to every interface
            host = lan_address() or "127.0.0.1"
        return url_for(host, self.port)

    @property
    def calendar_url(self) -> str:
        """The plans' calendar feed, with its own key in the path (see `calendar`)."""
        return self.url.rstrip("/") + calendar_path(self.key)

    @property
    def key_url(self) -> str:
        """The address that gives a browser the key (the one to print and scan)."""
        return f"{self.url}?key={self.key}"


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

    def _other_method(self) -> None:
        if self.path.startswith("/api/"):
            self._api()
            return
        self._send(
            HTTPStatus.METHOD_NOT_ALLOWED,
            b"Only GET and HEAD.\n",
            "text/plain; charset=utf-8",
            {"Allow": "GET, HEAD", **self._unread_body()},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _other_method

    def _unread_body(self) -> dict[str, str]:
        """Skip the body of a request refused unread, so it is not taken for the next
        request; one too large to skip (or of unknown length) ends the connection.
        Returns the header that says so, if it does."""
        length = self.headers.get("Content-Length", "0").strip()
        chunked = self.headers.get("Transfer-Encoding")
        if not chunked and length.isdigit() and int(length) <= DRAIN_MAX_BYTES:
            self.rfile.read(int(length))
            return {}
        self.close_connection = True
        return {"Connection": "close"}

    def version_string(self) -> str:
        return self.server_version  # not the Python version

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")

    # -- responses -------------------------------------------------------------------

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        if not HOST_HEADER.fullmatch(host):
            return self.server.url
        return f"http://{host}/"

    def _api(self) -> None:
        path, _, query = self.path.split("#", 1)[0].partition("?")
        read = False

        def read_body(length: int) -> bytes:
            nonlocal read
            read = True
            return self.rfile.read(length)

        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, path, query, headers, read_body, self._base_url())
        try:
            reply = self.server.api.handle(request)
        except Exception as exc:  # a bug: answered, and said once, not a dropped connection
            self.log_error("API failure on %s: %r", self.path, exc)
            reply = error_reply(ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error"))
        extra = {} if read else self._unread_body()
        self._send(reply.status, reply.body, reply.content_type, {**reply.headers, **extra})

    def _page(self, query: str) -> None:
        """The page. Opened with the right `?key=`, it hands the browser the key in a
        cookie and sends it on to the plain address (out of the history and the bar)."""
        key = self.server.key
        given = parse_qs(query).get("key")
        if given and same_key(given[0], key):
            self._send(
                HTTPStatus.SEE_OTHER,
                b"",
                "text/plain",
                {"Location": "/", "Set-Cookie": key_cookie(key)},
            )
            return
        can_write = same_key(cookie_key({"cookie": self.headers.get("Cookie", "")}), key)
        base = self._base_url()
        page = render_index(
            scan(self.server.root),
            base,
            can_write=can_write,
            key_url=f"{base}?key={key}" if can_write else None,
            wrong_key=bool(given),
            calendar_url=base.rstrip("/") + calendar_path(key) if can_write else None,
        )
        self._send(
            HTTPStatus.OK,
            page.encode(),
            "text/html; charset=utf-8",
            {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
        )

    def _calendar(self, path: str) -> None:
        """The plans' calendar feed, for the address with its key only; 304 when the
        app already has it."""
        if not calendar_allowed(path, self.server.key):
            raise Refused(HTTPStatus.FORBIDDEN)
        try:
            feed = self.server.calendar.current(self._base_url())
        except VoiceCoachError as exc:
            if self.server.log:
                self.server.log(f"calendar: {exc}")
            body = b"The plans cannot be read now; see the computer running voice-coach serve.\n"
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, body, "text/plain; charset=utf-8")
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        if not_modified(headers, feed.etag, feed.last_modified):
            self._send(HTTPStatus.NOT_MODIFIED, b"", CALENDAR_TYPE, feed.headers())
            return
        self._send(HTTPStatus.OK, feed.body, CALENDAR_TYPE, feed.headers())

    def _respond(self, send_body: bool) -> None:
        self._send_body = send_body
        path, _, query = self.path.split("#", 1)[0].partition("?")
        try:
            if path.startswith("/api/"):
                self._api()
            elif path == "/":
                self._page(query)
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
            elif path.startswith(CALENDAR_PREFIX):
                self._calendar(path)
            elif (audio := derived(path, "/chapters", ".json")) is not None:
                info = read_media(locate(self.server.root, audio))
                doc = chapters_json(info.chapters, info.title)
                self._send(HTTPStatus.OK, doc.encode(), "application/json+chapters; charset=utf-8")
            elif (audio := derived(path, "/cover", ".png")) is not None:
                # The page's lock-screen artwork. Named .png as exports embed PNG; a
                # foreign file's JPEG cover goes out as what it is.
                cover = read_cover(locate(self.server.root, audio))
                if cover is None:
                    raise Refused(HTTPStatus.NOT_FOUND)
                self._send(
                    HTTPStatus.OK, cover.data, cover.media_type, {"Cache-Control": "no-cache"}
                )
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


def open_server(
    directory: Path,
    host: str | None = None,
    port: int | None = None,
    lan: bool = False,
    log: Callable[[str], None] | None = None,
    new_key: bool = False,
) -> ExportServer:
    """A server for `directory` (made if missing, inside a folder that exists) on
    `host` (default: this computer only), or on the LAN address with `lan`; `port`
    None is the default port, 0 any free one. Its key is the one kept in the config
    directory (`new_key`: replaced by a new one)."""
    if lan and host:
        raise ValidationError([Problem("--lan", None, "", "give --lan or --host, not both")])
    if not directory.is_dir():
        try:
            directory.mkdir()
        except OSError:
            raise ValidationError(
                [Problem(str(directory), None, "", "no such folder, and it cannot be made here")]
            ) from None
    if lan:
        host = lan_address()
        if host is None:
            raise ServeError(
                "this computer has no LAN address (is it on a network?); "
                "give one with --host ADDRESS"
            )
    address = (host or "127.0.0.1", DEFAULT_PORT if port is None else port)
    return ExportServer(directory, address, log=log, key=load_key(new_key))
