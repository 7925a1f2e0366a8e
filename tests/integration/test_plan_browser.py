"""The page's plan in a real headless Chromium: the calendar's address beside the
page's, a plan set from the phone (and refused with its field when wrong), the
routine picked in the studio planned, and what the calendar then holds."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import icalendar
import pytest
from conftest import FakeEngine

from voice_coach import speech
from voice_coach.settings.profile import load_schedules
from voice_coach.speech import DefaultEngine

from .test_serve_browser import DevTools, browser, studio  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


def set_value(devtools: DevTools, element_id: str, value: str) -> None:
    devtools.evaluate(
        f"(() => {{ const i = document.getElementById({json.dumps(element_id)});"
        f" i.value = {json.dumps(value)}; i.dispatchEvent(new Event('input', {{bubbles: true}}));"
        " })()"
    )


def test_the_page_sets_a_plan_and_shows_the_calendar(
    browser: DevTools,  # noqa: F811
    tmp_path: Path,
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(speech, "default_engine", lambda language=None: DefaultEngine("fake", "t"))
    monkeypatch.setenv("TZ", "Europe/Berlin")
    with studio(browser, tmp_path / "exports", monkeypatch) as server:
        browser.call("Page.navigate", url=server.key_url)
        browser.wait_until("location.search === '' && document.readyState === 'complete'")
        assert browser.evaluate("document.getElementById('calendar-url').textContent") == (
            server.calendar_url
        )
        assert browser.evaluate("document.querySelector('#calendar-feed img').naturalWidth") > 0
        browser.wait_until("document.getElementById('plan-list').textContent === 'No plans yet.'")
        browser.wait_until("document.querySelectorAll('#plan-routine option').length > 1")

        # Picking a routine in the studio makes it the one to plan.
        browser.evaluate("document.querySelector('button.pick[data-name=\"walking\"]').click()")
        browser.wait_until("document.getElementById('plan-routine').value === 'walking'")

        # A bad time: refused, at its field, and nothing written.
        set_value(browser, "plan-at", "7.30")
        browser.evaluate("document.getElementById('plan-save').click()")
        browser.wait_until(
            "document.getElementById('plan-at').getAttribute('aria-invalid') === 'true'"
        )
        assert "is not a time" in browser.evaluate(
            "document.getElementById('plan-status').textContent"
        )
        assert load_schedules(None) == {}

        set_value(browser, "plan-at", "18:00, 07:30")
        set_value(browser, "plan-days", "mon-fri")
        browser.evaluate("document.getElementById('plan-save').click()")
        browser.wait_until(
            "document.getElementById('plan-status').textContent.startsWith('Planned walking')"
        )
        assert load_schedules(None)["walking"].describe() == "weekdays at 07:30, 18:00"
        kept = browser.evaluate("document.querySelector('#plan-list .kept').textContent")
        assert " this week · streak: 0 planned days" in kept
        assert (
            browser.evaluate("document.getElementById('plan-at').hasAttribute('aria-invalid')")
            is False
        )

        browser.evaluate("document.getElementById('plans').scrollIntoView()")
        browser.screenshot().save(tmp_path / "plan-360.png")

        # The calendar the phone subscribes to has it.
        with urllib.request.urlopen(server.calendar_url, timeout=30) as reply:
            events = list(icalendar.Calendar.from_ical(reply.read()).walk("VEVENT"))
        assert sorted(e["DTSTART"].dt.strftime("%H:%M") for e in events) == ["07:30", "18:00"]

        # Removed from the page too.
        browser.evaluate("document.querySelector('#plan-list button').click()")
        browser.wait_until("document.getElementById('plan-list').textContent === 'No plans yet.'")
        assert load_schedules(None) == {}
        errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        assert errors == []
