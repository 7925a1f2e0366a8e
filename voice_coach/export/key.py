"""The export key: a hash of everything an export's content depends on, so that a
finished export is reused (export-all, the page) and identical requests share a render.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path

from .. import __version__
from ..plan import Plan
from ..routine.model import Routine
from ..speech.contract import ResolvedVoice


def export_key(
    routine: Routine,
    stage: str,
    voice: ResolvedVoice,
    fmt: str,
    bitrate_kbps: int | None,
    split: bool,
) -> str:
    """A hash of everything an export's content depends on, none of it listed by hand:
    the routine with every setting applied (each of its values, whatever layer set
    it), the progression stage the cover shows, the exact voice (engine version
    included), the format, the program's own code, and the size and time of every
    sound file a bed plays (a file changed in place makes the export again)."""
    fields = {
        "routine": _value(routine),
        "bed_files": _bed_files(routine),
        "stage": stage,
        "voice": dataclasses.asdict(voice),
        "format": fmt,
        "bitrate_kbps": bitrate_kbps,
        "split": split,
        "code": code_identity(),
    }
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def _bed_files(routine: Routine) -> list[tuple[str, int, int]]:
    """(path, size, modification time in ns) of each sound file under `routine`."""
    found = []
    for path in sorted({b.path for b in routine.bed_files() if b.path}):
        try:
            st = os.stat(path)
        except OSError:
            continue  # said before anything is made (`audio.bed.check_files`)
        found.append((path, st.st_size, st.st_mtime_ns))
    return found


def _value(obj: object) -> object:
    """A dataclass as plain data, without the fields that do not make its value (where
    in a file something was written, kept for messages: `compare=False`)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _value(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.compare}
    if isinstance(obj, tuple | list):
        return [_value(x) for x in obj]
    return obj


@functools.cache
def code_identity() -> str:
    """A digest of this package's files: a changed program may render the same
    routine differently, so its exports are made again."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def stage_label(plan: Plan) -> str:
    """ "Stage 3 of 6" when a progression applies ("Stage 2 of 6, after a flare-up"
    held back after one); "" otherwise."""
    stage = plan.stage
    if stage.count == 0 or stage.off:
        return ""
    flare = ", after a flare-up" if stage.flare is not None else ""
    return f"Stage {min(stage.number, stage.count)} of {stage.count}{flare}"


def plan_key(
    plan: Plan, voice: ResolvedVoice, fmt: str, bitrate_kbps: int | None, split: bool
) -> str:
    """The `export_key` of a planned routine: what names a finished export, so that
    one is reused (export-all, the page) and identical requests share a render."""
    return export_key(plan.routine, stage_label(plan), voice, fmt, bitrate_kbps, split)
