"""`settings`: every effective setting of a routine and where it came from."""

from __future__ import annotations

from rich.table import Table

from . import app
from .common import RoutineArg, SettingsOptions, out, plan, reported, with_settings


@app.command()
@with_settings
def settings(routine: RoutineArg, *, opts: SettingsOptions) -> None:
    """Show the effective value of every setting and where it came from.

    Precedence: command line > profile's section for the routine > profile defaults >
    routine script.

    Example: voice-coach settings sciatica-relief --hold "Seated hamstring stretch=45"
    """
    with reported():
        p = plan(routine, opts)
        r = p.resolved
        out.print(f"{p.routine.title} ({p.original.source})", markup=False)
        if r.progression_note:
            out.print(r.progression_note, markup=False)
        table = Table("setting", "value", "from", box=None, pad_edge=False)
        v = r.voice
        for name, value in (
            ("engine", v.engine or "pyttsx3"),
            ("voice", v.voice or "engine default"),
            ("rate", f"{v.rate_wpm or 160} wpm"),
            ("volume", "1" if v.volume is None else f"{v.volume:g}"),
        ):
            key = {"rate": "rate_wpm"}.get(name, name)
            table.add_row(name, value, r.voice_sources.get(key, "built-in default"))
        for s in r.settings:
            table.add_row(s.name, s.value, s.source)
        out.print(table)
