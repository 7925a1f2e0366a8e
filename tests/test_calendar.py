"""The plans as a calendar feed, read back by a second, independent parser
(recurring-ical-events, which expands the recurrences itself): times across a
daylight-saving change, reminders, lengths, and UIDs that survive an edited plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.calendar import Entry, build_calendar
from voice_coach.schedule import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
STAMP = datetime(2027, 3, 1, 12, tzinfo=UTC)
SINCE = date(2027, 3, 22)  # a Monday; Berlin moves its clocks on Sunday 28 March 2027
runner = CliRunner()


def relief(times: tuple[time, ...] = (time(8), time(18))) -> Entry:
    schedule = Schedule("relief", times, tuple(range(5)), None, SINCE)
    return Entry(schedule, "Sciatica relief", 9 * 60_000 + 20_000, True, "http://pc:8765/")


def occurrences(data: bytes, start: date, end: date) -> list[icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    found = recurring_ical_events.of(calendar).between(start, end)
    return sorted(found, key=lambda e: e["DTSTART"].dt)


def test_occurrences_keep_the_local_time_across_the_daylight_saving_change() -> None:
    data = build_calendar([relief()], BERLIN, STAMP, "pc")
    found = occurrences(data, SINCE, date(2027, 4, 3))
    starts = [e["DTSTART"].dt for e in found]
    # Two a weekday over two weeks, at 08:00 and 18:00 Berlin time on both sides.
    assert len(starts) == 20
    assert {s.astimezone(BERLIN).time() for s in starts} == {time(8), time(18)}
    assert {s.weekday() for s in starts} == {0, 1, 2, 3, 4}
    before = [s for s in starts if s.date() < date(2027, 3, 28)]
    after = [s for s in starts if s.date() > date(2027, 3, 28)]
    assert {s.utcoffset() for s in before} == {timedelta(hours=1)}
    assert {s.utcoffset() for s in after} == {timedelta(hours=2)}
    # Absolute times: 07:00 UTC, then 06:00 UTC.
    assert before[0].astimezone(UTC).hour == 7 and after[0].astimezone(UTC).hour == 6
    first = found[0]
    assert first["SUMMARY"] == "Sciatica relief"
    assert first["DTEND"].dt - first["DTSTART"].dt == timedelta(minutes=10)  # 9 min 20 s, up
    assert "http://pc:8765/" in (first["URL"], *str(first["DESCRIPTION"]).split("\n"))
    alarms = [c for c in first.walk("VALARM")]
    assert len(alarms) == 1 and alarms[0]["TRIGGER"].dt == timedelta(minutes=-10)
    assert alarms[0]["ACTION"] == "DISPLAY"
    # The feed carries its own time zone definition.
    assert b"BEGIN:VTIMEZONE" in data and b"TZID:Europe/Berlin" in data


def test_uids_are_stable_when_the_plan_is_edited() -> None:
    before = build_calendar([relief()], BERLIN, STAMP, "pc")
    moved = build_calendar([relief((time(8, 30), time(18)))], BERLIN, STAMP, "pc")

    def uids(data: bytes) -> dict[str, time]:
        cal = icalendar.Calendar.from_ical(data)
        return {str(e["UID"]): e["DTSTART"].dt.time() for e in cal.walk("VEVENT")}

    assert uids(before) == {
        "voice-coach-relief-1@pc": time(8),
        "voice-coach-relief-2@pc": time(18),
    }
    assert uids(moved) == {
        "voice-coach-relief-1@pc": time(8, 30),
        "voice-coach-relief-2@pc": time(18),
    }
    # The same plans give the same bytes (what the served feed's ETag relies on).
    assert build_calendar([relief()], BERLIN, STAMP, "pc") == before


def test_n_days_a_week_lands_on_spread_days_and_rest_days_are_left_out() -> None:
    walk = Entry(Schedule("walk", (time(7, 30),), None, 3, SINCE), "Walk", None)
    rest = frozenset({date(2027, 3, 24)})
    data = build_calendar([walk], NEW_YORK, STAMP, "pc", rest)
    found = occurrences(data, SINCE, date(2027, 4, 4))
    days = [e["DTSTART"].dt.date() for e in found]
    # Monday, Wednesday, Friday; Wednesday the 24th is a rest day.
    assert days == [
        date(2027, 3, 22),
        date(2027, 3, 26),
        date(2027, 3, 29),
        date(2027, 3, 31),
        date(2027, 4, 2),
    ]
    assert {e["DTSTART"].dt.astimezone(NEW_YORK).time() for e in found} == {time(7, 30)}
    assert "length not known" in str(found[0]["DESCRIPTION"])


def test_the_command_writes_the_profiles_plans(
    private_user_dirs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    out = tmp_path / "plans.ics"
    for args in (
        ["plan", "sciatica-relief", "--at", "08:00", "--at", "18:00", "--days", "mon-fri"],
        ["calendar", "-o", str(out)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert "wrote 2 events" in result.stdout
    first = icalendar.Calendar.from_ical(out.read_bytes())
    events = list(first.walk("VEVENT"))
    assert {str(e["SUMMARY"]) for e in events} == {"Sciatica relief routine"}
    assert {e["DTSTART"].dt.tzinfo.key for e in events} == {"Europe/Berlin"}  # type: ignore[union-attr]
    assert all(e["DURATION"].dt >= timedelta(minutes=5) for e in events)
    result = runner.invoke(app, ["plan", "sciatica-relief", "--at", "07:45", "--days", "mon-fri"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["calendar", "-o", str(out)]).exit_code == 0
    second = icalendar.Calendar.from_ical(out.read_bytes())
    (event,) = second.walk("VEVENT")
    assert event["UID"] in {e["UID"] for e in events}
    assert event["DTSTART"].dt.time() == time(7, 45)


def test_no_file_is_left_when_the_calendar_cannot_be_written(
    private_user_dirs: Path, tmp_path: Path
) -> None:
    target = tmp_path / "missing-folder" / "x" / "plans.ics"
    (tmp_path / "missing-folder").write_text("a file, not a folder")
    result = runner.invoke(app, ["calendar", "-o", str(target)])
    assert result.exit_code == 1
    assert "cannot write" in result.output or "error" in result.output
