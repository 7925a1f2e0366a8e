"""The page's pain and progress section in a real headless Chromium: the chart the server
draws appears in the page (its script allowed by the page's policy, nothing fetched from
elsewhere), and one switch turns a routine's progression on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voice_coach.history import History, Session

from .test_serve_browser import DevTools, browser, studio  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration


def rated(days_ago: int, before: int, after: int) -> Session:
    start = datetime.now(UTC) - timedelta(days=days_ago)
    return Session(
        None,
        "piriformis-stretch",
        "Piriformis stretch",
        {},
        start,
        start + timedelta(minutes=6),
        1,
        1,
        True,
        "log",
        before,
        after,
    )


def test_the_chart_is_drawn_in_the_page_and_a_switch_turns_a_progression_on(
    browser: DevTools,  # noqa: F811 (the fixture)
    tmp_path: Path,
    private_user_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with History.open() as h:
        for days_ago, before, after in ((9, 5, 4), (2, 4, 2)):
            h.record(rated(days_ago, before, after))
    with studio(browser, tmp_path / "exports", monkeypatch) as server:
        browser.call("Page.navigate", url=server.key_url)
        browser.wait_until("location.search === '' && document.readyState === 'complete'")
        browser.call("Page.navigate", url=server.url)
        browser.wait_event("Page.loadEventFired")
        browser.wait_until("!!document.querySelector('#progress-chart svg')")
        size = browser.evaluate(
            "(() => { const r = document.querySelector('#progress-chart svg')"
            ".getBoundingClientRect(); return [r.width, r.height]; })()"
        )
        assert size[0] > 200 and size[1] > 80, size
        labels = browser.evaluate(
            "[...document.querySelectorAll('#progress-chart svg text')].map((t) => t.textContent)"
        )
        assert "pain after (average)" in labels
        dots = browser.evaluate("document.querySelectorAll('#progress-chart svg circle').length")
        assert dots >= 2  # a pain dot for each week with a rating (both before and after)

        box = "document.getElementById('build-up-piriformis-stretch')"
        browser.wait_until(f"!!{box}")
        assert browser.evaluate(f"{box}.checked") is False
        assert browser.evaluate(f"{box}.labels.length") == 1
        browser.evaluate(f"{box}.click()")
        browser.wait_until(
            f"{box} && {box}.checked && "
            # Two sessions without more pain: the second stage.
            f"{box}.closest('li').textContent.includes('stage 2 of 6: holds at 60 %')"
        )
    profile = private_user_dirs / "config" / "profile.yaml"
    assert "piriformis-stretch:\n    build_up: true" in profile.read_text(encoding="utf-8")


def test_a_sessions_rating_and_note_are_corrected_on_the_page(
    browser: DevTools,  # noqa: F811 (the fixture)
    tmp_path: Path,
    private_user_dirs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "Correct" beside a recent session changes what was changed (PATCH, as `amend`);
    a bad rating is refused beside the form and nothing is written."""
    with History.open() as h:
        sid = h.record(rated(1, 5, 4))
    with studio(browser, tmp_path / "exports", monkeypatch) as server:
        browser.call("Page.navigate", url=server.key_url)
        browser.wait_until("location.search === '' && document.readyState === 'complete'")
        browser.call("Page.navigate", url=server.url)
        browser.wait_event("Page.loadEventFired")
        item = f"document.querySelector('#history li[data-session=\"{sid}\"]')"
        browser.wait_until(f"!!{item}")
        assert "pain 5 → 4" in browser.evaluate(f"{item}.textContent")
        browser.evaluate(f"{item}.querySelector('button').click()")
        browser.wait_until(f"!!document.getElementById('fix-after-{sid}')")
        browser.evaluate(
            f"(() => {{ document.getElementById('fix-after-{sid}').value = '11';"
            f" {item}.querySelector('form').requestSubmit(); }})()"
        )
        browser.wait_until(f"{item}.querySelector('[role=alert]').hidden === false")
        refused = browser.evaluate(f"{item}.querySelector('[role=alert]').textContent")
        assert refused == "pain: a pain rating must be a whole number from 0 to 10, got 11"
        with History.open() as h:
            assert h.session(sid).pain_after == 4  # type: ignore[union-attr]
        browser.evaluate(
            f"(() => {{ document.getElementById('fix-after-{sid}').value = '6';"
            f" document.getElementById('fix-note-{sid}').value = 'sore after the stairs';"
            f" {item}.querySelector('form').requestSubmit(); }})()"
        )
        browser.wait_until(
            f"!!{item} && !{item}.querySelector('form')"
            f" && {item}.textContent.includes('pain 5 → 6')"
            f" && {item}.textContent.includes('sore after the stairs')"
        )
    with History.open() as h:
        corrected = h.session(sid)
    assert corrected is not None
    assert (corrected.pain_before, corrected.pain_after, corrected.note) == (
        5,
        6,
        "sore after the stairs",
    )
