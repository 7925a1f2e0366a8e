"""The served calendar of the plans (its key in its path, conditional GETs) and the
API that sets a plan."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from serving import serving

from voice_coach.serve.calendar import calendar_token, not_modified
from voice_coach.serve.http import ExportServer
from voice_coach.settings.profile import load_schedules

KEY = "k" * 32


@pytest.fixture
def server(
    tmp_path: Path, private_user_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ExportServer]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    root = tmp_path / "exports"
    root.mkdir()
    with serving(ExportServer(root, ("127.0.0.1", 0), key=KEY)) as served:
        yield served


def request(
    server: ExportServer, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def feed_path(server: ExportServer) -> str:
    return server.calendar_url.removeprefix(server.url.rstrip("/"))


def set_plan(server: ExportServer, name: str, plan: dict[str, Any]) -> dict[str, Any]:
    status, _, body = request(
        server, "PUT", f"/api/plans/{name}", plan, Authorization=f"Bearer {KEY}"
    )
    assert status == 200, body
    return dict(json.loads(body))


def test_the_calendar_needs_its_key_in_the_path(server: ExportServer) -> None:
    path = feed_path(server)
    assert path == f"/calendar/{calendar_token(KEY)}/practice.ics"
    assert KEY not in path  # the address reads the calendar; it is not the key that writes
    for wrong in (
        "/calendar/",
        "/calendar/practice.ics",
        f"/calendar/{KEY}/practice.ics",
        f"/calendar/{calendar_token(KEY)[:-1]}x/practice.ics",
        f"/calendar/{calendar_token('x' * 32)}/practice.ics",
    ):
        status, _, body = request(server, "GET", wrong)
        assert status == 403, wrong
        assert b"BEGIN:VCALENDAR" not in body
    status, headers, body = request(server, "GET", path)
    assert status == 200 and headers["content-type"].startswith("text/calendar")
    assert body.startswith(b"BEGIN:VCALENDAR")


def test_polls_are_cheap_and_an_edit_is_seen(server: ExportServer) -> None:
    path = feed_path(server)
    set_plan(server, "walking", {"at": ["07:30"], "days": "mon-fri"})
    status, headers, body = request(server, "GET", path)
    assert status == 200
    etag, modified = headers["etag"], headers["last-modified"]
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert event["DTSTART"].dt.strftime("%H:%M %Z") in ("07:30 CET", "07:30 CEST")
    # The page's address in the event (no export of the routine here).
    assert event["URL"] == server.url

    status, again, rest = request(server, "GET", path, **{"If-None-Match": etag})
    assert (status, rest, again["etag"]) == (304, b"", etag)
    status, _, _ = request(server, "GET", path, **{"If-Modified-Since": modified})
    assert status == 304
    status, _, _ = request(server, "GET", path, **{"If-None-Match": '"other"'})
    assert status == 200
    earlier = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    status, _, _ = request(server, "GET", path, **{"If-Modified-Since": earlier})
    assert status == 200

    set_plan(server, "walking", {"at": ["07:45"], "days": "mon-fri"})
    status, changed, body = request(server, "GET", path, **{"If-None-Match": etag})
    assert status == 200 and changed["etag"] != etag
    (moved,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert moved["UID"] == event["UID"] and moved["DTSTART"].dt.strftime("%H:%M") == "07:45"


def test_an_export_of_the_routine_is_the_events_address(server: ExportServer) -> None:
    set_plan(server, "walking", {"at": ["07:30"]})
    (server.root / "walking.mp3").write_bytes(b"ID3")  # listed by name; not played here
    _, _, body = request(server, "GET", feed_path(server))
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert event["URL"] == server.url + "walking.mp3"


def test_setting_a_plan_needs_the_key_and_checks_it(server: ExportServer) -> None:
    status, _, body = request(server, "PUT", "/api/plans/walking", {"at": ["07:30"]})
    assert status == 401
    assert load_schedules(None) == {}
    for plan, field in [
        ({"at": ["7.30"]}, "at"),
        ({"at": "07:30"}, "at"),
        ({"at": ["07:30"], "days": "someday"}, "days"),
        ({"at": ["07:30"], "often": 2}, "often"),
    ]:
        status, _, body = request(
            server, "PUT", "/api/plans/walking", plan, Authorization=f"Bearer {KEY}"
        )
        assert status == 400, plan
        assert json.loads(body)["field"] == field, body
    status, _, body = request(
        server, "PUT", "/api/plans/nope", {"at": ["07:30"]}, Authorization=f"Bearer {KEY}"
    )
    assert status == 404 and "no routine named 'nope'" in json.loads(body)["error"]
    assert load_schedules(None) == {}

    reply = set_plan(server, "walking", {"at": ["18:00", "07:30"], "times_per_week": 3})
    (plan,) = reply["plans"]
    assert plan["describe"] == "3 days a week at 07:30, 18:00"
    assert plan["this_week"].endswith(" of " + str(plan["weeks"][-1]["planned"]))
    assert load_schedules(None)["walking"].days_per_week == 3
    status, _, body = request(server, "GET", "/api/plans")
    assert status == 200 and json.loads(body)["plans"][0]["routine"] == "walking"
    status, _, body = request(server, "DELETE", "/api/plans/walking", Authorization=f"Bearer {KEY}")
    assert status == 200 and json.loads(body)["plans"] == []
    assert load_schedules(None) == {}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, False),
        ({"if-none-match": '"a"'}, True),
        ({"if-none-match": 'W/"a", "b"'}, True),
        ({"if-none-match": "*"}, True),
        ({"if-none-match": '"b"'}, False),
        # If-None-Match decides when both are given.
        ({"if-none-match": '"b"', "if-modified-since": "Tue, 01 Dec 2026 10:00:00 GMT"}, False),
        ({"if-modified-since": "Tue, 01 Dec 2026 10:00:00 GMT"}, True),
        ({"if-modified-since": "Tue, 01 Dec 2026 09:59:59 GMT"}, False),
        ({"if-modified-since": "yesterday"}, False),
    ],
)
def test_conditional_requests(headers: dict[str, str], expected: bool) -> None:
    modified = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert not_modified(headers, '"a"', modified) is expected


def test_a_broken_profile_is_a_500_that_names_no_path(
    server: ExportServer, private_user_dirs: Path
) -> None:
    profile = private_user_dirs / "config" / "profile.yaml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text("plans:\n  walking: {at: [7]}\n")
    status, _, body = request(server, "GET", feed_path(server))
    assert status == 500 and str(profile).encode() not in body
    profile.write_text("plans:\n  walking: {at: ['07:00']}\n")
    status, _, body = request(server, "GET", feed_path(server))
    assert status == 200 and b"BEGIN:VEVENT" in body
