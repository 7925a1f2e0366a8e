"""`history` and `log`: the record of practice sessions."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import RoutineArg, progress_bar, progress_callback, reported, say, table
from .options import with_settings

if TYPE_CHECKING:
    from ..settings.words import Choices


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many sessions.")] = 10,
    routine: Annotated[
        Optional[str],
        typer.Option("--routine", help="Only this routine (its name, e.g. sciatica-relief)."),
    ] = None,
) -> None:
    """Recent sessions, your streak, and minutes per week.

    Example: voice-coach history --limit 20
    """
    from datetime import UTC, datetime

    from ..history import History, summary_json

    with reported(), History.open() as h:
        today = datetime.now(UTC).date()
        if as_json:
            sys.stdout.write(json.dumps(summary_json(h, today), indent=2) + "\n")
            return
        sessions = h.sessions(routine, limit)
        if not sessions:
            say(
                "no sessions yet: `voice-coach play ROUTINE`, or `voice-coach log ROUTINE` "
                "after using an exported MP3"
            )
            return
        table(
            ("when", "routine", "minutes", "steps", "finished", "how"),
            [
                (
                    s.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                    s.routine_title,
                    f"{s.duration_s / 60:.1f}",
                    f"{s.steps_completed}/{s.steps_total or '?'}",
                    "yes" if s.finished else "no",
                    s.source,
                )
                for s in sessions
            ],
        )
        streak = h.streak_days(today)
        say(f"streak: {streak} day{'s' if streak != 1 else ''}")
        weeks = h.minutes_per_week(8, today)
        peak = max((m for _, m in weeks), default=0) or 1
        say("minutes per week:")
        for monday, minutes in weeks:
            bar = "#" * round(20 * minutes / peak)
            say(f"  {monday.isoformat()}  {minutes:5.0f}  {bar}")
        from .plan import print_adherence

        print_adherence(h)


@app.command()
@with_settings
def log(
    routine: RoutineArg,
    on: Annotated[
        Optional[str],
        typer.Option("--date", help="The day you did it, YYYY-MM-DD (default: today)."),
    ] = None,
    minutes: Annotated[
        Optional[float],
        typer.Option(
            "--minutes", min=0.1, help="How long it took (default: the routine's length)."
        ),
    ] = None,
    *,
    choices: Choices,
) -> None:
    """Record a session done away from the computer (with an exported MP3).

    Use the same settings options as for the export, so progression follows.

    Example: voice-coach log sciatica-relief --hold 45 --date 2026-11-20
    """
    from datetime import UTC, datetime

    from ..history import History
    from ..plan import make_plan
    from ..practice import ended_at, log_done, parse_day
    from ..prepare import prepare_plan

    with reported():
        day = None if on is None else parse_day(on)
        p = make_plan(routine, choices)
        if minutes is None:
            with progress_bar() as bar:
                ready = prepare_plan(p, progress_callback(bar, "Synthesizing cues"))
            length_s = ready.timeline.total_ms / 1000
        else:
            length_s = minutes * 60
        with History.open() as history:
            session = log_done(p, length_s, ended_at(day, datetime.now(UTC)), history)
        say(
            f"logged {p.original.title}: {length_s / 60:.0f} min on "
            f"{session.ended_at.astimezone().date().isoformat()}"
        )
