"""`list`, `validate` and `version`: the routine library."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .app import app
from .common import fail, note, progress_bar, progress_callback, reported, say, table, warn


@app.command("list")
def list_routines() -> None:
    """List the routines you can play by name: yours (`voice-coach new`) and the bundled
    ones, and where each comes from.

    Example: voice-coach list
    """
    from ..paths import routines_dir
    from ..routine.library import all_routines, summarize

    with reported():
        rows = []
        for found in all_routines():
            origin = "yours, instead of the bundled one" if found.replaces_bundled else found.origin
            summary = summarize(found.path)
            if summary is None:
                rows.append((found.name, "(invalid: run voice-coach validate)", "", origin))
            else:
                rows.append((found.name, summary.title, str(summary.steps), origin))
        table(("name", "title", "steps", "from"), rows)
        note(f"yours are in {routines_dir()} (voice-coach new NAME starts one)")


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Routine files or routine names.")],
    engine: Annotated[
        Optional[str],
        typer.Option(
            "--engine", help="Check the timing with this speech engine (default: the routine's)."
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Check the scripts only, not their timing (no speech)."),
    ] = False,
) -> None:
    """Check routine scripts and list every problem; then lay each out at its voice and
    warn about anything that would be dropped or cut (a `during` line that does not fit).
    Writes nothing; warnings alone exit 0.

    Example: voice-coach validate scripts/*.yaml

    Example: voice-coach validate my-back --quick
    """
    from ..check import check_routine
    from ..errors import Problem, ValidationError, VoiceCoachError

    problems: list[Problem] = []
    with progress_bar() as bar:
        for name in files:
            try:
                checked = check_routine(
                    name, engine, not quick, progress=progress_callback(bar, f"Timing {name}")
                )
            except ValidationError as exc:
                problems += exc.problems
                continue
            except VoiceCoachError as exc:
                problems.append(Problem(name, None, "", str(exc)))
                continue
            r = checked.routine
            steps = f"{len(r.steps)} step{'s' if len(r.steps) != 1 else ''}"
            at = f", timing at {checked.voice}" if checked.voice else ""
            say(f"ok: {r.source} ({steps}{at})")
            for warning in checked.warnings:
                warn(warning)
            if checked.unchecked:
                note(f"note: {r.source}: {checked.unchecked}")
    if problems:
        raise fail(ValidationError(problems))


@app.command()
def version() -> None:
    """Print the version.

    Example: voice-coach version
    """
    from .. import __version__

    say(f"voice-coach {__version__}")
