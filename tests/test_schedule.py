"""Plans (schedules), how well they were kept, and what today asks: table-driven over
made-up histories and plans."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from voice_coach.schedule import (
    Schedule,
    ScheduleValueError,
    adherence,
    days_text,
    parse_days,
    parse_times,
    sessions_per_day,
    today_status,
    week,
)

BERLIN = ZoneInfo("Europe/Berlin")
MON = date(2026, 11, 30)  # a Monday
"""The week of MON: Mon 30 Nov to Sun 6 Dec."""


def d(offset: int) -> date:
    """The day `offset` days after MON."""
    return MON + timedelta(days=offset)


def weekdays_twice(since: date | None = None) -> Schedule:
    return Schedule("relief", (time(8), time(18)), tuple(range(5)), None, since)


def three_a_week(since: date | None = None) -> Schedule:
    return Schedule("walk", (time(7, 30),), None, 3, since)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("every day", (0, 1, 2, 3, 4, 5, 6)),
        ("daily", (0, 1, 2, 3, 4, 5, 6)),
        ("weekdays", (0, 1, 2, 3, 4)),
        ("Weekends", (5, 6)),
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("mon,wed,fri", (0, 2, 4)),
        ("tue-thu, sun", (1, 2, 3, 6)),
        ("monday,friday", (0, 4)),
        (["tue", "thu"], (1, 3)),
    ],
)
def test_days_are_read_in_every_form(text: str | list[str], days: tuple[int, ...]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("funday", "'funday' is not a day"),
        ("fri-mon", "runs backwards"),
        ("", "no days given"),
        ("mo", "'mo' is not a day"),
    ],
)
def test_unknown_days_are_refused_naming_them(text: str, why: str) -> None:
    with pytest.raises(ScheduleValueError, match=why):
        parse_days(text)


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ((0, 1, 2, 3, 4, 5, 6), "every day"),
        ((0, 1, 2, 3, 4), "weekdays"),
        ((0, 2, 4), "mon,wed,fri"),
        ((0, 2, 3, 4), "mon,wed-fri"),
        ((0, 1, 5, 6), "mon,tue,sat,sun"),
    ],
)
def test_days_are_written_shortest(days: tuple[int, ...], text: str) -> None:
    assert days_text(days) == text
    assert parse_days(text) == days


def test_times_are_sorted_and_checked() -> None:
    assert parse_times(["18:00", "8:05"]) == (time(8, 5), time(18))
    for bad, why in [
        (["24:00"], "'24:00' is not a time"),
        (["8h"], "'8h' is not a time"),
        (["08:60"], "is not a time"),
        ([], "at least one"),
        (["08:00", "08:00"], "08:00 is given twice"),
        ([f"{h:02d}:00" for h in range(13)], "13 sessions a day; at most 12"),
    ]:
        with pytest.raises(ScheduleValueError, match=why):
            parse_times(bad)


# -- planned against done per week ----------------------------------------------------------

WEEK_CASES = [
    # (schedule, sessions per day, rest days, planned, done)
    (weekdays_twice(), {}, set(), 10, 0),
    (weekdays_twice(), {d(0): 2, d(1): 2, d(2): 1}, set(), 10, 5),
    # a third session on a day counts once for that day, no more than planned
    (weekdays_twice(), {d(0): 3}, set(), 10, 2),
    # Saturday's session stands in for a missed weekday one
    (weekdays_twice(), {d(0): 2, d(5): 1}, set(), 10, 3),
    (weekdays_twice(), {d(i): 2 for i in range(7)}, set(), 10, 10),
    # made on Wednesday: Monday and Tuesday were neither planned nor count
    (weekdays_twice(since=d(2)), {d(0): 2, d(2): 2}, set(), 6, 2),
    # rest days after a flare-up are not planned
    (weekdays_twice(), {d(0): 2}, {d(1), d(2)}, 6, 2),
    (three_a_week(), {d(0): 1, d(3): 1}, set(), 3, 2),
    (three_a_week(), {d(0): 2, d(1): 1, d(2): 1, d(3): 1}, set(), 3, 3),
    # six rest days leave one day to practise on
    (three_a_week(), {}, {d(i) for i in range(6)}, 1, 0),
    # made on Saturday: two days left in the week
    (three_a_week(since=d(5)), {d(1): 1}, set(), 2, 0),
]


@pytest.mark.parametrize(("schedule", "done", "rest", "planned", "kept"), WEEK_CASES)
def test_a_week_planned_against_done(
    schedule: Schedule, done: dict[date, int], rest: set[date], planned: int, kept: int
) -> None:
    w = week(schedule, done, d(3), frozenset(rest))
    assert (w.monday, w.planned, w.done) == (MON, planned, kept)
    assert w.text() == f"{kept} of {planned}"


def full(days: range | list[int], n: int = 2) -> dict[date, int]:
    return {d(i): n for i in days}


STREAK_CASES = [
    # (schedule, sessions per day, today's offset, rest days, streak, unit)
    # Weekdays kept Mon-Fri, today Sunday: the weekend neither breaks nor counts.
    (weekdays_twice(), full(range(5)), 6, set(), 5, "day"),
    # ...and on the next Monday, before its sessions, still 5 (the day is not over).
    (weekdays_twice(), full(range(5)), 7, set(), 5, "day"),
    # the Monday done too: 6
    (weekdays_twice(), full([*range(5), 7]), 7, set(), 6, "day"),
    # a day with one of two sessions is not kept: it ends the streak
    (weekdays_twice(), {**full(range(5)), d(2): 1}, 6, set(), 2, "day"),
    # a weekday missed last week ends it even though the weekend was free
    (weekdays_twice(), full([0, 1, 3, 4, 7, 8]), 8, set(), 4, "day"),
    # a rest day (flare-up) is skipped: neither kept nor missed
    (weekdays_twice(), full([0, 1, 3, 4]), 4, {d(2)}, 4, "day"),
    # practising on a day off the plan does not add to it
    (weekdays_twice(), full(range(7)), 6, set(), 5, "day"),
    # nothing done: 0
    (weekdays_twice(), {}, 3, set(), 0, "day"),
    # N days a week: whole weeks kept; this week not yet complete does not break it
    (
        three_a_week(),
        {d(-7): 1, d(-5): 1, d(-3): 1, d(0): 1, d(2): 1, d(4): 1},
        8,
        set(),
        2,
        "week",
    ),
    (three_a_week(), {d(-7): 1, d(-5): 1, d(0): 1, d(2): 1, d(4): 1}, 6, set(), 1, "week"),
]


@pytest.mark.parametrize(("schedule", "done", "today", "rest", "streak", "unit"), STREAK_CASES)
def test_a_streak_counts_planned_days_kept(
    schedule: Schedule,
    done: dict[date, int],
    today: int,
    rest: set[date],
    streak: int,
    unit: str,
) -> None:
    kept = adherence(schedule, done, d(today), weeks=2, rest_days=frozenset(rest))
    assert (kept.streak, kept.streak_unit) == (streak, unit)
    assert len(kept.weeks) == 2 and kept.this_week.monday == d(today) - timedelta(
        days=d(today).weekday()
    )


def test_sessions_count_on_the_day_of_the_persons_time_zone() -> None:
    # 23:30 UTC on Monday is already Tuesday in Berlin.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert sessions_per_day([late], BERLIN) == {d(1): 1}


# -- today ----------------------------------------------------------------------------------


def at(offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d(offset), time(hour, minute), BERLIN)


TODAY_CASES = [
    # (now, sessions per routine and day, rest days, slots (time, routine, done), due now, next)
    (
        at(1, 6),
        {},
        set(),
        [("08:00", "relief", False), ("18:00", "relief", False)],
        [],
        ("relief", at(1, 8)),
    ),
    # within the hour before a session, it is due
    (
        at(1, 7, 30),
        {},
        set(),
        [("08:00", "relief", False), ("18:00", "relief", False)],
        ["relief"],
        ("relief", at(1, 18)),
    ),
    # the morning's done: the evening's is next
    (
        at(1, 9),
        {"relief": {d(1): 1}},
        set(),
        [("08:00", "relief", True), ("18:00", "relief", False)],
        [],
        ("relief", at(1, 18)),
    ),
    # both done, late: nothing due; next is Wednesday's
    (
        at(1, 20),
        {"relief": {d(1): 2}},
        set(),
        [("08:00", "relief", True), ("18:00", "relief", True)],
        [],
        ("relief", at(2, 8)),
    ),
    # a missed morning session stays due all day
    (
        at(1, 12),
        {},
        set(),
        [("08:00", "relief", False), ("18:00", "relief", False)],
        ["relief"],
        ("relief", at(1, 18)),
    ),
    # Saturday: nothing planned, next is Monday's
    (at(5, 12), {}, set(), [], [], ("relief", at(7, 8))),
    # a rest day: nothing due, next after it
    (at(1, 12), {}, {d(1)}, [], [], ("relief", at(2, 8))),
]


@pytest.mark.parametrize(("now", "done", "rest", "slots", "due", "nxt"), TODAY_CASES)
def test_today_says_what_is_due_done_and_next(
    now: datetime,
    done: dict[str, dict[date, int]],
    rest: set[date],
    slots: list[tuple[str, str, bool]],
    due: list[str],
    nxt: tuple[str, datetime],
) -> None:
    t = today_status([weekdays_twice()], done, now, frozenset(rest))
    assert [(s.at.strftime("%H:%M"), s.routine, s.done) for s in t.slots] == slots
    assert list(t.due_now) == due
    assert t.next is not None and (t.next.routine, t.next.at) == nxt
    assert t.resting == (("relief",) if now.date() in rest else ())


def test_several_routines_due_now_are_listed_earliest_first() -> None:
    walk = Schedule("walk", (time(7),), tuple(range(7)))
    relief = weekdays_twice()
    t = today_status([relief, walk], {}, at(1, 8, 30))
    assert t.due_now == ("walk", "relief")
    t = today_status([relief, walk], {"walk": {d(1): 1}}, at(1, 8, 30))
    assert t.due_now == ("relief",)


def test_n_days_a_week_is_due_until_the_week_has_them() -> None:
    walk = three_a_week()
    done = {d(0): 1, d(1): 1, d(2): 1}
    assert today_status([walk], {"walk": done}, at(3, 8)).due_now == ()
    assert today_status([walk], {"walk": {d(0): 1}}, at(3, 8)).due_now == ("walk",)
