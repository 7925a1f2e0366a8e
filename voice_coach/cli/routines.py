"""`list`, `validate` and `version`: the routine library."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .. import __version__
from ..errors import Problem, ValidationError, VoiceCoachError
from ..library import bundled_routines
from ..loader import load_routine
from . import app
from .common import fail, load, out, reported


@app.command("list")
def list_routines() -> None:
    """List the bundled routines.

    Example: voice-coach list
    """
    with reported():
        table = Table("name", "title", "steps", box=None, pad_edge=False)
        for name, path in bundled_routines().items():
            try:
                routine = load_routine(path)
                table.add_row(name, routine.title, str(len(routine.steps)))
            except ValidationError:
                table.add_row(name, "(invalid: run voice-coach validate)", "")
        out.print(table)


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Routine files or bundled names.")],
) -> None:
    """Check routine scripts without speaking anything; list every problem.

    Example: voice-coach validate scripts/*.yaml
    """
    problems: list[Problem] = []
    for name in files:
        try:
            routine = load(name)
            out.print(f"ok: {routine.source} ({len(routine.steps)} steps)", markup=False)
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
    out.print(f"voice-coach {__version__}")
