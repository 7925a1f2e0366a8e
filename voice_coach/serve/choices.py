"""Settings in the command line's words, as the API receives them: a JSON object
(`{"hold": ["Knee hug=60"], "scale": 1.2}`) or a query string
(`hold=45&hold=Knee%20hug=60&scale=1.2`).

Which names exist, what each takes and its bounds come from the option table of the
command line (`cli/options.py`), so the page, other tools and the command line take
exactly the same settings; the values then go through the same `Choices.overrides`.
A name may be written as the flag (`no-chimes`) or the field (`no_chimes`). Paths on
this computer are not taken: not `profile` or `cache-dir`, and no sound file as a `bed`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from ..cli.options import OPTIONS, Opt
from ..errors import Problem, ValidationError
from ..settings.layers import Choices, parse_bed

LOCAL_ONLY = frozenset({"profile", "cache_dir"})
"""Options that name paths on this computer: never taken from the network."""
BY_NAME: dict[str, Opt] = {o.name: o for o in OPTIONS if o.name not in LOCAL_ONLY}
TRUE_WORDS, FALSE_WORDS = (
    frozenset({"", "1", "true", "on", "yes"}),
    frozenset({"0", "false", "off", "no"}),
)
_FLAG = re.compile(r"--([a-z][a-z-]*)")


def flag_name(name: str) -> str:
    """How the API names an option: its flag without the dashes (`no-chimes`)."""
    return name.replace("_", "-")


def _problem(name: str, message: str) -> Problem:
    return Problem(f"--{flag_name(name)}", None, "", message)


def _scalar(opt: Opt, value: Any) -> Any:
    """One value of `opt` from JSON or a query string; ValueError says what is wrong."""
    kind = opt.kind
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        raise ValueError(f"must be true or false, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"must be {'text' if kind in (str, list) else 'a number'}, got {value!r}")
    if kind in (str, list):
        return value if isinstance(value, str) else f"{value:g}"
    try:
        number = kind(value.strip()) if isinstance(value, str) else value
    except ValueError:
        number = None
    if kind is int and (isinstance(number, float) or number is None):
        raise ValueError(f"must be a whole number, got {value!r}")
    if number is None or not math.isfinite(number):
        raise ValueError(f"must be a number, got {value!r}")
    low, high = opt.extra.get("min"), opt.extra.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
        raise ValueError(f"must be {bounds}, got {value}")
    return kind(number)


def _network_bed(text: str) -> None:
    """Refuse a bed that names a file: like `profile`, a path on this computer is not
    taken over the network (ffmpeg would read whatever it names)."""
    try:
        bed = parse_bed(text, "--bed")
    except ValueError:
        return  # `Choices.overrides` says what is wrong with it
    if bed.kind == "file":
        raise ValueError(
            "a sound file names a path on the computer, which is not taken over the network; "
            "allowed: rain, drone, off or pace:STEPS_PER_MINUTE"
        )


def _choices(pairs: Iterable[tuple[str, Any]]) -> Choices:
    """`Choices` from (name, value) pairs; a list value gives several values of a
    repeatable option. Every bad name and value is reported at once."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for raw_name, value in pairs:
        name = raw_name.replace("-", "_")
        opt = BY_NAME.get(name)
        if opt is None:
            allowed = ", ".join(flag_name(n) for n in BY_NAME)
            why = (
                "names a path on the computer, which is not taken over the network"
                if name in LOCAL_ONLY
                else f"is not a setting; settings: {allowed}"
            )
            problems.append(Problem(f"--{flag_name(name)}", None, "", why))
            continue
        items = value if isinstance(value, list) else [value]
        if opt.kind is not list and len(items) != 1:
            problems.append(_problem(name, "takes one value"))
            continue
        try:
            parsed = [_scalar(opt, item) for item in items]
            if name == "bed":
                _network_bed(parsed[0])
        except ValueError as exc:
            problems.append(_problem(name, str(exc)))
            continue
        if opt.kind is list:
            values[name] = (*values.get(name, ()), *parsed)
        elif name in values:
            problems.append(_problem(name, "takes one value"))
        else:
            values[name] = parsed[0]
    if problems:
        raise ValidationError(problems)
    choices = Choices(**values)
    choices.overrides()  # every value checked now, each problem naming its option
    return choices


def choices_from_json(settings: Any) -> Choices:
    """`Choices` from a JSON object of settings (None: none)."""
    if settings is None:
        return Choices()
    if not isinstance(settings, dict):
        raise ValidationError(
            [Problem("settings", None, "", 'must be an object of settings, e.g. {"hold": ["45"]}')]
        )
    return _choices(settings.items())


def choices_from_query(pairs: Iterable[tuple[str, str]]) -> Choices:
    """`Choices` from a query string's (name, value) pairs; a name may repeat."""
    return _choices(pairs)


def field_of(problem: Problem) -> str:
    """The setting a problem is about, as the API names it (`hold`, `scale`), or
    `settings` when it is about no single one."""
    for text in (problem.source, problem.key):
        match = _FLAG.match(text)
        if match:
            return match.group(1)
    head = problem.key.split(".")[0].split("[")[0]
    return flag_name(head) if head in BY_NAME else "settings"
