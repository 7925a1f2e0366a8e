"""`import`: routines from other tools' files, written as scripts of your own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import note, reported, say


@app.command(name="import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files written for other tools: w2a YAML, apg text (phrase;seconds lines), "
            "just_another_workout_timer JSON (a workout or a backup), OpenHIIT export "
            "JSON, or a voice_coach script. The format is read from the content.",
            show_default=False,
        ),
    ],
    name: Annotated[
        Optional[str],
        typer.Option(
            "--name",
            help="Name the routine this (then NAME-2, NAME-3 for more); else each is "
            "named from its title.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace routines of yours with these names.")
    ] = False,
) -> None:
    """Import routines written for other tools into your routines folder, each as a
    commented script played by name like any other. Holds and rests keep their names
    and seconds; what could not be carried over is listed. Nothing is written unless
    every file is read without a problem.

    Example: voice-coach import workout.yaml

    Example: voice-coach import Backup.json exported_openhiit_timers.json

    Example: voice-coach import qigong.txt --name morning-qigong
    """
    from ..paths import routines_dir
    from ..routine.imports import import_files

    with reported():
        written = import_files(files, routines_dir(), name, force)
    for item in written:
        say(f"wrote {item.path}")
        for problem in item.script.notes:
            note(f"not carried over: {problem}")
    if written:
        names = " ".join(item.name for item in written[:1])
        note(f"check it: voice-coach show {names}; play it: voice-coach play {names}")
