"""Settings layers: precedence, step matching, progression arithmetic, error text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import ROUTINES, word_ms

from voice_coach.errors import ValidationError
from voice_coach.routine.loader import load_routine
from voice_coach.routine.model import (
    Bed,
    BedLevels,
    Exercise,
    Progression,
    Ramp,
    Rest,
    Routine,
    VoiceSettings,
)
from voice_coach.settings.layers import (
    COMMAND_LINE,
    Flare,
    Layer,
    Overrides,
    Stage,
    match_step,
    resolve,
)
from voice_coach.settings.profile import load_profile
from voice_coach.settings.table import parse_bed
from voice_coach.settings.words import Choices
from voice_coach.timeline import build_timeline

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


def command_line(**kw: object) -> Overrides:
    """The command line's options as a layer, named as the settings are."""
    return Choices.of(**kw).overrides()


def cli(**kw: object) -> Layer:
    return Layer(COMMAND_LINE, command_line(**kw))


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
                chimes=False,
                during=False,
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
    defaults = Layer("profile defaults", Overrides.of(hold=40, countdown=4, rest=10))
    section = Layer("profile routines.test", Overrides.of(hold={"1": 50}, countdown=6))
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
    assert {s.source for s in untouched.settings} == {"routine script", "built-in default"}


def test_voice_layers_merge_and_remember_sources() -> None:
    routine = Routine(title="T", steps=ROUTINE.steps, voice=VoiceSettings(rate_wpm=150))
    r = resolve(
        routine,
        [
            Layer("profile", Overrides.of(voice="en-us")),
            cli(rate=140),
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
        ({"hold": ["abc"]}, "--hold 'abc': must be a number of seconds, got 'abc'"),
        ({"hold": ["Seated=99999"]}, "got 99999"),
        ({"reps": ["0"]}, "--reps '0': must be a whole number from 1 to 50"),
        ({"reps": ["x=1.5"]}, "--reps 'x=1.5': must be a whole number from 1 to 50, got 1.5"),
        ({"scale": 0.0}, "--scale: must be more than 0 and at most 10"),
        ({"scale": 11.0}, "at most 10, got 11"),
        ({"rest": 0.5}, "--rest: must be from 1 to 10800"),
        ({"countdown": 11}, "--countdown: must be a whole number from 0 to 10"),
        ({"sides": "up"}, "--sides: must be left or right, got 'up'"),
        ({"settle": ["-1"]}, "--settle '-1': must be from 0 to 300 seconds (5 minutes), got -1"),
        ({"settle": ["1=301"]}, "--settle '1=301': must be from 0 to 300 seconds"),
        ({"recover": ["soon"]}, "--recover 'soon': must be a number of seconds, got 'soon'"),
        ({"recover": ["Seated=400"]}, "got 400"),
    ],
)
def test_every_bad_override_value_says_what_is_allowed(kw: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        command_line(**kw)
    assert words in str(caught.value)


def test_all_bad_values_are_reported_together() -> None:
    with pytest.raises(ValidationError) as caught:
        command_line(hold=["0"], reps=["x"], scale=-1, sides="up", settle=["-1"], recover=["x=400"])
    assert len(caught.value.problems) == 6


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
    r = resolve(routine, [], Stage(3, steps_up_on=date(2026, 11, 23), count=9))
    assert holds(r.routine) == [30, 30]
    assert r.progression_note == "stage 3 of 9: holds at 30 s; steps up to 35 s on 2026-11-23"
    assert r.label == "week3"
    top = resolve(routine, [], Stage(12, explicit=True))
    assert top.progression_note == "stage 9 of 9, pinned: holds at 60 s; the last stage"


def test_session_progression_of_reps() -> None:
    routine = Routine(
        title="T", steps=ROUTINE.steps, progression=Progression(reps=Ramp(1, 1, "session", 3))
    )
    r = resolve(routine, [], Stage(2))
    assert [s.reps for s in r.routine.steps if isinstance(s, Exercise)] == [2, 2]
    assert "steps up after 1 more session without more pain" in r.progression_note
    assert r.label == "stage2"


def test_a_relative_ramp_takes_a_share_of_each_steps_own_hold_and_reps() -> None:
    halves = Progression(
        hold=Ramp(0.5, 0.1, "session", 1.0, relative=True, sessions=2),
        reps=Ramp(0.3, 0.1, "session", 1.0, relative=True),
    )
    steps = (Exercise(name="A", hold_s=60, reps=3), Exercise(name="B", hold_s=45))
    routine = Routine(title="T", steps=steps, progression=halves)
    r = resolve(routine, [], Stage(3, sessions_to_go=2, count=6))
    assert holds(r.routine) == [42, 32]  # 70 % of 60 s and of 45 s, in whole seconds
    assert [s.reps for s in r.routine.exercises] == [
        2,
        1,
    ]  # 50 % of 3 (1.5, up) and of 1, at least 1
    assert r.progression_note.splitlines()[0] == (
        "stage 3 of 6: holds at 70 %; steps up after 2 more sessions without more pain"
    )
    last = resolve(routine, [], Stage(6, count=6))
    assert holds(last.routine) == [60, 45]
    assert "stage 6 of 6: holds at 100 %; the last stage, as written" in last.progression_note


def test_the_session_after_a_flare_says_so_and_gives_the_advice() -> None:
    ramp = Ramp(0.5, 0.1, "session", 1.0, relative=True, sessions=2)
    routine = Routine(title="T", steps=ROUTINE.steps, progression=Progression(hold=ramp))
    flare = Flare(date(2026, 12, 12), 7)
    r = resolve(routine, [], Stage(2, sessions_to_go=2, count=6, flare=flare))
    assert "held back after a flare on 12 Dec, pain 7" in r.progression_note
    assert r.label == "stage2-flare"
    assert r.routine.intro[0] == (
        "Your pain was seven last time, so today's session is one stage gentler."
    )
    assert "See a doctor if the pain spreads down your leg, or does not ease." in r.routine.intro
    calm = resolve(routine, [], Stage(2, sessions_to_go=2, count=6))
    assert calm.routine.intro == routine.intro
    german = replace(routine, language="de")
    said = resolve(german, [], Stage(2, count=6, flare=flare)).routine.intro
    assert said[0].startswith("Beim letzten Mal lag der Schmerz bei sieben")


def test_a_progression_that_is_off_leaves_the_routine_as_written() -> None:
    ramp = Ramp(0.5, 0.1, "session", 1.0, relative=True, sessions=2)
    routine = Routine(
        title="T", steps=ROUTINE.steps, progression=Progression(hold=ramp), build_up=False
    )
    r = resolve(routine, [], Stage(1, off=True))
    assert holds(r.routine) == holds(ROUTINE) and r.label == "" and r.summary == ""
    assert r.progression_note.startswith("progression off (the routine as written)")
    assert holds(resolve(routine, [cli(build_up="on")], Stage(1)).routine) != holds(ROUTINE)
    pinned = resolve(routine, [], Stage(6, explicit=True, count=6))
    assert pinned.label == "stage6"


def test_a_ramp_in_shares_is_read_from_a_script(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "title: P\nbuild_up: off\nprogression:\n  hold: {start: 50%, add: 10 %, every: "
        "session, sessions: 2, max: 100%}\nsteps:\n  - name: A\n"
    )
    routine = load_routine(path)
    assert routine.progression == Progression(
        hold=Ramp(0.5, 0.1, "session", 1.0, relative=True, sessions=2)
    )
    assert routine.build_up is False


@pytest.mark.parametrize(
    ("ramp", "message"),
    [
        (
            "{start: 50%, add: 10%, max: 40%}",
            "3: progression.hold.max: must be at least `start` (50%), got 40%",
        ),
        (
            "{start: 50%, add: 10%, max: 400%}",
            "3: progression.hold.max: must be at most 300%, got 400%",
        ),
        (
            "{start: 350%, add: 10%, max: 360%}",
            "3: progression.hold.start: must be at most 300%, got 350%",
        ),
        (
            "{start: 50%, add: 10, max: 100%}",
            "3: progression.hold: start, add and max must all be shares",
        ),
        (
            "{start: half, add: 10%, max: 100%}",
            "3: progression.hold.start: must be a number more than 0",
        ),
        (
            "{start: 0%, add: 10%, max: 100%}",
            "3: progression.hold.start: must be a number more than 0",
        ),
    ],
)
def test_a_ramp_in_shares_out_of_order_or_too_large_is_refused(
    tmp_path: Path, ramp: str, message: str
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"title: P\nprogression:\n  hold: {ramp}\nsteps:\n  - name: A\n")
    with pytest.raises(ValidationError) as caught:
        load_routine(path)
    assert any(f"p.yaml:{message}" in str(p) for p in caught.value.problems)


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
    assert defaults.overrides == Overrides.of(rate=150, hold=40, countdown=5)
    assert section.source.startswith("profile routines.test")
    assert section.overrides.single("hold") == (("Seated hamstring stretch", 45), ("1", 70))
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
    assert load_profile(None, "test")[0].overrides.get("hold") == 33
    with pytest.raises(ValidationError, match="profile file not found"):
        load_profile(tmp_path / "nope.yaml", "test")


def profile_problems(tmp_path: Path, text: str) -> dict[tuple[int | None, str], str]:
    """(line, key) -> message of every problem of a profile; each names the file."""
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        load_profile(path, "test")
    assert all(p.source == str(path) for p in caught.value.problems)
    return {(p.line, p.key): p.message for p in caught.value.problems}


def test_bad_profile_reports_every_problem_with_lines(tmp_path: Path) -> None:
    found = profile_problems(
        tmp_path,
        "defaults:\n  hold: {1: 40}\n  colour: red\nroutines:\n  test:\n"
        "    scale: 0\n    reps: {x: 99}\n",
    )
    assert (3, "defaults.colour") in found
    assert (6, "routines.test.scale") in found
    assert (7, "routines.test.reps") in found
    assert (2, "defaults.hold") in found


def test_full_fixture_still_resolves_unchanged() -> None:
    routine = load_routine(ROUTINES / "full.yaml")
    # but for the built-in pain check-in's reminder at the end of a recording
    assert resolve(routine, []).routine == replace(routine, log_reminder=True)
    off = Layer(COMMAND_LINE, Overrides.of(checkin="off"))
    assert resolve(routine, [off]).routine == routine


# -- settle and recover -----------------------------------------------------------------


def pauses(routine: Routine) -> list[tuple[float, float]]:
    return [(s.settle_s, s.recover_s) for s in routine.steps if isinstance(s, Exercise)]


def test_settle_and_recover_for_every_step_and_for_one() -> None:
    r = resolve(ROUTINE, [cli(settle=["6", "Seated HAMSTRING stretch=9"], recover=["1=4.5"])])
    assert pauses(r.routine) == [(6, 4.5), (9, 3)]
    assert r.label == "settle6-settle3x9-recover1x4.5"
    assert r.summary == "settle 6 s, step 3 settle 9 s, step 1 recover 4.5 s"
    rows = {s.name: (s.value, s.source) for s in r.settings}
    assert rows["step 1 settle"] == ("6 s", COMMAND_LINE)
    assert rows["step 3 recover"] == ("3 s", "routine script")


def test_scale_leaves_settle_and_recover_alone() -> None:
    r = resolve(ROUTINE, [cli(settle=["6"], recover=["5"], scale=2.0)])
    assert holds(r.routine) == [120, 60]
    assert pauses(r.routine) == [(6, 5), (6, 5)]
    by_name = {s.name: s for s in r.settings}
    assert by_name["step 1 settle"].source == COMMAND_LINE  # no "x2" in it


def test_settle_and_recover_precedence_through_every_layer() -> None:
    script = Routine(
        title="T",
        steps=(
            replace(ROUTINE.steps[0], settle_s=4),
            ROUTINE.steps[1],
            ROUTINE.steps[2],
        ),
    )
    defaults = Layer("profile defaults", Overrides.of(settle=5, recover=6))
    section = Layer("profile routines.test", Overrides.of(settle={"3": 7}, recover={"1": 8}))
    assert pauses(resolve(script, []).routine) == [(4, 3), (2.5, 3)]
    assert pauses(resolve(script, [defaults]).routine) == [(5, 6), (5, 6)]
    r = resolve(script, [defaults, section])
    assert pauses(r.routine) == [(5, 8), (7, 6)]
    sources = {s.name: s.source for s in r.settings}
    assert sources["step 1 settle"] == "profile defaults"
    assert sources["step 3 settle"] == "profile routines.test"
    assert sources["step 1 recover"] == "profile routines.test"
    r = resolve(script, [defaults, section, cli(settle=["1=9"], recover=["2.5"])])
    assert pauses(r.routine) == [(9, 2.5), (7, 2.5)]
    assert r.label == "settle5-settle3x7-settle1x9-recover2.5-recover1x8"


def test_a_settle_from_every_layer_moves_the_hold_exactly() -> None:
    """Script, profile defaults, profile section, command line: "Hold" starts the winning
    settle time after the line before it; the line after a release, the recover time."""
    step = Exercise(name="Reach", hold_s=10, setup=("Sit.",), settle_s=4)
    script = Routine(title="T", steps=(step, Exercise(name="Fold", hold_s=10)))
    layers = [
        Layer("profile defaults", Overrides.of(settle=5)),
        Layer("profile routines.t", Overrides.of(settle={"Reach": 6})),
        cli(settle=["1=7.5"], recover=["Reach=11"]),
    ]
    for top, (settle_ms, recover_ms) in enumerate(
        [(4000, 3000), (5000, 3000), (6000, 3000), (7500, 11_000)]
    ):
        tl = build_timeline(resolve(script, layers[:top]).routine, word_ms)
        setup = next(e for e in tl.events if e.kind == "setup")
        release = next(e for e in tl.events if e.kind == "release")
        after = next(e for e in tl.events if e.is_speech and e.start_ms > release.start_ms)
        assert (tl.holds[0].start_ms, after.text) == (setup.end_ms + settle_ms, "Fold.")
        assert after.start_ms == release.end_ms + recover_ms


def test_unknown_step_for_settle_or_recover_lists_the_steps() -> None:
    with pytest.raises(ValidationError) as caught:
        resolve(ROUTINE, [cli(settle=["Piriformis=5"], recover=["2=5"])])
    messages = [str(p) for p in caught.value.problems]
    assert messages == [
        "command line: --settle Piriformis=: no exercise 'Piriformis' in 'Test'; its "
        "exercises: 1 Piriformis stretch; 3 Seated hamstring stretch",
        "command line: --recover 2=: no exercise '2' in 'Test'; its "
        "exercises: 1 Piriformis stretch; 3 Seated hamstring stretch",
    ]


def test_zero_settle_and_recover_are_allowed() -> None:
    o = command_line(settle=["0"], recover=["1=0"])
    assert (o.get("settle"), o.single("recover")) == (0, (("1", 0),))


PAUSES_PROFILE = """\
defaults: {settle: 5, recover: 6}
routines:
  test:
    settle: {Seated hamstring stretch: 7}
    recover: {1: 8}
"""


def test_profile_settle_and_recover(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(PAUSES_PROFILE)
    defaults, section = load_profile(path, "test")
    assert (defaults.overrides.get("settle"), defaults.overrides.get("recover")) == (5, 6)
    assert section.overrides.single("settle") == (("Seated hamstring stretch", 7),)
    assert section.overrides.single("recover") == (("1", 8),)
    assert pauses(resolve(ROUTINE, [defaults, section]).routine) == [(5, 8), (7, 6)]


def test_bad_profile_settle_and_recover_are_reported_with_lines(tmp_path: Path) -> None:
    found = profile_problems(
        tmp_path,
        "defaults:\n  settle: {1: 5}\n  recover: 301\nroutines:\n  test:\n"
        "    settle: {1: -2}\n    recover: true\n",
    )
    assert "per-step values belong in `routines" in found[(2, "defaults.settle")]
    assert found[(3, "defaults.recover")] == "must be from 0 to 300 seconds (5 minutes), got 301"
    assert "from 0 to 300 seconds" in found[(6, "routines.test.settle")]
    assert "must be a number of seconds, got True" in found[(7, "routines.test.recover")]


# -- flows and counts ----------------------------------------------------------------

PACED = ROUTINES / "paced.yaml"


def test_hold_times_do_not_reach_flows_and_counts_and_naming_one_is_an_error() -> None:
    paced = load_routine(PACED)
    r = resolve(paced, [cli(hold=["45"], reps=["2"])])
    flow, _, count = r.routine.steps
    assert (flow.pace, count.pace) == (paced.steps[0].pace, paced.steps[2].pace)  # type: ignore[union-attr]
    assert [s.reps for s in r.routine.exercises] == [2, 2]
    with pytest.raises(ValidationError) as caught:
        resolve(paced, [cli(hold=["cat cow=45", "3=20"])])
    assert [str(p) for p in caught.value.problems] == [
        "command line: --hold cat cow=: step 1 (Cat cow) is a flow, timed by its own beats, "
        "not a hold: change it with --scale, or --reps",
        "command line: --hold 3=: step 3 (Single-leg bridge) is a count, timed by its own "
        "beats, not a hold: change it with --scale, or --reps",
    ]


def test_a_profile_hold_for_a_flow_is_an_error_naming_the_profile(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("routines:\n  paced:\n    hold: {Cat cow: 45}\n")
    with pytest.raises(ValidationError, match=r"p\.yaml\): hold: step 1 \(Cat cow\) is a flow"):
        resolve(load_routine(PACED), load_profile(profile, "paced"))


def test_flows_and_counts_are_listed_with_their_beats_and_scale() -> None:
    r = resolve(load_routine(PACED), [cli(scale=1.5)])
    listed = {s.name: (s.value, s.source) for s in r.settings}
    assert listed["step 1 flow"] == (
        "2 rounds of 6 + 5.25 s (Cat cow)",
        "routine script, x1.5 (command line)",
    )
    assert listed["step 3 count"][0] == "count of 3, one every 3.75 s (Single-leg bridge)"
    assert "step 1 hold" not in listed


def test_a_scaled_flow_over_three_hours_is_refused() -> None:
    paced = load_routine(PACED)
    long_flow = replace(paced.steps[0], pace=replace(paced.steps[0].pace, rounds=150))  # type: ignore[arg-type,type-var]
    with pytest.raises(ValidationError, match="makes step 1's flow 11250 s"):
        resolve(replace(paced, steps=(long_flow,)), [cli(scale=10.0)])


# -- sound beds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bed"),
    [
        ("rain", Bed("rain")),
        (" drone ", Bed("drone")),
        ("off", Bed("off")),
        ("pace:110", Bed("pace", pace_spm=110)),
        ("pace 95", Bed("pace", pace_spm=95)),
        ("pace : 92.5", Bed("pace", pace_spm=92.5)),
        ("pace:40", Bed("pace", pace_spm=40)),
        ("pace:200", Bed("pace", pace_spm=200)),
    ],
)
def test_parse_bed_words_and_paces(text: str, bed: Bed) -> None:
    parsed = parse_bed(text, "--bed")
    assert parsed == bed and parsed.where == "--bed"


def test_parse_bed_paths_are_absolute_from_the_folder_or_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", "/home/walker")
    assert parse_bed("calm.mp3", "--bed").path == str(tmp_path / "calm.mp3")
    assert parse_bed("music/calm.mp3", "x", Path("/srv")).path == "/srv/music/calm.mp3"
    assert parse_bed("~/calm.mp3", "x", Path("/srv")).path == "/home/walker/calm.mp3"
    assert parse_bed("/data/rain.wav", "x", Path("/srv")).path == "/data/rain.wav"
    assert parse_bed("raindrops.ogg", "x", Path("/srv")).kind == "file"
    assert parse_bed("pace-notes.mp3", "x", Path("/srv")).kind == "file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pace:250", "pace must be 40 to 200 steps per minute, got 250"),
        ("pace 39.5", "pace must be 40 to 200 steps per minute, got 39.5"),
        ("pace:0", "pace must be 40 to 200 steps per minute, got 0"),
        ("pace:-90", "pace must be a number of steps per minute, 40 to 200, e.g. pace:110"),
        ("pace:fast", "pace must be a number of steps per minute, 40 to 200, e.g. pace:110"),
        ("pace", "got ''"),
        ("pace 1e2", "got '1e2'"),
        ("", "a sound file's path must not be empty"),
        ("   ", "a sound file's path must not be empty"),
    ],
)
def test_parse_bed_refuses_bad_paces_and_empty_paths(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_bed(text, "--bed")
    assert message in str(caught.value)


def test_bad_bed_options_are_refused_together() -> None:
    with pytest.raises(ValidationError) as caught:
        command_line(bed="pace:250", bed_level=3, bed_duck=-1)
    assert [str(p) for p in caught.value.problems] == [
        "--bed: pace must be 40 to 200 steps per minute, got 250",
        "--bed-level: must be from -40 to 0 LU, got 3",
        "--bed-duck: must be from 0 to 40 dB, got -1",
    ]
    with pytest.raises(ValidationError, match="--no-bed: given twice: 'rain' and 'off'; give one"):
        command_line(bed=["rain", "off"])
    o = command_line(bed="off", bed_level=-40, bed_duck=0)
    assert (o.get("bed"), o.get("bed_level"), o.get("bed_duck")) == (Bed("off"), -40, 0)


BEDDED = Routine(
    title="Walk",
    steps=(
        Exercise(name="Easy", hold_s=60, bed=Bed("pace", pace_spm=90)),
        Rest(rest_s=20, bed=Bed("off")),
        Exercise(name="Brisk", hold_s=60),
    ),
    bed=Bed("rain"),
    bed_levels=BedLevels(level_lu=-24, duck_db=10),
    slug="walk",
)


def beds(routine: Routine) -> list[Bed | None]:
    return [routine.bed, *(s.bed for s in routine.steps)]


def test_a_bed_from_any_layer_replaces_the_scripts_everywhere() -> None:
    assert beds(resolve(BEDDED, []).routine) == beds(BEDDED)
    defaults = Layer("profile defaults", Overrides.of(bed=Bed("drone"), bed_level=-30))
    section = Layer("profile routines.walk", Overrides.of(bed=Bed("pace", pace_spm=100)))
    r = resolve(BEDDED, [defaults])
    assert beds(r.routine) == [Bed("drone"), None, None, None]
    assert r.routine.bed_levels == BedLevels(level_lu=-30, duck_db=10)
    r = resolve(BEDDED, [defaults, section])
    assert beds(r.routine) == [Bed("pace", pace_spm=100), None, None, None]
    r = resolve(BEDDED, [defaults, section, cli(bed="off", bed_duck=20)])
    assert beds(r.routine) == [None, None, None, None]
    assert r.routine.bed_levels == BedLevels(level_lu=-30, duck_db=20)
    r = resolve(BEDDED, [defaults, section, cli(bed="rain")])
    assert beds(r.routine) == [Bed("rain"), None, None, None]
    assert r.routine.bed.where == "--bed"  # type: ignore[union-attr]
    # Everything else is as it was.
    assert [s.hold_s for s in r.routine.exercises] == [60, 60]


def test_bed_settings_are_listed_with_their_sources() -> None:
    rows = {s.name: (s.value, s.source) for s in resolve(BEDDED, []).settings}
    assert rows["bed"] == ("rain, as written per step", "routine script")
    assert rows["step 1 bed"] == ("pace 90 (Easy)", "routine script")
    assert rows["step 2 bed"] == ("off (rest)", "routine script")
    assert "step 3 bed" not in rows
    assert (rows["bed level"], rows["bed duck"]) == (
        ("-24 LU", "routine script"),
        ("10 dB", "routine script"),
    )
    plain = {s.name: s.value for s in resolve(ROUTINE, []).settings}
    assert (plain["bed"], plain["bed level"], plain["bed duck"]) == ("none", "-20 LU", "12 dB")
    layers = [
        Layer("profile defaults", Overrides.of(bed_duck=6)),
        cli(bed="/music/calm.mp3", bed_level=-18),
    ]
    rows = {s.name: (s.value, s.source) for s in resolve(BEDDED, layers).settings}
    assert rows["bed"] == ("file /music/calm.mp3", COMMAND_LINE)
    assert "step 1 bed" not in rows
    assert rows["bed level"] == ("-18 LU", COMMAND_LINE)
    assert rows["bed duck"] == ("6 dB", "profile defaults")


@pytest.mark.parametrize(
    ("kw", "label", "summary"),
    [
        ({"bed": "rain"}, "bed-rain", "bed rain"),
        ({"bed": "pace 110"}, "bed-pace-110", "bed pace 110"),
        ({"bed": "/music/Calm Sea.mp3"}, "bed-file-calm-sea-mp3", "bed file Calm Sea.mp3"),
        ({"bed": "off"}, "nobed", "no bed"),
        ({"bed_level": -18.0}, "bedlevel-18", "bed level -18 LU"),
        (
            {"bed": "drone", "bed_level": -30.0, "bed_duck": 6.0},
            "bed-drone-bedlevel-30-bedduck6",
            "bed drone, bed level -30 LU, bed duck 6 dB",
        ),
    ],
)
def test_a_bed_not_from_the_script_names_the_file_and_the_summary(
    kw: dict[str, object], label: str, summary: str
) -> None:
    r = resolve(BEDDED, [cli(**kw)])
    assert (r.label, r.summary) == (label, summary)
    assert resolve(BEDDED, []).label == ""  # the script's own beds are not named


def test_profile_beds_are_relative_to_the_profile_and_say_where(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "profile.yaml"
    path.write_text(
        "defaults:\n  bed: rain\n  bed_level: -26\nroutines:\n  walk:\n"
        "    bed: music/walk.mp3\n    bed_duck: 15\n  other:\n    bed: off\n"
    )
    defaults, section = load_profile(path, "walk")
    d, o = defaults.overrides, section.overrides
    assert (d.get("bed"), d.get("bed_level")) == (Bed("rain"), -26)
    assert d.get("bed").where == f"{path}:2"
    assert o.get("bed") == Bed("file", path=str(folder.resolve() / "music" / "walk.mp3"))
    assert o.get("bed").where == f"{path}:6"
    assert o.get("bed_duck") == 15
    r = resolve(BEDDED, [defaults, section])
    assert beds(r.routine) == [o.get("bed"), None, None, None]
    assert r.routine.bed_levels == BedLevels(level_lu=-26, duck_db=15)
    assert load_profile(path, "other")[1].overrides.get("bed") == Bed("off")


def test_bad_profile_beds_are_reported_with_lines(tmp_path: Path) -> None:
    found = profile_problems(
        tmp_path,
        "defaults:\n  bed: {pace: 300}\n  bed_level: 1\nroutines:\n  test:\n"
        "    bed: {file: ''}\n    bed_duck: lots\n    bedd: rain\n",
    )
    assert found[(2, "defaults.bed")] == "pace must be 40 to 200 steps per minute, got 300"
    assert found[(3, "defaults.bed_level")] == "must be from -40 to 0 LU, got 1"
    assert "path must not be empty" in found[(6, "routines.test.bed")]
    assert found[(7, "routines.test.bed_duck")] == "must be a number of dB, got 'lots'"
    assert "bed, bed_level, bed_duck" in found[(8, "routines.test.bedd")]
