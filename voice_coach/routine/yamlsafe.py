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


MAX_EXPANDED_NODES = 100_000
"""Most values a YAML text may stand for once its aliases are filled in: far more than
any routine has, far fewer than a "billion laughs" file asks for."""


class TooManyAliasesError(YAMLError):
    """A YAML text whose aliases would expand past `MAX_EXPANDED_NODES` values."""

    def __init__(self, line: int) -> None:
        self.line = line
        """1-based line of the alias that went past the limit."""
        super().__init__(
            f"its aliases (*name) stand for more than {MAX_EXPANDED_NODES:,} values; "
            "a routine needs far fewer"
        )


def check_expansion(text: str, limit: int = MAX_EXPANDED_NODES) -> None:
    """Raise `TooManyAliasesError` if `text`'s aliases stand for more than `limit`
    values once filled in (a "YAML bomb"), before anything is built from it.

    Reads the parser's events only (no values, no node tree), counting each anchored
    value's size once, so the check costs as much as the text is long; a syntax error
    raises the parser's own `MarkedYAMLError`."""
    loader = SafeLoader(text)
    sizes: dict[str, int] = {}
    open_: list[list[Any]] = [[None, 0]]  # [anchor, values so far] per open collection
    try:
        while (event := loader.get_event()) is not None:  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent):
                size = sizes.get(event.anchor or "", 1)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                open_.append([event.anchor, 1])
                continue
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = open_.pop()
                if anchor:
                    sizes[anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            else:
                continue
            open_[-1][1] += size
            if sum(level[1] for level in open_) > limit:
                raise TooManyAliasesError(event.start_mark.line + 1)
    finally:
        loader.dispose()
