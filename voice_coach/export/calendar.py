"""The plans as an iCalendar feed (RFC 5545, written with the icalendar library): one
recurring event (RRULE) per planned time of each routine, in the person's time zone
(with its VTIMEZONE, so the times stay right across daylight-saving changes), each
with a reminder (VALARM), the routine's length as its duration and the page's or the
MP3's address.

- UIDs name the routine and the time's place in its day (`voice-coach-NAME-1@HOST`),
  not the time itself: moving 08:00 to 08:30 updates the event a calendar has, and
  never adds a second one.
- The length: the routine as the profile sets it, laid out with each line's length
  from the speech cache when it is there (the length is then exact), else estimated
  from its words at the voice's rate ("about"). Nothing is synthesized for a calendar.
- DTSTAMP and LAST-MODIFIED are when the profile was last written, so the same plans
  give the same bytes (what makes the served feed's ETag worth having).
- Rest days after a flare-up are left out of the recurrences (EXDATE).
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..atomic import partial_beside
from ..errors import ExportError, VoiceCoachError
from ..schedule import DAY_NAMES, Schedule

if TYPE_CHECKING:
    from ..speech.cache import SpeechCache

REMINDER_BEFORE = timedelta(minutes=10)
UNKNOWN_LENGTH = timedelta(minutes=15)
"""An event's length when the routine cannot be read (its file removed since)."""
REFRESH = timedelta(hours=1)
"""How often a subscribed calendar is asked to look again."""
PRODID = "-//voice_coach//practice plans//EN"


@dataclass(frozen=True)
class Entry:
    """One planned routine as the calendar shows it."""

    schedule: Schedule
    title: str
    length_ms: int | None
    """None when not known."""
    exact: bool = False
    """The length was laid out from the speech itself, not estimated."""
    url: str | None = None


@dataclass(frozen=True)
class Written:
    events: int


def _ical_day(weekday: int) -> str:
    return DAY_NAMES[weekday][:2].upper()


def first_day(schedule: Schedule, start: date) -> date:
    """The first day from `start` on that the schedule's reminders fall on."""
    day = start
    while day.weekday() not in schedule.calendar_days:
        day += timedelta(days=1)
    return day


def _length_words(entry: Entry) -> str:
    if entry.length_ms is None:
        return "length not known"
    minutes = max(1, round(entry.length_ms / 60_000))
    return f"{'' if entry.exact else 'about '}{minutes} min"


def build_calendar(
    entries: Iterable[Entry],
    zone: ZoneInfo,
    stamp: datetime,
    host: str,
    rest_days: frozenset[date] = frozenset(),
) -> bytes:
    """The feed of `entries` in the time zone `zone`; `stamp` (aware) is when the plans
    were last changed, `host` makes the UIDs this computer's. A pure function."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "voice_coach practice")
    cal.add("x-wr-timezone", zone.key)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))
    stamp_utc = stamp.astimezone(UTC).replace(microsecond=0)
    count = 0
    for entry in entries:
        s = entry.schedule
        start_day = first_day(s, s.since or stamp.astimezone(zone).date())
        length = (
            UNKNOWN_LENGTH
            if entry.length_ms is None
            else timedelta(minutes=max(1, math.ceil(entry.length_ms / 60_000)))
        )
        how = f"{entry.title}, {_length_words(entry)}. Plan: {s.describe()}."
        for n, at in enumerate(s.times, start=1):
            event = icalendar.Event()
            event.add("uid", f"voice-coach-{s.routine}-{n}@{host}")
            event.add("dtstamp", stamp_utc)
            event.add("last-modified", stamp_utc)
            event.add("summary", entry.title)
            event.add("description", how + (f"\n{entry.url}" if entry.url else ""))
            if entry.url:
                event.add("url", entry.url)
            event.add("dtstart", datetime.combine(start_day, at, zone))
            event.add("duration", length)
            event.add(
                "rrule",
                {"freq": "weekly", "byday": [_ical_day(d) for d in s.calendar_days]},
            )
            skipped = sorted(
                datetime.combine(d, at, zone)
                for d in rest_days
                if d >= start_day and d.weekday() in s.calendar_days
            )
            if skipped:
                event.add("exdate", skipped)
            event.add("categories", ["voice_coach"])
            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{entry.title} at {at:%H:%M} ({_length_words(entry)})")
            alarm.add("trigger", -REMINDER_BEFORE)
            event.add_component(alarm)
            cal.add_component(event)
            count += 1
    if count:
        cal.add_missing_timezones()
    return bytes(cal.to_ical())


# -- from the profile and the routines ------------------------------------------------------


Caches = dict[tuple[object, ...], "SpeechCache | None"]
"""Speech caches by voice settings, engine and folder: finding an engine's voices
takes a few tenths of a second, which a server answering polls keeps (see
`serve.calendar`)."""
MAX_CACHES_KEPT = 16


def routine_length(
    name: str, profile: Path | None, caches: Caches | None = None
) -> tuple[str, int | None, bool]:
    """The routine `name` as the profile sets it: its title, its length in ms (None if
    it cannot be read) and whether that length is exact (every line in the speech
    cache) rather than estimated from the words at the voice's rate. `caches`: speech
    caches already opened, kept for the next call."""
    from ..plan import make_plan
    from ..prepare import speech_cache
    from ..settings.words import Choices
    from ..speech import engine_name
    from ..speech.contract import DEFAULT_RATE_WPM
    from ..timeline import build_timeline

    try:
        plan = make_plan(name, Choices(profile=profile))
    except VoiceCoachError:
        return name, None, False
    routine = plan.routine
    settings = routine.voice.merged(plan.resolved.voice)
    rate = settings.rate_wpm or DEFAULT_RATE_WPM
    caches = {} if caches is None else caches
    key = (settings, engine_name(settings), plan.choices.cache_dir)
    if key not in caches:
        if len(caches) >= MAX_CACHES_KEPT:
            caches.clear()
        try:
            caches[key] = speech_cache(settings, plan.choices.cache_dir)
        except VoiceCoachError:  # no engine to look the cache up with: estimate every line
            caches[key] = None
    cache = caches[key]
    if cache is not None:
        rate = cache.voice.rate_wpm
    exact = True

    def duration_ms(text: str) -> int:
        nonlocal exact
        clip = None if cache is None else cache.cached(text)
        if clip is not None:
            return clip.duration_ms
        exact = False
        return round(len(text.split()) * 60_000 / rate)

    try:
        total_ms = build_timeline(routine, duration_ms).total_ms
    except VoiceCoachError:
        return routine.title, None, False
    return routine.title, total_ms, exact


def calendar_entries(
    schedules: Iterable[Schedule],
    profile: Path | None,
    url_of: Callable[[str], str | None] = lambda name: None,
    caches: Caches | None = None,
) -> list[Entry]:
    """An entry per plan: its routine's title and length, and `url_of` its name."""
    out = []
    caches = {} if caches is None else caches
    for s in schedules:
        title, length_ms, exact = routine_length(s.routine, profile, caches)
        out.append(Entry(s, title, length_ms, exact, url_of(s.routine)))
    return out


def profile_stamp(profile: Path | None) -> datetime:
    """When the profile was last written (the plans' last change), to the second."""
    from ..settings.profile import default_profile_path

    path = profile or default_profile_path()
    try:
        return datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
    except OSError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def host_name() -> str:
    """This computer's name, for UIDs (stable while the computer keeps its name)."""
    return (socket.gethostname() or "localhost").split(".")[0].lower()


def plans_calendar(
    profile: Path | None,
    url_of: Callable[[str], str | None] = lambda name: None,
    rest_days: frozenset[date] | None = None,
    caches: Caches | None = None,
) -> tuple[bytes, int]:
    """The feed of every plan in `profile` (None: the default one), and its events."""
    from ..adherence import gates, local_zone, suggested_rest_days
    from ..settings.profile import load_schedules

    schedules = list(load_schedules(profile).values())
    zone = local_zone()
    if rest_days is None:
        from ..history import History

        with History.open() as history:
            today = datetime.now(zone).date()
            rest_days = suggested_rest_days(history.sessions(), today, gates(profile))
    entries = calendar_entries(schedules, profile, url_of, caches)
    data = build_calendar(entries, zone, profile_stamp(profile), host_name(), rest_days)
    return data, sum(len(s.times) for s in schedules)


def write_calendar(output: Path, profile: Path | None, url: str | None = None) -> Written:
    """Write the feed of every plan to `output`, atomically."""
    data, events = plans_calendar(profile, lambda name: url)
    try:
        with partial_beside(output) as tmp:
            tmp.write_bytes(data)
            os.replace(tmp, output)
    except OSError as exc:
        raise ExportError(f"cannot write {output}: {exc.strerror or exc}") from None
    return Written(events)
