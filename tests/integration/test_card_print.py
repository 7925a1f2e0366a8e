"""The card printed by headless Chromium: one page at A4 and at Letter for the bundled
sciatica routine, and its QR codes read back by a real decoder (zxing-cpp)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import zxingcpp
from conftest import FakeEngine
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.routine.imports import read_routines
from voice_coach.routine.library import find_routine
from voice_coach.routine.loader import load_routine, parse_routine

from .test_serve_browser import DevTools, browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.integration

PAPER_IN = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}
PAGE_URL = "http://192.168.1.20:8765/"
MP3_URL = "http://192.168.1.20:8765/sciatica-relief.mp3"


@pytest.fixture
def card(tmp_path: Path, fake_engine: type[FakeEngine], cache_dir: Path) -> Path:
    out = tmp_path / "card.html"
    result = CliRunner().invoke(
        app,
        [
            "card",
            "sciatica-relief",
            "--engine",
            "fake",
            "-o",
            str(out),
            "--page",
            PAGE_URL,
            *("--mp3", MP3_URL),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def pages(pdf: bytes) -> int:
    """How many pages a PDF has (its page objects: `/Type /Page`, not `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


@pytest.mark.parametrize("paper", list(PAPER_IN))
def test_card_prints_on_one_page(browser: DevTools, card: Path, paper: str) -> None:  # noqa: F811
    browser.call("Page.navigate", url=card.as_uri())
    browser.wait_event("Page.loadEventFired")
    width_in, height_in = PAPER_IN[paper]
    printed = browser.call(
        "Page.printToPDF", paperWidth=width_in, paperHeight=height_in, printBackground=False
    )
    pdf = base64.b64decode(printed["data"])
    assert pdf.startswith(b"%PDF")
    assert pages(pdf) == 1
    # A card that is twice as long prints on two: the count is a real one.
    browser.evaluate(
        "document.querySelector('ol.steps').innerHTML += "
        "document.querySelector('ol.steps').innerHTML"
    )
    longer = browser.call("Page.printToPDF", paperWidth=width_in, paperHeight=height_in)
    assert pages(base64.b64decode(longer["data"])) == 2


def test_card_qr_codes_read_back(browser: DevTools, card: Path) -> None:  # noqa: F811
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=794,
        height=1123,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.call("Page.navigate", url=card.as_uri())
    browser.wait_event("Page.loadEventFired")
    shot = browser.screenshot(whole_page=True)
    found = {code.text for code in zxingcpp.read_barcodes(shot)}
    assert PAGE_URL in found and MP3_URL in found
    (script,) = found - {PAGE_URL, MP3_URL}
    carried = parse_routine(script)
    original = load_routine(find_routine("sciatica-relief"))
    assert carried.title == original.title
    assert [s.name for s in carried.exercises] == [s.name for s in original.exercises]
    assert [s.hold_s for s in carried.exercises] == [s.hold_s for s in original.exercises]
    # ...and `import` (or Add a routine) takes it as it is.
    (taken,) = read_routines(script.encode(), "scanned.yaml")
    assert taken.title == original.title
