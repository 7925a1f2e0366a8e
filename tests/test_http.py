"""The export server on 127.0.0.1: the page, ranges, refusals, covers, the `serve`
command; and its range and path helpers."""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine, ctrl_c_back, require_program
from PIL import Image
from serving import serving
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.tags import read_chapters
from voice_coach.serve.http import ExportServer, Unsatisfiable, derived, parse_range

SECRET = b"TOP-SECRET-OUTSIDE-THE-EXPORTS"
AUDIO = bytes(range(256)) * 40  # 10240 bytes, every offset recognisable


@dataclass
class Served:
    root: Path
    port: int

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            # skip_host: some tests send their own Host header.
            conn.putrequest(method, path, skip_host=bool(headers and "Host" in headers))
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers)


def make_exports(base: Path) -> Path:
    """An export folder with audio, a split folder with a playlist, a hidden partial
    export, and links that lead inside and outside."""
    root = base / "exports"
    (root / "split part").mkdir(parents=True)
    (root / "a.mp3").write_bytes(AUDIO)
    (root / "a.png").write_bytes(b"\x89PNG fake")
    (root / "split part" / "one.mp3").write_bytes(AUDIO[:100])
    (root / "split part" / "two.ogg").write_bytes(AUDIO[:50])
    (root / "split part" / "list.m3u8").write_text("one.mp3\ntwo.ogg\n")
    (root / ".a.mp3.x1.partial").write_bytes(AUDIO)
    (root / "notes.wav").write_bytes(b"RIFF")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.mp3").write_bytes(SECRET)
    (base / "pyproject.toml").write_bytes(SECRET)
    (root / "escape.mp3").symlink_to(outside / "secret.mp3")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "inside.mp3").symlink_to(root / "a.mp3")
    return root


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root = make_exports(tmp_path)
    with serving(ExportServer(root, ("127.0.0.1", 0))) as server:
        yield Served(root, server.port)


# -- over HTTP ------------------------------------------------------------------------


def markup(body: bytes) -> str:
    """The page without its inline style and scripts (whose words are not content)."""
    return re.sub(r"<(script|style)>.*?</\1>", "", body.decode(), flags=re.DOTALL)


def test_index_lists_every_routine_with_player_and_download(served: Served) -> None:
    status, headers, body = served.get("/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src 'sha256-" in headers["Content-Security-Policy"]
    page = markup(body)
    # Damaged or foreign files fall back to their stem as the title.
    for title in ("a", "one", "two", "inside"):
        assert f'<h3 class="title">{title}</h3>' in page
    assert '<audio controls preload="metadata" src="/a.mp3">' in page
    assert 'href="/split%20part/one.mp3" download' in page
    assert "<h3>split part</h3>" in page and 'href="/split%20part/list.m3u8"' in page
    assert 'src="/a.png"' in page  # the timeline picture beside a.mp3
    assert "voice-coach serve --lan" in page  # on 127.0.0.1: no QR code, the way out
    assert f"http://127.0.0.1:{served.port}/" in page
    for absent in ("partial", "secret", "escape", "notes.wav"):
        assert absent not in page


def test_feed_lists_the_same_files(served: Served) -> None:
    status, headers, body = served.get("/feed.xml")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    urls = sorted(e.get("url", "") for e in ET.fromstring(body).iter("enclosure"))
    base = f"http://127.0.0.1:{served.port}/"
    assert urls == [base + p for p in ("a.mp3", "inside.mp3", "split%20part/one.mp3")] + [
        base + "split%20part/two.ogg"
    ]
    # The channel's picture: a PNG served beside the feed, named in both its tags.
    channel = ET.fromstring(body).find("channel")
    assert channel is not None
    image = channel.findtext("image/url")
    itunes = "{http://www.itunes.com/dtds/podcast-1.0.dtd}image"
    assert image == base + "feed.png" and channel.find(itunes).get("href") == image  # type: ignore[union-attr]
    status, headers, png = served.get("/feed.png")
    assert (status, headers["Content-Type"]) == (200, "image/png")
    assert Image.open(io.BytesIO(png)).size == (600, 600)


def test_whole_file_and_head(served: Served) -> None:
    status, headers, body = served.get("/a.mp3")
    assert (status, body) == (200, AUDIO)
    assert headers["Content-Type"] == "audio/mpeg"
    assert headers["Content-Length"] == str(len(AUDIO))
    assert headers["Accept-Ranges"] == "bytes"
    status, headers, body = served.request("HEAD", "/a.mp3")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(AUDIO))
    status, headers, body = served.request("HEAD", "/")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert served.get("/split%20part/two.ogg")[1]["Content-Type"] == "audio/ogg"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-355", 100, 355),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-16", 10224, 10239),
        ("bytes=10230-99999", 10230, 10239),
        ("bytes=-99999", 0, 10239),
    ],
)
def test_range_requests_get_exact_bytes(served: Served, header: str, first: int, last: int) -> None:
    status, headers, body = served.get("/a.mp3", Range=header)
    assert status == 206
    assert body == AUDIO[first : last + 1]
    assert headers["Content-Range"] == f"bytes {first}-{last}/{len(AUDIO)}"
    assert headers["Content-Length"] == str(last - first + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_range_is_416(served: Served, header: str) -> None:
    status, headers, body = served.get("/a.mp3", Range=header)
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(AUDIO)}"
    assert AUDIO[:16] not in body


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-9", "bytes=9-2", "bytes=x-"])
def test_ranges_we_do_not_serve_give_the_whole_file(served: Served, header: str) -> None:
    status, _, body = served.get("/a.mp3", Range=header)
    assert (status, body) == (200, AUDIO)


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/%2E%2E/%2e%2e/pyproject.toml",
        "/%252e%252e/pyproject.toml",
        "/..%2f..%2fpyproject.toml",
        "/..%2f..%2fetc/passwd",
        "//etc/passwd",
        "/etc/passwd",
        "/..\\pyproject.toml",
        "/%5c..%5cpyproject.toml",
        "/split%20part/../../pyproject.toml",
        "/./a.mp3",
        "/escape.mp3",
        "/escape-dir/secret.mp3",
        "/a.mp3%00.png",
        "/%ff%fe",
        "/chapters/../pyproject.toml.json",
        "/chapters/escape.mp3.json",
        "/cover/../pyproject.toml.png",
        "/cover/%2e%2e/pyproject.toml.png",
        "/cover/escape.mp3.png",
        "/cover/escape-dir/secret.mp3.png",
        "/cover/..%2foutside/secret.mp3.png",
        "http://127.0.0.1/../pyproject.toml",
    ],
)
def test_traversal_is_refused(served: Served, path: str) -> None:
    status, _, body = served.get(path)
    assert status in (403, 404)
    assert SECRET not in body


@pytest.mark.parametrize(
    "path",
    [
        "/split%20part",
        "/split%20part/",
        "/.a.mp3.x1.partial",
        "/missing.mp3",
        "/chapters/a.png.json",
        "/cover/a.png.png",
        "/cover/missing.mp3.png",
    ],
)
def test_no_listings_hidden_files_or_missing_files(served: Served, path: str) -> None:
    status, _, body = served.get(path)
    assert status == 404
    assert b"one.mp3" not in body and AUDIO[:16] not in body


def test_links_inside_the_folder_are_served(served: Served) -> None:
    assert served.get("/inside.mp3")[::2] == (200, AUDIO)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(served: Served, method: str) -> None:
    status, headers, _ = served.request(method, "/a.mp3")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    assert (served.root / "a.mp3").read_bytes() == AUDIO


def test_feed_urls_follow_the_host_the_client_used(served: Served) -> None:
    _, _, body = served.get("/feed.xml", Host=f"192.168.1.20:{served.port}")
    assert f"http://192.168.1.20:{served.port}/a.mp3".encode() in body
    # A Host header that is not a plain host[:port] is not echoed into links.
    _, _, body = served.get("/", Host='evil"><script>x</script>')
    assert b"<script>x" not in body
    assert f"http://127.0.0.1:{served.port}/".encode() in body


def test_index_and_chapters_of_a_real_export(
    served: Served, fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    require_program("ffmpeg")
    target = served.root / "full.mp3"
    result = CliRunner().invoke(app, ["export", str(ROUTINES / "full.yaml"), "-o", str(target)])
    assert result.exit_code == 0, result.output
    chapters = read_chapters(target)

    page = served.get("/")[2].decode()
    assert '<h3 class="title">Full</h3>' in page
    starts = re.findall(r'<button type="button" data-start="([0-9.]+)"', page)
    assert [float(s) for s in starts] == [c.start_ms / 1000 for c in chapters]
    for chapter in chapters:
        assert f'data-title="{chapter.title}"><span class="time">' in page
        assert f"<span>{chapter.title}</span>" in page
    # What the lock screen shows: the routine's title and its embedded cover.
    assert 'data-title="Full" data-cover="/cover/full.mp3.png">' in page

    status, headers, body = served.get("/chapters/full.mp3.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json+chapters")
    assert b'"version": "1.2.0"' in body


@pytest.mark.parametrize("fmt", ["mp3", "ogg", "m4a"])
def test_cover_of_a_real_export(
    served: Served, fake_engine: type[FakeEngine], cache_dir: Path, fmt: str
) -> None:
    require_program("ffmpeg")
    target = served.root / f"minimal.{fmt}"
    result = CliRunner().invoke(
        app, ["export", str(ROUTINES / "minimal.yaml"), "-f", fmt, "-o", str(target)]
    )
    assert result.exit_code == 0, result.output

    status, headers, body = served.get(f"/cover/minimal.{fmt}.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert headers["Content-Length"] == str(len(body))
    with Image.open(io.BytesIO(body)) as cover:
        assert cover.format == "PNG" and min(cover.size) >= 300
    status, head_headers, head_body = served.request("HEAD", f"/cover/minimal.{fmt}.png")
    assert (status, head_body) == (200, b"")
    assert head_headers["Content-Length"] == headers["Content-Length"]
    page = served.get("/")[2].decode()
    assert f'data-title="Minimal" data-cover="/cover/minimal.{fmt}.png">' in page


def test_file_without_a_cover_has_none(served: Served) -> None:
    assert served.get("/cover/a.mp3.png")[0] == 404  # a.mp3 has no tags at all
    assert served.request("HEAD", "/cover/a.mp3.png")[0] == 404
    page = markup(served.get("/")[2])
    assert '<article class="routine" id="routine-1" data-title="a">' in page
    assert "data-cover" not in page


def test_a_folder_called_cover_is_still_served(served: Served) -> None:
    (served.root / "cover").mkdir()
    (served.root / "cover" / "x.png").write_bytes(b"\x89PNG picture")
    (served.root / "cover" / "x.mp3").write_bytes(AUDIO)
    assert served.get("/cover/x.png")[::2] == (200, b"\x89PNG picture")
    assert served.get("/cover/x.mp3")[::2] == (200, AUDIO)
    assert served.get("/cover/cover/x.mp3.png")[0] == 404  # its cover: it has none


def test_serve_command_prints_url_and_qr_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    root = make_exports(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voice_coach", "serve", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        preexec_fn=ctrl_c_back,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"at http://127\.0\.0\.1:(\d+)/", first)
        assert match, first
        qr_and_rest = [proc.stdout.readline() for _ in range(3)]
        assert "█" in "".join(qr_and_rest)
        status, _, body = Served(root, int(match.group(1))).get("/")
        assert status == 200 and b"Your routines" in body
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode in (0, 130)
    assert "Traceback" not in stderr
    assert "stopped" in stderr


def start_serve(root: Path) -> tuple[subprocess.Popen[str], int, str]:
    """`voice-coach serve ROOT` on a free port: the process, its port, its first line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "voice_coach", "serve", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
        preexec_fn=ctrl_c_back,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"at http://127\.0\.0\.1:(\d+)/", first)
    assert match, first
    return proc, int(match.group(1)), first


def hang_up(sock: socket.socket) -> None:
    """Close with a reset (RST), as a phone's player does when it seeks or stops."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_download_dropped_part_way_is_normal_not_a_traceback(tmp_path: Path) -> None:
    """A player that stops a download part-way (on every seek) or hangs up in the middle
    of a request: `serve` goes on serving, and its output holds no traceback."""
    root = make_exports(tmp_path)
    (root / "big.mp3").write_bytes(AUDIO * 3200)  # 32 MB: more than any socket buffer
    proc, port, first = start_serve(root)
    try:
        # The first line counts what there is: routines to make, and files.
        assert re.search(r"Serving \d+ routines to make and 5 exported files from ", first)
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /big.mp3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            hang_up(sock)
            # Keep-alive: the next request on a connection the player then drops.
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /a.mp3 HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-9\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 206")
            sock.sendall(b"GET /big.mp3 HTTP/1.1\r\nHo")  # half a request
            hang_up(sock)
        status, _, body = Served(root, port).get("/a.mp3")
        assert (status, body) == (200, AUDIO)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert "Traceback" not in out + err and "ConnectionResetError" not in out + err, err
    assert "stopped" in err


def test_serve_without_lan_says_a_phone_cannot_reach_it(tmp_path: Path) -> None:
    proc, port, _ = start_serve(make_exports(tmp_path))
    try:
        _, _, body = Served(tmp_path / "exports", port).get("/")
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert "A phone cannot open this address" in out and "voice-coach serve --lan" in out
    page = markup(body)
    assert "A phone cannot open this address" in page and "voice-coach serve --lan" in page
    assert "QR code of" not in page  # no code a phone cannot open


def test_serve_command_reports_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["serve", str(tmp_path / "no" / "where")])
    assert result.exit_code == 2 and "no such folder" in result.output
    result = runner.invoke(app, ["serve", str(tmp_path), "--lan", "--host", "127.0.0.1"])
    assert result.exit_code == 2 and "not both" in result.output


def test_port_in_use_is_an_error_not_a_traceback(served: Served) -> None:
    result = CliRunner().invoke(app, ["serve", str(served.root), "--port", str(served.port)])
    assert result.exit_code == 1
    assert "cannot listen on 127.0.0.1" in result.output


# -- pure helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-0", 100, (0, 0)),
        ("bytes=5-", 100, (5, 99)),
        ("bytes=-5", 100, (95, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=90-500", 100, (90, 99)),
        (" bytes=1-2 ", 100, (1, 2)),
        ("bytes=2-1", 100, None),
        ("bytes=-", 100, None),
        ("bytes=1-2,4-5", 100, None),
        ("chars=1-2", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


@pytest.mark.parametrize(
    ("url_path", "expected"),
    [
        ("/cover/a.mp3.png", "/a.mp3"),
        ("/cover/split%20part/one.OGG.png", "/split%20part/one.OGG"),
        ("/cover/a.mp%33.png", "/a.mp%33"),
        ("/cover/../x.m4a.png", "/../x.m4a"),  # still to be located, and refused
        ("/cover/a.png", None),
        ("/cover/a.wav.png", None),
        ("/cover/a.mp3", None),
        ("/covers/a.mp3.png", None),
        ("/cover.mp3.png", None),
    ],
)
def test_derived(url_path: str, expected: str | None) -> None:
    assert derived(url_path, "/cover", ".png") == expected
