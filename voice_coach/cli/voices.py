"""`voices`: the speech engines, whether each works here, and what they can speak."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..speech import DEFAULT_ENGINE, EngineStatus, engine_statuses
from . import app
from .common import out, reported


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
    with reported():
        for i, status in enumerate(engine_statuses(engine)):
            if i:
                out.print()
            for line in describe(status):
                out.print(line, markup=False)


def describe(status: EngineStatus) -> list[str]:
    """One engine as lines of text: a heading, then a voice per line."""
    default = " (default)" if status.name == DEFAULT_ENGINE else ""
    if status.unavailable_reason is not None:
        return [f"{status.name}{default}: not available: {status.unavailable_reason}"]
    count = len(status.voices)
    lines = [
        f"{status.name}{default}: available, version {status.version}, "
        f"{count} voice{'s' if count != 1 else ''}"
    ]
    id_width = max((len(v.id) for v in status.voices), default=0)
    name_width = max((len(v.name) for v in status.voices), default=0)
    for v in status.voices:
        languages = ", ".join(v.languages) or "-"
        extra = "; ".join(x for x in (v.gender, v.notes) if x)
        line = f"  {v.id:<{id_width}}  {v.name:<{name_width}}  {languages}"
        lines.append(f"{line}  ({extra})" if extra else line)
    return lines
