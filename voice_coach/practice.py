"""Practice sessions into the history: one played live, or one logged afterwards by
someone who did the routine with an exported MP3 (so a progression follows them too).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from .errors import HistoryError, Problem, ValidationError
from .history import NOTE_MAX_CHARS, PAIN_MAX, PAIN_MIN, History, Session
from .plan import Plan
from .settings.table import Number

PAIN = Number("", PAIN_MIN, PAIN_MAX, whole=True)
"""A pain rating: the 0-10 numeric rating scale."""


@dataclass(frozen=True)
class Answers:
    """What the person says about one session, each None (or "") when not given."""

    pain_before: int | None = None
    """Pain on the 0-10 scale just before it."""
    pain_after: int | None = None
    """Pain on the 0-10 scale just after it."""
    note: str = ""
    """Their own words, at most `NOTE_MAX_CHARS` characters."""

    def given(self) -> dict[str, int | str]:
        """The answers given, by history field (what an amendment changes)."""
        return {
            k: v
            for k, v in dataclasses.asdict(self).items()
            if v is not None and not (k == "note" and v == "")
        }


ANSWER_NAMES = {"pain_before": "pain_before", "pain_after": "pain", "note": "note"}
"""The command line's (as --NAME, "_" as "-") and the API's name of each answer."""


def api_name(field: str) -> str:
    """An answer as `POST /api/history` names it: "pain", "pain_before", "note"."""
    return ANSWER_NAMES[field]


def flag_name(field: str) -> str:
    """An answer as the command line names it: "--pain", "--pain-before", "--note"."""
    return "--" + ANSWER_NAMES[field].replace("_", "-")


def check_answers(
    pain_before: object = None,
    pain_after: object = None,
    note: object = None,
    named: Callable[[str], str] = flag_name,
    words: bool = False,
) -> Answers:
    """The answers checked: each rating a whole number from 0 to 10, the note text of at
    most `NOTE_MAX_CHARS` characters; None: not given. `words`: the ratings come as text
    (the command line). A `ValidationError` names each bad one as `named` calls it,
    with the same words wherever it came from."""
    problems: list[Problem] = []
    ratings: dict[str, int | None] = {}
    for field, value in (("pain_before", pain_before), ("pain_after", pain_after)):
        if value is None:
            ratings[field] = None
            continue
        if words and isinstance(value, str):
            value = PAIN.from_words(value)
        try:
            ratings[field] = int(PAIN.check(value))
        except ValueError as exc:
            problems.append(Problem(named(field), None, "", f"a pain rating {exc}"))
    text = ""
    if note is not None:
        if not isinstance(note, str):
            problems.append(Problem(named("note"), None, "", f"must be text, got {note!r}"))
        elif len(note.strip()) > NOTE_MAX_CHARS:
            problems.append(
                Problem(
                    named("note"),
                    None,
                    "",
                    f"is {len(note.strip())} characters long; at most {NOTE_MAX_CHARS} allowed",
                )
            )
        else:
            text = note.strip()
    if problems:
        raise ValidationError(problems)
    return Answers(ratings["pain_before"], ratings["pain_after"], text)


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
    answers: Answers = Answers(),
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
        pain_before=answers.pain_before,
        pain_after=answers.pain_after,
        note=answers.note,
    )


def record_played(
    plan: Plan,
    started: datetime,
    ended: datetime,
    steps_completed: int,
    finished: bool,
    history_path: Path | None = None,
    answers: Answers = Answers(),
) -> tuple[int | None, str | None]:
    """Add a live session, with the pain ratings the coach was given (`answers`), to the
    history (its default file, or `history_path`): its id, or None and a warning. A
    failure is only a warning: the practice happened either way."""
    session = session_of(plan, started, ended, steps_completed, finished, "play", answers)
    try:
        with History.open(history_path) as history:
            return history.record(session), None
    except HistoryError as exc:
        return None, f"this session was not recorded: {exc}"


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


def log_done(
    plan: Plan,
    length_s: float,
    ended: datetime,
    history: History,
    answers: Answers = Answers(),
) -> Session:
    """Record in `history` a session done away from the computer, `length_s` long,
    ending at `ended`, with the person's `answers`; returns what was recorded (with its
    id). Recording is the point: errors raise."""
    started = ended - timedelta(seconds=length_s)
    session = session_of(plan, started, ended, len(plan.routine.steps), True, "log", answers)
    return dataclasses.replace(session, id=history.record(session))


LAST = "last"
"""Names the newest session where a session's id is asked for."""


def parse_session_id(text: str, option: str = "SESSION") -> int | None:
    """A session's id from the command line: a number, or `LAST` (None)."""
    if text.strip().lower() == LAST:
        return None
    if text.strip().isdigit() and int(text) > 0:
        return int(text)
    raise ValidationError(
        [
            Problem(
                option,
                None,
                "",
                f"{text!r} is not a session; give its number (see "
                f"`voice-coach history`) or {LAST!r}",
            )
        ]
    )


def amend(history: History, session_id: int | None, answers: Answers) -> Session:
    """Correct the ratings or note of session `session_id` (None: the newest) with what
    `answers` gives; the rest stays. A `ValidationError` when nothing is given or there
    is no such session; nothing is written then."""
    changes = answers.given()
    if not changes:
        raise ValidationError(
            [Problem("amend", None, "", "nothing to change: no pain rating and no note given")]
        )
    if session_id is None:
        newest = history.sessions(limit=1)
        if not newest:
            raise ValidationError([Problem("amend", None, "", "no sessions yet to correct")])
        session_id = newest[0].id
    assert session_id is not None  # a recorded session has one
    try:
        return history.amend(session_id, **changes)
    except KeyError:
        raise ValidationError(
            [Problem("amend", None, "", f"no session {session_id}; see `voice-coach history`")]
        ) from None
