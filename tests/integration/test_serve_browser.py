"""The served page in a real headless Chromium: it lists the routine, plays it, jumps to
a chapter, and looks right in light and dark mode.

Chromium is driven through its DevTools protocol over a pipe (--remote-debugging-pipe:
NUL-separated JSON on file descriptors 3 and 4), so the browser opens no debugging
port and the test needs no websocket library. The page comes from a server bound to
127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import select
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from PIL import Image, ImageStat
from typer.testing import CliRunner

from voice_coach.cli.app import app
from voice_coach.export.tags import read_chapters
from voice_coach.serve.http import ExportServer

pytestmark = pytest.mark.integration

WIDTH, HEIGHT = 412, 915
"""A common phone viewport, in CSS pixels (device scale factor 1)."""
TIMEOUT_S = 15.0


class DevTools:
    """A minimal DevTools protocol client over Chromium's debugging pipe."""

    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int):
        self.process = process
        self.to_browser = to_browser
        self.from_browser = from_browser
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.last_id = 0
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed its debugging pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(message)
        return result

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") != self.last_id:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            result: dict[str, Any] = reply["result"]
            return result

    def wait_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_until(self, expression: str) -> Any:
        """Poll a JS expression until it is truthy; return its last value."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"never true: {expression} (last: {self.evaluate(expression)!r})")

    def screenshot(self) -> Image.Image:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def _high_fd(fd: int) -> int:
    """A copy of `fd` numbered 5 or more, so it cannot collide with 3 and 4 in the child."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 5)
    os.close(fd)
    return high


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    chromium = require_program("chromium")
    commands_r, commands_w = os.pipe()
    replies_r, replies_w = os.pipe()
    commands_r, replies_w = _high_fd(commands_r), _high_fd(replies_w)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--mute-audio",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--remote-debugging-pipe",
        "about:blank",
    ]
    # The browser reads commands on fd 3 and writes replies on fd 4.
    move = f'exec 3<&{commands_r} 4>&{replies_w} {commands_r}<&- {replies_w}>&-; exec "$@"'
    process = subprocess.Popen(
        ["bash", "-c", move, "bash", chromium, *flags],
        pass_fds=(commands_r, replies_w),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(commands_r)
    os.close(replies_w)
    devtools = DevTools(process, commands_w, replies_r)
    try:
        target = devtools.call("Target.createTarget", url="about:blank")["targetId"]
        devtools.session = devtools.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        devtools.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=True,
        )
        devtools.call("Page.enable")
        yield devtools
    finally:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, ConnectionError):
            devtools.call("Browser.close")
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.close(commands_w)
        os.close(replies_r)


@pytest.fixture
def exports(tmp_path: Path, fake_engine: type[FakeEngine], cache_dir: Path) -> Path:
    require_program("ffmpeg")
    root = tmp_path / "exports"
    result = CliRunner().invoke(
        app, ["export", str(ROUTINES / "full.yaml"), "-o", str(root / "full.mp3")]
    )
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def page_url(exports: Path) -> Iterator[str]:
    server = ExportServer(exports, ("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def luminance(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, int, int]:
    """Median, darkest and lightest luminance (0-255) inside `box`."""
    region = image.crop(box).convert("L")
    low, high = region.getextrema()
    return ImageStat.Stat(region).median[0], int(low), int(high)


def test_page_plays_jumps_to_a_chapter_and_renders(
    browser: DevTools, page_url: str, exports: Path, tmp_path: Path
) -> None:
    chapters = read_chapters(exports / "full.mp3")
    browser.call(
        "Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "light"}]
    )
    browser.call("Page.navigate", url=page_url)
    browser.wait_event("Page.loadEventFired")

    # The list: the routine, its player and one button per chapter.
    assert browser.evaluate("document.querySelector('.routine h2').textContent") == "Full"
    assert browser.evaluate("document.querySelectorAll('.chapters button').length") == len(chapters)

    # Playback: the audio really advances.
    browser.evaluate("document.querySelector('audio').play()")
    browser.wait_until(
        "(() => { const a = document.querySelector('audio');"
        " return !a.paused && a.currentTime > 0.3; })()"
    )

    # A chapter button moves the player to that chapter, and playing goes on from there.
    chapter = chapters[3]
    start_s = chapter.start_ms / 1000
    browser.evaluate("document.querySelectorAll('.chapters button')[3].click()")
    position = browser.wait_until(
        "(() => { const a = document.querySelector('audio');"
        f" return !a.paused && a.currentTime > {start_s + 0.2} && a.currentTime; }})()"
    )
    assert start_s < position < start_s + 5
    browser.wait_until(
        "document.querySelectorAll('.chapters button')[3].getAttribute('aria-current') === 'true'"
    )
    browser.evaluate("document.querySelector('audio').pause(); window.scrollTo(0, 0)")

    title_box = browser.evaluate(
        "(() => { const r = document.querySelector('h1').getBoundingClientRect();"
        " return [r.left, r.top, r.right, r.bottom].map(Math.round); })()"
    )
    left, top, right, bottom = title_box
    assert 0 <= left < right <= WIDTH and 0 <= top < bottom < HEIGHT // 3

    light = browser.screenshot()
    light.save(tmp_path / "page-light.png")
    assert light.size == (WIDTH, HEIGHT)
    assert len(light.getcolors(1 << 16) or range(1 << 16)) > 20  # not blank
    assert max(ImageStat.Stat(light.convert("L")).stddev) > 10
    median, darkest, _ = luminance(light, (left, top, right, bottom))
    assert median > 200 and darkest < 80, "title: dark text on a light background"

    browser.call(
        "Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}]
    )
    browser.wait_until("matchMedia('(prefers-color-scheme: dark)').matches")
    dark = browser.screenshot()
    dark.save(tmp_path / "page-dark.png")
    assert dark.size == (WIDTH, HEIGHT)
    median, _, lightest = luminance(dark, (left, top, right, bottom))
    assert median < 60 and lightest > 180, "title: light text on a dark background"
