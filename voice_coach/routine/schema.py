"""The JSON Schema (2020-12) of a routine script, for editors: completion, a description
and an example on every key, mistakes flagged while typing.

It is generated from the models the loader checks files with (`files.RoutineFile` and
the models it names), so the two cannot disagree about a key. A copy ships in the
package (`SCHEMA_FILE`), where scripts can point at it with a first line such as

    # yaml-language-server: $schema=../voice_coach/routine.schema.json

and a test keeps the copy equal to what the models give.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "routine.schema.json"
"""Beside the package's top, where the bundled scripts' modelines point."""
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MODELINE_PREFIX = "# yaml-language-server: $schema="


def routine_schema() -> dict[str, Any]:
    """The schema of a routine script, from the loader's models."""
    from .files import RoutineFile

    generated = _without_null_defaults(RoutineFile.model_json_schema(mode="validation"))
    return {**generated, "$schema": DIALECT, "title": "voice_coach routine"}


def _without_null_defaults(node: Any) -> Any:
    """`node` less every `"default": null`: "not set" is no value to complete with."""
    if isinstance(node, dict):
        return {
            k: _without_null_defaults(v)
            for k, v in node.items()
            if not (k == "default" and v is None)
        }
    if isinstance(node, list):
        return [_without_null_defaults(v) for v in node]
    return node


def schema_text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(routine_schema(), indent=2, ensure_ascii=False) + "\n"


def modeline(schema: Path | str) -> str:
    """The first line that points the YAML language server at `schema`."""
    return f"{MODELINE_PREFIX}{schema}"


def with_modeline(script: str, schema: Path | str) -> str:
    """`script` beginning with the modeline for `schema`, instead of any it had."""
    lines = script.splitlines(keepends=True)
    if lines and lines[0].startswith(MODELINE_PREFIX):
        lines = lines[1:]
    return modeline(schema) + "\n" + "".join(lines)
