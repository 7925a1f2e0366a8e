"""Routine scripts: what loads, and the exact message for every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROUTINES
from typer.testing import CliRunner

from voice_coach.cli.app import app
from voice_coach.errors import ValidationError
from voice_coach.library import bundled_routines
from voice_coach.loader import load_routine, parse_routine
from voice_coach.model import CueOptions, Exercise, Rest, VoiceSettings


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
    ("invalid-long-text", 5, "steps[1].during[1]", ["characters long", "at most 300"]),
    ("invalid-bad-side", 4, "steps[1].sides[2]", ["'left' or 'right'", "'up'"]),
    ("invalid-reps", 4, "steps[1].reps", ["greater than or equal to 1", "got 0"]),
    ("invalid-duplicate-key", 5, "steps[1].hold", ["duplicate key"]),
    ("invalid-pauses", 7, "steps[2].recover", ["from 0 to 300 seconds (5 minutes)", "got 301"]),
    ("invalid-yaml-syntax", 5, "", ["not valid YAML"]),
    ("invalid-step-not-mapping", 3, "steps[1]", ["must be a mapping", "rest: SECONDS"]),
    ("invalid-not-a-mapping", 1, "", ["must be a mapping", "title", "steps"]),
]


@pytest.mark.parametrize(("fixture", "line", "key", "words"), CASES, ids=[c[0] for c in CASES])
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


@pytest.mark.parametrize("fixture", [c[0] for c in CASES] + ["invalid-many"])
def test_cli_validate_exits_2_with_messages_and_no_traceback(fixture: str) -> None:
    path = ROUTINES / f"{fixture}.yaml"
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"error: {path}" in result.output
    assert "nothing was written" in result.output


def test_cli_validate_accepts_good_files_and_names() -> None:
    result = CliRunner().invoke(app, ["validate", str(ROUTINES / "full.yaml"), "sciatica-relief"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == 2
