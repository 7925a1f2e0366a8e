"""Exporting many routines at once: what changed since the last run, and a process pool.

An index file in the output folder maps each output (file or split folder) to a
hash of everything that makes it: the routine file's bytes, the settings label,
the resolved voice (engine version included), voice_coach's version, the format,
the bitrate and whether it is split. An output whose hash matches and which still
exists is not made again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from . import __version__
from .files import write_atomically
from .library import SUFFIXES, bundled_routines
from .speech import ResolvedVoice

INDEX_NAME = ".voice-coach-index.json"
INDEX_VERSION = 1

Status = Literal["exported", "skipped", "failed"]
J = TypeVar("J")


def input_hash(
    routine_bytes: bytes,
    settings_label: str,
    voice: ResolvedVoice,
    fmt: str,
    bitrate_kbps: int | None,
    split: bool,
) -> str:
    """A hash of everything an export's content depends on."""
    fields = {
        "routine_sha256": hashlib.sha256(routine_bytes).hexdigest(),
        "settings": settings_label,
        "voice": dataclasses.asdict(voice),
        "voice_coach": __version__,
        "format": fmt,
        "bitrate_kbps": bitrate_kbps,
        "split": split,
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


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

    def is_current(self, name: str, digest: str) -> bool:
        return self.hashes.get(name) == digest and (self.folder / name).exists()

    def save(self) -> None:
        kept = {k: v for k, v in sorted(self.hashes.items()) if (self.folder / k).exists()}
        data = {"version": INDEX_VERSION, "outputs": kept}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        write_atomically(self.folder / INDEX_NAME, text.encode("utf-8"))


def routine_files(directory: Path | None = None) -> list[Path]:
    """Every routine script in `directory` (sorted), or the bundled ones."""
    if directory is None:
        return list(bundled_routines().values())
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
