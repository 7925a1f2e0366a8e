"""Routines from other tools' files: each format has a reader (a module with `NAME`,
`LABEL`, `claims(parsed)` and `read(parsed)`) in `READERS`, tried in order on the
file's content (never its name); the first that claims it reads it. What they read is
written as a commented voice_coach script into the routines folder, only when every
file given is read without a problem and every script validates.

`import` on the command line and "Add a routine" on the page both go through
`plan_imports` (read, name, validate: nothing written) and `write_planned`."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ...atomic import write_atomically
from ...errors import Problem, ValidationError, VoiceCoachError
from ..library import bundled_routines
from ..loader import parse_routine
from ..starter import routine_name
from . import apg, jawt, openhiit, own, w2a
from .draft import Draft, Script, script_of, slug, title_from_file
from .source import MAX_SOURCE_BYTES, decode, parse

READERS: tuple[ModuleType, ...] = (own, w2a, jawt, openhiit, apg)
"""Every format read, in the order they are tried."""


def formats() -> str:
    """The formats understood, for messages and help."""
    return "; ".join(reader.LABEL for reader in READERS)


def read_routines(data: bytes, source: str) -> list[Draft | Script]:
    """The routines in one file's bytes, not yet named nor validated; a
    `ValidationError` names the file and line of every problem found."""
    parsed = parse(decode(data, source), source)
    reader = next((r for r in READERS if r.claims(parsed)), None)
    if reader is None:
        if parsed.problem is not None:
            raise ValidationError([parsed.problem])
        raise ValidationError(
            [
                Problem(
                    source,
                    None,
                    "",
                    "is not in a format that can be imported; the formats read are: " + formats(),
                )
            ]
        )
    found: list[Draft | Script] = reader.read(parsed)
    return found


@dataclass(frozen=True)
class Planned:
    """A routine ready to be written."""

    name: str
    path: Path
    script: Script
    replaces: bool
    """A routine of yours by that name is there already (and `force` was given)."""


def plan_imports(
    files: Sequence[tuple[str, bytes]],
    folder: Path,
    name: str | None = None,
    force: bool = False,
    bundled: Collection[str] | None = None,
) -> list[Planned]:
    """Read every (source, bytes) of `files`, name each routine found and validate its
    script as it would be written into `folder`; nothing is written. Raises one
    `ValidationError` with every problem of every file.

    Names come from `name` (then `name-2`, `name-3` for further routines), else from each
    routine's title. A name that is a bundled routine's (`bundled`, by default the
    bundled routines) is refused; one of yours only without `force`."""
    bundled = set(bundled_routines()) if bundled is None else set(bundled)
    problems: list[Problem] = []
    found: list[Draft | Script] = []
    for source, data in files:
        try:
            found += read_routines(data, source)
        except ValidationError as exc:
            problems += exc.problems
    if name is not None:
        try:
            name = routine_name(name)
        except ValidationError as exc:
            raise ValidationError([Problem("--name", None, "", exc.problems[0].message)]) from None
    planned: list[Planned] = []
    taken: set[str] = set()
    for routine in found:
        own_name = routine.name if isinstance(routine, Script) else ""
        base = name or own_name or slug(routine.title) or slug(title_from_file(routine.source))
        chosen = _unique(base or "imported", taken)
        taken.add(chosen)
        path = folder / f"{chosen}.yaml"
        if chosen in bundled:
            problems.append(
                Problem(
                    routine.source,
                    routine.title_line,
                    "",
                    f"would be named {chosen!r}, the name of a bundled routine; "
                    "choose another name (--name NAME)",
                )
            )
            continue
        if path.exists() and not force:
            problems.append(
                Problem(
                    routine.source,
                    routine.title_line,
                    "",
                    f"a routine named {chosen!r} exists already; add --force to replace it, "
                    "or choose another name (--name NAME)",
                )
            )
            continue
        script = routine if isinstance(routine, Script) else script_of(routine, chosen)
        problems += _script_problems(script, chosen, folder)
        planned.append(Planned(chosen, path, script, path.exists()))
    if problems:
        raise ValidationError(problems)
    return planned


def write_planned(planned: Sequence[Planned]) -> None:
    """Write each planned routine into its place, atomically."""
    for item in planned:
        try:
            write_atomically(item.path, item.script.text.encode("utf-8"))
        except OSError as exc:
            raise VoiceCoachError(f"cannot write {item.path}: {exc.strerror or exc}") from None


def import_files(
    paths: Sequence[Path], folder: Path, name: str | None = None, force: bool = False
) -> list[Planned]:
    """`voice-coach import`: read the files at `paths` and write the routines in them
    into `folder`, all of them or (on any problem) none."""
    files, problems = [], []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_SOURCE_BYTES + 1)
        except OSError as exc:
            problems.append(Problem(str(path), None, "", f"cannot read: {exc.strerror or exc}"))
            continue
        files.append((str(path), data))
    if problems:
        raise ValidationError(problems)
    planned = plan_imports(files, folder, name, force)
    write_planned(planned)
    return planned


def _unique(base: str, taken: set[str]) -> str:
    chosen, n = base, 2
    while chosen in taken:
        chosen = f"{base[:60]}-{n}"
        n += 1
    return chosen


_STEP = re.compile(r"steps\[(\d+)\]\.?")


def _script_problems(script: Script, name: str, folder: Path) -> list[Problem]:
    """What the loader finds wrong with `script` as routine `name` in `folder`: for one
    made from another format, pointed at the line of the file it was read from."""
    try:
        parse_routine(script.text, source=script.source, slug=name, folder=folder)
    except ValidationError as exc:
        if script.own:
            return exc.problems
        out = []
        for p in exc.problems:
            match = _STEP.match(p.key)
            if match:
                index = int(match.group(1)) - 1
                line = script.step_lines[index] if index < len(script.step_lines) else None
                rest = p.key[match.end() :]
                what = f"step {index + 1}" + (f" {rest}" if rest else "")
            else:
                line, what = (script.title_line, p.key) if p.key == "title" else (None, p.key)
            message = f"{what}: {p.message}" if what else p.message
            out.append(Problem(script.source, line, "", message))
        return out
    return []
