"""`show`: the timeline as a table or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from . import app
from .common import (
    RoutineArg,
    SettingsOptions,
    clock,
    err,
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
    plot: Annotated[
        Optional[Path],
        typer.Option(
            "--plot",
            help="Also draw the timeline (waveform, chapters, cue marks) into this PNG file.",
        ),
    ] = None,
    *,
    opts: SettingsOptions,
) -> None:
    """Show the timeline: every cue with its start time.

    Example: voice-coach show sciatica-relief --hold 45 --json

    Example: voice-coach show sciatica-relief --plot timeline.png
    """
    with reported():
        p = plan(routine, opts)
        with progress_bar() as bar:
            ready = prepared(p, opts.cache_dir, bar)
            if plot is not None:
                bar.add_task("Drawing", total=None)
                from ..plot import write_timeline_png  # Pillow: only for --plot

                write_timeline_png(ready.timeline, ready.clips, ready.sample_rate, plot)
        tl = ready.timeline
        if plot is not None:
            # stdout may be JSON; where the picture went is for the person.
            (err if as_json else out).print(f"wrote {plot}", markup=False)
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
