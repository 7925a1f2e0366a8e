"""Planning a routine: the progression stage from the practice so far and the day, both
passed in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import ROUTINES

from voice_coach.plan import PracticeSoFar, find_stage, make_plan
from voice_coach.routine.model import Exercise, Progression, Ramp, Routine
from voice_coach.settings.layers import Layer, Overrides
from voice_coach.settings.words import Choices

WEEKLY = Progression(hold=Ramp(start=20, add=5, every="week", max=40))
BY_SESSION = Progression(reps=Ramp(start=1, add=1, every="session", max=3))
ROUTINE = Routine(title="T", steps=(Exercise(name="Reach", hold_s=30),), progression=WEEKLY)
TODAY = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("first", "finished", "progression", "week", "stage"),
    [
        (None, 0, WEEKLY, None, 1),  # never practised: the first stage
        (TODAY, 1, WEEKLY, None, 1),
        (date(2026, 11, 29), 3, WEEKLY, None, 1),  # six days in: still week 1
        (date(2026, 11, 28), 3, WEEKLY, None, 2),  # seven days in: week 2
        (date(2026, 10, 1), 3, WEEKLY, None, 10),  # 65 days in
        (date(2026, 10, 1), 3, WEEKLY, 2, 2),  # --week wins
        (date(2026, 10, 1), 0, BY_SESSION, None, 1),
        (date(2026, 10, 1), 4, BY_SESSION, None, 5),
        (date(2026, 10, 1), 4, None, None, 1),  # no ramp: no stage to find
    ],
)
def test_the_stage_follows_the_practice_and_the_day(
    first: date | None, finished: int, progression: Progression | None, week: int | None, stage: int
) -> None:
    routine = Routine(title="T", steps=ROUTINE.steps, progression=progression)
    found = find_stage(routine, [], week, PracticeSoFar(first, finished), TODAY)
    assert found.number == stage
    if progression is WEEKLY and week is None and first is not None:
        assert found.first_session == first


def test_a_layers_ramp_says_what_a_stage_is() -> None:
    layers = [Layer("profile", Overrides(progression=BY_SESSION))]
    found = find_stage(ROUTINE, layers, None, PracticeSoFar(date(2026, 1, 1), 2), TODAY)
    assert found.number == 3


def test_make_plan_asks_for_the_practice_only_when_a_progression_needs_it(
    tmp_path: Path,
) -> None:
    asked: list[str] = []

    def practice(slug: str) -> PracticeSoFar:
        asked.append(slug)
        return PracticeSoFar(date(2026, 11, 20), 5)

    plain = make_plan(str(ROUTINES / "minimal.yaml"), today=TODAY, practice=practice)
    assert (plain.stage.number, asked) == (1, [])
    script = tmp_path / "build-up.yaml"
    script.write_text(
        "title: Build up\nprogression:\n  hold: {start: 20, add: 5, every: week, max: 40}\n"
        "steps:\n  - name: Reach\n    hold: 45\n"
    )
    pinned = make_plan(str(script), Choices(week=2), TODAY, practice)
    assert (pinned.stage.number, asked) == (2, [])
    ramped = make_plan(str(script), Choices(), TODAY, practice)
    assert asked == ["build-up"]
    assert ramped.stage.number == 3 and ramped.stage.first_session == date(2026, 11, 20)
    assert [s.hold_s for s in ramped.routine.exercises] == [30]
