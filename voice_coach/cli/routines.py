"""`list`, `validate` and `version`: the routine library."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .common import fail, reported, say, table


@app.command("list")
def list_routines() -> None:
    """List the bundled routines.

    Example: voice-coach list
    """
    from ..library import bundled_routines, summarize

    with reported():
        rows = []
        for name, path in bundled_routines().items():
            found = summarize(path)
            if found is None:
                rows.append((name, "(invalid: run voice-coach validate)", ""))
            else:
                rows.append((name, found.title, str(found.steps)))
        table(("name", "title", "steps"), rows)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Routine files or bundled names.")],
) -> None:
    """Check routine scripts without speaking anything; list every problem.

    Example: voice-coach validate scripts/*.yaml
    """
    from ..errors import Problem, ValidationError, VoiceCoachError
    from ..plan import load

    problems: list[Problem] = []
    for name in files:
        try:
            routine = load(name)
            say(f"ok: {routine.source} ({len(routine.steps)} steps)")
        except ValidationError as exc:
            problems += exc.problems
        except VoiceCoachError as exc:
            problems.append(Problem(name, None, "", str(exc)))
    if problems:
        raise fail(ValidationError(problems))


@app.command()
def version() -> None:
    """Print the version.

    Example: voice-coach version
    """
    from .. import __version__

    say(f"voice-coach {__version__}")
