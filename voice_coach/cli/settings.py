"""`settings`: every effective setting of a routine and where it came from; with
`--save`, the given options become the routine's section of the profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .app import app
from .common import RoutineArg, note, reported, say, table
from .options import with_settings

if TYPE_CHECKING:
    from ..settings.words import Choices


@app.command()
@with_settings
def settings(
    routine: RoutineArg,
    save: Annotated[
        bool,
        typer.Option(
            "--save",
            help="Write the given options into your profile as this routine's settings "
            "(other settings there are kept), then show the result.",
        ),
    ] = False,
    *,
    choices: Choices,
) -> None:
    """Show the effective value of every setting and where it came from.

    Precedence: command line > profile's section for the routine > profile defaults >
    routine script.

    Example: voice-coach settings sciatica-relief --hold "Seated hamstring stretch=45"

    Example: voice-coach settings sciatica-relief --hold "Knee hug=60" --save
    """
    from ..plan import make_plan

    with reported():
        if save:
            from ..settings.profile_edit import save_routine_settings

            saved = save_routine_settings(routine, choices)
            note(f"saved to {saved.path}")
            # What was given is the profile's now: show it as such.
            choices = choices.without_settings()
        p = make_plan(routine, choices)
        r = p.resolved
        say(f"{p.routine.title} ({p.original.source})")
        if r.progression_note:
            say(r.progression_note)
        table(("setting", "value", "from"), [(s.name, s.value, s.source) for s in r.listing()])
