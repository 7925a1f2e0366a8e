"""`plan`, `today` and `calendar`: regular practice, reminders in the phone's calendar,
and how well the plan was kept."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import note, reported, say, table

if TYPE_CHECKING:
    from ..adherence import Status
    from ..history import History

ProfileOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--profile", help="Profile file (default: profile.yaml in your config directory)."
    ),
]


@app.command()
def plan(
    routine: Annotated[
        Optional[str],
        typer.Argument(
            help="The routine to plan, by name (see `voice-coach list`); none: list every plan.",
            show_default=False,
        ),
    ] = None,
    at: Annotated[
        Optional[list[str]],
        typer.Option("--at", help="A time of day, HH:MM: one session at each (repeat, up to 12)."),
    ] = None,
    days: Annotated[
        Optional[str],
        typer.Option(
            "--days",
            help="every day (the default), weekdays, weekends, or days: mon-fri, mon,wed,fri.",
        ),
    ] = None,
    times_per_week: Annotated[
        Optional[int],
        typer.Option("--times-per-week", help="Instead of --days: any N days a week (1-7)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove this routine's plan.")] = False,
    profile: ProfileOpt = None,
) -> None:
    """Plan a routine: at what times, on which days. Kept in your profile (`plans:`);
    `calendar` and `serve` turn plans into calendar reminders, `today` and `history`
    say how well you keep them.

    Example: voice-coach plan sciatica-relief --at 08:00 --at 18:00 --days mon-fri
    """
    from datetime import datetime

    from ..adherence import local_zone
    from ..errors import Problem, ValidationError
    from ..settings.profile import load_schedules
    from ..settings.profile_edit import clear_schedule, save_schedule

    with reported():
        if routine is None:
            if at or days or times_per_week or clear:
                raise ValidationError(
                    [Problem("plan", None, "", "name the routine to plan (or clear)")]
                )
            plans = load_schedules(profile)
            if not plans:
                say("no plans yet: voice-coach plan ROUTINE --at 08:00 --days mon-fri")
                return
            table(("routine", "when", "since"), [_plan_row(s) for s in plans.values()])
            return
        if clear:
            if at or days or times_per_week:
                raise ValidationError(
                    [Problem("--clear", None, "", "takes no --at, --days or --times-per-week")]
                )
            saved = clear_schedule(routine, profile)
            say(f"cleared the plan of {routine} ({saved.path})")
            return
        today = datetime.now(local_zone()).date()
        saved = save_schedule(routine, at or [], days, times_per_week, today, profile)
        assert saved.schedule is not None
        say(f"planned {routine}: {saved.schedule.describe()}")
        note(f"written to {saved.path}")


def _plan_row(s: object) -> tuple[str, str, str]:
    from ..schedule import Schedule

    assert isinstance(s, Schedule)
    return (s.routine, s.describe(), s.since.isoformat() if s.since else "")


def _status(history: History, profile: Path | None) -> Status:
    from datetime import datetime

    from ..adherence import local_zone, practice_status

    return practice_status(profile, datetime.now(local_zone()), history)


def adherence_lines(status: Status) -> list[str]:
    """What `history` shows of the plans: planned against done per week, and the
    streak of planned days kept."""
    lines = []
    for kept in status.adherence:
        s = kept.schedule
        weeks = ", ".join(f"{w.monday:%m-%d} {w.text()}" for w in kept.weeks[:-1] if w.planned)
        lines.append(
            f"plan {s.routine} ({s.describe()}): {kept.this_week.text()} this week;"
            f" streak: {kept.streak_text()}" + (f"; weeks before: {weeks}" if weeks else "")
        )
    if status.rest_days:
        days = ", ".join(d.isoformat() for d in sorted(status.rest_days))
        lines.append(f"rest days after a flare-up (not counted as missed): {days}")
    return lines


def print_adherence(history: History, profile: Path | None = None) -> None:
    """The plans' lines of `history` (none when there is no plan)."""
    for line in adherence_lines(_status(history, profile)):
        say(line)


@app.command()
def today(profile: ProfileOpt = None) -> None:
    """What your plans ask of today: what is due, what is done, and the next one.

    Example: voice-coach today
    """
    from ..history import History

    with reported(), History.open() as history:
        status = _status(history, profile)
        if not status.adherence:
            say("no plans yet: voice-coach plan ROUTINE --at 08:00 --days mon-fri")
            return
        t = status.today
        for routine in t.resting:
            say(f"{routine}: rest today, after a flare-up (not counted as missed)")
        if t.slots:
            table(
                ("time", "routine", "done"),
                [(x.at.strftime("%H:%M"), x.routine, "yes" if x.done else "no") for x in t.slots],
            )
        elif not t.resting:
            say("nothing planned today")
        if t.due_now:
            say(f"due now: {', '.join(t.due_now)} (voice-coach play)")
        if t.next is not None:
            when = t.next.at
            day = "today" if when.date() == t.day else f"{when:%a %Y-%m-%d}"
            say(f"next: {t.next.routine} {day} at {when:%H:%M}")
        for kept in status.adherence:
            say(f"{kept.schedule.routine}: {kept.this_week.text()} this week")


def due_routine(profile: Path | None, ask: bool) -> str:
    """The routine `play` plays when none is named: the one due now; when several are,
    the person picks (`ask`: at a terminal), else they are listed and the run exits 2."""
    from ..errors import Problem, ValidationError
    from ..history import History

    with History.open() as history:
        status = _status(history, profile)
    due = status.today.due_now
    if len(due) == 1:
        note(f"playing {due[0]}, due now")
        return due[0]
    if not due:
        nxt = status.today.next
        later = f"; next: {nxt.routine} at {nxt.at:%a %H:%M}" if nxt else ""
        raise ValidationError(
            [Problem("play", None, "", f"name a routine: none is due now{later}")]
        )
    if ask:
        for n, name in enumerate(due, start=1):
            note(f"  {n}. {name}")
        choice = typer.prompt("Several are due now; which one (number)", type=int, err=True)
        if isinstance(choice, int) and 1 <= choice <= len(due):
            return due[choice - 1]
    raise ValidationError(
        [Problem("play", None, "", f"several routines are due now; name one: {', '.join(due)}")]
    )


@app.command()
def calendar(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The .ics file to write.", show_default=False)
    ],
    url: Annotated[
        Optional[str],
        typer.Option("--url", help="An address to put in each event (the page's, an MP3's)."),
    ] = None,
    profile: ProfileOpt = None,
) -> None:
    """Write your plans as a calendar file: a recurring event at each planned time with
    a reminder, as long as the routine. Import it on your phone, or subscribe to the
    address `serve` prints.

    Example: voice-coach calendar -o practice.ics
    """
    from ..export.calendar import write_calendar

    with reported():
        written = write_calendar(output, profile, url)
    say(f"wrote {written.events} event{'s' if written.events != 1 else ''} to {output}")
