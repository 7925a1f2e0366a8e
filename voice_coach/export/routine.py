"""A planned routine to a file (or a folder of tracks): where it goes by default, its
tags and cover, and the encoding. What `export`, `export-all` and the page share.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..errors import Problem, ValidationError
from ..plan import Plan
from ..prepare import Prepared, Progress, settings_comment
from .encode import BITRATES_KBPS, FORMATS, default_export_path, export_audio
from .key import stage_label
from .split import SplitExport, default_split_folder, export_split
from .tags import Tags

EXPORTS_DIR = Path("exports")


def check_format(fmt: str, bitrate_kbps: int | None) -> None:
    """A `ValidationError` naming every problem with a format and bitrate pair."""
    problems = []
    if fmt not in FORMATS:
        problems.append(
            Problem("--format", None, "", f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
        )
    elif bitrate_kbps is not None and FORMATS[fmt].default_kbps is None:
        problems.append(Problem("--bitrate", None, "", f"does not apply to {fmt} (uncompressed)"))
    if bitrate_kbps is not None and bitrate_kbps not in BITRATES_KBPS:
        problems.append(
            Problem(
                "--bitrate",
                None,
                "",
                f"{bitrate_kbps} is not allowed; allowed: {', '.join(map(str, BITRATES_KBPS))}",
            )
        )
    elif bitrate_kbps is not None and fmt in FORMATS:
        top = FORMATS[fmt].max_kbps
        if top is not None and bitrate_kbps > top:
            message = f"{fmt} takes at most {top} kbit/s for mono speech"
            problems.append(Problem("--bitrate", None, "", message))
    if problems:
        raise ValidationError(problems)


def export_name(plan: Plan) -> str:
    """NAME[-SETTINGS]: the routine's slug and the label of every setting not its own."""
    label = plan.resolved.label
    return plan.routine.slug + (f"-{label}" if label else "")


def export_title(plan: Plan) -> str:
    """The routine's title and what differs from its script, so two exports of it tell
    apart in a player and a podcast feed: "Sciatica relief routine (Week 3, Knee hug
    hold 60 s)"."""
    changes = [part for part in (stage_label(plan), plan.resolved.changes) if part]
    return plan.routine.title + (f" ({', '.join(changes)})" if changes else "")


def default_target(plan: Plan, fmt: str, split: bool, directory: Path = EXPORTS_DIR) -> Path:
    """exports/NAME[-SETTINGS].FORMAT, or the folder exports/NAME[-SETTINGS]/ when split."""
    name = export_name(plan)
    return (
        default_split_folder(name, directory)
        if split
        else default_export_path(name, fmt, directory)
    )


def write_export(
    plan: Plan,
    ready: Prepared,
    target: Path,
    fmt: str,
    bitrate_kbps: int | None,
    split: bool,
    progress: Progress | None = None,
) -> Path | SplitExport:
    """Tag, cover and encode a prepared plan: one file, or a folder of tracks."""
    comment = settings_comment(ready)
    if plan.routine.bed_label():
        comment += f"; bed {plan.routine.bed_label()}"
    if plan.resolved.summary:
        comment += f"; settings: {plan.resolved.summary}"
    if stage_label(plan):
        comment += "; " + plan.resolved.progression_note.replace("\n", "; ")

    def cover() -> bytes:
        from .cover import CoverText, cover_png  # Pillow: only when a cover is made

        routine = plan.routine
        return cover_png(
            CoverText(title=routine.title, stage=stage_label(plan), bed=routine.bed_label())
        )

    draw = cover if fmt != "wav" else None  # WAV has no place for one
    tags = Tags(title=export_title(plan), comment=comment)
    args = (ready.timeline, ready.clips, ready.sample_rate, target, fmt, bitrate_kbps)
    if split:
        album = dataclasses.replace(tags, album=plan.routine.title)
        return export_split(*args, album, progress, draw, ready.bed)
    return export_audio(*args, tags, progress, draw, ready.bed)
