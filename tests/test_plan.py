"""Planning a routine: the progression stage from the practice so far and the day, both
passed in."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import ROUTINES

from voice_coach.plan import PracticeSoFar, find_stage, make_plan
from voice_coach.routine.model import Exercise, Progression, Ramp, Routine
from voice_coach.settings.layers import Layer, Overrides, Stage
from voice_coach.settings.words import Choices
from voice_coach.stages import Practised

WEEKLY = Progression(hold=Ramp(start=20, add=5, every="week", max=40))
BY_SESSION = Progression(reps=Ramp(start=1, add=1, every="session", max=3))
ROUTINE = Routine(title="T", steps=(Exercise(name="Reach", hold_s=30),), progression=WEEKLY)
ROUTINE_BY_SESSION = Routine(title="T", steps=ROUTINE.steps, progression=BY_SESSION)
TODAY = date(2026, 12, 5)


def practice(first: date | None, finished: int) -> PracticeSoFar:
    """`finished` sessions without ratings, the first on `first`, then one a day."""
    if first is None:
        return PracticeSoFar()
    return PracticeSoFar(
        tuple(Practised(first + timedelta(days=i), True) for i in range(max(1, finished)))
    )


@pytest.mark.parametrize(
    ("first", "finished", "progression", "week", "stage"),
    [
        (None, 0, WEEKLY, None, 1),  # never practised: the first stage
        (TODAY, 1, WEEKLY, None, 1),
        (date(2026, 11, 29), 3, WEEKLY, None, 1),  # six days in: still week 1
        (date(2026, 11, 28), 3, WEEKLY, None, 2),  # seven days in: week 2
        (date(2026, 10, 1), 3, WEEKLY, None, 5),  # 65 days in: the last of its 5 stages
        (date(2026, 10, 1), 3, WEEKLY, 2, 2),  # --week wins
        (date(2026, 10, 1), 0, BY_SESSION, None, 2),  # one unrated session
        (date(2026, 10, 1), 4, BY_SESSION, None, 3),  # the last of its 3 stages
        (date(2026, 10, 1), 4, None, None, 1),  # no ramp: no stage to find
    ],
)
def test_the_stage_follows_the_practice_and_the_day(
    first: date | None, finished: int, progression: Progression | None, week: int | None, stage: int
) -> None:
    routine = Routine(title="T", steps=ROUTINE.steps, progression=progression)
    found = find_stage(routine, [], week, practice(first, finished), TODAY)
    assert found.number == stage
    if progression is WEEKLY and week is None and first is not None:
        assert found.first_session == first


def test_a_layers_ramp_says_what_a_stage_is() -> None:
    layers = [Layer("profile", Overrides(progression=BY_SESSION))]
    found = find_stage(ROUTINE, layers, None, practice(date(2026, 1, 1), 1), TODAY)
    assert found.number == 2


def test_build_up_off_keeps_the_first_stage_unless_one_is_pinned() -> None:
    off = Routine(title="T", steps=ROUTINE.steps, progression=BY_SESSION, build_up=False)
    so_far = practice(date(2026, 1, 1), 2)
    assert find_stage(off, [], None, so_far, TODAY) == Stage(1, off=True)
    turned_on = [Layer("profile", Overrides.of(build_up=True))]
    assert find_stage(off, turned_on, None, so_far, TODAY).number == 3
    pinned = [Layer("command line", Overrides.of(stage=2))]
    assert find_stage(off, pinned, None, so_far, TODAY) == Stage(2, explicit=True, count=3)


def test_the_flare_threshold_is_a_setting() -> None:
    hurt = PracticeSoFar((Practised(TODAY, True, 3, 6), Practised(TODAY, True, 3, 3)))
    # 6 is no flare at the default 7 (nor 2 above the session before: there is none) ...
    assert find_stage(ROUTINE_BY_SESSION, [], None, hurt, TODAY).number == 2
    lower = [Layer("profile", Overrides.of(flare_pain=6))]
    assert find_stage(ROUTINE_BY_SESSION, lower, None, hurt, TODAY).number == 2
    assert find_stage(ROUTINE_BY_SESSION, lower, None, hurt, TODAY).flare is None
    only_first = PracticeSoFar(hurt.sessions[:1])
    assert find_stage(ROUTINE_BY_SESSION, lower, None, only_first, TODAY).flare is not None


def test_make_plan_asks_for_the_practice_only_when_a_progression_needs_it(
    tmp_path: Path,
) -> None:
    asked: list[str] = []

    def read(slug: str) -> PracticeSoFar:
        asked.append(slug)
        return practice(date(2026, 11, 20), 5)

    plain = make_plan(str(ROUTINES / "minimal.yaml"), today=TODAY, practice=read)
    assert (plain.stage.number, asked) == (1, [])
    script = tmp_path / "build-up.yaml"
    script.write_text(
        "title: Build up\nprogression:\n  hold: {start: 20, add: 5, every: week, max: 40}\n"
        "steps:\n  - name: Reach\n    hold: 45\n"
    )
    pinned = make_plan(str(script), Choices(week=2), TODAY, read)
    assert (pinned.stage.number, asked) == (2, [])
    ramped = make_plan(str(script), Choices(), TODAY, read)
    assert asked == ["build-up"]
    assert ramped.stage.number == 3 and ramped.stage.first_session == date(2026, 11, 20)
    assert [s.hold_s for s in ramped.routine.exercises] == [30]


STRETCHES = [
    "sciatica-relief",
    "piriformis-stretch",
    "seated-hamstring-stretch",
    "standing-hamstring-stretch",
    "yoga-for-sciatica",
]


@pytest.mark.parametrize("name", STRETCHES)
def test_the_bundled_stretches_build_up_to_their_written_holds_once_turned_on(name: str) -> None:
    def unread(slug: str) -> PracticeSoFar:
        raise AssertionError("the history is not needed while the progression is off")

    written = make_plan(name, Choices(), TODAY, unread)
    ramp = written.original.progression.hold  # type: ignore[union-attr]
    assert ramp is not None and ramp.relative and ramp.every == "session"
    assert (ramp.start, ramp.max, ramp.sessions) == (0.5, 1.0, 2)
    # Off: the routine as written, named as before (what `make run` exports).
    assert written.routine.steps == written.original.steps
    assert written.resolved.label == "" and written.stage.off
    on = make_plan(name, Choices.of(build_up=True), TODAY, lambda slug: PracticeSoFar())
    holds = [e.hold_s for e in on.routine.exercises if e.pace is None]
    assert holds == [
        max(1, int(e.hold_s / 2 + 0.5)) for e in written.routine.exercises if e.pace is None
    ]
    assert on.resolved.label == "stage1"
    assert on.resolved.progression_note == (
        "stage 1 of 6: holds at 50 %; steps up after 2 more sessions without more pain"
    )
