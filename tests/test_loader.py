"""Routine scripts: what loads, and the exact message for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROUTINES
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.errors import ValidationError
from voice_coach.routine.library import bundled_routines
from voice_coach.routine.loader import load_routine, parse_routine
from voice_coach.routine.model import (
    Beat,
    Bed,
    BedLevels,
    Count,
    CueOptions,
    Exercise,
    Flow,
    Rest,
    VoiceSettings,
)
from voice_coach.routine.textsplit import split_for_speech


def test_full_routine_loads_with_defaults_resolved() -> None:
    r = load_routine(ROUTINES / "full.yaml")
    assert r.title == "Full" and r.slug == "full"
    assert r.intro == ("Go gently.",)
    assert r.voice == VoiceSettings(engine="fake", rate_wpm=150)
    side, rest, seated = r.steps
    assert isinstance(side, Exercise) and isinstance(seated, Exercise)
    assert side.sides == ("right", "left") and side.hold_s == 24
    assert side.cues == CueOptions(countdown=3, remaining_s=(10,), halfway=True, chimes=True)
    assert rest == Rest(rest_s=15, line=16)
    assert seated.setup == ("Sit up.",) and seated.reps == 2
    assert seated.cues == CueOptions(countdown=2, remaining_s=(), halfway=False, chimes=False)
    assert (side.settle_s, side.recover_s, seated.settle_s, seated.recover_s) == (2.5, 3, 2.5, 3)


def test_settle_and_recover_come_from_the_step_then_defaults_then_built_in() -> None:
    r = parse_routine(
        "title: T\ndefaults: {settle: 8, recover: 0}\nsteps:\n"
        "  - name: A\n    settle: 15.5\n  - name: B\n    recover: 300\n"
    )
    assert [(s.settle_s, s.recover_s) for s in r.exercises] == [(15.5, 0), (8, 300)]
    plain = parse_routine("title: T\nsteps:\n  - name: A\n")
    assert [(s.settle_s, s.recover_s) for s in plain.exercises] == [(2.5, 3)]


def test_minimal_routine_uses_built_in_defaults() -> None:
    (step,) = load_routine(ROUTINES / "minimal.yaml").steps
    assert step == Exercise(name="Stretch", hold_s=20, line=3)


@pytest.mark.parametrize("name", sorted(bundled_routines()))
def test_every_bundled_routine_is_valid(name: str) -> None:
    routine = load_routine(bundled_routines()[name])
    assert routine.steps and routine.title


def test_the_origin_routines_ship() -> None:
    names = set(bundled_routines())
    assert {
        "sciatica-relief",
        "piriformis-stretch",
        "seated-hamstring-stretch",
        "standing-hamstring-stretch",
        "yoga-for-sciatica",
        "walking",
    } <= names
    yoga = load_routine(bundled_routines()["yoga-for-sciatica"])
    assert len(yoga.exercises) == 11
    seated = load_routine(bundled_routines()["seated-hamstring-stretch"]).exercises[0]
    assert (seated.hold_s, seated.reps) == (30, 3)
    relief = load_routine(bundled_routines()["sciatica-relief"])
    assert any("doctor" in line for line in relief.intro)


def test_the_gentle_core_routine_ships_with_counted_reps_and_a_safety_note() -> None:
    core = load_routine(bundled_routines()["core-basics"])
    names = [e.name for e in core.exercises]
    assert names[:4] == ["Pelvic tilt", "Bridge", "Bird dog", "Dead bug"]
    counted = [e for e in core.exercises if isinstance(e.pace, Count)]
    assert len(counted) == 4 and all(c.pace.count >= 6 for c in counted)  # type: ignore[union-attr]
    assert any("doctor" in line for line in core.intro)
    assert any("Stop at once if your pain grows" in line for line in core.intro)


# (fixture, line, key, words the message must contain)
CASES = [
    ("invalid-unknown-key", 5, "steps[1].holdd", ["unknown key", "allowed keys here", "hold"]),
    ("invalid-wrong-type", 4, "steps[1].hold", ["must be a number of seconds", "'thirty'"]),
    ("invalid-zero-hold", 4, "steps[1].hold", ["from 1 to 10800 seconds", "got 0"]),
    ("invalid-negative-rest", 4, "steps[2].rest", ["from 1 to 10800 seconds", "got -5"]),
    ("invalid-absurd-hold", 3, "defaults.hold", ["3 hours", "got 10801"]),
    ("invalid-empty-steps", 2, "steps", ["at least one step"]),
    ("invalid-missing-title", None, "title", ["required"]),
    ("invalid-side-without-sides", 6, "steps[1].setup[2]", ["{side}", "no `sides`"]),
    (
        "invalid-unknown-placeholder",
        5,
        "steps[1].release",
        ["unknown placeholder {limb}", "{side}, {other}"],
    ),
    (
        "invalid-long-text",
        5,
        "steps[1].during[1]",
        ["329 characters with no sentence end or clause break", "'la la la", "at most 300"],
    ),
    ("invalid-bad-side", 4, "steps[1].sides[2]", ["'left' or 'right'", "'up'"]),
    ("invalid-reps", 4, "steps[1].reps", ["must be a whole number from 1 to 50", "got 0"]),
    ("invalid-duplicate-key", 5, "steps[1].hold", ["duplicate key"]),
    ("invalid-pauses", 7, "steps[2].recover", ["from 0 to 300 seconds (5 minutes)", "got 301"]),
    ("invalid-yaml-syntax", 5, "", ["not valid YAML"]),
    ("invalid-step-not-mapping", 3, "steps[1]", ["must be a mapping", "rest: SECONDS"]),
    ("invalid-not-a-mapping", 1, "", ["must be a mapping", "title", "steps"]),
    (
        "invalid-hold-and-flow",
        4,
        "steps[1].hold",
        ["one of `hold`, `flow` or `count`", "has `hold` and `flow`"],
    ),
    ("invalid-count-without-tempo", 4, "steps[1].count", ["needs `tempo`", "tempo: 3"]),
    ("invalid-flow-beat", 6, "steps[1].flow[2].secs", ["from 1 to 300 seconds", "got 0"]),
    (
        "invalid-flow-key",
        6,
        "steps[1].flow[1].sec",
        ["unknown key", "allowed keys here: say, secs"],
    ),
    ("invalid-during-in-flow", 6, "steps[1].during", ["inside a hold", "`during` and `flow`"]),
    ("invalid-rounds-without-flow", 5, "steps[1].rounds", ["rounds of a `flow`"]),
    ("invalid-bed-pace", 2, "bed", ["pace must be 40 to 200 steps per minute, got 250"]),
    (
        "invalid-bed-empty-file",
        5,
        "steps[1].bed",
        ["a sound file's path must not be empty", "rain, drone, off"],
    ),
    (
        "invalid-bed-shape",
        6,
        "steps[2].bed",
        ["must be rain, drone, off, {pace: STEPS_PER_MINUTE} (40 to 200), {file: PATH}", "got {"],
    ),
    ("invalid-bed-levels", 3, "bed_level", ["must be from -40 to 0 LU, got 6"]),
    ("invalid-bed-levels", 4, "bed_duck", ["must be from 0 to 40 dB, got 60"]),
]


@pytest.mark.parametrize(
    ("fixture", "line", "key", "words"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)
def test_each_invalid_script_names_file_line_key_and_what_is_allowed(
    fixture: str, line: int | None, key: str, words: list[str]
) -> None:
    path = ROUTINES / f"{fixture}.yaml"
    with pytest.raises(ValidationError) as caught:
        load_routine(path)
    problems = caught.value.problems
    match = [p for p in problems if p.key == key]
    assert match, f"no problem at {key!r}: {problems}"
    problem = match[0]
    assert problem.source == str(path)
    assert problem.line == line
    for word in words:
        assert word in problem.message, problem.message
    rendered = str(problem)
    assert rendered.startswith(f"{path}:{line}: " if line else f"{path}: ")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        load_routine(ROUTINES / "invalid-many.yaml")
    keys = [p.key for p in caught.value.problems]
    assert keys == [
        "defaults.chimes",
        "defaults.hold",
        "voice.rate",
        "steps[1].hold",
        "steps[2].rest",
        "steps[3].colour",
    ]
    assert [p.line for p in caught.value.problems] == [2, 2, 3, 6, 7, 9]


def test_every_bad_settle_and_recover_is_reported_at_once() -> None:
    path = ROUTINES / "invalid-pauses.yaml"
    with pytest.raises(ValidationError) as caught:
        load_routine(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2: defaults.recover: must be from 0 to 300 seconds (5 minutes), got 400",
        f"{path}:2: defaults.settle: must be from 0 to 300 seconds (5 minutes), got -1",
        f"{path}:5: steps[1].settle: must be a number of seconds, got 'five'",
        f"{path}:7: steps[2].recover: must be from 0 to 300 seconds (5 minutes), got 301",
    ]


def test_unknown_key_lists_settle_and_recover() -> None:
    with pytest.raises(ValidationError, match=r"allowed keys here: .*settle, recover"):
        parse_routine("title: T\nsteps:\n  - name: A\n    setle: 5\n")


def test_unreadable_file_is_a_validation_problem(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"title: caf\xe9\n")
    with pytest.raises(ValidationError, match="not UTF-8"):
        load_routine(tmp_path / "latin1.yaml")


@pytest.mark.parametrize("fixture", [*dict.fromkeys(c[0] for c in CASES), "invalid-many"])
def test_cli_validate_exits_2_with_messages_and_no_traceback(fixture: str) -> None:
    path = ROUTINES / f"{fixture}.yaml"
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"error: {path}" in result.output
    assert "nothing was written" in result.output


def test_cli_validate_accepts_good_files_and_names() -> None:
    result = CliRunner().invoke(
        app, ["validate", "--quick", str(ROUTINES / "full.yaml"), "sciatica-relief"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == 2


def test_instructions_of_any_length_are_split_for_the_ear() -> None:
    paragraph = " ".join(
        ["Lie on your back with your knees bent and your feet flat on the floor."] * 60
    )
    assert 4000 < len(paragraph) <= 5000
    r = parse_routine(
        "title: T\nintro: Go gently. Stop if it hurts.\nsteps:\n  - name: A\n"
        f"    setup: {paragraph}\n    during: [One. Two., Three.]\n"
        "    release: Lower your legs. Rest.\n    between: Again. Slowly.\n    reps: 2\n"
    )
    (step,) = r.exercises
    assert r.intro == ("Go gently.", "Stop if it hurts.")
    assert step.setup == split_for_speech(paragraph) and len(step.setup) == 60
    assert step.during == (("One.", "Two."), ("Three.",))
    assert step.release == ("Lower your legs.", "Rest.")
    assert step.between == ("Again.", "Slowly.")
    assert step.line_of("Two.") == 6 and step.line_of("Rest.") == 7


def test_a_text_over_5000_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_routine(f"title: T\nsteps:\n  - name: A\n    setup: [ok, {'Go. ' * 1300}]\n")
    (problem,) = caught.value.problems
    assert (problem.line, problem.key) == (4, "steps[1].setup[2]")
    assert problem.message == "is 5199 characters long; at most 5000 are allowed here"


def test_names_and_flow_lines_stay_single_lines() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_routine(
            f"title: T\nsteps:\n  - name: {'N. ' * 101}\n"
            f"  - name: B\n    flow: [{{say: {'Up. ' * 80}, secs: 4}}]\n"
        )
    assert [(p.key, p.message) for p in caught.value.problems] == [
        ("steps[1].name", "is 302 characters long; at most 300 are allowed here"),
        ("steps[2].flow[1].say", "is 319 characters long; at most 300 are allowed here"),
    ]


def test_flows_and_counts_load_with_their_beats() -> None:
    r = load_routine(ROUTINES / "paced.yaml")
    flow, rest, count = r.steps
    assert isinstance(flow, Exercise) and isinstance(count, Exercise)
    assert flow.pace == Flow(
        (Beat("Breathe in, lift your chest.", 4), Beat("Breathe out, round your back.", 3.5)), 2
    )
    assert flow.hold_s == 15  # the time the flow takes
    assert flow.line_of("Breathe out, round your back.") == 9
    assert count.pace == Count(3, 2.5, "Up.") and count.hold_s == 7.5
    assert (count.sides, count.reps, count.between) == (("right", "left"), 2, ("Again.",))
    assert rest == Rest(10, line=12)


def test_every_rule_between_step_keys_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_routine(
            "title: T\nsteps:\n  - name: A\n    hold: 5\n    count: 3\n    tempo: 2\n"
            "    flow: [{say: In., secs: 3}]\n    countdown: 2\n    say: Up.\n"
        )
    assert [(p.line, p.key) for p in caught.value.problems] == [
        (4, "steps[1].hold"),
        (4, "steps[1].hold"),
        (7, "steps[1].flow"),
        (8, "steps[1].countdown"),
    ]


def test_a_flow_longer_than_three_hours_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"steps\[1\].flow: lasts 12000 s in all; at most"):
        parse_routine(
            "title: T\nsteps:\n  - name: A\n    flow: [{say: In., secs: 120}]\n    rounds: 100\n"
        )


# -- sound beds ------------------------------------------------------------------------


def test_beds_load_for_the_routine_and_its_steps_with_where_they_were_written() -> None:
    path = ROUTINES / "bedded.yaml"
    r = load_routine(path)
    assert r.bed == Bed("rain") and r.bed_levels == BedLevels(level_lu=-24, duck_db=18)
    warm, rest, stretch, walk, breathe = r.steps
    assert warm.bed == Bed("pace", pace_spm=90)
    assert rest.bed == Bed("off")  # YAML reads a bare `off` as false: still off
    assert stretch.bed == Bed("file", path=str(ROUTINES.resolve() / "sounds" / "calm.mp3"))
    assert walk.bed == Bed("pace", pace_spm=115)  # the command line's words work too
    assert breathe.bed is None  # the routine's
    assert [s.bed.where for s in r.steps[:4]] == [f"{path}:{n}" for n in (8, 10, 13, 16)]  # type: ignore[union-attr]
    assert r.bed.where == f"{path}:2"  # type: ignore[union-attr]


def test_no_bed_by_default_and_a_routine_bed_off_is_none() -> None:
    plain = load_routine(ROUTINES / "minimal.yaml")
    assert (plain.bed, plain.bed_levels) == (None, BedLevels(-20, 12))
    for written in ("off", "'off'", "false"):
        r = parse_routine(f"title: T\nbed: {written}\nsteps: [{{name: A, bed: drone}}]\n")
        assert r.bed is None and r.steps[0].bed == Bed("drone")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("calm.mp3", "{folder}/calm.mp3"),
        ("{file: ../music/calm.mp3}", "{folder}/../music/calm.mp3"),
        ("'~/music/rain on a roof.ogg'", "{home}/music/rain on a roof.ogg"),
        ("{file: /srv/sounds/calm.flac}", "/srv/sounds/calm.flac"),
        ("raindrops.wav", "{folder}/raindrops.wav"),  # not the word "rain"
        ("pacey.mp3", "{folder}/pacey.mp3"),  # not a pace
    ],
)
def test_a_bed_file_is_relative_to_the_routine_and_need_not_exist_yet(
    written: str, path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "routines"
    folder.mkdir()
    script = folder / "walk.yaml"
    script.write_text(f"title: T\nbed: {written}\nsteps: [{{rest: 5}}]\n")
    monkeypatch.chdir(tmp_path)  # not where the script is
    bed = load_routine(script).bed
    assert bed is not None and bed.kind == "file"
    assert bed.path == path.format(folder=folder.resolve(), home=tmp_path / "home")


def test_every_bad_bed_is_reported_at_once_with_what_is_allowed() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_routine(
            "title: T\nbed: pace 39\nbed_level: loud\nbed_duck: -1\nsteps:\n"
            "  - name: A\n    bed: {pace: fast}\n  - rest: 5\n    bed: ''\n"
            "  - name: B\n    bed: [rain]\n  - name: C\n    bed: {tempo: 3}\n"
            "  - name: D\n    bed: {file: 7}\n  - name: E\n    bed: pace\n"
        )
    assert [(p.line, p.key, p.message) for p in caught.value.problems] == [
        (2, "bed", "pace must be 40 to 200 steps per minute, got 39"),
        (3, "bed_level", "must be a number of LU, got 'loud'"),
        (4, "bed_duck", "must be from 0 to 40 dB, got -1"),
        (
            7,
            "steps[1].bed",
            "pace must be a number of steps per minute, 40 to 200, e.g. pace:110; got 'fast'",
        ),
        (
            9,
            "steps[2].bed",
            "a sound file's path must not be empty; a bed is rain, drone, off, "
            "pace:STEPS_PER_MINUTE (e.g. pace:110) or a sound file",
        ),
        (11, "steps[3].bed", BAD_BED.format("['rain']")),
        (13, "steps[4].bed", BAD_BED.format("{'tempo': 3}")),
        (15, "steps[5].bed", "file must be the path of a sound file, got 7"),
        (
            17,
            "steps[6].bed",
            "pace must be a number of steps per minute, 40 to 200, e.g. pace:110; got ''",
        ),
    ]


BAD_BED = (
    "must be rain, drone, off, {{pace: STEPS_PER_MINUTE}} (40 to 200), {{file: PATH}} or the "
    "path of a sound file; got {}"
)


def test_unknown_key_lists_bed_for_steps_and_rests() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_routine("title: T\nsteps:\n  - name: A\n    bedd: rain\n  - {rest: 5, hold: 3}\n")
    first, second = caught.value.problems
    assert first.message.endswith(", bed") and second.message == (
        "unknown key; allowed keys here: rest, bed"
    )
