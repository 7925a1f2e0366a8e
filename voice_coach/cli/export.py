"""`export`: a routine to an audio file, or to one track per chapter (--split)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ..errors import Problem, ValidationError
from ..export import (
    BITRATES_KBPS,
    FORMATS,
    Progress,
    SplitExport,
    Tags,
    default_export_path,
    default_split_folder,
    export_audio,
    export_split,
)
from ..prepare import Prepared, settings_comment
from . import app

if TYPE_CHECKING:
    from ..cover import CoverText
from .common import (
    Plan,
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

EXPORTS_DIR = Path("exports")


FormatOpt = Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")]
BitrateOpt = Annotated[
    Optional[int],
    typer.Option("--bitrate", help="kbit/s for compressed formats (default 64: mono speech)."),
]


def check_format(fmt: str, bitrate: int | None) -> None:
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


def export_name(p: Plan) -> str:
    """NAME[-SETTINGS]: the routine's slug and the label of every setting not its own."""
    return p.routine.slug + (f"-{p.resolved.label}" if p.resolved.label else "")


def default_target(p: Plan, fmt: str, split: bool, directory: Path = EXPORTS_DIR) -> Path:
    name = export_name(p)
    return (
        default_split_folder(name, directory)
        if split
        else default_export_path(name, fmt, directory)
    )


def stage_label(p: Plan) -> str:
    """ "Week 3" (or "Session 3") when a progression applies; "" otherwise."""
    note = p.resolved.progression_note
    if not note:
        return ""
    unit = "Session" if "every session" in note and "every week" not in note else "Week"
    return f"{unit} {p.stage.number}"


def cover_text(p: Plan) -> CoverText:
    from ..cover import CoverText

    return CoverText(title=p.routine.title, stage=stage_label(p))


def write_export(
    p: Plan,
    ready: Prepared,
    target: Path,
    fmt: str,
    bitrate: int | None,
    split: bool,
    progress: Progress | None = None,
) -> Path | SplitExport:
    """Tag, cover and encode a prepared plan: one file, or a folder of tracks."""
    comment = settings_comment(ready)
    if p.resolved.summary:
        comment += f"; settings: {p.resolved.summary}"
    from ..cover import cover_png  # Pillow: only when a cover is made

    cover = cover_png(cover_text(p)) if fmt != "wav" else None
    tags = Tags(title=p.routine.title, comment=comment, cover_png=cover)
    args = (ready.timeline, ready.clips, ready.sample_rate, target, fmt, bitrate)
    if split:
        return export_split(*args, dataclasses.replace(tags, album=p.routine.title), progress)
    return export_audio(*args, tags, progress)


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
    opts: SettingsOptions,
) -> None:
    """Export a routine to an audio file (MP3 with chapters and a cover by default).

    Example: voice-coach export sciatica-relief --hold 45 -o ~/Music/sciatica.mp3

    Example: voice-coach export sciatica-relief --split -o ~/Music/sciatica/
    """
    with reported():
        check_format(fmt, bitrate)
        p = plan(routine, opts)
        target = output or default_target(p, fmt, split)
        with progress_bar() as bar:
            ready = prepared(p, opts.cache_dir, bar)
            task = bar.add_task("Encoding", total=None)
            written = write_export(
                p,
                ready,
                target,
                fmt,
                bitrate,
                split,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        total = length(ready.timeline.total_ms)
        if isinstance(written, SplitExport):
            size_mb = sum(t.stat().st_size for t in written.tracks) / 1e6
            out.print(
                f"wrote {written.folder}/ ({len(written.tracks)} tracks, {total}, "
                f"{size_mb:.1f} MB, playlist {written.playlist.name})",
                markup=False,
            )
            return
        size_mb = written.stat().st_size / 1e6
        out.print(
            f"wrote {written} ({total}, {size_mb:.1f} MB, {len(ready.timeline.chapters)} chapters)",
            markup=False,
        )
