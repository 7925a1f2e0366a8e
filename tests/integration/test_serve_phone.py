"""The studio page as a phone (320 x 640) and a desktop (1280 x 800) meet it, in a real
headless Chromium: the key message stays, errors sit beside their field, number
fields refuse what is not a number, no path of this computer shows, no control is
clipped and every tap target is a thumb's size, the page follows a Make without a
reload, titles name what differs from the script, "waiting" shows only behind another
render, the address says when a phone cannot open it, and every card knows its length.

One server (the fake voice: speech is instant) and one browser serve the whole module.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from conftest import FakeEngine, require_program
from serving import serving

from voice_coach import speech
from voice_coach.serve.http import ExportServer
from voice_coach.speech import DefaultEngine

from .test_serve_browser import DevTools, open_browser

pytestmark = pytest.mark.integration

KEY = "p" * 32
PHONE, DESKTOP = (320, 640), (1280, 800)
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["320x640", "1280x800"])
ROUTINE = "sciatica-relief"
KNEE_HUG = 7
"""The knee hug's step number in the sciatica routine."""
REPO = Path(__file__).resolve().parents[2]
TAP_PX = 44


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExportServer]:
    require_program("ffmpeg")
    base = tmp_path_factory.mktemp("phone")
    root = base / "exports"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(speech.BUILTIN_ENGINES, "fake", FakeEngine)
        patch.setattr(speech, "default_engine", lambda language=None: DefaultEngine("fake", "t"))
        patch.setenv("VOICE_COACH_CACHE", str(base / "cache"))
        with serving(ExportServer(root, ("127.0.0.1", 0), key=KEY)) as server:
            yield server


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    with open_browser(tmp_path_factory.mktemp("chromium") / "profile") as devtools:
        devtools.call("Runtime.enable")
        yield devtools


def open_page(browser: DevTools, served: ExportServer, size: tuple[int, int], key: bool) -> None:
    """The page at `size`, with the key (its cookie) or without it."""
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=size[0],
        height=size[1],
        deviceScaleFactor=1,
        mobile=size[0] < 600,
    )
    browser.call("Network.enable")
    browser.call("Network.clearBrowserCookies")
    browser.events.clear()
    if key:
        browser.call("Page.navigate", url=served.key_url)
        browser.wait_until("location.search === '' && document.readyState === 'complete'")
    else:
        browser.call("Page.navigate", url=served.url)
        browser.wait_until("document.readyState === 'complete'")
    browser.wait_until("document.querySelectorAll('button.pick').length > 0")


def pick(browser: DevTools, name: str = ROUTINE) -> None:
    browser.evaluate(f"document.querySelector('button.pick[data-name=\"{name}\"]').click()")
    browser.wait_until(
        "!!document.querySelector('#routine h3') && !!document.getElementById('make')"
    )
    browser.wait_until("document.getElementById('length').textContent.startsWith('Length ')")


def type_into(browser: DevTools, element_id: str, text: str) -> None:
    """Put `text` in a field as typing does (an input event)."""
    browser.evaluate(
        f"(() => {{ const i = document.getElementById({json.dumps(element_id)});"
        f" i.value = {json.dumps(text)};"
        " i.dispatchEvent(new Event('input', {bubbles: true})); })()"
    )


def no_script_errors(browser: DevTools) -> None:
    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert errors == []


def rect(browser: DevTools, selector: str) -> dict[str, float]:
    return dict(
        browser.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,"
            " right: r.right, width: r.width, height: r.height}; })()"
        )
    )


# -- 1. the key message stays; the write buttons are off without the key ---------------


@SIZES
def test_without_the_key_the_page_says_how_and_keeps_saying_it(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    open_page(chromium, served, size, key=False)
    pick(chromium)
    assert chromium.evaluate(
        "['make', 'save', 'done'].map((id) => document.getElementById(id).disabled)"
    ) == [True, True, True]
    assert chromium.evaluate("document.getElementById('undo').disabled") is False
    needed = "document.getElementById('key-needed').textContent"
    assert "scan the QR code" in chromium.evaluate(needed)
    assert "Authorization" not in chromium.evaluate("document.body.innerText")
    # A change, then the length's update: the sentence is still there.
    before = chromium.evaluate("document.getElementById('length').textContent")
    type_into(chromium, "set-hold-1", "44")
    chromium.wait_until(
        f"document.getElementById('length').textContent !== {json.dumps(before)}"
        " && document.getElementById('length').textContent.includes('44 s')"
    )
    chromium.evaluate("document.getElementById('make').click()")  # disabled: nothing
    assert "scan the QR code" in chromium.evaluate(needed)
    assert chromium.evaluate("document.getElementById('making').hidden") is True
    assert list(served.root.glob("*hold1x44*")) == []
    no_script_errors(chromium)


# -- 2 and 3: errors beside their field; letters refused -------------------------------


@SIZES
def test_an_error_sits_beside_its_field_and_names_the_step(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    open_page(chromium, served, size, key=True)
    pick(chromium)
    field = f"set-hold-{KNEE_HUG}"
    type_into(chromium, field, "-5")
    message = chromium.wait_until(f"document.getElementById('{field}-error').textContent")
    assert message == "Knee hug: hold must be from 1 to 10800 seconds (3 hours), got -5"
    # Only that field is marked, and the message is right under it.
    assert chromium.evaluate(
        "[...document.querySelectorAll('[aria-invalid=true]')].map((el) => el.id)"
    ) == [field]
    assert chromium.evaluate(
        f"document.getElementById('{field}').getAttribute('aria-describedby')"
    ) == (f"{field}-error")
    box, error = rect(chromium, f"#{field}"), rect(chromium, f"#{field}-error")
    assert 0 <= error["top"] - box["bottom"] < 20 and abs(error["left"] - box["left"]) < 5
    # The length and the step's hint say it cannot be known until it is fixed.
    length = chromium.evaluate("document.getElementById('length').textContent")
    assert length == "Length: not known until the Knee hug\u2019s hold is fixed."
    hint = chromium.evaluate(f"document.querySelector('[data-hint=\"{KNEE_HUG}\"]').textContent")
    assert "fixed" in hint and "as written" not in hint
    assert chromium.evaluate("document.getElementById('tune-error').textContent") == ""

    # An error only the server finds (an engine it does not have) sits by its field too.
    type_into(chromium, field, "60")
    chromium.wait_until("document.getElementById('length').textContent.startsWith('Length ')")
    chromium.evaluate(
        "(() => { const s = document.getElementById('set-engine');"
        " s.append(new Option('no-such-engine', 'no-such-engine', true, true));"
        " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )
    engine_error = chromium.wait_until("document.getElementById('set-engine-error').textContent")
    assert "no-such-engine" in engine_error
    assert chromium.evaluate(
        "[...document.querySelectorAll('[aria-invalid=true]')].map((el) => el.id)"
    ) == ["set-engine"]
    no_script_errors(chromium)


@SIZES
@pytest.mark.parametrize("typed", ["abc", "12abc", "1e9", "4.5.6"])
def test_a_number_field_refuses_what_is_not_a_number(
    chromium: DevTools, served: ExportServer, size: tuple[int, int], typed: str
) -> None:
    open_page(chromium, served, size, key=True)
    pick(chromium)
    type_into(chromium, "set-reps-1", typed)
    message = chromium.wait_until("document.getElementById('set-reps-1-error').textContent")
    assert message == (
        "Lying crossed-leg piriformis stretch: reps "
        f"\u201c{typed}\u201d is not a number: write digits, like 1"
    )
    assert chromium.evaluate("document.getElementById('set-reps-1').value") == typed  # kept
    assert chromium.evaluate("document.getElementById('length').textContent").startswith(
        "Length: not known until"
    )
    # Make refuses too, at the field, and makes nothing.
    chromium.evaluate("document.getElementById('make').click()")
    assert chromium.evaluate("document.activeElement.id") == "set-reps-1"
    assert chromium.evaluate("document.getElementById('making').hidden") is True


# -- 4. no path of this computer -----------------------------------------------------


def shown_text(browser: DevTools) -> str:
    """Everything the page shows or says: its text (details opened) and the attributes
    a person or a screen reader meets."""
    return str(
        browser.evaluate(
            "(() => { for (const d of document.querySelectorAll('details')) d.open = true;"
            " const attrs = [...document.querySelectorAll('*')].flatMap((el) =>"
            " ['title', 'alt', 'aria-label', 'placeholder'].map((a) => el.getAttribute(a) || ''));"
            " return document.body.innerText + '\\n' + attrs.join('\\n'); })()"
        )
    )


@SIZES
def test_no_path_of_this_computer_is_shown(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    open_page(chromium, served, size, key=True)
    pick(chromium)
    type_into(chromium, f"set-hold-{KNEE_HUG}", "1")  # too short for its lines: warnings
    chromium.wait_until("document.querySelectorAll('#warnings li').length > 0")
    warnings = chromium.evaluate(
        "[...document.querySelectorAll('#warnings li')].map((li) => li.textContent)"
    )
    assert all(w.startswith("step 7 (Knee hug): no room for") for w in warnings)
    text = shown_text(chromium)
    for path in (str(REPO), str(served.root), "/tmp/", "/home/", "/root/", ".yaml:"):
        assert path not in text


# -- 5 and 11: nothing clipped, thumb-sized targets ------------------------------------

CONTROLS = """
(() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const visible = (el) =>
    el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const canvas = document.createElement('canvas').getContext('2d');
  const clipped = [], small = [], sizes = {};
  for (const el of document.querySelectorAll('input, select, button, a[href], summary')) {
    if (!visible(el)) continue;
    const name = el.id || el.textContent.trim().slice(0, 30) || el.outerHTML.slice(0, 60);
    if (el.scrollWidth > el.clientWidth) clipped.push([name, el.scrollWidth, el.clientWidth]);
    if (el.tagName === 'SELECT') {
      // A select never scrolls: its chosen text against the room beside the arrow.
      const style = getComputedStyle(el);
      canvas.font = style.font;
      const text = canvas.measureText(el.selectedOptions[0].textContent).width;
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const room = el.clientWidth - padding - 24;
      if (text > room) clipped.push([name, Math.ceil(text), Math.floor(room)]);
    }
    const r = el.getBoundingClientRect();
    sizes[name] = [Math.round(r.width), Math.round(r.height)];
    if (r.width < TAP || r.height < TAP) {
      small.push([name, Math.round(r.width), Math.round(r.height)]);
    }
  }
  return {clipped, small, sizes, page: [document.documentElement.scrollWidth, innerWidth]};
})()
""".replace("TAP", str(TAP_PX))


@SIZES
def test_no_control_is_clipped_and_every_target_is_thumb_sized(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    open_page(chromium, served, size, key=True)
    pick(chromium)
    chromium.wait_until("document.getElementById('set-voice').options.length > 0")
    found = chromium.evaluate(CONTROLS)
    assert found["clipped"] == []
    assert found["small"] == []
    width, inner = found["page"]
    assert width <= inner
    sizes = found["sizes"]
    print(
        f"\n{size}: feed link {sizes['podcast feed']}, chimes box {sizes['set-chimes']},"
        f" smallest {min(min(wh) for wh in sizes.values())} px of {len(sizes)} targets"
    )


# -- 10. the routine opens at the top; Make in reach ---------------------------------


@SIZES
def test_the_routine_opens_at_the_top_with_make_in_reach(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    open_page(chromium, served, size, key=True)
    # The last card: the panel still opens above the list, and the page goes to it.
    last = chromium.evaluate("[...document.querySelectorAll('button.pick')].at(-1).dataset.name")
    chromium.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    pick(chromium, last)
    offset = chromium.evaluate(
        "document.getElementById('routine').getBoundingClientRect().top + scrollY"
    )
    assert offset < size[1]  # within the first screen of the page
    # Nothing in the open panel is wider than the screen (a phone would zoom out).
    assert chromium.evaluate("document.documentElement.scrollWidth") <= size[0]
    chromium.wait_until(
        "Math.abs(document.getElementById('routine').getBoundingClientRect().top) < 2"
    )
    # Make is on screen at the panel's top, and still while the fields scroll by.
    for fraction in (0, 0.5):
        chromium.evaluate(
            "(() => { const p = document.getElementById('routine');"
            f" scrollTo(0, p.offsetTop + {fraction} * (p.offsetHeight - innerHeight)); }})()"
        )
        make = rect(chromium, "#make")
        assert make["top"] >= 0 and make["bottom"] <= size[1]
    print(f"\n{size}: routine panel at {offset:.0f} px")


# -- 6, 7 and 8: after Make -----------------------------------------------------------

WATCH_MAKING = """
window.makeLabels = [];
new MutationObserver(() => {
  const label = document.getElementById('make-label');
  if (label && window.makeLabels.at(-1) !== label.textContent) {
    window.makeLabels.push(label.textContent);
  }
}).observe(document.getElementById('routine'),
  {subtree: true, childList: true, characterData: true});
"""


@SIZES
def test_after_make_the_file_is_listed_titled_by_its_change_and_played_in_view(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    hold = 41 if size == PHONE else 42  # a file of its own for each size
    open_page(chromium, served, size, key=True)
    pick(chromium)
    count_before = chromium.evaluate("document.getElementById('export-count').textContent")
    type_into(chromium, f"set-hold-{KNEE_HUG}", str(hold))
    chromium.wait_until(f"document.getElementById('length').textContent.includes('{hold} s')")
    chromium.evaluate(WATCH_MAKING)
    chromium.evaluate("document.getElementById('make').click()")
    chromium.wait_until("!!document.querySelector('#made audio')", 60)
    title = f"Sciatica relief routine (Knee hug hold {hold} s)"
    assert chromium.evaluate("document.querySelector('#made h4').textContent") == f"Made: {title}"
    # Listed under "Ready to play" and counted, with no reload.
    chromium.wait_until(
        "[...document.querySelectorAll('#exports .routine h3')]"
        f".some((h) => h.textContent === {json.dumps(title)})"
    )
    files = len(list(served.root.glob("*.mp3")))
    assert chromium.evaluate("document.getElementById('export-count').textContent") == (
        f"{files} exported file{'' if files == 1 else 's'}"
    )
    assert count_before != f"{files} exported files" or files == 1
    assert "then reload" not in chromium.evaluate("document.body.innerText")
    # The player is on screen.
    player = rect(chromium, "#made audio")
    assert player["top"] >= 0 and player["bottom"] <= size[1]
    # Nothing else was rendering: no "waiting for another render".
    labels = chromium.evaluate("window.makeLabels")
    assert labels and not any("Waiting" in label for label in labels), labels
    # The feed names the change too, and describes the item.
    with urlopen(served.url + "feed.xml", timeout=10) as reply:
        channel = ET.fromstring(reply.read()).find("channel")
    assert channel is not None and channel.findtext("image/url") == served.url + "feed.png"
    item = next(i for i in channel.iter("item") if i.findtext("title") == title)
    assert "Chapters: Introduction, " in (item.findtext("description") or "")
    no_script_errors(chromium)


# -- 9. without --lan ------------------------------------------------------------------


@SIZES
def test_without_lan_the_page_says_a_phone_cannot_open_it(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    open_page(chromium, served, size, key=True)
    footer = chromium.evaluate("document.querySelector('footer').innerText")
    assert "A phone cannot open this address" in footer and "voice-coach serve --lan" in footer
    assert chromium.evaluate("document.querySelector('footer img')") is None


# -- 10. every card knows its length --------------------------------------------------


@SIZES
def test_every_card_knows_its_length(
    chromium: DevTools, served: ExportServer, size: tuple[int, int]
) -> None:
    started = time.monotonic()
    open_page(chromium, served, size, key=False)
    metas: Any = chromium.wait_until(
        "(() => { const m = [...document.querySelectorAll('button.pick .meta')]"
        ".map((el) => el.textContent);"
        " return m.every((t) => / min \\d\\d s/.test(t)) && m; })()",
        60,
    )
    assert len(metas) >= 6 and not any("measur" in m or "open it" in m for m in metas)
    print(f"\n{size}: every length shown {time.monotonic() - started:.2f} s after opening")
