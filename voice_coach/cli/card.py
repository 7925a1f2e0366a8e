"""`card`: a routine on one printed page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import RoutineArg, progress_bar, progress_callback, reported, say
from .options import with_settings

if TYPE_CHECKING:
    from ..settings.words import Choices


@app.command()
@with_settings
def card(
    routine: RoutineArg,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The HTML file to write (print it from a browser)."),
    ],
    page: Annotated[
        Optional[str],
        typer.Option("--page", help="The address of the page that plays it, for a QR code."),
    ] = None,
    mp3: Annotated[
        Optional[str], typer.Option("--mp3", help="The address of its MP3, for a QR code.")
    ] = None,
    *,
    choices: Choices,
) -> None:
    """Write a one-page handout of a routine, to print: its title, safety note, each
    step with its setup, hold, reps and sides as your settings make them, the total
    time, and QR codes (the routine itself, and its page and MP3 when given). The
    page's "print" view is the same card.

    Example: voice-coach card sciatica-relief -o sciatica.html

    Example: voice-coach card sciatica-relief --hold 45 -o card.html --page http://192.168.1.20:8765/
    """
    from ..export.card import CardLinks, write_card
    from ..plan import make_plan

    with reported():
        plan = make_plan(routine, choices)
        with progress_bar() as bar:
            write_card(plan, output, CardLinks(page, mp3), progress_callback(bar, "Timing cues"))
    say(f"wrote {output}")
