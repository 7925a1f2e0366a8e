"""Problems in a YAML file, by line: the line of every key and item, and pydantic's
errors turned into `Problem`s that name the file, the line, the key and what is allowed.
Routine scripts and profiles are both read through here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ..errors import Problem, ValidationError
from . import yamlsafe
from .model import Bed

Path_ = tuple[str | int, ...]


def walk_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Iterator[Problem]:
    """Record the line of every key and item; yield a problem per duplicate key."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            sub = (*path, key)
            if key in seen:
                yield Problem("", key_node.start_mark.line + 1, dotted(sub), "duplicate key")
            seen.add(key)
            lines[sub] = key_node.start_mark.line + 1
            yield from walk_lines(value_node, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            lines[sub] = item.start_mark.line + 1
            yield from walk_lines(item, sub, lines)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


# --- turning pydantic's errors into ours ----------------------------------------


Owner = Callable[[Path_], type[BaseModel]]
"""The model whose keys are allowed at a path (the path of the mapping, not the key)."""


def schema_problems(
    exc: PydanticValidationError,
    base: Path_,
    source: str,
    lines: dict[Path_, int],
    owner_at: Owner,
) -> list[Problem]:
    """Each of pydantic's errors in validating the mapping at `base` as a `Problem`
    naming the line and key; an unknown key lists the keys `owner_at` allows there."""
    problems = []
    for err in exc.errors():
        loc: Path_ = (*base, *err["loc"])
        ctx = err.get("ctx") or {}
        if "index" in ctx:
            loc = (*loc, int(ctx["index"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = ", ".join(owner_at(loc[:-1]).model_fields)
            msg = f"unknown key; allowed keys here: {allowed}"
        elif kind == "missing":
            msg = "is required but missing"
        elif kind == "literal_error":
            msg = f"must be one of {ctx.get('expected')}, got {err['input']!r}"
        elif kind == "too_short" and loc[-1] == "steps":
            msg = "must list at least one step"
        elif kind in (
            "int_type",
            "bool_type",
            "float_type",
            "string_type",
            "list_type",
            "dict_type",
            "model_type",
        ):
            expected = {
                "int_type": "a whole number",
                "bool_type": "true or false",
                "float_type": "a number",
                "string_type": "text",
                "list_type": "a list",
                "dict_type": "a mapping of keys",
                "model_type": "a mapping of keys",
            }[kind]
            msg = f"must be {expected}, got {err['input']!r}"
        else:
            msg = err["msg"].replace("Input should be", "must be")
            if kind in ("greater_than_equal", "less_than_equal", "too_long", "too_short"):
                msg += f", got {err['input']!r}"
        problems.append(Problem(source, line_of(lines, loc), dotted(loc), msg))
    return problems


def read_yaml(text: str, source: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    """The data (safe loader) plus the line of every key and item, and duplicate-key
    problems."""
    try:
        data = yamlsafe.load(text)
        node = yamlsafe.compose(text)
    except yamlsafe.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        hint = ""
        if "'{'" in str(exc.problem):
            hint = (
                "; text with a {placeholder} inside [ ] or { } must be quoted, "
                "or written as a block list (one '- line' per line)"
            )
        raise ValidationError(
            [Problem(source, line, "", f"not valid YAML: {exc.problem}{hint}")]
        ) from None
    except yamlsafe.YAMLError as exc:
        raise ValidationError([Problem(source, None, "", f"not valid YAML: {exc}")]) from None
    lines: dict[Path_, int] = {}
    problems = [
        Problem(source, p.line, p.key, p.message)
        for p in (walk_lines(node, (), lines) if node is not None else ())
    ]
    return data, lines, problems


def placed_bed(bed: Bed | None, source: str, lines: dict[Path_, int], path: Path_) -> Bed | None:
    """`bed` (as validated) saying where it was written: `source`, the line of `path`."""
    if bed is None:
        return None
    line = line_of(lines, path)
    return dataclasses.replace(bed, where=f"{source}:{line}" if line else source)
