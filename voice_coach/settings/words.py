"""Settings in words, as the command line and the API receive them: `--hold 45`,
`--hold "Knee hug=60"`, `--no-chimes`, `{"bed": "rain"}`. They become one more layer
(`Overrides`), each value checked by its setting in the table, so a value refused in a
script or a profile is refused here with the same words."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, ValidationError
from .layers import Overrides
from .table import BY_NAME, BedKind, Setting, Switch

SWITCH = Switch()
"""How a `no-NAME` flag's own value reads: on or off."""


@dataclass(frozen=True)
class Choices:
    """What a person chose for one run: settings in words, and where to find the profile
    and the cache."""

    words: tuple[tuple[str, str], ...] = ()
    """(setting name, its text as given) in order: ("hold", "45"), ("hold", "Knee
    hug=60"), ("chimes", "off"), ("bed", "rain")."""
    profile: Path | None = None
    """The profile file; None: the one in the config directory."""
    week: int | None = None
    """Play this stage of a progression instead of the one the history gives."""
    cache_dir: Path | None = None
    """Where synthesized cues are kept; None: the default cache."""

    @classmethod
    def of(
        cls,
        profile: Path | None = None,
        week: int | None = None,
        cache_dir: Path | None = None,
        **given: Any,
    ) -> Choices:
        """Choices from keyword arguments named after settings: a text, a number, a
        switch's True or False, or a sequence of them for a per-step setting (None:
        not given). An unknown name is a KeyError that lists the settings."""
        words: list[tuple[str, str]] = []
        for name, value in given.items():
            if name not in BY_NAME:
                raise KeyError(f"no setting {name!r}; settings: {', '.join(BY_NAME)}")
            items = value if isinstance(value, list | tuple) else [value]
            words += [(name, as_words(item)) for item in items if item is not None]
        return cls(tuple(words), profile, week, cache_dir)

    def overrides(self) -> Overrides:
        """These words as a settings layer; every bad value reported at once."""
        return parse_words(self.words)

    def without_settings(self) -> Choices:
        """The same run with no settings given (the profile and the cache kept)."""
        return Choices(profile=self.profile, week=self.week, cache_dir=self.cache_dir)


def as_words(value: object) -> str:
    """A value as the command line would give it: 45 -> "45", False -> "off"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def flag_of(s: Setting, text: str) -> str:
    """How a problem names where a value was given: `--scale`, `--no-chimes`, `--no-bed`,
    `--hold 'Knee hug=x'`."""
    if isinstance(s.kind, Switch | BedKind) and text.strip().lower() in ("off", "false"):
        return f"--no-{s.flag[2:]}"
    return f"{s.flag} {text!r}" if s.per_step else s.flag


def split_step(text: str) -> tuple[str | None, str]:
    """ "NAME=VALUE" -> (NAME, VALUE); "VALUE" -> (None, VALUE)."""
    if "=" in text:
        name, value = text.rsplit("=", 1)
        return name.strip(), value.strip()
    return None, text.strip()


def parse_words(words: Sequence[tuple[str, str]]) -> Overrides:
    """(setting, text) pairs as a layer. A per-step setting takes "VALUE" for every step
    (the last one wins) or "NAME=VALUE" / "NUMBER=VALUE" for one; any other setting
    takes one value. Every bad name and value is reported at once."""
    values: dict[str, Any] = {}
    given: dict[str, list[str]] = {}
    steps: list[tuple[str, str, Any]] = []
    problems: list[Problem] = []
    for name, text in words:
        s = BY_NAME.get(name)
        if s is None or "command line" not in s.layers:
            allowed = (x.name for x in BY_NAME.values() if "command line" in x.layers)
            problems.append(Problem(f"--{name.replace('_', '-')}", None, "", _refused(allowed)))
            continue
        selector, value_text = split_step(text) if s.per_step else (None, text)
        try:
            value = s.check(s.from_words(value_text))
        except ValueError as exc:
            problems.append(Problem(flag_of(s, text), None, "", str(exc)))
            continue
        if selector:
            steps.append((name, selector, value))
            continue
        if not s.per_step and name in given and given[name][-1] != text:
            shown = " and ".join(repr(t) for t in [*given[name], text])
            problems.append(Problem(flag_of(s, text), None, "", f"given twice: {shown}; give one"))
        given.setdefault(name, []).append(text)
        if s.name == "bed":  # where it was asked for, for messages
            value = dataclasses.replace(value, where=flag_of(s, text))
        values[name] = value
    if problems:
        raise ValidationError(problems)
    return Overrides(tuple(values.items()), tuple(steps))


def words_from(pairs: Iterable[tuple[str, Any]], allowed: Iterable[str]) -> list[tuple[str, str]]:
    """(name, text) pairs from (name, value) pairs as JSON or a query string gives them:
    a name as the setting (`bed_level`) or its flag (`bed-level`, `no-chimes`), a list
    for several values of a per-step setting. Names not in `allowed` are refused."""
    ok = set(allowed)
    out: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for raw, value in pairs:
        name = raw.replace("-", "_")
        negated = name.startswith("no_") and name[3:] in ok and name not in ok
        if negated:
            name = name[3:]
        if name not in ok:
            problems.append(Problem(f"--{raw.replace('_', '-')}", None, "", _refused(ok)))
            continue
        s = BY_NAME[name]
        items = value if isinstance(value, list) else [value]
        if not s.per_step and len(items) != 1:
            problems.append(Problem(s.flag, None, "", "takes one value"))
            continue
        for item in items:
            if negated:
                # `no-chimes` alone in a query (no value) means true
                on = SWITCH.from_words(as_words(item).strip() or "on")
                if on is True:
                    out.append((name, "off"))
                elif on is not False:  # `no-chimes: false`: nothing given
                    why = f"must be true or false, got {item!r}"
                    problems.append(Problem(f"--no-{s.flag[2:]}", None, "", why))
            elif isinstance(item, dict | list) or item is None:
                problems.append(Problem(s.flag, None, "", f"must be a single value, got {item!r}"))
            else:
                out.append((name, as_words(item)))
    if problems:
        raise ValidationError(problems)
    return out


def _refused(allowed: Iterable[str]) -> str:
    """Why a name is refused, listing the settings that may be given there, in table
    order."""
    ok = set(allowed)
    names = ", ".join(s.name.replace("_", "-") for s in BY_NAME.values() if s.name in ok)
    return f"is not a setting; settings: {names}"
