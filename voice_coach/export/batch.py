"""Exporting many routines at once: what changed since the last run, and a process pool.

An index file in the output folder maps each output (file or split folder) to its
`export_key`. An output whose key matches and which still exists is not made again.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from ..atomic import write_atomically
from ..errors import ExportError, Problem, ValidationError, VoiceCoachError
from ..routine.library import SUFFIXES, all_routines
from ..settings.words import Choices

INDEX_NAME = ".voice-coach-index.json"
INDEX_VERSION = 1

Status = Literal["exported", "skipped", "failed"]
J = TypeVar("J")


@dataclass
class Index:
    """Output name (relative to the folder) -> hash of its inputs."""

    folder: Path
    hashes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> Index:
        """The folder's index; empty if missing or unreadable (then everything is redone)."""
        try:
            data: Any = json.loads((folder / INDEX_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(folder)
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return cls(folder)
        outputs = data.get("outputs")
        if not isinstance(outputs, dict):
            return cls(folder)
        return cls(folder, {str(k): str(v) for k, v in outputs.items() if isinstance(v, str)})

    def save(self) -> None:
        kept = {k: v for k, v in sorted(self.hashes.items()) if (self.folder / k).exists()}
        data = {"version": INDEX_VERSION, "outputs": kept}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        write_atomically(self.folder / INDEX_NAME, text.encode("utf-8"))


def routine_files(directory: Path | None = None) -> list[Path]:
    """Every routine script in `directory` (sorted), or every routine that can be
    named: yours and the bundled ones (yours first where a name is both)."""
    if directory is None:
        return [found.path for found in all_routines()]
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


@dataclass(frozen=True)
class Outcome:
    """What became of one routine."""

    routine: str
    status: Status
    output: str = ""
    """Output name relative to the export folder ("" if it failed before one was known)."""
    digest: str = ""
    message: str = ""
    """Why it failed."""
    warnings: tuple[str, ...] = ()
    note: str | None = None
    """The natural voice could not be used (said once for the whole run)."""


def summary(outcomes: Sequence[Outcome]) -> str:
    statuses: tuple[Status, ...] = ("exported", "skipped", "failed")
    count = {s: sum(1 for o in outcomes if o.status == s) for s in statuses}
    return f"exported {count['exported']}, skipped {count['skipped']}, failed {count['failed']}"


@dataclass
class Pool(Generic[J]):
    """Runs `work` on each job; results come back as they finish."""

    futures: list[Future[Outcome]]
    inline: list[J]
    work: Callable[[J], Outcome]

    def results(self) -> Iterator[Outcome]:
        for job in self.inline:
            yield self.work(job)
        for future in as_completed(self.futures):
            yield future.result()


@contextmanager
def running(jobs: Sequence[J], work: Callable[[J], Outcome], workers: int) -> Iterator[Pool[J]]:
    """Start `work` on every job, across `workers` processes (in this one if 1).

    Every job is submitted on entry, so the worker processes are started before the
    caller starts any thread of its own (a progress bar): forking a threaded process
    is unsafe. `work` must be a module-level function (it is pickled) that returns
    an `Outcome` rather than raising.
    """
    if workers <= 1 or len(jobs) <= 1:
        yield Pool([], list(jobs), work)
        return
    # Forked workers inherit the engine registry as this process has it (engines
    # added at run time, as tests do); this process has not started any engine.
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as executor:
        futures = [executor.submit(work, job) for job in jobs]
        try:
            yield Pool(futures, [], work)
        except BaseException:
            executor.shutdown(wait=True, cancel_futures=True)
            raise


# -- export-all --------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One routine of an `export-all` run."""

    routine: Path
    folder: Path
    fmt: str
    bitrate_kbps: int | None
    split: bool
    choices: Choices
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
    from ..plan import make_plan
    from ..prepare import prepare
    from ..speech import engine_name, get_engine
    from .key import plan_key
    from .routine import default_target, write_export

    routine = str(job.routine)
    try:
        plan = make_plan(routine, job.choices)
        target = default_target(plan, job.fmt, job.split, job.folder)
        settings = plan.routine.voice.merged(plan.resolved.voice)
        voice = get_engine(engine_name(settings)).resolve(settings)
        digest = plan_key(plan, voice, job.fmt, job.bitrate_kbps, job.split)
        if job.hashes.get(target.name) == digest and target.exists():
            return Outcome(routine, "skipped", target.name, digest)
        ready = prepare(plan.routine, plan.resolved.voice, job.choices.cache_dir)
        write_export(plan, ready, target, job.fmt, job.bitrate_kbps, job.split)
        return Outcome(
            routine,
            "exported",
            target.name,
            digest,
            warnings=ready.timeline.warnings,
            note=ready.note,
        )
    except (VoiceCoachError, OSError) as exc:
        return Outcome(routine, "failed", message=_reason(exc))


def export_all(
    directory: Path | None,
    folder: Path,
    fmt: str,
    bitrate_kbps: int | None,
    split: bool,
    choices: Choices,
    workers: int,
    on_outcome: Callable[[Outcome, int], None] = lambda _o, _n: None,
) -> list[Outcome]:
    """Export every routine of `directory` (default: the bundled ones) into `folder`,
    `workers` at a time, skipping those whose inputs are unchanged; the index is
    updated after each. `on_outcome` gets each outcome and how many jobs there are."""
    from .encode import FORMATS
    from .routine import check_format

    check_format(fmt, bitrate_kbps)
    if directory is not None and not directory.is_dir():
        raise ValidationError(
            [Problem(str(directory), None, "", "is not a folder of routine scripts")]
        )
    files = routine_files(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        index = Index.load(folder)
        kbps = FORMATS[fmt].kbps(bitrate_kbps)
        work = [Job(f, folder, fmt, kbps, split, choices, dict(index.hashes)) for f in files]
        outcomes: list[Outcome] = []
        with running(work, export_one, workers) as pool:
            for outcome in pool.results():
                outcomes.append(outcome)
                if outcome.status == "exported":
                    index.hashes[outcome.output] = outcome.digest
                    index.save()
                on_outcome(outcome, len(work))
        index.save()
    except OSError as exc:
        raise ExportError(f"cannot write {folder}: {exc.strerror or exc}") from None
    return outcomes
