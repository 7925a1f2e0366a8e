"""From a routine's name and a person's choices to the routine they will do.

Every command that works on a routine (show, export, play, settings, log, and the
page) starts here: find and load the routine, read the profile, find the stage of a
progression (from the practice history), and apply every settings layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from .routine.library import find_routine
from .routine.loader import load_routine
from .routine.model import Routine
from .settings.layers import (
    COMMAND_LINE,
    Layer,
    Resolved,
    Stage,
    merged_overrides,
    resolve,
)
from .settings.profile import load_profile
from .settings.words import Choices


@dataclass(frozen=True)
class Plan:
    """A routine with every setting layer applied."""

    original: Routine
    """As its script says."""
    resolved: Resolved
    stage: Stage
    choices: Choices

    @property
    def routine(self) -> Routine:
        """What is played: the script with every layer applied."""
        return self.resolved.routine


def load(name: str) -> Routine:
    """A routine by file path or bundled name."""
    return load_routine(find_routine(name))


def make_plan(name: str, choices: Choices = Choices()) -> Plan:
    """The routine `name` as it will be done with `choices` and the profile."""
    routine = load(name)
    command_line = choices.overrides()
    layers = [*load_profile(choices.profile, routine.slug), Layer(COMMAND_LINE, command_line)]
    stage = find_stage(routine, layers, choices.week)
    return Plan(routine, resolve(routine, layers, stage), stage, choices)


def listens(name: str, choices: Choices = Choices(), asked: bool | None = None) -> bool:
    """Whether `play` listens for voice commands: `asked` (--listen/--no-listen) if
    given, else the profile's `listen:` for routine `name` (its section over the
    defaults), else no. A routine or profile that cannot be read: no, and `make_plan`
    reports why."""
    if asked is not None:
        return asked
    from .errors import VoiceCoachError

    try:
        layers = load_profile(choices.profile, load(name).slug)
    except VoiceCoachError:
        return False
    return bool(merged_overrides(layers).get("listen"))


def find_stage(routine: Routine, layers: list[Layer], week: int | None) -> Stage:
    """The progression stage: `week`, else from the history (only if a ramp exists)."""
    if week is not None:
        return Stage(week, explicit=True)
    ramps = [
        p
        for p in [routine.progression, *(lay.overrides.progression for lay in layers)]
        if p is not None and (p.hold or p.reps)
    ]
    if not ramps:
        return Stage(1)
    last = ramps[-1]
    ramp = last.hold or last.reps
    assert ramp is not None
    from .history import History

    with History.open() as history:
        if ramp.every == "session":
            return Stage(history.finished_count(routine.slug) + 1, from_history=True)
        first = history.first_session(routine.slug)
    if first is None:
        return Stage(1, from_history=True)
    started: date = first.started_at.date()
    today = datetime.now(UTC).date()
    return Stage((today - started).days // 7 + 1, first_session=started, from_history=True)
