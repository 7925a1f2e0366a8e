"""Practice sessions into the history: one played live, or one logged afterwards by
someone who did the routine with an exported MP3 (so a progression follows them too).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from .errors import HistoryError, Problem, ValidationError
from .history import History, Session
from .plan import Plan


def session_settings(plan: Plan) -> dict[str, object]:
    """What a history row remembers of the settings used."""
    return {
        "label": plan.resolved.label,
        "summary": plan.resolved.summary,
        "stage": plan.stage.number,
        "holds_s": {
            str(n): s.hold_s
            for n, s in enumerate(plan.routine.steps, start=1)
            if hasattr(s, "hold_s")
        },
    }


def session_of(
    plan: Plan,
    started: datetime,
    ended: datetime,
    steps_completed: int,
    finished: bool,
    source: str,
) -> Session:
    return Session(
        id=None,
        routine=plan.original.slug,
        routine_title=plan.original.title,
        settings=session_settings(plan),
        started_at=started,
        ended_at=ended,
        steps_completed=steps_completed,
        steps_total=len(plan.routine.steps),
        finished=finished,
        source=source,
    )


def record_played(
    plan: Plan,
    started: datetime,
    ended: datetime,
    steps_completed: int,
    finished: bool,
    history_path: Path | None = None,
) -> str | None:
    """Add a live session to the history (its default file, or `history_path`). A
    failure is only a warning (returned): the practice happened either way."""
    try:
        with History.open(history_path) as history:
            history.record(session_of(plan, started, ended, steps_completed, finished, "play"))
    except HistoryError as exc:
        return f"this session was not recorded: {exc}"
    return None


def parse_day(text: str, option: str = "--date") -> date:
    """A YYYY-MM-DD date, or a `ValidationError` that shows the form."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            [Problem(option, None, "", f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-20")]
        ) from None


def ended_at(day: date | None, now: datetime) -> datetime:
    """When a logged session ended: `now`, or noon (local time) on `day`."""
    return now if day is None else datetime.combine(day, time(12)).astimezone(UTC)


def log_done(plan: Plan, length_s: float, ended: datetime, history: History) -> Session:
    """Record in `history` a session done away from the computer, `length_s` long,
    ending at `ended`; returns what was recorded. Recording is the point: errors raise."""
    started = ended - timedelta(seconds=length_s)
    session = session_of(plan, started, ended, len(plan.routine.steps), True, "log")
    history.record(session)
    return session
