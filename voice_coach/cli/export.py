"""`export`: a routine to an audio file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Problem, ValidationError
from ..export import BITRATES_KBPS, FORMATS, Tags, default_export_path, export_audio
from ..prepare import settings_comment
from . import app
from .common import (
    RoutineArg,
    SettingsOptions,
    length,
    out,
    plan,
    prepared,
    progress_bar,
    reported,
    with_settings,
)


def _check(fmt: str, bitrate: int | None) -> None:
    problems = []
    if fmt not in FORMATS:
        problems.append(
            Problem("--format", None, "", f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
        )
    elif bitrate is not None and FORMATS[fmt].default_kbps is None:
        problems.append(Problem("--bitrate", None, "", f"does not apply to {fmt} (uncompressed)"))
    if bitrate is not None and bitrate not in BITRATES_KBPS:
        problems.append(
            Problem(
                "--bitrate",
                None,
                "",
                f"{bitrate} is not allowed; allowed: {', '.join(map(str, BITRATES_KBPS))}",
            )
        )
    if problems:
        raise ValidationError(problems)


@app.command()
@with_settings
def export(
    routine: RoutineArg,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "-o", "--output", help="File to write (default: exports/NAME[-SETTINGS].FORMAT)."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")
    ] = "mp3",
    bitrate: Annotated[
        Optional[int],
        typer.Option("--bitrate", help="kbit/s for compressed formats (default 64: mono speech)."),
    ] = None,
    *,
    opts: SettingsOptions,
) -> None:
    """Export a routine to an audio file (MP3 with chapters by default).

    Example: voice-coach export sciatica-relief --hold 45 -o ~/Music/sciatica.mp3
    """
    with reported():
        _check(fmt, bitrate)
        p = plan(routine, opts)
        name = p.routine.slug + (f"-{p.resolved.label}" if p.resolved.label else "")
        target = output or default_export_path(name, fmt)
        with progress_bar() as bar:
            ready = prepared(p, opts.cache_dir, bar)
            task = bar.add_task("Encoding", total=None)
            comment = settings_comment(ready)
            if p.resolved.summary:
                comment += f"; settings: {p.resolved.summary}"
            export_audio(
                ready.timeline,
                ready.clips,
                ready.sample_rate,
                target,
                fmt,
                bitrate,
                Tags(title=p.routine.title, comment=comment),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        size_mb = target.stat().st_size / 1e6
        out.print(
            f"wrote {target} ({length(ready.timeline.total_ms)}, {size_mb:.1f} MB, "
            f"{len(ready.timeline.chapters)} chapters)",
            markup=False,
        )
