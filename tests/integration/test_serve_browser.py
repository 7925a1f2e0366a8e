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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROUTINES, FakeEngine, require_program
from PIL import Image, ImageStat
from serving import serving
from typer.testing import CliRunner

from voice_coach import speech
from voice_coach.cli.commands import app
from voice_coach.export.tags import read_chapters
from voice_coach.history import History
from voice_coach.serve.http import ExportServer
from voice_coach.speech import DefaultEngine

from .waiting import wait_until

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

    def wait_until(self, expression: str, timeout_s: float = TIMEOUT_S) -> Any:
        """Poll a JS expression until it is truthy; return its last value."""
        values: list[Any] = []

        def true() -> Any:
            values.append(self.evaluate(expression))
            return values[-1]

        return wait_until(true, lambda: f"{expression} (last: {values[-1]!r})", timeout_s, 0.05)

    def screenshot(self, whole_page: bool = False) -> Image.Image:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=whole_page)
        return Image.open(io.BytesIO(base64.b64decode(data["data"]))).convert("RGB")

    def key(self, key: str, code: str | None = None, text: str | None = None) -> None:
        """Press and release a key, as the keyboard would."""
        common: dict[str, Any] = {"key": key, "code": code or key}
        if key == "Tab":
            common["windowsVirtualKeyCode"] = 9
        if key == "Enter":
            common["windowsVirtualKeyCode"] = 13
            text = "\r"
        self.call("Input.dispatchKeyEvent", type="keyDown", text=text or "", **common)
        self.call("Input.dispatchKeyEvent", type="keyUp", **common)


def _high_fd(fd: int) -> int:
    """A copy of `fd` numbered 5 or more, so it cannot collide with 3 and 4 in the child."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 5)
    os.close(fd)
    return high


@contextlib.contextmanager
def open_browser(profile: Path, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Iterator[DevTools]:
    """Headless Chromium with its profile in `profile`, one page open at `size` (CSS
    pixels, as a phone: touch, scale factor 1), driven over its debugging pipe."""
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
        f"--user-data-dir={profile}",
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
            width=size[0],
            height=size[1],
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
def browser(tmp_path: Path) -> Iterator[DevTools]:
    with open_browser(tmp_path / "chromium-profile") as devtools:
        yield devtools


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
    with serving(ExportServer(exports, ("127.0.0.1", 0))) as server:
        yield server.url


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
    assert browser.evaluate("document.querySelector('.routine h3').textContent") == "Full"
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


RECORD_MEDIA_SESSION = """
window.recorded = {actions: {}, position: null};
if ("mediaSession" in navigator) {
  const session = navigator.mediaSession;
  const setActionHandler = session.setActionHandler.bind(session);
  session.setActionHandler = (action, handler) => {
    window.recorded.actions[action] = handler;
    setActionHandler(action, handler);
  };
  const setPositionState = session.setPositionState.bind(session);
  session.setPositionState = (state) => {
    window.recorded.position = state;
    setPositionState(state);
  };
}
"""
"""Runs before the page's own script: keeps the action handlers the page registers, as
the lock screen would call them, and the last position state it set."""


def retitled_copy(source: Path, target: Path, title: str) -> None:
    from mutagen.id3 import ID3, TIT2

    target.write_bytes(source.read_bytes())
    tags = ID3(target)
    tags.setall("TIT2", [TIT2(encoding=3, text=title)])
    tags.save(target, v2_version=3)


def test_lock_screen_and_headset_buttons_move_between_chapters(
    browser: DevTools, page_url: str, exports: Path, tmp_path: Path
) -> None:
    chapters = read_chapters(exports / "full.mp3")
    assert len(chapters) >= 3 and chapters[1].end_ms - chapters[1].start_ms > 8000
    retitled_copy(exports / "full.mp3", exports / "other.mp3", "Other")
    browser.call("Runtime.enable")
    browser.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_MEDIA_SESSION)
    browser.call("Page.navigate", url=page_url)
    browser.wait_event("Page.loadEventFired")

    full, other = (
        "document.querySelector('#routine-1 audio')",
        "document.querySelector('#routine-2 audio')",
    )
    actions = set(browser.evaluate("Object.keys(recorded.actions)"))
    assert {"play", "pause", "stop", "seekbackward", "seekforward", "seekto"} <= actions

    def act(action: str, **details: float) -> None:
        browser.evaluate(f"recorded.actions.{action}({json.dumps({'action': action, **details})})")

    def position(audio: str) -> float:
        return float(browser.evaluate(f"{audio}.currentTime"))

    def metadata() -> dict[str, Any]:
        return dict(
            browser.evaluate(
                "(() => { const m = navigator.mediaSession.metadata;"
                " return {title: m.title, artist: m.artist, album: m.album,"
                " artwork: m.artwork.map((a) => a.src)}; })()"
            )
        )

    # Playing makes the routine the session's: its title, its chapter, its cover.
    browser.evaluate(f"{full}.play()")
    browser.wait_until(f"!{full}.paused && {full}.currentTime > 0.3")
    assert browser.evaluate("navigator.mediaSession.playbackState") == "playing"
    assert {"previoustrack", "nexttrack"} <= set(browser.evaluate("Object.keys(recorded.actions)"))
    described = metadata()
    assert described["title"] == chapters[0].title
    assert (described["artist"], described["album"]) == ("Full", "voice_coach")
    assert described["artwork"] == [page_url + "cover/full.mp3.png"]
    # The artwork loads under the page's own Content-Security-Policy.
    size = browser.evaluate(
        "new Promise((done) => { const i = new Image(); i.onload = () => done(i.naturalWidth);"
        f" i.onerror = () => done(0); i.src = {json.dumps(described['artwork'][0])}; }})"
    )
    assert size > 100
    state = browser.evaluate("recorded.position")
    assert state["playbackRate"] == 1 and 0 <= state["position"] < 1
    assert abs(state["duration"] - chapters[-1].end_ms / 1000) < 0.2

    # Next chapter: the player moves there, the lock screen and the page follow.
    start_1 = chapters[1].start_ms / 1000
    act("nexttrack")
    assert start_1 - 0.05 <= position(full) < start_1 + 1
    browser.wait_until(f"navigator.mediaSession.metadata.title === {json.dumps(chapters[1].title)}")
    browser.wait_until(
        "document.querySelectorAll('#routine-1 .chapters button')[1]"
        ".getAttribute('aria-current') === 'true'"
    )
    browser.wait_until(f"Math.abs(recorded.position.position - {start_1}) < 0.5")

    # Previous, well into a chapter: back to its start; at its start: the one before.
    act("seekto", seekTime=start_1 + 4)
    act("previoustrack")
    assert start_1 - 0.05 <= position(full) < start_1 + 1
    act("previoustrack")
    assert position(full) < 1
    browser.wait_until(f"navigator.mediaSession.metadata.title === {json.dumps(chapters[0].title)}")

    # Playing across a chapter's end names the next one, with no button pressed.
    start_2 = chapters[2].start_ms / 1000
    act("seekto", seekTime=start_2 - 0.5)
    browser.wait_until(f"{full}.currentTime > {start_2 + 0.1}")
    browser.wait_until(f"navigator.mediaSession.metadata.title === {json.dumps(chapters[2].title)}")

    before = position(full)
    act("seekforward")  # the lock screen's default step: 10 s
    assert before + 10 <= position(full) < before + 10.5
    act("seekbackward", seekOffset=5)
    assert before + 5 <= position(full) < before + 5.5

    act("pause")
    browser.wait_until(f"{full}.paused && navigator.mediaSession.playbackState === 'paused'")
    assert abs(browser.evaluate("recorded.position.position") - position(full)) < 0.01

    # Only the routine playing owns the session: the buttons move it, not the other.
    paused_at = position(full)
    browser.evaluate(f"{other}.play()")
    browser.wait_until(f"!{other}.paused && {other}.currentTime > 0.3")
    browser.wait_until("navigator.mediaSession.metadata.artist === 'Other'")
    assert metadata()["artwork"] == [page_url + "cover/other.mp3.png"]
    act("nexttrack")
    assert start_1 - 0.05 <= position(other) < start_1 + 1
    assert position(full) == paused_at and browser.evaluate(f"{full}.paused")
    act("pause")
    browser.wait_until(f"{other}.paused")
    act("play")
    browser.wait_until(f"!{other}.paused && navigator.mediaSession.playbackState === 'playing'")
    assert browser.evaluate(f"{full}.paused")
    act("stop")
    browser.wait_until(f"{other}.paused && {other}.currentTime === 0")

    browser.evaluate("window.scrollTo(0, 0)")
    browser.screenshot().save(tmp_path / "page-media-session.png")
    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert errors == []


def test_page_works_without_a_media_session(
    browser: DevTools, page_url: str, exports: Path
) -> None:
    chapters = read_chapters(exports / "full.mp3")
    browser.call("Runtime.enable")
    browser.call(
        "Page.addScriptToEvaluateOnNewDocument", source="delete Navigator.prototype.mediaSession;"
    )
    browser.call("Page.navigate", url=page_url)
    browser.wait_event("Page.loadEventFired")
    assert browser.evaluate("'mediaSession' in navigator") is False

    start_s = chapters[2].start_ms / 1000
    browser.evaluate("document.querySelectorAll('.chapters button')[2].click()")
    browser.wait_until(
        "(() => { const a = document.querySelector('audio');"
        f" return !a.paused && a.currentTime > {start_s + 0.2}; }})()"
    )
    browser.wait_until(
        "document.querySelectorAll('.chapters button')[2].getAttribute('aria-current') === 'true'"
    )
    browser.evaluate("document.querySelector('audio').pause()")
    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert errors == []


# -- the studio -----------------------------------------------------------------------

KEY = "k" * 32
STUDIO_TIMEOUT_S = 300.0
"""Opening a routine the first time speaks every line of it with the real voice."""
PHONE, WIDE = (360, 800), (1280, 900)
WATCH_LOAD = """
new MutationObserver((_, observer) => {
  const list = document.getElementById("library");
  if (list && list.querySelector("button")) {
    window.libraryShownMs = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true});
"""
"""Runs before the page's scripts: when, from the start of navigation, the list of
routines appears."""
TIMELINE_UPDATE = """
new Promise((done) => {
  const length = document.getElementById("length");
  const before = length.textContent;
  const input = document.querySelector('input[data-option="hold"][data-step="1"]');
  const start = performance.now();
  new MutationObserver((_, observer) => {
    if (length.textContent !== before) {
      observer.disconnect();
      done(performance.now() - start);
    }
  }).observe(length, {subtree: true, childList: true, characterData: true});
  input.value = "%s";
  input.dispatchEvent(new Event("input", {bubbles: true}));
})
"""
"""Type a hold for step 1; how long (ms) until the routine's length says the new one."""


@contextlib.contextmanager
def studio(
    browser: DevTools, root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ExportServer]:
    """A server for `root` (made here, beside an empty folder of the user's own
    routines), and the browser as a phone, watching for errors."""
    root.mkdir()
    monkeypatch.setenv("VOICE_COACH_ROUTINES", str(root.parent / "routines"))
    browser.call("Runtime.enable")
    viewport(browser, PHONE)
    with serving(ExportServer(root, ("127.0.0.1", 0), key=KEY)) as server:
        yield server


def viewport(browser: DevTools, size: tuple[int, int]) -> None:
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=size[0],
        height=size[1],
        deviceScaleFactor=1,
        mobile=size[0] < 600,
    )


def unlabelled(browser: DevTools) -> list[str]:
    """Form controls and buttons of the studio with no name a screen reader reads."""
    return list(
        browser.evaluate(
            "[...document.querySelectorAll('#studio input, #studio select, #studio button')]"
            ".filter((el) => el.tagName === 'BUTTON' ? !el.textContent.trim() : !el.labels.length)"
            ".map((el) => el.outerHTML.slice(0, 80))"
        )
    )


def test_studio_pick_tune_make_play_save_and_log(
    browser: DevTools,
    tmp_path: Path,
    cache_dir: Path,
    private_user_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole job from the phone, with the real default voice: pick the sciatica
    routine, set one hold to 45 s, make it, play it, jump a chapter, save the settings,
    log the session. Screenshots at 360 and 1280 px; timings in timings.json."""
    require_program("ffmpeg")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    timings: dict[str, float] = {}
    root = tmp_path / "exports"
    with studio(browser, root, monkeypatch) as server:
        # The address `serve` prints hands the key over, then the page is plain.
        browser.call("Page.navigate", url=server.key_url)
        browser.wait_until("location.search === '' && document.readyState === 'complete'")
        browser.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_LOAD)
        browser.call("Page.navigate", url=server.url)
        browser.wait_event("Page.loadEventFired")
        timings["page_load_ms"] = browser.wait_until("window.libraryShownMs")
        assert browser.evaluate("document.getElementById('studio').dataset.canWrite") == "true"
        assert browser.evaluate("document.getElementById('key-note')") is None

        # Pick, with the keyboard: focus moves to the routine.
        browser.evaluate(
            "document.querySelector('button.pick[data-name=\"sciatica-relief\"]').focus()"
        )
        started = time.monotonic()
        browser.key("Enter")
        browser.wait_until("!!document.querySelector('#routine h3')", STUDIO_TIMEOUT_S)
        timings["first_open_s"] = time.monotonic() - started
        assert browser.evaluate("document.activeElement.id") == "routine-title"
        assert browser.evaluate("document.querySelector('#routine h3').textContent") == (
            "Sciatica relief routine"
        )
        browser.key("Tab")  # "Pick another routine"
        browser.key("Tab")
        assert browser.evaluate("document.activeElement.id") == "picture-link"
        browser.key("Tab")
        assert browser.evaluate("document.activeElement.id") == "set-hold-1"
        assert unlabelled(browser) == []
        browser.wait_until("document.getElementById('picture').complete")
        assert browser.evaluate("document.getElementById('picture').naturalWidth") == 1000

        # One hold to 45 s: the length follows (after the pause typing waits for).
        length_before = browser.evaluate("document.getElementById('length').textContent")
        timings["timeline_update_ms"] = browser.evaluate(TIMELINE_UPDATE % "45")
        length_after = browser.evaluate("document.getElementById('length').textContent")
        assert length_after != length_before and "step 1 hold 45 s" in length_after
        timings["timeline_request_ms"] = browser.evaluate(
            "performance.getEntriesByType('resource')"
            ".filter((e) => e.name.includes('/api/routines/sciatica-relief?hold='))"
            ".at(-1).duration"
        )
        assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

        # Make it: a progress bar, then the player with its chapters.
        started = time.monotonic()
        browser.evaluate("document.getElementById('make').click()")
        browser.wait_until("!document.getElementById('making').hidden")
        browser.wait_until("!!document.querySelector('#made audio')", STUDIO_TIMEOUT_S)
        timings["warm_render_in_page_s"] = time.monotonic() - started
        made = root / "sciatica-relief-hold1x45.mp3"
        assert made.is_file()
        chapters = read_chapters(made)
        assert browser.evaluate("document.querySelectorAll('#made .chapters button').length") == (
            len(chapters)
        )
        assert browser.evaluate("document.getElementById('make-progress').value") == 1
        assert browser.evaluate("document.querySelector('#made a[download]').href").endswith(
            "/sciatica-relief-hold1x45.mp3"
        )

        # Play it, then jump to a chapter.
        audio = "document.querySelector('#made audio')"
        browser.evaluate(f"{audio}.play()")
        browser.wait_until(f"!{audio}.paused && {audio}.currentTime > 0.3", 30)
        start_s = chapters[3].start_ms / 1000
        browser.evaluate("document.querySelectorAll('#made .chapters button')[3].click()")
        position = browser.wait_until(
            f"!{audio}.paused && {audio}.currentTime > {start_s + 0.2} && {audio}.currentTime"
        )
        assert start_s < position < start_s + 5
        browser.evaluate(f"{audio}.pause()")
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot().save(shots / "studio-360-top.png")
        browser.evaluate("document.getElementById('routine').scrollIntoView()")
        browser.screenshot().save(shots / "studio-360-routine.png")
        browser.evaluate("document.getElementById('made').scrollIntoView()")
        browser.screenshot().save(shots / "studio-360-made.png")

        # Save as my settings: the profile has it, and `settings` shows it.
        browser.evaluate("document.getElementById('save').click()")
        browser.wait_until(
            "document.getElementById('studio-status').textContent.startsWith('Saved')"
        )
        profile = (private_user_dirs / "config" / "profile.yaml").read_text()
        assert (
            "sciatica-relief:" in profile and "Lying crossed-leg piriformis stretch: 45" in profile
        )
        shown = CliRunner().invoke(app, ["settings", "sciatica-relief"])
        row = next(x for x in shown.stdout.splitlines() if x.startswith("step 1 hold"))
        assert "45 s" in row and "profile routines.sciatica-relief" in row

        # I did this: recorded like `log`, and the history view follows.
        browser.evaluate("document.getElementById('done').click()")
        browser.wait_until(
            "document.getElementById('studio-status').textContent.startsWith('Logged')"
        )
        browser.wait_until(
            "document.querySelector('#history .streak').textContent === 'Streak: 1 day'"
        )
        with History.open() as history:
            (session,) = history.sessions()
        assert (session.routine, session.source) == ("sciatica-relief", "log")
        assert session.settings["holds_s"]["1"] == 45

        browser.evaluate("document.getElementById('practice').scrollIntoView()")
        browser.screenshot().save(shots / "studio-360-practice.png")
        browser.screenshot(whole_page=True).save(shots / "studio-360-whole.png")
        viewport(browser, WIDE)
        browser.evaluate("window.scrollTo(0, 0)")
        browser.screenshot().save(shots / "studio-1280-top.png")
        browser.screenshot(whole_page=True).save(shots / "studio-1280-whole.png")
        assert browser.evaluate("document.documentElement.scrollWidth") <= WIDE[0]

        # The warm render of the routine with one changed hold, through the API alone.
        timings["warm_render_api_s"] = timed_render(server, {"hold": ["1=50"]})
        errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        assert errors == []
    (tmp_path / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print(f"\nstudio timings: {json.dumps(timings)}\nscreenshots: {shots}")


def timed_render(server: ExportServer, settings: dict[str, Any]) -> float:
    """Seconds from asking for a render of the sciatica routine to its being done."""
    import http.client

    def call(method: str, path: str, body: Any = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
            conn.request(method, path, body=data, headers=headers)
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def ended() -> dict[str, Any] | None:
        render = call("GET", f"/api/exports/{asked['id']}")
        return None if render["state"] in ("queued", "running") else render

    started = time.monotonic()
    asked = call("POST", "/api/exports", {"routine": "sciatica-relief", "settings": settings})
    render = wait_until(ended, f"render {asked['id']} to end", 60)
    assert render["state"] == "done", render
    return time.monotonic() - started


def test_studio_without_the_key_and_with_bad_values(
    browser: DevTools,
    tmp_path: Path,
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a phone without the key: it says how to get it, and the write buttons are off
    (the API refuses writes without it too); a bad value is named at its field."""
    monkeypatch.setattr(speech, "default_engine", lambda language=None: DefaultEngine("fake", "t"))
    root = tmp_path / "exports"
    with studio(browser, root, monkeypatch) as server:
        browser.call("Page.navigate", url=server.url)
        browser.wait_event("Page.loadEventFired")
        assert "scan the QR code" in browser.evaluate(
            "document.getElementById('key-note').textContent"
        )
        browser.wait_until("document.querySelectorAll('button.pick').length > 0")
        browser.evaluate(
            "document.querySelector('button.pick[data-name=\"sciatica-relief\"]').click()"
        )
        browser.wait_until("!!document.querySelector('#routine h3')")
        assert unlabelled(browser) == []

        browser.evaluate(
            "(() => { const i = document.getElementById('set-hold-3'); i.value = '0';"
            " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
        browser.wait_until("document.getElementById('set-hold-3-error').textContent !== ''")
        assert "from 1 to 10800 seconds" in browser.evaluate(
            "document.getElementById('set-hold-3-error').textContent"
        )
        invalid = browser.evaluate(
            "[...document.querySelectorAll('[aria-invalid=true]')].map((el) => el.id)"
        )
        assert "set-hold-3" in invalid
        browser.evaluate(
            "(() => { const i = document.getElementById('set-hold-3'); i.value = '30';"
            " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
        browser.wait_until("document.getElementById('set-hold-3-error').textContent === ''")
        assert browser.evaluate("document.querySelectorAll('[aria-invalid]').length") == 0

        assert browser.evaluate("document.getElementById('make').disabled") is True
        assert browser.evaluate("document.getElementById('done').disabled") is True
        assert "scan the QR code" in browser.evaluate(
            "document.getElementById('key-needed').textContent"
        )
        browser.evaluate("document.getElementById('make').click()")
        browser.evaluate("document.getElementById('done').click()")
        # What the buttons would send is refused all the same, with the sentence to fix it.
        refusal = browser.evaluate(
            "fetch('/api/history', {method: 'POST', headers: {'Content-Type': 'application/json'},"
            " body: JSON.stringify({routine: 'sciatica-relief'})}).then((r) => r.json())"
        )
        assert refusal["field"] == "key" and "scan the QR code" in refusal["error"]
        assert list(root.iterdir()) == []
        with History.open() as history:
            assert history.sessions() == []
        errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        assert errors == []


def test_the_page_logs_a_pain_rating_and_a_note(
    browser: DevTools,
    tmp_path: Path,
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    private_user_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """I did this, with the pain now and a note: a bad rating is refused in the
    command line's words and nothing is written; a good one is recorded with the note."""
    monkeypatch.setattr(speech, "default_engine", lambda language=None: DefaultEngine("fake", "t"))
    root = tmp_path / "exports"
    with studio(browser, root, monkeypatch) as server:
        browser.call("Page.navigate", url=server.key_url)
        browser.wait_until("location.search === '' && document.readyState === 'complete'")
        browser.wait_until("document.querySelectorAll('button.pick').length > 0")
        browser.evaluate(
            "document.querySelector('button.pick[data-name=\"sciatica-relief\"]').click()"
        )
        browser.wait_until("!!document.querySelector('#log-pain')")
        assert unlabelled(browser) == []
        type_in = (
            "(() => { const i = document.getElementById('%s'); i.value = %s;"
            " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
        browser.evaluate(type_in % ("log-pain", "'12'"))
        browser.evaluate("document.getElementById('done').click()")
        browser.wait_until("document.getElementById('tune-error').textContent !== ''")
        assert browser.evaluate("document.getElementById('tune-error').textContent") == (
            "pain: a pain rating must be a whole number from 0 to 10, got 12"
        )
        with History.open() as history:
            assert history.sessions() == []

        browser.evaluate(type_in % ("log-pain", "'3'"))
        browser.evaluate(type_in % ("log-note", "'easier than last week'"))
        browser.evaluate("document.getElementById('done').click()")
        browser.wait_until(
            "document.getElementById('studio-status').textContent.startsWith('Logged')"
        )
        assert "Pain 3." in browser.evaluate("document.getElementById('studio-status').textContent")
        assert browser.evaluate("document.getElementById('tune-error').textContent") == ""
        with History.open() as history:
            (session,) = history.sessions()
        assert (session.routine, session.source) == ("sciatica-relief", "log")
        assert (session.pain_after, session.note) == (3, "easier than last week")
        errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        assert errors == []
