"""`export-all`: every routine of a folder (or the bundled library), in parallel,
skipping those whose exports are up to date."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..batch import Index, Outcome, input_hash, routine_files, running, summary
from ..errors import Problem, ValidationError, VoiceCoachError
from ..export import FORMATS
from ..prepare import prepare
from ..speech import get_engine
from . import app
from .common import SettingsOptions, err, fail, out, plan, progress_bar, with_settings
from .export import EXPORTS_DIR, BitrateOpt, FormatOpt, check_format, default_target, write_export


@dataclass(frozen=True)
class Job:
    routine: Path
    folder: Path
    fmt: str
    bitrate_kbps: int | None
    split: bool
    opts: SettingsOptions
    hashes: Mapping[str, str] = field(default_factory=dict)
    """The index as it was when the run started."""


def _reason(exc: VoiceCoachError | OSError) -> str:
    if isinstance(exc, ValidationError) and exc.problems:
        more = len(exc.problems) - 1
        return str(exc.problems[0]) + (f" (and {more} more problems)" if more else "")
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def export_one(job: Job) -> Outcome:
    """Load, plan and export one routine unless its output is up to date (runs in a
    worker process: it reports failures in its result rather than raising)."""
    routine = str(job.routine)
    try:
        p = plan(routine, job.opts)
        target = default_target(p, job.fmt, job.split, job.folder)
        settings = p.routine.voice.merged(p.resolved.voice)
        voice = get_engine(settings.engine).resolve(settings)
        digest = input_hash(
            job.routine.read_bytes(), p.resolved.label, voice, job.fmt, job.bitrate_kbps, job.split
        )
        if job.hashes.get(target.name) == digest and target.exists():
            return Outcome(routine, "skipped", target.name, digest)
        ready = prepare(p.routine, p.resolved.voice, job.opts.cache_dir)
        write_export(p, ready, target, job.fmt, job.bitrate_kbps, job.split)
        return Outcome(routine, "exported", target.name, digest, warnings=ready.timeline.warnings)
    except (VoiceCoachError, OSError) as exc:
        return Outcome(routine, "failed", message=_reason(exc))


@app.command("export-all")
@with_settings
def export_all(
    directory: Annotated[
        Optional[Path],
        typer.Argument(
            help="A folder of routine scripts (*.yaml); default: the bundled routines.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder to write the exports into.")
    ] = EXPORTS_DIR,
    fmt: FormatOpt = "mp3",
    bitrate: BitrateOpt = None,
    split: Annotated[
        bool,
        typer.Option("--split", help="One track per chapter and a playlist, per routine."),
    ] = False,
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=1, help="Routines exported at once (default: CPUs)."),
    ] = os.cpu_count() or 1,
    *,
    opts: SettingsOptions,
) -> None:
    """Export every routine, skipping those whose inputs have not changed since the last run.

    Example: voice-coach export-all -o ~/Music/stretching --split
    """
    try:
        check_format(fmt, bitrate)
        if directory is not None and not directory.is_dir():
            raise ValidationError([_not_a_folder(directory)])
        files = routine_files(directory)
        output.mkdir(parents=True, exist_ok=True)
        index = Index.load(output)
    except VoiceCoachError as exc:
        raise fail(exc) from None
    except OSError as exc:
        err.print(f"error: cannot write {output}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    kbps = bitrate or FORMATS[fmt].default_kbps
    work = [Job(f, output, fmt, kbps, split, opts, dict(index.hashes)) for f in files]
    outcomes: list[Outcome] = []
    try:
        with running(work, export_one, jobs) as pool, progress_bar() as bar:
            task = bar.add_task("Exporting routines", total=len(work))
            for outcome in pool.results():
                outcomes.append(outcome)
                _report(outcome, output)
                if outcome.status == "exported":
                    index.hashes[outcome.output] = outcome.digest
                    index.save()
                bar.advance(task)
        index.save()
    except KeyboardInterrupt:
        err.print(
            f"interrupted after {summary(outcomes)}; finished exports are kept.", markup=False
        )
        raise typer.Exit(130) from None
    except OSError as exc:
        err.print(f"error: cannot write the index in {output}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    failed = [o for o in outcomes if o.status == "failed"]
    line = f"{summary(outcomes)} ({output})"
    if failed:
        line += ": " + "; ".join(f"{Path(o.routine).name}: {o.message}" for o in failed)
    out.print(line, markup=False)
    if failed:
        raise typer.Exit(1)


def _not_a_folder(directory: Path) -> Problem:
    return Problem(str(directory), None, "", "is not a folder of routine scripts")


def _report(outcome: Outcome, folder: Path) -> None:
    name = Path(outcome.routine).name
    for warning in outcome.warnings:
        err.print(f"warning: {name}: {warning}", markup=False)
    if outcome.status == "exported":
        out.print(f"wrote {folder / outcome.output}", markup=False)
