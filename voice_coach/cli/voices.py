"""`voices`: the speech engines, whether each works here, and what they can speak."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .app import app
from .common import reported, say


@app.command()
def voices(
    engine: Annotated[
        Optional[str],
        typer.Option("--engine", help="Show only this engine.", show_default=False),
    ] = None,
) -> None:
    """List every speech engine (available or not, and why not) and its voices.

    Use a voice's id with --voice. With a language (such as de) set instead of a voice,
    the engine picks its voice for that language.

    Example: voice-coach voices --engine espeak-ng
    """
    from ..speech import engine_statuses

    with reported():
        for i, status in enumerate(engine_statuses(engine)):
            if i:
                say()
            for line in status.describe():
                say(line)
