"""`new` and `schema`: writing routines of your own."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .app import app
from .common import note, reported, say


@app.command()
def new(
    name: Annotated[
        str,
        typer.Argument(
            help="The new routine's name: letters, digits, - and _ (its file name, and how "
            "you play it).",
            show_default=False,
        ),
    ],
    source: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            help="Copy this routine (a bundled one, one of yours, or a file) instead of "
            "writing the starter.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a routine of yours with this name.")
    ] = False,
) -> None:
    """Start a routine of your own in your routines folder: a commented starter script,
    or a copy of a routine to customize. It is then played by name like a bundled one
    (and instead of a bundled one of the same name).

    Example: voice-coach new my-back

    Example: voice-coach new my-relief --from sciatica-relief
    """
    from ..routine.starter import new_routine

    with reported():
        written = new_routine(name, source, force)
    say(f"wrote {written.path}")
    if written.replaces_bundled:
        note(f"note: it is played instead of the bundled routine {written.name!r}")
    note(f"edit it, then: voice-coach validate {written.name}; voice-coach play {written.name}")


@app.command()
def schema(
    path: Annotated[
        bool, typer.Option("--path", help="Print where the installed copy of the schema is.")
    ] = False,
) -> None:
    """Print the JSON Schema of a routine script, for completion and checks in editors
    (the YAML language server: VS Code, Neovim, Helix, ...). Bundled scripts point at it
    from their first line.

    Example: voice-coach schema > routine.schema.json

    Example: voice-coach schema --path
    """
    from ..routine.schema import SCHEMA_FILE, schema_text

    sys.stdout.write(f"{SCHEMA_FILE}\n" if path else schema_text())
