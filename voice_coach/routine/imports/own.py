"""voice_coach's own routine script: taken as it is (so "Add a routine" on the page
takes one like any other format); it is validated with the rest, by its own lines."""

from __future__ import annotations

from .draft import Script, slug
from .source import Parsed

NAME = "voice_coach"
LABEL = "voice_coach routine script (YAML with title and steps)"


def claims(parsed: Parsed) -> bool:
    return parsed.syntax == "yaml" and isinstance(parsed.data, dict) and "steps" in parsed.data


def read(parsed: Parsed) -> list[Script]:
    stem = slug(parsed.source.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0])
    title = parsed.data.get("title")
    title = title if isinstance(title, str) else ""
    return [Script(stem or slug(title), title, parsed.text, parsed.source, own=True)]
