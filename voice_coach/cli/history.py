"""`history` and `log`: the record of practice sessions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import RoutineArg, progress_bar, progress_callback, reported, say, table
from .options import with_settings

if TYPE_CHECKING:
    from ..history import Session
    from ..settings.words import Choices


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many sessions.")] = 10,
    routine: Annotated[
        Optional[str],
        typer.Option("--routine", help="Only this routine (its name, e.g. sciatica-relief)."),
    ] = None,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", help="Draw minutes and pain per week into this PNG file."),
    ] = None,
    report: Annotated[
        Optional[Path],
        typer.Option(
            "--report",
            help="Write one printable page (HTML) for a physiotherapist: sessions per week, "
            "the pain trend, the stage, the notes.",
        ),
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print every session as CSV, for a spreadsheet.")
    ] = False,
) -> None:
    """Recent sessions with pain before and after, your streak, and per week the minutes
    and the average pain.

    Example: voice-coach history --limit 20

    Example: voice-coach history --plot pain.png --report for-my-physio.html

    Example: voice-coach history --csv > sessions.csv
    """
    from datetime import UTC, datetime

    from .. import progress
    from ..history import History, summary_json

    with reported(), History.open() as h:
        today = datetime.now(UTC).date()
        if as_json:
            sys.stdout.write(json.dumps(summary_json(h, today), indent=2) + "\n")
            return
        every = h.sessions(routine)
        if as_csv:
            sys.stdout.write(progress.csv_text(every))
            return
        if plot is not None or report is not None:
            from ..export.record import write_record_files
            from ..plan import stages_now

            written = write_record_files(every, today, plot, report, stages_now)
            for path in written:
                say(f"wrote {path}")
            return
        sessions = every[:limit]
        if not sessions:
            say(
                "no sessions yet: `voice-coach play ROUTINE`, or `voice-coach log ROUTINE` "
                "after using an exported MP3"
            )
            return
        table(progress.SESSION_HEADERS, progress.session_rows(sessions))
        for line in progress.summary_lines(every, h.streak_days(today), today):
            say(line)
        from .plan import print_adherence

        print_adherence(h)


PainOption = Annotated[
    Optional[str],
    typer.Option(
        "--pain", metavar="0-10", help="Your pain just after it, from 0 (none) to 10 (the worst)."
    ),
]
PainBeforeOption = Annotated[
    Optional[str],
    typer.Option("--pain-before", metavar="0-10", help="Your pain just before it, 0 to 10."),
]
NoteOption = Annotated[
    Optional[str],
    typer.Option("--note", help="A note of your own, at most 500 characters."),
]


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
    pain: PainOption = None,
    pain_before: PainBeforeOption = None,
    note_text: NoteOption = None,
    *,
    choices: Choices,
) -> None:
    """Record a session done away from the computer (with an exported MP3).

    Use the same settings options as for the export, so progression follows. --pain
    and --pain-before rate your pain from 0 to 10; `voice-coach amend` corrects them.

    Example: voice-coach log sciatica-relief --pain 3 --pain-before 4 --note "easier today"
    """
    from datetime import UTC, datetime

    from ..history import History
    from ..plan import make_plan
    from ..practice import check_answers, ended_at, log_done, parse_day
    from ..prepare import prepare_plan

    with reported():
        answers = check_answers(pain_before, pain, note_text, words=True)
        day = None if on is None else parse_day(on)
        p = make_plan(routine, choices)
        if minutes is None:
            with progress_bar() as bar:
                ready = prepare_plan(p, progress_callback(bar, "Synthesizing cues"))
            length_s = ready.timeline.total_ms / 1000
        else:
            length_s = minutes * 60
        with History.open() as history:
            session = log_done(p, length_s, ended_at(day, datetime.now(UTC)), history, answers)
        say(
            f"logged {p.original.title}: {length_s / 60:.0f} min on "
            f"{session.ended_at.astimezone().date().isoformat()}{_rated(session)}"
            f" (session {session.id})"
        )


def _rated(session: Session) -> str:
    """ ", pain 4 before, 2 after" for what the session holds; "" for no rating."""
    parts = []
    if session.pain_before is not None:
        parts.append(f"{session.pain_before} before")
    if session.pain_after is not None:
        parts.append(f"{session.pain_after} after")
    return f", pain {', '.join(parts)}" if parts else ""


@app.command()
def amend(
    session_id: Annotated[
        str,
        typer.Argument(
            metavar="SESSION",
            help="The session's number (`voice-coach history --json` shows each id), or last.",
            show_default=False,
        ),
    ],
    pain: PainOption = None,
    pain_before: PainBeforeOption = None,
    note_text: NoteOption = None,
) -> None:
    """Correct a recorded session's pain ratings or note (played or logged).

    Example: voice-coach amend last --pain 2
    """
    from ..history import History
    from ..practice import amend as amend_session
    from ..practice import check_answers, parse_session_id

    with reported():
        answers = check_answers(pain_before, pain, note_text, words=True)
        wanted = parse_session_id(session_id)
        with History.open() as history:
            session = amend_session(history, wanted, answers)
        when = session.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        note = f', note "{session.note}"' if session.note else ""
        say(f"session {session.id} ({session.routine_title}, {when}){_rated(session)}{note}")
