"""`export-all`: every routine of a folder (or the bundled library), in parallel,
skipping those whose exports are up to date."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import fail, note, progress_bar, say, warn
from .export import BitrateOpt, FormatOpt
from .options import with_settings

if TYPE_CHECKING:
    from ..export.batch import Outcome
    from ..settings.words import Choices


@app.command("export-all")
@with_settings
def export_all(
    directory: Annotated[
        Optional[Path],
        typer.Argument(
            help="A folder of routine scripts (*.yaml); default: yours and the bundled ones.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder to write the exports into.")
    ] = Path("exports"),
    fmt: FormatOpt = "mp3",
    bitrate: BitrateOpt = None,
    split: Annotated[
        bool,
        typer.Option("--split", help="One track per chapter and a playlist, per routine."),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=1, help="Routines exported at once (default: CPUs)."),
    ] = os.cpu_count() or 1,
    *,
    choices: Choices,
) -> None:
    """Export every routine, skipping those whose inputs have not changed since the last run.

    Example: voice-coach export-all -o ~/Music/stretching --split
    """
    from ..errors import VoiceCoachError
    from ..export import batch

    outcomes: list[Outcome] = []
    noted: set[str] = set()
    # No refresh thread: the worker processes are forked while the bar exists.
    with progress_bar(auto_refresh=False) as bar:
        task = bar.add_task("Exporting routines", total=None)

        def done(outcome: Outcome, total: int) -> None:
            outcomes.append(outcome)
            name = Path(outcome.routine).name
            if outcome.note and outcome.note not in noted:
                noted.add(outcome.note)
                note(f"note: {outcome.note}")
            for warning in outcome.warnings:
                warn(f"{name}: {warning}")
            if outcome.status == "exported":
                say(f"wrote {output / outcome.output}")
            bar.update(task, completed=len(outcomes), total=total, refresh=True)

        try:
            batch.export_all(directory, output, fmt, bitrate, split, choices, jobs, done)
        except VoiceCoachError as exc:
            raise fail(exc) from None
        except KeyboardInterrupt:
            note(f"interrupted after {batch.summary(outcomes)}; finished exports are kept.")
            raise typer.Exit(130) from None
    failed = [o for o in outcomes if o.status == "failed"]
    line = f"{batch.summary(outcomes)} ({output})"
    if failed:
        line += ": " + "; ".join(f"{Path(o.routine).name}: {o.message}" for o in failed)
    say(line)
    if failed:
        raise typer.Exit(1)
