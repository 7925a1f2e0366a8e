"""`show`: the timeline as a table or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import RoutineArg, note, progress_bar, progress_callback, reported, say, table, warn
from .options import with_settings

if TYPE_CHECKING:
    from ..settings.words import Choices


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
    choices: Choices,
) -> None:
    """Show the timeline: every cue with its start time.

    Example: voice-coach show sciatica-relief --hold 45 --json

    Example: voice-coach show sciatica-relief --plot timeline.png
    """
    from ..plan import make_plan
    from ..prepare import prepare_plan
    from ..timefmt import clock_tenths, length

    with reported():
        p = make_plan(routine, choices)
        with progress_bar() as bar:
            ready = prepare_plan(p, progress_callback(bar, "Synthesizing cues"))
            if plot is not None:
                bar.add_task("Drawing", total=None)
                from ..export.plot import write_timeline_png  # Pillow: only for --plot

                write_timeline_png(ready.timeline, ready.clips, ready.sample_rate, plot)
        tl = ready.timeline
        if ready.note:
            note(f"note: {ready.note}")
        for warning in tl.warnings:
            warn(warning)
        if plot is not None:
            # stdout may be JSON; where the picture went is for the person.
            (note if as_json else say)(f"wrote {plot}")
        if as_json:
            sys.stdout.write(json.dumps(tl.to_json(), indent=2, ensure_ascii=False) + "\n")
            return
        v = ready.voice
        say(
            f"{tl.title}: {length(tl.total_ms)}, {len(p.routine.exercises)} exercises, "
            f"{len(tl.holds)} holds"
        )
        say(f"voice: {v.engine} {v.voice}, {v.rate_wpm} wpm")
        if p.routine.bed_label():
            levels = p.routine.bed_levels
            say(
                f"bed: {p.routine.bed_label()}, {-levels.level_lu:g} LU under the speech, "
                f"{levels.duck_db:g} dB down under each cue"
            )
        if p.resolved.summary:
            say(f"settings: {p.resolved.summary}")
        if p.resolved.progression_note:
            say(p.resolved.progression_note)
        table(
            ("start", "length", "step", "cue", "text"),
            [
                (
                    clock_tenths(e.start_ms),
                    f"{e.duration_ms / 1000:.1f}s",
                    "" if e.step is None else str(e.step),
                    e.kind,
                    e.text if e.is_speech else f"({e.text} chime)",
                )
                for e in tl.events
            ],
        )
