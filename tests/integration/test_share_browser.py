"""Share, print and add on the page, in headless Chromium: without the key an upload is
refused (and nothing written); with it a valid routine file appears in the library, and
a broken one shows its problems by line beside the form; a routine's share view shows
its QR codes and links, and its print view is its card."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine

from voice_coach import speech
from voice_coach.speech import DefaultEngine

from .test_serve_browser import KEY, DevTools, browser, studio  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


def choose(browser: DevTools, path: Path) -> None:  # noqa: F811
    """Pick `path` in the Add form's file field, as a person would."""
    document = browser.call("DOM.getDocument")["root"]["nodeId"]
    node = browser.call("DOM.querySelector", nodeId=document, selector="#add-file")["nodeId"]
    browser.call("DOM.setFileInputFiles", files=[str(path)], nodeId=node)


def add(browser: DevTools, path: Path) -> None:  # noqa: F811
    browser.evaluate("delete document.getElementById('add-result').dataset.state")
    choose(browser, path)
    browser.evaluate("document.querySelector('#add-form button[type=submit]').click()")
    browser.wait_until(
        "['added', 'refused'].includes(document.getElementById('add-result').dataset.state)"
    )


def test_share_print_and_add(
    browser: DevTools,  # noqa: F811
    tmp_path: Path,
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(speech, "default_engine", lambda language=None: DefaultEngine("fake", "t"))
    mine = tmp_path / "routines"
    good = tmp_path / "upload" / "neck.yaml"
    good.parent.mkdir()
    good.write_text((ROUTINES / "minimal.yaml").read_text().replace("Minimal", "Morning neck"))
    broken = tmp_path / "upload" / "invalid-many.yaml"
    shutil.copy(ROUTINES / "invalid-many.yaml", broken)
    with studio(browser, tmp_path / "exports", monkeypatch) as server:
        # Without the key: refused, with how to get it; nothing written.
        browser.call("Page.navigate", url=server.url)
        browser.wait_event("Page.loadEventFired")
        browser.wait_until("document.querySelectorAll('#share-list li').length > 0")
        add(browser, good)
        said = browser.evaluate("document.getElementById('add-result').textContent")
        assert "this needs the key" in said
        assert not mine.exists()

        # With the key: added, and listed at once.
        browser.call("Page.navigate", url=f"{server.url}?key={KEY}")
        browser.wait_event("Page.loadEventFired")
        browser.wait_until("document.querySelectorAll('#share-list li').length > 0")
        add(browser, good)
        assert browser.evaluate("document.querySelector('#add-result .added').textContent") == (
            "Added: Morning neck (neck)."
        )
        browser.wait_until(
            "!!document.querySelector('#share-list li.fresh[data-routine=\"neck\"]')"
        )
        assert (mine / "neck.yaml").read_text() == good.read_text()
        # ...and in the studio's library at once, and after the page is opened again.
        browser.wait_until("!!document.querySelector('button.pick[data-name=\"neck\"]')")
        browser.call("Page.reload")
        browser.wait_event("Page.loadEventFired")
        browser.wait_until("!!document.querySelector('button.pick[data-name=\"neck\"]')")

        # A broken file: its problems by line, beside the form; nothing written.
        browser.wait_until("document.querySelectorAll('#share-list li').length > 0")
        add(browser, broken)
        error = browser.evaluate("document.querySelector('#add-result .error').textContent")
        assert error == "6 problems in invalid-many.yaml; nothing was added"
        problems = browser.evaluate(
            "[...document.querySelectorAll('#add-result .problems li')].map((li) => li.textContent)"
        )
        assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in (2, 2, 3, 6, 7, 9)]
        assert "must be from 1 to 10800 seconds (3 hours), got -3" in problems[3]
        assert sorted(p.name for p in mine.iterdir()) == ["neck.yaml"]

        # Share: QR codes and links; print: the card.
        browser.evaluate(
            "document.querySelector('#share-list li[data-routine=\"sciatica-relief\"] button')"
            ".click()"
        )
        browser.wait_until(
            'document.querySelectorAll(\'#share-list li[data-routine="sciatica-relief"] '
            ".share-qr img').length === 2"
        )
        links = browser.evaluate(
            '[...document.querySelectorAll(\'#share-list li[data-routine="sciatica-relief"] '
            ".share-view a')].map((a) => a.getAttribute('href'))"
        )
        base = server.url.rstrip("/")
        assert links[0] == f"{base}/api/routines/sciatica-relief/script"
        assert f"{base}/" in links and f"{base}/api/routines/sciatica-relief/card" in links
        browser.call("Page.navigate", url=links[-1])
        browser.wait_event("Page.loadEventFired")
        assert browser.evaluate("document.querySelector('h1').textContent") == (
            "Sciatica relief routine"
        )
        assert browser.evaluate("document.querySelectorAll('figure img').length") == 2
