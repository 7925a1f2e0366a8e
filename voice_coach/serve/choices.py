"""Settings in words, as the API receives them: a JSON object (`{"hold": ["Knee
hug=60"], "scale": 1.2}`) or a query string (`hold=45&hold=Knee%20hug=60&scale=1.2`).

Which names exist, what each takes and its bounds come from the settings table
(`settings.table`: those the page may set), and the values go through the same words
as the command line's (`settings.words`), so the page, other tools and the command line
take exactly the same settings, refused in the same words. A name may be written as
the setting (`bed_level`) or its flag (`bed-level`, `no-chimes`). Paths on this computer
are not taken: no sound file as a `bed` (a profile or a cache folder is no setting).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..errors import Problem, ValidationError
from ..settings.table import BY_NAME, in_layer, parse_bed
from ..settings.words import Choices, words_from

PAGE_SETTINGS = tuple(s.name for s in in_layer("page"))
_FLAG = re.compile(r"--([a-z][a-z-]*)")


def flag_name(name: str) -> str:
    """How the API names a setting: its flag without the dashes (`bed-level`)."""
    return name.replace("_", "-")


def _network_bed(words: list[tuple[str, str]]) -> None:
    """Refuse a bed that names a file: a path on this computer is not taken over the
    network (ffmpeg would read whatever it names)."""
    for name, text in words:
        if name != "bed":
            continue
        try:
            bed = parse_bed(text, "--bed")
        except ValueError:
            continue  # `Choices.overrides` says what is wrong with it
        if bed.kind == "file":
            raise ValidationError(
                [
                    Problem(
                        "--bed",
                        None,
                        "",
                        "a sound file names a path on the computer, which is not taken over "
                        "the network; allowed: rain, drone, off or pace:STEPS_PER_MINUTE",
                    )
                ]
            )


def _choices(pairs: Iterable[tuple[str, Any]]) -> Choices:
    """`Choices` from (name, value) pairs; a list value gives several values of a
    per-step setting. Every bad name and value is reported at once."""
    words = words_from(pairs, PAGE_SETTINGS)
    _network_bed(words)
    choices = Choices(tuple(words))
    choices.overrides()  # every value checked now, each problem naming its setting
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
