"""From a routine's name and a person's choices to the routine they will do.

Every command that works on a routine (show, export, play, settings, log, and the
page) starts here: find and load the routine, read the profile, find the stage of a
progression (from the practice history), and apply every settings layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from .routine.library import find_routine
from .routine.loader import load_routine
from .routine.model import Ramp, Routine
from .settings.layers import (
    COMMAND_LINE,
    Layer,
    Resolved,
    Stage,
    merged_overrides,
    resolve,
)
from .settings.profile import load_profile
from .settings.table import setting
from .settings.words import Choices
from .stages import Gate, Practised, stage_of


@dataclass(frozen=True)
class Plan:
    """A routine with every setting layer applied."""

    original: Routine
    """As its script says."""
    resolved: Resolved
    stage: Stage
    choices: Choices
    layers: tuple[Layer, ...] = ()
    """The settings layers applied, lowest precedence first (the profile's, then the
    command line's)."""

    @property
    def routine(self) -> Routine:
        """What is played: the script with every layer applied."""
        return self.resolved.routine


def load(name: str) -> Routine:
    """A routine by file path or bundled name."""
    return load_routine(find_routine(name))


@dataclass(frozen=True)
class PracticeSoFar:
    """What the history says of one routine, as far as a progression needs it."""

    sessions: tuple[Practised, ...] = ()
    """Its recorded sessions, oldest first."""

    @property
    def first_session(self) -> date | None:
        """The day of its first recorded session (week stages count from it)."""
        return self.sessions[0].day if self.sessions else None

    @property
    def finished_sessions(self) -> int:
        return sum(s.finished for s in self.sessions)


def practice_so_far(slug: str) -> PracticeSoFar:
    """Read what the history (its default file) says of routine `slug`."""
    from .history import History

    with History.open() as history:
        recorded = history.sessions(slug)
    return PracticeSoFar(
        tuple(
            Practised(s.started_at.date(), s.finished, s.pain_before, s.pain_after)
            for s in reversed(recorded)
        )
    )


def make_plan(
    name: str,
    choices: Choices = Choices(),
    today: date | None = None,
    practice: Callable[[str], PracticeSoFar] = practice_so_far,
) -> Plan:
    """The routine `name` as it will be done with `choices` and the profile, on `today`
    (None: today, in UTC) with the `practice` the history records for it (read only
    when a progression needs it)."""
    routine = load(name)
    command_line = choices.overrides()
    layers = [*load_profile(choices.profile, routine.slug), Layer(COMMAND_LINE, command_line)]
    needed = _pinned(layers, choices.week) is None and _followed(routine, layers) is not None
    so_far = practice(routine.slug) if needed else PracticeSoFar()
    day = today or datetime.now(UTC).date()
    stage = find_stage(routine, layers, choices.week, so_far, day)
    return Plan(routine, resolve(routine, layers, stage), stage, choices, tuple(layers))


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


def _ramp(routine: Routine, layers: list[Layer]) -> Ramp | None:
    """The ramp that says what a stage is: the highest layer's (its hold's, else its
    reps')."""
    ramps = [
        p
        for p in [routine.progression, *(lay.overrides.progression for lay in layers)]
        if p is not None and (p.hold or p.reps)
    ]
    return (ramps[-1].hold or ramps[-1].reps) if ramps else None


def _pinned(layers: list[Layer], week: int | None) -> int | None:
    """The stage asked for: --week, else the highest layer's `stage`; None: none."""
    return week if week is not None else merged_overrides(layers).get("stage")


def _followed(routine: Routine, layers: list[Layer]) -> Ramp | None:
    """The ramp whose stage the sessions give: none when `build_up` is off."""
    on = merged_overrides(layers).get("build_up")
    return _ramp(routine, layers) if (routine.build_up if on is None else on) else None


def find_stage(
    routine: Routine, layers: list[Layer], week: int | None, practice: PracticeSoFar, today: date
) -> Stage:
    """The progression stage: `week` (--week) or the `stage` a layer pins, else the one
    `practice` gives on `today` (`stages.stage_of`). A pure function: the history and
    the day are passed in."""
    ramp = _ramp(routine, layers)
    pinned = _pinned(layers, week)
    if ramp is None:
        return Stage(pinned or 1, explicit=pinned is not None)
    if pinned is not None:
        return Stage(min(pinned, ramp.stages), explicit=True, count=ramp.stages)
    if _followed(routine, layers) is None:
        return Stage(1, off=True)
    return stage_of(ramp, practice.sessions, gate_of(layers), today)


def gate_of(layers: list[Layer]) -> Gate:
    """The ratings that make a flare-up and a good session (`flare_pain`, `pain_ok`), as
    the layers set them."""
    merged = merged_overrides(layers)
    return Gate(
        *(
            setting(name).default if merged.get(name) is None else merged.get(name)
            for name in ("flare_pain", "pain_ok")
        )
    )


def routine_gate(profile: Path | None, slug: str) -> Gate:
    """`gate_of` the profile's layers for routine `slug` (None: the default profile);
    the defaults when the profile cannot be read (the command that reads it for
    playing says why)."""
    from .errors import VoiceCoachError

    try:
        return gate_of(load_profile(profile, slug))
    except VoiceCoachError:
        return Gate()


def stages_now(slugs: Iterable[str], today: date | None = None) -> list[tuple[str, str]]:
    """(title, where its progression stands) of each routine named that follows one; a
    routine no longer found or readable is left out."""
    from .errors import VoiceCoachError

    out = []
    for slug in slugs:
        try:
            p = make_plan(slug, today=today)
        except VoiceCoachError:
            continue
        if p.stage.count and not p.stage.off:
            out.append((p.original.title, p.resolved.progression_note))
    return out
