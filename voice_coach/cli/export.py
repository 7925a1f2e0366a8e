"""`export`: a routine to an audio file, or to one track per chapter (--split)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .app import app
from .common import RoutineArg, note, progress_bar, progress_callback, reported, say, warn
from .options import with_settings

FORMAT_NAMES = ("mp3", "ogg", "m4a", "wav")
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMAT_NAMES)}.")
]
BitrateOpt = Annotated[
    Optional[int],
    typer.Option("--bitrate", help="kbit/s for compressed formats (default 64: mono speech)."),
]


if TYPE_CHECKING:
    from ..settings.words import Choices


@app.command()
@with_settings
def export(
    routine: RoutineArg,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "-o",
            "--output",
            help="File to write (default: exports/NAME[-SETTINGS].FORMAT); with --split, "
            "the folder (default: exports/NAME[-SETTINGS]/).",
        ),
    ] = None,
    fmt: FormatOpt = "mp3",
    bitrate: BitrateOpt = None,
    split: Annotated[
        bool,
        typer.Option(
            "--split",
            help="One track per chapter (introduction, each step) and an .m3u8 playlist, "
            "in a folder: for music apps without chapters.",
        ),
    ] = False,
    *,
    choices: Choices,
) -> None:
    """Export a routine to an audio file (MP3 with chapters and a cover by default).

    Example: voice-coach export sciatica-relief --hold 45 -o ~/Music/sciatica.mp3

    Example: voice-coach export sciatica-relief --split -o ~/Music/sciatica/
    """
    from ..export.routine import check_format, default_target, write_export
    from ..export.split import SplitExport
    from ..plan import make_plan
    from ..prepare import prepare_plan
    from ..timefmt import length

    with reported():
        check_format(fmt, bitrate)
        p = make_plan(routine, choices)
        target = output or default_target(p, fmt, split)
        with progress_bar() as bar:
            ready = prepare_plan(p, progress_callback(bar, "Synthesizing cues"))
            if ready.note:
                note(f"note: {ready.note}")
            for warning in ready.timeline.warnings:
                warn(warning)
            encoding = progress_callback(bar, "Encoding")
            written = write_export(p, ready, target, fmt, bitrate, split, encoding)
        total = length(ready.timeline.total_ms)
        if isinstance(written, SplitExport):
            size_mb = sum(t.stat().st_size for t in written.tracks) / 1e6
            say(
                f"wrote {written.folder}/ ({len(written.tracks)} tracks, {total}, "
                f"{size_mb:.1f} MB, playlist {written.playlist.name})"
            )
            return
        size_mb = written.stat().st_size / 1e6
        say(f"wrote {written} ({total}, {size_mb:.1f} MB, {len(ready.timeline.chapters)} chapters)")
