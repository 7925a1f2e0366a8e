"""`settings`: every effective setting of a routine and where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .app import app
from .common import RoutineArg, reported, say, table
from .options import with_settings

if TYPE_CHECKING:
    from ..settings import Choices


@app.command()
@with_settings
def settings(routine: RoutineArg, *, choices: Choices) -> None:
    """Show the effective value of every setting and where it came from.

    Precedence: command line > profile's section for the routine > profile defaults >
    routine script.

    Example: voice-coach settings sciatica-relief --hold "Seated hamstring stretch=45"
    """
    from ..plan import make_plan

    with reported():
        p = make_plan(routine, choices)
        r = p.resolved
        say(f"{p.routine.title} ({p.original.source})")
        if r.progression_note:
            say(r.progression_note)
        table(("setting", "value", "from"), [(s.name, s.value, s.source) for s in r.listing()])
