"""What every reader of another tool's file makes: a `Draft` of a routine (its steps
with the seconds written in the source, and notes on what could not be carried over),
and the commented voice_coach script it is written as (`script_of`).

Readers never write YAML themselves: the script is laid out here, in one place, with
every text quoted by the YAML dumper, so no name or line from a file can break it."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml

from ...errors import Problem
from ..files import PLACEHOLDER
from ..model import MAX_SECONDS
from ..schema import SCHEMA_FILE, with_modeline

MAX_NAME_CHARS = 64
"""Longest routine name made from a title (the same as `starter.NAME` allows)."""


@dataclass(frozen=True)
class DraftExercise:
    """A timed exercise as the source wrote it."""

    name: str
    hold_s: float
    """Seconds of each hold (each side's, with `sides`)."""
    line: int | None = None
    """Its line in the source file, for messages and the script's comments."""
    during: tuple[str, ...] = ()
    """Lines spoken inside the hold."""
    release: tuple[str, ...] = ()
    """Lines spoken when it ends, instead of the default release."""
    sides: bool = False
    """Done once on each side (right, then left), a hold of `hold_s` each."""
    reps: int = 1
    recover_s: float | None = None
    """Quiet after the release; None: voice_coach's default."""
    comment: str = ""
    """Written above the step in the script (where it came from)."""


@dataclass(frozen=True)
class DraftRest:
    """A rest as the source wrote it."""

    rest_s: float
    line: int | None = None
    comment: str = ""


DraftStep: TypeAlias = DraftExercise | DraftRest


@dataclass(frozen=True)
class Draft:
    """One routine read from another tool's file, before it is written as a script."""

    title: str
    steps: tuple[DraftStep, ...]
    source: str
    """The file it was read from, for messages."""
    reader: str
    """The format's label (`Reader.LABEL`), for the script's first comment."""
    title_line: int | None = None
    description: str = ""
    intro: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()
    """Script `defaults:` the source implies, e.g. ("countdown", 5)."""
    phrases: tuple[tuple[str, str], ...] = ()
    """The routine's own cue words (`phrases:`), e.g. ("switch_sides", "Change side.")."""
    notes: tuple[Problem, ...] = field(default=())
    """What could not be carried over, or was only approximated, each where it is."""
    header: tuple[str, ...] = ()
    """Comment lines on how this format was carried over, for the top of the script."""


@dataclass(frozen=True)
class Script:
    """A routine ready to be validated and written: the script's text and where each of
    its steps came from."""

    name: str
    """The routine name it is written under (file stem)."""
    title: str
    text: str
    source: str
    step_lines: tuple[int | None, ...] = ()
    """The source line of each step, to point problems at the file that was read."""
    title_line: int | None = None
    notes: tuple[Problem, ...] = ()
    own: bool = False
    """Already a voice_coach script: its problems are reported at its own lines."""


def slug(text: str) -> str:
    """A routine name made from a title: lower case, words joined by "-"."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return name[:MAX_NAME_CHARS].rstrip("-")


def seconds_text(value: float) -> str:
    """Seconds as written in a script: 30, 22.5."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def check_seconds(value: float, what: str) -> str | None:
    """Why `value` seconds cannot be a hold or rest, or None if it can."""
    if value <= 0:
        return f"{what} must be more than 0 seconds, got {seconds_text(value)}"
    if value > MAX_SECONDS:
        return f"{what} is {seconds_text(value)} s; at most {MAX_SECONDS} s (3 hours) is allowed"
    return None


def unbraced(text: str) -> tuple[str, bool]:
    """`text` with each {word} made (word): braces in a script are placeholders such as
    {side}. Also whether anything changed."""
    changed = PLACEHOLDER.sub(lambda m: f"({m.group(1)})", text)
    return changed, changed != text


def _scalar(value: Any) -> str:
    """`value` as one YAML scalar (quoted by the dumper where it must be)."""
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9)
    return dumped.removesuffix("\n").removesuffix("\n...").removesuffix("...").rstrip("\n")


def _texts(key: str, lines: tuple[str, ...], indent: str) -> list[str]:
    if len(lines) == 1:
        return [f"{indent}{key}: {_scalar(lines[0])}"]
    return [f"{indent}{key}:", *(f"{indent}  - {_scalar(t)}" for t in lines)]


COMMENT_WIDTH = 88


def _comment(text: str, indent: str = "", hang: str = "") -> list[str]:
    """`text` as comment lines no wider than `COMMENT_WIDTH`."""
    out = []
    for line in text.splitlines():
        wrapped = textwrap.wrap(
            line, COMMENT_WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# {hang}"
        )
        out += wrapped or [f"{indent}#"]
    return out


def script_of(draft: Draft, name: str) -> Script:
    """The commented voice_coach script of `draft`, to be written as routine `name`."""
    file_name = draft.source.replace("\\", "/").rsplit("/", 1)[-1]
    out = _comment(f"{name}: imported from {file_name}. Format: {draft.reader}.")
    out += _comment(" ".join(draft.header))
    if draft.notes:
        out.append("# Not carried over, or only approximated:")
        for note in sorted(draft.notes, key=lambda n: n.line or 0):  # by line
            out += _comment(f"  - {_where(note)}{note.message}", hang="    ")
    out += _comment(
        f"`voice-coach validate {name}` checks it; `voice-coach show {name}` lists every cue "
        "with its time; change anything, as in any routine of yours."
    )
    out.append(f"title: {_scalar(draft.title)}")
    if draft.description:
        out.append(f"description: {_scalar(draft.description)}")
    if draft.intro:
        out += _texts("intro", draft.intro, "")
    if draft.defaults:
        out.append("defaults:")
        out += [f"  {k}: {_scalar(v)}" for k, v in draft.defaults]
    if draft.phrases:
        out.append("phrases:")
        out += [f"  {k}: {_scalar(v)}" for k, v in draft.phrases]
    out.append("steps:")
    for step in draft.steps:
        where = f"from line {step.line}" if step.line else ""
        comment = ": ".join(c for c in (where, step.comment) if c)
        if comment:
            out += _comment(comment, "  ")
        if isinstance(step, DraftRest):
            out.append(f"  - rest: {seconds_text(step.rest_s)}")
            continue
        out.append(f"  - name: {_scalar(step.name)}")
        out.append(f"    hold: {seconds_text(step.hold_s)}")
        if step.sides:
            out.append("    sides: [right, left]")
        if step.reps != 1:
            out.append(f"    reps: {step.reps}")
        if step.during:
            out += _texts("during", step.during, "    ")
        if step.release:
            out.append(f"    release: {_scalar(_joined(step.release))}")
        if step.recover_s is not None:
            out.append(f"    recover: {seconds_text(step.recover_s)}")
    return Script(
        name=name,
        title=draft.title,
        text=with_modeline("\n".join(out) + "\n", SCHEMA_FILE),
        source=draft.source,
        step_lines=tuple(s.line for s in draft.steps),
        title_line=draft.title_line,
        notes=tuple(sorted(draft.notes, key=lambda n: n.line or 0)),
    )


def _joined(lines: tuple[str, ...]) -> str:
    """Lines as one text of sentences (the script splits it back into lines)."""
    return " ".join(t if t[-1:] in ".!?" else f"{t}." for t in lines)


def _where(note: Problem) -> str:
    return f"line {note.line}: " if note.line else ""


def title_from_file(source: str) -> str:
    """A title for a format that has none: the file's name, "morning-stretch.yaml" ->
    "Morning stretch"."""
    stem = source.replace("\\", "/").rsplit("/", 1)[-1].split(".", 1)[0]
    words = re.sub(r"[-_\s]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else "Imported routine"
