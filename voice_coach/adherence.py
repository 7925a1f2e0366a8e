"""The plans against the practice history: how well each was kept, and what today asks.

Reads the profile's plans and the history, counts the sessions of each routine per
day in the person's time zone, and hands them to the pure functions of `schedule`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .history import History, Session
from .schedule import Adherence, Schedule, Today, adherence, sessions_per_day, today_status
from .stages import Gate

WEEKS_SHOWN = 4


def local_zone() -> ZoneInfo:
    """The person's time zone, by its IANA name: $TZ, else the system's
    (/etc/localtime, /etc/timezone), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if name and not name.startswith("/"):
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def planned(profile: Path | None) -> dict[str, Schedule]:
    """The plans of `profile` (None: the default one). A profile whose text has no
    `plans` in it has none, and is not checked here: reading one means loading the
    profile's models (~0.3 s), which `history` need not pay without a plan."""
    from .paths import PROFILE_NAME, config_dir

    if profile is None:
        try:
            text = (config_dir() / PROFILE_NAME).read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError):
            text = "plans"  # `load_schedules` says what is wrong with it
        if "plans" not in text:
            return {}
    from .settings.profile import load_schedules

    return load_schedules(profile)


REST_DAYS_AFTER_A_FLARE = 2
"""The advice: after a flare-up, rest a day or two, then start again sooner rather
than later."""


def suggested_rest_days(
    sessions: Sequence[Session], today: date, gate_for: Callable[[str], Gate] = lambda _: Gate()
) -> frozenset[date]:
    """The days a plan suggests resting after a flare-up, which no plan counts as
    missed: the day or two after each flare-up of a routine (a rating at or above its
    `flare_pain`, or 2 or more above the session before: `gate_for(slug)`, as its
    progression holds back), up to two days from `today`."""
    from .stages import Practised, flares

    by_routine: dict[str, list[Practised]] = {}
    for s in sessions:
        practised = Practised(s.started_at.date(), s.finished, s.pain_before, s.pain_after)
        by_routine.setdefault(s.routine, []).append(practised)
    days = {
        flare.day + timedelta(days=n)
        for slug, routine_sessions in by_routine.items()
        for flare in flares(routine_sessions, gate_for(slug))
        for n in range(1, REST_DAYS_AFTER_A_FLARE + 1)
    }
    return frozenset(d for d in days if d <= today + timedelta(days=REST_DAYS_AFTER_A_FLARE))


@dataclass(frozen=True)
class Status:
    """Every plan, how well it was kept, and today."""

    adherence: tuple[Adherence, ...]
    today: Today
    rest_days: frozenset[date]


def practised(session: Session) -> bool:
    """A session that counts for a plan, as for a streak: finished or at least one step."""
    return session.finished or session.steps_completed > 0


def practice_status(
    profile: Path | None,
    now: datetime,
    history: History,
    rest_days: frozenset[date] | None = None,
    weeks: int = WEEKS_SHOWN,
) -> Status:
    """The plans of `profile` (None: the default one) against `history` at `now` (aware,
    in the person's time zone); `rest_days` None: those `suggested_rest_days` gives."""
    schedules = planned(profile)
    sessions = history.sessions()
    if rest_days is None:
        rest_days = suggested_rest_days(sessions, now.date(), gates(profile))
    return status_of(schedules.values(), sessions, now, rest_days, weeks)


def gates(profile: Path | None) -> Callable[[str], Gate]:
    """Each routine's flare-up ratings as `profile` sets them (`plan.routine_gate`),
    read once per routine."""
    from functools import cache

    from .plan import routine_gate

    return cache(lambda slug: routine_gate(profile, slug))


def status_of(
    schedules: Iterable[Schedule],
    sessions: Sequence[Session],
    now: datetime,
    rest_days: frozenset[date] | None = None,
    weeks: int = WEEKS_SHOWN,
) -> Status:
    """`practice_status` once the plans and sessions are read."""
    plans = list(schedules)
    zone = now.tzinfo
    assert zone is not None, "now must be aware"
    today = now.date()
    rests = suggested_rest_days(sessions, today) if rest_days is None else rest_days
    done = {
        s.routine: sessions_per_day(
            (x.started_at for x in sessions if x.routine == s.routine and practised(x)), zone
        )
        for s in plans
    }
    kept = tuple(adherence(s, done[s.routine], today, weeks, rests) for s in plans)
    return Status(kept, today_status(plans, done, now, rests), rests)
