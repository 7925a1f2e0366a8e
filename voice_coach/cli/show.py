"""`show`: the timeline as a table or as JSON."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from . import app
from .common import (
    RoutineArg,
    SettingsOptions,
    clock,
    length,
    out,
    plan,
    prepared,
    progress_bar,
    reported,
    with_settings,
)


@app.command()
@with_settings
def show(
    routine: RoutineArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
    *,
    opts: SettingsOptions,
) -> None:
    """Show the timeline: every cue with its start time.

    Example: voice-coach show sciatica-relief --hold 45 --json
    """
    with reported():
        p = plan(routine, opts)
        with progress_bar() as bar:
            ready = prepared(p, opts.cache_dir, bar)
        tl = ready.timeline
        if as_json:
            sys.stdout.write(json.dumps(tl.to_json(), indent=2, ensure_ascii=False) + "\n")
            return
        v = ready.voice
        out.print(
            f"{tl.title}: {length(tl.total_ms)}, {len(p.routine.exercises)} exercises, "
            f"{len(tl.holds)} holds",
            markup=False,
        )
        out.print(f"voice: {v.engine} {v.voice}, {v.rate_wpm} wpm", markup=False)
        if p.resolved.summary:
            out.print(f"settings: {p.resolved.summary}", markup=False)
        if p.resolved.progression_note:
            out.print(p.resolved.progression_note, markup=False)
        table = Table("start", "length", "step", "cue", "text", box=None, pad_edge=False)
        for e in tl.events:
            table.add_row(
                clock(e.start_ms),
                f"{e.duration_ms / 1000:.1f}s",
                "" if e.step is None else str(e.step),
                e.kind,
                e.text if e.is_speech else f"({e.text} chime)",
            )
        out.print(table)
