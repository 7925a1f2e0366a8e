"""The one way voice_coach reads YAML: the safe loader, libyaml's when it is installed
(several times faster than the pure-Python one)."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError


def load(text: str) -> Any:
    """The data in `text` (plain Python values only: no tags that run code)."""
    return yaml.load(text, Loader=SafeLoader)


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text`, which knows the line of every key and item."""
    return yaml.compose(text, Loader=SafeLoader)
