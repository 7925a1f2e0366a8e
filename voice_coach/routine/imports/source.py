"""A file handed to `import` (or uploaded on the page), read once: its bytes checked
(size, UTF-8), then its text parsed as JSON or YAML where it is one, with the line of
every key and item. Readers of each format look at this `Parsed` value; none reads a
file or parses text itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ...errors import Problem, ValidationError
from .. import yamlsafe
from ..problems import Path_, line_of, read_yaml, walk_lines

MAX_SOURCE_BYTES = 256 * 1024
"""Largest file read: far more than any routine, small enough to refuse at once."""


def decode(data: bytes, source: str) -> str:
    """`data` as text, or a `ValidationError` if it is too large or not UTF-8."""
    if len(data) > MAX_SOURCE_BYTES:
        raise ValidationError(
            [
                Problem(
                    source,
                    None,
                    "",
                    f"is {len(data) // 1024} KB; routines up to {MAX_SOURCE_BYTES // 1024} KB "
                    "are read",
                )
            ]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            [Problem(source, line, "", "is not UTF-8 text; save it as UTF-8 and try again")]
        ) from None
    return text.removeprefix("\ufeff")


@dataclass(frozen=True)
class Parsed:
    """A file's text and what it parsed to."""

    text: str
    source: str
    """The file's name or path, for messages."""
    data: Any = None
    """The JSON or YAML value; None when the text is neither (`problem` says why)."""
    syntax: Literal["json", "yaml", "text"] = "text"
    lines: dict[Path_, int] = field(default_factory=dict)
    """The line of every key and item, by path (see `problems.walk_lines`)."""
    problem: Problem | None = None
    """Why the text is not JSON or YAML, with the line where it breaks."""
    duplicates: tuple[Problem, ...] = ()
    """Keys given twice in one mapping."""

    def line(self, *path: str | int) -> int | None:
        """The line of the key or item at `path` (or of the nearest one above it)."""
        return line_of(self.lines, path)

    def at(self, message: str, *path: str | int) -> Problem:
        """A problem with the value at `path`."""
        return Problem(self.source, self.line(*path), "", message)

    def text_lines(self) -> list[tuple[int, str]]:
        """(line number, line) of every line that is not blank."""
        return [(n, t) for n, t in enumerate(self.text.splitlines(), start=1) if t.strip()]


def parse(text: str, source: str) -> Parsed:
    """`text` parsed: JSON when it starts like JSON, else YAML, else plain text."""
    if text.lstrip()[:1] in ("{", "["):
        return _json(text, source)
    return _yaml(text, source)


def _json(text: str, source: str) -> Parsed:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = Problem(source, exc.lineno, "", f"not valid JSON: {exc.msg}")
        return Parsed(text, source, syntax="json", problem=problem)
    except RecursionError:
        problem = Problem(source, None, "", "not valid JSON: nested too deeply")
        return Parsed(text, source, syntax="json", problem=problem)
    lines: dict[Path_, int] = {}
    try:  # JSON is YAML: its node tree knows the line of every key
        node = yamlsafe.compose(text)
        if node is not None:
            list(walk_lines(node, (), lines))
    except (yamlsafe.YAMLError, RecursionError):
        lines = {}  # valid JSON that the YAML parser reads otherwise: no line numbers
    return Parsed(text, source, data, "json", lines)


def _yaml(text: str, source: str) -> Parsed:
    try:
        yamlsafe.check_expansion(text)
        data, lines, duplicates = read_yaml(text, source)
    except yamlsafe.TooManyAliasesError as exc:
        return Parsed(text, source, problem=Problem(source, exc.line, "", f"refused: {exc}"))
    except yamlsafe.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return Parsed(
            text, source, problem=Problem(source, line, "", f"not valid YAML: {exc.problem}")
        )
    except ValidationError as exc:
        return Parsed(text, source, problem=exc.problems[0])
    except RecursionError:
        return Parsed(text, source, problem=Problem(source, None, "", "nested too deeply"))
    return Parsed(text, source, data, "yaml", lines, duplicates=tuple(duplicates))
