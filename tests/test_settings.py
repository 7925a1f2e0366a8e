"""Settings layers: precedence, step matching, progression arithmetic, error text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import ROUTINES

from voice_coach.errors import ValidationError
from voice_coach.loader import load_routine
from voice_coach.model import Exercise, Progression, Ramp, Rest, Routine, VoiceSettings
from voice_coach.profile import load_profile
from voice_coach.settings import (
    COMMAND_LINE,
    Layer,
    Overrides,
    Stage,
    match_step,
    parse_command_line,
    resolve,
)

ROUTINE = Routine(
    title="Test",
    steps=(
        Exercise(name="Piriformis stretch", hold_s=60, sides=("right", "left")),
        Rest(rest_s=20),
        Exercise(name="Seated hamstring stretch", hold_s=30, reps=3),
    ),
    slug="test",
)


def holds(routine: Routine) -> list[float]:
    return [s.hold_s for s in routine.steps if isinstance(s, Exercise)]


def cli(**kw: object) -> Layer:
    return Layer(COMMAND_LINE, parse_command_line(**kw))  # type: ignore[arg-type]


def test_step_matching_by_name_any_case_or_number() -> None:
    assert match_step(ROUTINE, "seated HAMSTRING stretch") == 3
    assert match_step(ROUTINE, " 1 ") == 1
    assert match_step(ROUTINE, "2") is None  # a rest, not an exercise
    assert match_step(ROUTINE, "4") is None
    assert match_step(ROUTINE, "seated") is None


def test_hold_for_every_step_and_for_one() -> None:
    r = resolve(ROUTINE, [cli(hold=["45"])])
    assert holds(r.routine) == [45, 45]
    assert r.label == "hold45"
    r = resolve(ROUTINE, [cli(hold=["Seated hamstring stretch=50", "1=70"])])
    assert holds(r.routine) == [70, 50]
    assert r.label == "hold3x50-hold1x70"
    r = resolve(ROUTINE, [cli(hold=["45", "3=50"])])
    assert holds(r.routine) == [45, 50]  # a step's own value beats "every step"


def test_scale_multiplies_holds_and_rests_after_other_settings() -> None:
    r = resolve(ROUTINE, [cli(hold=["3=40"], scale=1.5)])
    assert holds(r.routine) == [90, 60]
    assert r.routine.steps[1] == Rest(rest_s=30)
    assert "scale1.5" in r.label


def test_reps_rest_countdown_chimes_during_and_sides() -> None:
    r = resolve(
        ROUTINE,
        [
            cli(
                reps=["seated hamstring stretch=2"],
                rest=15,
                countdown=5,
                no_chimes=True,
                no_during=True,
                sides="left",
            )
        ],
    )
    pir, rest, seated = r.routine.steps
    assert isinstance(pir, Exercise) and isinstance(seated, Exercise)
    assert (seated.reps, pir.reps) == (2, 1)
    assert rest == Rest(rest_s=15)
    assert pir.sides == ("left",)
    for ex in (pir, seated):
        assert (ex.cues.countdown, ex.cues.chimes, ex.cues.during) == (5, False, False)
    assert r.label == "reps3x2-rest15-countdown5-nochimes-noduring-left"


def test_precedence_command_line_then_profile_routine_then_defaults_then_script() -> None:
    defaults = Layer("profile defaults", Overrides(hold_s=40, countdown=4, rest_s=10))
    section = Layer("profile routines.test", Overrides(step_hold_s=(("1", 50),), countdown=6))
    r = resolve(ROUTINE, [defaults, section])
    assert holds(r.routine) == [50, 40]
    by_name = {s.name: s for s in r.settings}
    assert by_name["step 1 hold"].source == "profile routines.test"
    assert by_name["step 3 hold"].source == "profile defaults"
    assert by_name["countdown"].value == "6"
    assert by_name["step 2 rest"].source == "profile defaults"
    r = resolve(ROUTINE, [defaults, section, cli(hold=["35"])])
    assert holds(r.routine) == [35, 35]
    assert {s.source for s in r.settings if s.name.endswith("hold")} == {COMMAND_LINE}
    untouched = resolve(ROUTINE, [])
    assert holds(untouched.routine) == [60, 30] and untouched.label == ""
    assert all(s.source == "routine script" for s in untouched.settings)


def test_voice_layers_merge_and_remember_sources() -> None:
    routine = Routine(title="T", steps=ROUTINE.steps, voice=VoiceSettings(rate_wpm=150))
    r = resolve(
        routine,
        [
            Layer("profile", Overrides(voice=VoiceSettings(voice="en-us"))),
            cli(voice=VoiceSettings(rate_wpm=140)),
        ],
    )
    assert r.voice == VoiceSettings(voice="en-us", rate_wpm=140)
    assert r.voice_sources == {"rate_wpm": COMMAND_LINE, "voice": "profile"}
    assert r.label.endswith("rate140")


def test_unknown_step_names_list_the_routine_steps() -> None:
    with pytest.raises(ValidationError) as caught:
        resolve(ROUTINE, [cli(hold=["Seated hamstrng=45"], reps=["2=3"])])
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 2
    assert "no exercise 'Seated hamstrng'" in messages[0]
    assert "1 Piriformis stretch; 3 Seated hamstring stretch" in messages[0]
    assert "--hold Seated hamstrng=" in messages[0]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"hold": ["0"]}, "--hold '0': must be from 1 to 10800 seconds"),
        ({"hold": ["abc"]}, "'abc' is not a number of seconds"),
        ({"hold": ["Seated=99999"]}, "got 99999"),
        ({"reps": ["0"]}, "--reps '0': must be a whole number from 1 to 50"),
        ({"reps": ["x=1.5"]}, "got '1.5'"),
        ({"scale": 0.0}, "--scale: must be more than 0 and at most 10"),
        ({"scale": 11.0}, "at most 10, got 11"),
        ({"rest": 0.5}, "--rest: must be from 1 to 10800"),
        ({"countdown": 11}, "--countdown: must be a whole number from 0 to 10"),
        ({"sides": "up"}, "--sides: must be left or right, got 'up'"),
    ],
)
def test_every_bad_override_value_says_what_is_allowed(kw: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_command_line(**kw)  # type: ignore[arg-type]
    assert words in str(caught.value)


def test_all_bad_values_are_reported_together() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_command_line(hold=["0"], reps=["x"], scale=-1, sides="up")
    assert len(caught.value.problems) == 4


def test_scaled_hold_over_three_hours_is_refused() -> None:
    with pytest.raises(ValidationError, match="at most 10800 s"):
        resolve(ROUTINE, [cli(hold=["10000"], scale=2.0)])


# -- progression ---------------------------------------------------------------------

RAMP = Ramp(start=20, add=5, every="week", max=60)


@pytest.mark.parametrize(("stage", "value"), [(1, 20), (2, 25), (5, 40), (9, 60), (30, 60)])
def test_ramp_values_by_stage(stage: int, value: float) -> None:
    assert RAMP.at(stage) == value


def stages_to_max(ramp: Ramp) -> int:
    """The first stage at which a ramp's value reaches its max."""
    return next(stage for stage in range(1, 10_000) if ramp.at(stage) >= ramp.max)


def test_ramp_reaches_its_max_at_the_right_stage() -> None:
    assert stages_to_max(RAMP) == 9
    assert stages_to_max(Ramp(20, 15, "week", 60)) == 4  # 20, 35, 50, 60


def test_progression_sets_holds_and_says_when_the_next_step_comes() -> None:
    routine = Routine(title="T", steps=ROUTINE.steps, progression=Progression(hold=RAMP))
    r = resolve(routine, [], Stage(3, first_session=date(2026, 11, 2)))
    assert holds(r.routine) == [30, 30]
    assert "week 3: 30s" in r.progression_note
    assert "35s from 2026-11-23" in r.progression_note
    assert r.label == "week3"
    top = resolve(routine, [], Stage(12, explicit=True))
    assert "(the maximum)" in top.progression_note


def test_session_progression_of_reps() -> None:
    routine = Routine(
        title="T", steps=ROUTINE.steps, progression=Progression(reps=Ramp(1, 1, "session", 3))
    )
    r = resolve(routine, [], Stage(2))
    assert [s.reps for s in r.routine.steps if isinstance(s, Exercise)] == [2, 2]
    assert "after your next finished session" in r.progression_note
    assert r.label == "session2"


def test_command_line_hold_beats_a_progression() -> None:
    routine = Routine(title="T", steps=ROUTINE.steps, progression=Progression(hold=RAMP))
    r = resolve(routine, [cli(hold=["45"])], Stage(3))
    assert holds(r.routine) == [45, 45]


def test_routine_script_progression_is_read(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "title: P\nprogression:\n  hold: {start: 20, add: 5, every: week, max: 60}\n"
        "steps:\n  - name: A\n"
    )
    assert load_routine(path).progression == Progression(hold=RAMP)
    path.write_text(
        "title: P\nprogression:\n  hold: {start: 20, add: 5, max: 10}\nsteps:\n  - name: A\n"
    )
    with pytest.raises(ValidationError, match=r"p.yaml:3: progression.hold.max: must be at least"):
        load_routine(path)


# -- profiles -------------------------------------------------------------------------

PROFILE = """\
voice: {rate: 150}
defaults:
  countdown: 5
  hold: 40
routines:
  test:
    hold: {Seated hamstring stretch: 45, 1: 70}
    reps: 2
    progression: {hold: {start: 20, add: 5, every: week, max: 60}}
"""


def test_profile_layers_for_a_routine(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    defaults, section = load_profile(path, "test")
    assert defaults.overrides == Overrides(
        hold_s=40, countdown=5, voice=VoiceSettings(rate_wpm=150)
    )
    assert section.source.startswith("profile routines.test")
    assert section.overrides.step_hold_s == (("Seated hamstring stretch", 45), ("1", 70))
    assert section.overrides.progression == Progression(hold=RAMP)
    assert len(load_profile(path, "other-routine")) == 1
    r = resolve(ROUTINE, [defaults, section], Stage(2))
    assert holds(r.routine) == [70, 45]  # step values beat the section's own progression


def test_missing_default_profile_is_no_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_COACH_CONFIG", str(tmp_path))
    assert load_profile(None, "test") == []
    (tmp_path / "profile.yaml").write_text("defaults: {hold: 33}\n")
    assert load_profile(None, "test")[0].overrides.hold_s == 33
    with pytest.raises(ValidationError, match="profile file not found"):
        load_profile(tmp_path / "nope.yaml", "test")


def test_bad_profile_reports_every_problem_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(
        "defaults:\n  hold: {1: 40}\n  colour: red\nroutines:\n  test:\n"
        "    scale: 0\n    reps: {x: 99}\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_profile(path, "test")
    found = {(p.line, p.key) for p in caught.value.problems}
    assert (3, "defaults.colour") in found
    assert (6, "routines.test.scale") in found
    assert (7, "routines.test.reps") in found
    assert (2, "defaults.hold") in found
    assert all(p.source == str(path) for p in caught.value.problems)


def test_full_fixture_still_resolves_unchanged() -> None:
    routine = load_routine(ROUTINES / "full.yaml")
    assert resolve(routine, []).routine == routine
