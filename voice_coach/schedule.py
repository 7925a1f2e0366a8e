"""Regular practice: when a routine is planned (a schedule), and how well the plan was
kept (adherence, streaks, what is due today). Pure functions: the day, the time, the
sessions done and the rest days are all passed in.

In the words the person uses this is a "plan" (`voice-coach plan`); in the code a
`Plan` is already a routine with every settings layer applied, so here it is a
`Schedule`.

- A schedule has fixed week days (every day, weekdays, named days) or a number of
  days a week (any days), and one or more times of day: one session at each.
- A week's sessions planned count every planned day of the week; its sessions done
  count at most the planned number a day (a second session at 08:00 does not stand
  for the one at 18:00 of another day), never more than were planned, and only from
  the day the plan was made.
- A streak counts planned days kept (every session of the day done), walking back
  from today; days off the plan and rest days neither keep nor break it, and today
  breaks it only once it is over. A plan of N days a week has no planned days: its
  streak counts whole weeks kept.
- Rest days (after a flare-up) are neither planned nor missed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

MAX_SESSIONS_A_DAY = 12
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Week days as the command line and the profile write them, Monday first (0)."""
NAMED_SETS = {
    "every day": tuple(range(7)),
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
}
SPREAD = {
    1: (0,),
    2: (0, 3),
    3: (0, 2, 4),
    4: (0, 1, 3, 4),
    5: (0, 1, 2, 3, 4),
    6: (0, 1, 2, 3, 4, 5),
    7: tuple(range(7)),
}
"""The week days a plan of N days a week suggests in the calendar (the days of its
reminders); any N days keep it."""
DUE_AHEAD = timedelta(hours=1)
"""A session is due now from this long before its time until the day is over."""
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class ScheduleValueError(ValueError):
    """A time or day list that cannot be read; its message says what is allowed."""


def parse_time(text: str) -> time:
    """A time of day written HH:MM (24-hour clock)."""
    match = _TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ScheduleValueError(f"{text!r} is not a time; write HH:MM, e.g. 08:00 or 18:30")
    return time(int(match.group(1)), int(match.group(2)))


def parse_times(texts: Iterable[str]) -> tuple[time, ...]:
    """Times of day, sorted; one at least, at most `MAX_SESSIONS_A_DAY`, none twice."""
    times = [parse_time(t) for t in texts]
    if not times:
        raise ScheduleValueError("give at least one time of day, HH:MM")
    if len(times) > MAX_SESSIONS_A_DAY:
        raise ScheduleValueError(
            f"{len(times)} sessions a day; at most {MAX_SESSIONS_A_DAY} are allowed"
        )
    twice = sorted({t for t in times if times.count(t) > 1})
    if twice:
        raise ScheduleValueError(f"{twice[0].strftime('%H:%M')} is given twice")
    return tuple(sorted(times))


def parse_days(spec: str | Iterable[str]) -> tuple[int, ...]:
    """Week days (0 Monday) from "every day", "daily", "weekdays", "weekends", or day
    names and ranges: "mon-fri", "mon,wed,fri", ["tue", "thu"]."""
    parts = [spec] if isinstance(spec, str) else list(spec)
    days: set[int] = set()
    for part in parts:
        if not isinstance(part, str):
            raise ScheduleValueError(f"{part!r} is not a day; {_DAYS_ALLOWED}")
        text = part.strip().lower()
        if text in NAMED_SETS:
            days.update(NAMED_SETS[text])
            continue
        for item in filter(None, (i.strip() for i in text.split(","))):
            first, dash, last = item.partition("-")
            a = _day(first.strip(), item)
            b = _day(last.strip(), item) if dash else a
            if b < a:
                raise ScheduleValueError(f"{item!r} runs backwards; write it Monday first")
            days.update(range(a, b + 1))
    if not days:
        raise ScheduleValueError(f"no days given; {_DAYS_ALLOWED}")
    return tuple(sorted(days))


_DAYS_ALLOWED = (
    "days are every day, weekdays, weekends, or names (mon, tue, wed, thu, fri, sat, sun) "
    "and ranges such as mon-fri"
)


def _day(name: str, item: str) -> int:
    for n, (short, full) in enumerate(zip(DAY_NAMES, _FULL_NAMES, strict=True)):
        if name in (short, full):
            return n
    raise ScheduleValueError(f"{item!r} is not a day; {_DAYS_ALLOWED}")


_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def days_text(days: Iterable[int]) -> str:
    """Week days in the shortest words: "every day", "weekdays", "mon-fri"... ("weekdays"
    is mon-fri)."""
    days = tuple(sorted(set(days)))
    for words, named in NAMED_SETS.items():
        if days == named and words != "daily":
            return words
    runs: list[str] = []
    start = prev = days[0]
    for d in (*days[1:], None):
        if d is not None and d == prev + 1:
            prev = d
            continue
        if prev - start >= 2:
            runs.append(f"{DAY_NAMES[start]}-{DAY_NAMES[prev]}")
        else:
            runs += [DAY_NAMES[x] for x in range(start, prev + 1)]
        if d is not None:
            start = prev = d
    return ",".join(runs)


@dataclass(frozen=True)
class Schedule:
    """When one routine is planned."""

    routine: str
    """The routine's name (its slug)."""
    times: tuple[time, ...]
    """Times of day, sorted: one session at each, in the person's time zone."""
    weekdays: tuple[int, ...] | None = None
    """Fixed week days, 0 Monday; None for a number of days a week."""
    days_per_week: int | None = None
    """Any this many days a week (1-7); None for fixed days."""
    since: date | None = None
    """The day the plan was made: nothing before it is planned or missed."""

    def __post_init__(self) -> None:
        if (self.weekdays is None) == (self.days_per_week is None):
            raise ValueError("a schedule has fixed week days or a number of days a week")
        if self.days_per_week is not None and not 1 <= self.days_per_week <= 7:
            raise ValueError(f"days a week must be 1-7, got {self.days_per_week}")
        if not 1 <= len(self.times) <= MAX_SESSIONS_A_DAY:
            raise ValueError(f"1 to {MAX_SESSIONS_A_DAY} sessions a day")

    @property
    def per_day(self) -> int:
        return len(self.times)

    @property
    def calendar_days(self) -> tuple[int, ...]:
        """The week days of its reminders: its own, or spread over the week."""
        if self.weekdays is not None:
            return self.weekdays
        assert self.days_per_week is not None
        return SPREAD[self.days_per_week]

    def describe(self) -> str:
        """ "mon-fri at 08:00, 18:00", "3 days a week at 07:30"."""
        at = ", ".join(t.strftime("%H:%M") for t in self.times)
        if self.weekdays is None:
            n = self.days_per_week
            return f"{n} day{'s' if n != 1 else ''} a week at {at}"
        return f"{days_text(self.weekdays)} at {at}"

    def planned_on(self, day: date, rest_days: frozenset[date] = frozenset()) -> int:
        """Sessions planned on `day` by fixed days (0 for a number of days a week,
        before `since`, and on rest days)."""
        if self.weekdays is None or day in rest_days or (self.since and day < self.since):
            return 0
        return self.per_day if day.weekday() in self.weekdays else 0

    def to_json(self) -> dict[str, object]:
        return {
            "routine": self.routine,
            "at": [t.strftime("%H:%M") for t in self.times],
            "days": None if self.weekdays is None else days_text(self.weekdays),
            "times_per_week": self.days_per_week,
            "since": None if self.since is None else self.since.isoformat(),
            "describe": self.describe(),
        }


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def sessions_per_day(starts: Iterable[datetime], zone: tzinfo) -> Counter[date]:
    """How many sessions started on each day, in the person's time zone `zone`."""
    return Counter(s.astimezone(zone).date() for s in starts)


@dataclass(frozen=True)
class Week:
    """Planned against done in one week (Monday to Sunday)."""

    monday: date
    planned: int
    """Sessions planned (rest days and days before the plan not counted)."""
    done: int
    """Sessions done that keep the plan (see the module's rules), at most `planned`."""
    rest_days: int = 0

    def text(self) -> str:
        return f"{self.done} of {self.planned}"


@dataclass(frozen=True)
class Adherence:
    """How well one schedule was kept."""

    schedule: Schedule
    weeks: tuple[Week, ...]
    """Oldest first; the week holding today last."""
    streak: int
    streak_unit: Literal["day", "week"]
    """Planned days kept, or, for a number of days a week, whole weeks kept."""

    @property
    def this_week(self) -> Week:
        return self.weeks[-1]

    def streak_text(self) -> str:
        unit = "planned day" if self.streak_unit == "day" else "week"
        return f"{self.streak} {unit}{'s' if self.streak != 1 else ''}"

    def to_json(self) -> dict[str, object]:
        return {
            **self.schedule.to_json(),
            "weeks": [
                {"week": w.monday.isoformat(), "planned": w.planned, "done": w.done}
                for w in self.weeks
            ],
            "this_week": self.this_week.text(),
            "streak": self.streak,
            "streak_unit": self.streak_unit,
        }


def week(
    schedule: Schedule,
    done_per_day: Mapping[date, int],
    any_day: date,
    rest_days: frozenset[date] = frozenset(),
) -> Week:
    """Planned against done in the week holding `any_day`."""
    first = monday(any_day)
    days = [first + timedelta(days=i) for i in range(7)]
    counted = [d for d in days if not (schedule.since and d < schedule.since)]
    rests = sum(1 for d in counted if d in rest_days)
    if schedule.days_per_week is not None:
        open_days = [d for d in counted if d not in rest_days]
        planned = min(schedule.days_per_week, len(open_days)) * schedule.per_day
    else:
        planned = sum(schedule.planned_on(d, rest_days) for d in days)
    done = sum(min(done_per_day.get(d, 0), schedule.per_day) for d in counted)
    return Week(first, planned, min(done, planned), rests)


def adherence(
    schedule: Schedule,
    done_per_day: Mapping[date, int],
    today: date,
    weeks: int = 4,
    rest_days: frozenset[date] = frozenset(),
) -> Adherence:
    """How `schedule` was kept, given the sessions of its routine done each day (in the
    person's time zone), over the last `weeks` weeks, on `today`."""
    shown = tuple(
        week(schedule, done_per_day, today - timedelta(weeks=n), rest_days)
        for n in range(weeks - 1, -1, -1)
    )
    if schedule.weekdays is not None:
        return Adherence(
            schedule, shown, _day_streak(schedule, done_per_day, today, rest_days), "day"
        )
    return Adherence(
        schedule, shown, _week_streak(schedule, done_per_day, today, rest_days), "week"
    )


def _earliest(schedule: Schedule, done_per_day: Mapping[date, int], today: date) -> date:
    """Where walking back stops: the plan's first day, else the first session's."""
    if schedule.since is not None:
        return schedule.since
    return min((d for d, n in done_per_day.items() if n), default=today)


def _day_streak(
    schedule: Schedule, done_per_day: Mapping[date, int], today: date, rest_days: frozenset[date]
) -> int:
    streak = 0
    day = today
    earliest = _earliest(schedule, done_per_day, today)
    while day >= earliest:
        planned = schedule.planned_on(day, rest_days)
        if planned:
            if done_per_day.get(day, 0) >= planned:
                streak += 1
            elif day != today:  # today is not over yet
                break
        day -= timedelta(days=1)
    return streak


def _week_streak(
    schedule: Schedule, done_per_day: Mapping[date, int], today: date, rest_days: frozenset[date]
) -> int:
    streak = 0
    day = today
    earliest = monday(_earliest(schedule, done_per_day, today))
    while day >= earliest:
        w = week(schedule, done_per_day, day, rest_days)
        if w.planned and w.done >= w.planned:
            streak += 1
        elif day != today and w.planned:
            break
        day = monday(day) - timedelta(days=1)
    return streak


# -- today ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One planned session today."""

    routine: str
    at: time
    done: bool


@dataclass(frozen=True)
class Next:
    """The next planned session not yet done."""

    routine: str
    at: datetime
    """In the person's time zone."""


@dataclass(frozen=True)
class Today:
    """What the plans ask of today."""

    day: date
    slots: tuple[Slot, ...]
    """Every session due today, in time order, done or not."""
    due_now: tuple[str, ...]
    """Routines with a session not yet done whose time has come (or comes within
    `DUE_AHEAD`), the earliest first."""
    next: Next | None
    resting: tuple[str, ...] = field(default=())
    """Routines whose plan suggests rest today (after a flare-up)."""


def due_today(
    schedule: Schedule,
    done_per_day: Mapping[date, int],
    day: date,
    rest_days: frozenset[date] = frozenset(),
) -> int:
    """Sessions of `schedule` due on `day`: its fixed days', or, for N days a week,
    a day's worth while the week still lacks sessions."""
    if schedule.weekdays is not None:
        return schedule.planned_on(day, rest_days)
    if day in rest_days or (schedule.since and day < schedule.since):
        return 0
    w = week(schedule, done_per_day, day, rest_days)
    done_today = min(done_per_day.get(day, 0), schedule.per_day)
    lacking = w.planned - (w.done - done_today)
    return min(schedule.per_day, max(0, lacking))


def today_status(
    schedules: Iterable[Schedule],
    done: Mapping[str, Mapping[date, int]],
    now: datetime,
    rest_days: frozenset[date] = frozenset(),
) -> Today:
    """What is due today, what is done and what comes next, at `now` (aware, in the
    person's time zone), given each routine's sessions done per day."""
    day = now.date()
    slots: list[Slot] = []
    due_now: list[tuple[time, str]] = []
    upcoming: list[tuple[datetime, str]] = []
    resting: list[str] = []
    for s in schedules:
        per_day = done.get(s.routine, {})
        if day in rest_days and (s.weekdays is None or day.weekday() in s.weekdays):
            resting.append(s.routine)
        n = due_today(s, per_day, day, rest_days)
        done_today = per_day.get(day, 0)
        for i, at in enumerate(s.times[:n]):
            is_done = i < done_today
            slots.append(Slot(s.routine, at, is_done))
            moment = datetime.combine(day, at, now.tzinfo)
            if not is_done:
                if moment - DUE_AHEAD <= now:
                    due_now.append((at, s.routine))
                else:
                    upcoming.append((moment, s.routine))
        upcoming += _later(s, per_day, day, now, rest_days)
    slots.sort(key=lambda x: (x.at, x.routine))
    seen: dict[str, None] = {}
    for _, routine in sorted(due_now):
        seen.setdefault(routine, None)
    nxt = min(upcoming, default=None)
    return Today(
        day,
        tuple(slots),
        tuple(seen),
        None if nxt is None else Next(nxt[1], nxt[0]),
        tuple(resting),
    )


def _later(
    s: Schedule, per_day: Mapping[date, int], day: date, now: datetime, rest_days: frozenset[date]
) -> list[tuple[datetime, str]]:
    """The first planned session of `s` after today (within two weeks)."""
    for ahead in range(1, 15):
        d = day + timedelta(days=ahead)
        if d in rest_days or (s.since and d < s.since):
            continue
        if d.weekday() in s.calendar_days:
            return [(datetime.combine(d, s.times[0], now.tzinfo), s.routine)]
    return []
