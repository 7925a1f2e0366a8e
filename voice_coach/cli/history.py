"""`history` and `log`: the record of practice sessions."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import HistoryError, Problem, ValidationError
from ..history import History, Session, summary_json
from . import app
from .common import (
    Plan,
    RoutineArg,
    SettingsOptions,
    err,
    out,
    plan,
    prepared,
    progress_bar,
    reported,
    with_settings,
)


def session_settings(p: Plan) -> dict[str, object]:
    """What a history row remembers of the settings used."""
    return {
        "label": p.resolved.label,
        "summary": p.resolved.summary,
        "stage": p.stage.number,
        "holds_s": {
            str(n): s.hold_s for n, s in enumerate(p.routine.steps, start=1) if hasattr(s, "hold_s")
        },
    }


def record_session(
    p: Plan,
    started: datetime,
    ended: datetime,
    steps_completed: int,
    finished: bool,
    source: str = "play",
    required: bool = False,
) -> None:
    """Add a session to the history. After `play` a failure is only a warning: the
    practice happened either way; for `log`, recording is the point (`required`)."""
    try:
        with History.open() as history:
            history.record(
                Session(
                    id=None,
                    routine=p.original.slug,
                    routine_title=p.original.title,
                    settings=session_settings(p),
                    started_at=started,
                    ended_at=ended,
                    steps_completed=steps_completed,
                    steps_total=len(p.routine.steps),
                    finished=finished,
                    source=source,
                )
            )
    except HistoryError as exc:
        if required:
            raise
        err.print(f"warning: this session was not recorded: {exc}", markup=False)


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
    with reported(), History.open() as h:
        today = datetime.now(UTC).date()
        if as_json:
            sys.stdout.write(json.dumps(summary_json(h, today), indent=2) + "\n")
            return
        sessions = h.sessions(routine, limit)
        if not sessions:
            out.print(
                "no sessions yet: `voice-coach play ROUTINE`, or `voice-coach log ROUTINE` "
                "after using an exported MP3"
            )
            return
        table = Table(
            "when", "routine", "minutes", "steps", "finished", "how", box=None, pad_edge=False
        )
        for s in sessions:
            when = s.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            table.add_row(
                when,
                s.routine_title,
                f"{s.duration_s / 60:.1f}",
                f"{s.steps_completed}/{s.steps_total or '?'}",
                "yes" if s.finished else "no",
                s.source,
            )
        out.print(table)
        streak = h.streak_days(today)
        out.print(f"streak: {streak} day{'s' if streak != 1 else ''}", markup=False)
        weeks = h.minutes_per_week(8, today)
        peak = max((m for _, m in weeks), default=0) or 1
        out.print("minutes per week:", markup=False)
        for monday, minutes in weeks:
            bar = "#" * round(20 * minutes / peak)
            out.print(f"  {monday.isoformat()}  {minutes:5.0f}  {bar}", markup=False)


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
    opts: SettingsOptions,
) -> None:
    """Record a session done away from the computer (with an exported MP3).

    Use the same settings options as for the export, so progression follows.

    Example: voice-coach log sciatica-relief --hold 45 --date 2026-11-20
    """
    with reported():
        day: date | None = None
        if on is not None:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise ValidationError(
                    [
                        Problem(
                            "--date",
                            None,
                            "",
                            f"{on!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-20",
                        )
                    ]
                ) from None
        p = plan(routine, opts)
        if minutes is None:
            with progress_bar() as bar:
                length_s = prepared(p, opts.cache_dir, bar).timeline.total_ms / 1000
        else:
            length_s = minutes * 60
        now = datetime.now(UTC)
        ended = now if day is None else datetime.combine(day, time(12)).astimezone(UTC)
        started = ended - timedelta(seconds=length_s)
        record_session(p, started, ended, len(p.routine.steps), True, source="log", required=True)
        out.print(
            f"logged {p.original.title}: {length_s / 60:.0f} min on "
            f"{ended.astimezone().date().isoformat()}",
            markup=False,
        )
