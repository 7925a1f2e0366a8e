"""`import`: routines from other tools' files (w2a, apg, just_another_workout_timer,
OpenHIIT, our own scripts), read from hand-written fixtures in each format. Every
feature of each format is in its fixture; golden timelines pin what they become, and
the names and seconds are checked against the source one by one."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROUTINES, FakeEngine, word_ms
from typer.testing import CliRunner, Result

from voice_coach.cli.commands import app
from voice_coach.errors import ValidationError
from voice_coach.routine import yamlsafe
from voice_coach.routine.imports import READERS, import_files, plan_imports, read_routines
from voice_coach.routine.imports.source import MAX_SOURCE_BYTES
from voice_coach.routine.imports.w2a import duration_s
from voice_coach.routine.loader import load_routine
from voice_coach.routine.model import Exercise, Rest, Routine
from voice_coach.timeline import build_timeline

IMPORTS = FIXTURES / "imports"
GOOD = {
    "w2a/workout.yaml": ["workout"],
    "apg/qigong.txt": ["qigong"],
    "jawt/workout-v2.json": ["lunch-break"],
    "jawt/workout-v1.json": ["quick-stretch"],
    "jawt/backup.json": ["morning", "evening"],
    "openhiit/timers.json": ["tabata-legs", "plank-ladder"],
}
"""Each good fixture and the routines it holds, by the names they are written under."""
runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture
def mine(private_user_dirs: Path) -> Path:
    """The routines folder imports go into (`$VOICE_COACH_ROUTINES`)."""
    return Path(os.environ["VOICE_COACH_ROUTINES"])


def imported(fixture: str, folder: Path) -> dict[str, Routine]:
    written = import_files([IMPORTS / fixture], folder)
    return {item.name: load_routine(item.path) for item in written}


def steps(routine: Routine) -> list[tuple[str, float] | tuple[str, float, int, int]]:
    """("rest", seconds) or (name, hold seconds, sides, reps) per step."""
    out: list[tuple[str, float] | tuple[str, float, int, int]] = []
    for step in routine.steps:
        if isinstance(step, Rest):
            out.append(("rest", step.rest_s))
        else:
            assert isinstance(step, Exercise)
            out.append((step.name, step.hold_s, len(step.sides) or 1, step.reps))
    return out


# -- what each format becomes ----------------------------------------------------------


@pytest.mark.parametrize("fixture", list(GOOD))
def test_golden_timeline_of_each_import(fixture: str, mine: Path) -> None:
    """What each fixture becomes, laid out with the fake engine's timings, is pinned."""
    routines = imported(fixture, mine)
    assert list(routines) == GOOD[fixture]
    got = {name: build_timeline(r, word_ms).to_json() for name, r in routines.items()}
    golden = IMPORTS / "golden" / (fixture.replace("/", "-").rsplit(".", 1)[0] + ".json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(golden.read_text())
    for routine in routines.values():
        assert build_timeline(routine, word_ms).warnings == ()


def test_w2a_names_and_durations_match_the_source(mine: Path) -> None:
    routine = imported("w2a/workout.yaml", mine)["workout"]
    assert steps(routine) == [
        ("rest", 10),
        ("Warm up", 90, 1, 1),
        ("rest", 10),
        ("Hamstring stretch", 45, 1, 1),  # from the anchor, by a merge key
        ("rest", 10),
        ("Side plank", 30, 2, 1),  # 1m with half_time: 30 s on each side
        ("rest", 20),  # its own pause_duration
        ("Knee hug", 120, 1, 1),
        ("rest", 10),
        ("Hamstring stretch", 30, 1, 1),  # the anchor, its duration overridden
    ]
    warm_up = routine.exercises[0]
    assert warm_up.during == (("Roll your shoulders",), ("Circle your hips",))
    assert routine.exercises[0].cues.countdown == 5
    assert dict(routine.phrases) == {
        "switch_sides": "Change side",
        "finish": "You trained for 6 minutes and 45 seconds! Well done.",
    }
    assert routine.intro == (
        "5 exercises will take 6 minutes and 45 seconds, 5 minutes and 45 seconds of it training.",
    )


def test_w2a_durations_are_read_as_go_writes_them() -> None:
    assert [duration_s(t) for t in ("30s", "2m", "1m30s", "1.5h", "500ms", "1h2m3s")] == [
        30,
        120,
        90,
        5400,
        0.5,
        3723,
    ]
    assert duration_s("-5s") == -5
    for bad in ("abc", "30", 30, "5 s", "1m30", True, None):
        with pytest.raises(ValueError, match="such as 30s"):
            duration_s(bad)


def test_apg_phrases_become_holds_intro_and_releases(mine: Path) -> None:
    routine = imported("apg/qigong.txt", mine)["qigong"]
    assert routine.title == "Qigong"
    assert routine.intro == ("Ready for some qi gong?", "Stand tall and breathe")
    assert steps(routine) == [
        ("Relax your body", 30, 1, 1),
        ("Great tai chi circle", 60, 1, 1),
        ("Hugging the (tree)", 45.5, 1, 1),  # braces are placeholders in our scripts
    ]
    first, second, third = routine.exercises
    assert first.release == ("Shake out your hands.",)
    assert first.recover_s == 3  # the silence after the line
    assert second.release == ()  # the usual release
    assert third.release == ("Let your arms float down.", "Slowly open your eyes.", "Good job!")
    assert (first.settle_s, first.cues.countdown, first.cues.remaining_s) == (0, 0, ())
    assert not first.cues.chimes


def test_apg_says_what_it_approximated(mine: Path) -> None:
    result = invoke("import", str(IMPORTS / "apg/qigong.txt"))
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("not carried")]
    assert [n.split(".txt:")[1].split(":")[0] for n in notes] == ["1", "6", "7", "8"]
    assert "the 2 s after it" in notes[0]
    script = (mine / "qigong.yaml").read_text()
    assert "#   - line 1: the 2 s after it" in script


def test_jawt_workout_sets_repetitions_and_rests(mine: Path) -> None:
    routine = imported("jawt/workout-v2.json", mine)["lunch-break"]
    assert routine.title == "Lunch break"
    assert steps(routine) == [
        ("Arm circles", 30, 1, 1),
        ("rest", 10),  # named "Rest"
        ("Wall sit", 45, 1, 3),  # a set of one exercise, 3 times
        ("Plank", 40, 1, 1),  # a set of two, twice: written out
        ("rest", 20),  # named "pause"
        ("Plank", 40, 1, 1),
        ("rest", 20),
    ]


def test_jawt_version_1_and_the_backup_of_several(mine: Path) -> None:
    v1 = imported("jawt/workout-v1.json", mine)["quick-stretch"]
    assert steps(v1) == [("Neck rolls", 20, 1, 1), ("rest", 5), ("Calf stretch", 25, 1, 1)]
    backup = imported("jawt/backup.json", mine)
    assert steps(backup["morning"]) == [
        ("Jumping jacks", 30, 1, 1),
        ("rest", 15),
        ("Jumping jacks", 30, 1, 1),
        ("rest", 15),
    ]
    assert steps(backup["evening"]) == [("Child's pose", 60, 1, 1)]


def test_openhiit_timers_laid_out_as_it_runs_them(mine: Path) -> None:
    timers = imported("openhiit/timers.json", mine)
    work = [("Squats", 20, 1, 1), ("rest", 10), ("Lunges", 20, 1, 1), ("rest", 10)]
    assert steps(timers["tabata-legs"]) == [
        ("rest", 10),  # get ready
        ("Warmup", 120, 1, 1),
        ("rest", 10),
        *work,
        ("Work", 20, 1, 1),  # a third interval with no activity named
        ("rest", 60),  # the break between rounds
        *work,
        ("Work", 20, 1, 1),
        ("Cooldown", 90, 1, 1),
    ]
    # timeSettings as a JSON text; no rest time: no rests
    assert steps(timers["plank-ladder"]) == [("rest", 5), ("Work", 30, 1, 1), ("Work", 30, 1, 1)]


def test_our_own_script_is_taken_as_it_is(mine: Path) -> None:
    written = import_files([ROUTINES / "full.yaml"], mine)
    assert [w.name for w in written] == ["full"]
    assert (mine / "full.yaml").read_text() == (ROUTINES / "full.yaml").read_text()


def test_the_format_is_read_from_the_content_not_the_name(tmp_path: Path, mine: Path) -> None:
    for fixture, disguise in (("jawt/workout-v1.json", "a.txt"), ("apg/qigong.txt", "b.json")):
        shutil.copy(IMPORTS / fixture, tmp_path / disguise)
    written = import_files([tmp_path / "a.txt", tmp_path / "b.json"], mine)
    assert [w.name for w in written] == ["quick-stretch", "b"]


def test_the_script_is_commented_with_where_each_step_came_from(mine: Path) -> None:
    import_files([IMPORTS / "jawt/workout-v2.json"], mine)
    text = (mine / "lunch-break.yaml").read_text()
    assert "# lunch-break: imported from workout-v2.json. Format: just_another_workout" in text
    assert "  # from line 19: set 2, 3 times\n  - name: Wall sit\n    hold: 45\n    reps: 3" in text
    assert all(len(line) <= 100 for line in text.splitlines()[1:])


# -- the command ------------------------------------------------------------------------


def test_import_command_prints_what_it_wrote_and_what_it_left_out(mine: Path) -> None:
    result = invoke("import", str(IMPORTS / "w2a/workout.yaml"), str(IMPORTS / "jawt/backup.json"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote {mine / 'workout.yaml'}",
        f"wrote {mine / 'morning.yaml'}",
        f"wrote {mine / 'evening.yaml'}",
    ]
    left_out = [line for line in result.stderr.splitlines() if line.startswith("not carried")]
    assert len(left_out) == 5
    assert f"{IMPORTS / 'w2a/workout.yaml'}:3: tts:" in left_out[0]


def test_an_import_validates_and_shows(mine: Path, fake_engine: type[FakeEngine]) -> None:
    assert invoke("import", str(IMPORTS / "openhiit/timers.json")).exit_code == 0
    assert invoke("validate", "tabata-legs", "--engine", "fake").exit_code == 0
    shown = invoke("show", "tabata-legs", "--engine", "fake", "--json")
    assert shown.exit_code == 0, shown.output
    events = json.loads(shown.stdout)["events"]
    assert [e["text"] for e in events if e["kind"] == "step"][:3] == [
        "Warmup.",
        "Squats.",
        "Lunges.",
    ]


def test_import_never_overwrites_unless_forced(mine: Path) -> None:
    assert invoke("import", str(IMPORTS / "jawt/workout-v1.json")).exit_code == 0
    path = mine / "quick-stretch.yaml"
    path.write_text("# mine\n")
    again = invoke("import", str(IMPORTS / "jawt/workout-v1.json"))
    assert again.exit_code == 2
    assert "exists already; add --force" in again.stderr
    assert path.read_text() == "# mine\n"
    forced = invoke("import", str(IMPORTS / "jawt/workout-v1.json"), "--force")
    assert forced.exit_code == 0
    assert load_routine(path).title == "Quick stretch"


def test_name_option_names_each_routine(mine: Path) -> None:
    result = invoke("import", str(IMPORTS / "jawt/backup.json"), "--name", "family")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in mine.iterdir()) == ["family-2.yaml", "family.yaml"]


# -- bad input: one message naming the file and line, nothing written ---------------------

BAD = [
    ("w2a/invalid-negative.yaml", 6, "must be more than 0 seconds, got -5"),
    ("w2a/invalid-abc.yaml", 3, "got 'abc'"),
    ("w2a/invalid-over-3-hours.yaml", 3, "at most 10800 s (3 hours)"),
    ("w2a/invalid-empty.yaml", 4, "exercises: is empty"),
    ("w2a/invalid-yaml.yaml", 5, "not valid YAML"),
    ("w2a/invalid-no-unit.yaml", 3, "w2a needs a unit"),
    ("w2a/invalid-bomb.yaml", 6, "refused: its aliases"),
    ("apg/invalid-abc.txt", 2, "must be a number of 0 or more, got 'abc'"),
    ("apg/invalid-negative.txt", 2, "got '-5'"),
    ("apg/invalid-over-3-hours.txt", 1, "at most 10800 s (3 hours)"),
    ("apg/invalid-no-hold.txt", None, "no line has a silence of 5 s or more"),
    ("jawt/invalid-empty.json", 1, "the list is empty"),
    ("jawt/invalid-empty-backup.json", 1, "holds no workouts"),
    ("jawt/invalid-negative.json", 3, "must be more than 0 seconds, got -5"),
    ("jawt/invalid-abc.json", 3, "must be a number of seconds, got 'abc'"),
    ("jawt/invalid-over-3-hours.json", 3, "at most 10800 s (3 hours)"),
    ("jawt/invalid-json.json", 3, "not valid JSON"),
    ("jawt/invalid-version.json", 1, "file version 3"),
    ("openhiit/invalid-empty.json", None, "holds no OpenHIIT timers"),
    ("openhiit/invalid-negative.json", 2, "must be more than 0 seconds, got -5"),
    ("openhiit/invalid-abc.json", 2, "got 'abc'"),
    ("openhiit/invalid-over-3-hours.json", 2, "at most 10800 s (3 hours)"),
    ("openhiit/invalid-no-intervals.json", 1, "activeIntervals must be a whole number of 1"),
    ("openhiit/invalid-json.json", 3, "not valid JSON"),
]


def test_every_bad_fixture_is_tested() -> None:
    on_disk = {str(p.relative_to(IMPORTS)) for p in IMPORTS.glob("*/invalid-*")}
    assert on_disk == {name for name, _, _ in BAD}


@pytest.mark.parametrize(("fixture", "line", "message"), BAD)
def test_bad_files(fixture: str, line: int | None, message: str, mine: Path) -> None:
    path = IMPORTS / fixture
    result = invoke("import", str(path), str(IMPORTS / "jawt/workout-v1.json"))
    assert result.exit_code == 2
    errors = [e for e in result.stderr.splitlines() if e.startswith("error:")]
    where = f"{path}:{line}: " if line else f"{path}: "
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: {where}"), errors[0]
    assert message in errors[0]
    assert "Traceback" not in result.output
    assert not mine.exists() or not list(mine.iterdir())  # not even the good file


def test_names_that_would_escape_the_folder_or_replace_a_bundled_routine(
    tmp_path: Path, mine: Path
) -> None:
    for name in ("../escape", "/etc/x", "a/b", ".hidden"):
        result = invoke("import", str(IMPORTS / "jawt/workout-v1.json"), "--name", name)
        assert result.exit_code == 2
        assert "error: --name: " in result.stderr and "cannot name a routine" in result.stderr
    bundled = tmp_path / "w.json"
    bundled.write_text(
        json.dumps(
            {
                "title": "Sciatica relief",
                "sets": [{"repetitions": 1, "exercises": [{"name": "X", "duration": 5}]}],
            }
        )
    )
    result = invoke("import", str(bundled))
    assert result.exit_code == 2
    assert (
        f"error: {bundled}:1: would be named 'sciatica-relief', the name of a bundled"
        in result.stderr
    )
    sneaky = tmp_path / "s.json"
    sneaky.write_text(bundled.read_text().replace("Sciatica relief", "../../etc/passwd"))
    assert invoke("import", str(sneaky)).exit_code == 0
    assert [p.name for p in mine.iterdir()] == ["etc-passwd.yaml"]
    assert not list(tmp_path.parent.glob("**/passwd"))


def test_a_file_in_no_format_lists_the_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Buy milk.\nCall the physio.\n")
    with pytest.raises(ValidationError) as caught:
        read_routines(path.read_bytes(), str(path))
    (problem,) = caught.value.problems
    assert "is not in a format that can be imported" in problem.message
    for reader in READERS:
        assert reader.LABEL in problem.message


def test_too_large_or_not_utf8_is_refused_before_parsing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=f"up to {MAX_SOURCE_BYTES // 1024} KB"):
        read_routines(b"Relax;30\n" * (MAX_SOURCE_BYTES // 9 + 1), "big.txt")
    with pytest.raises(ValidationError, match=r"latin\.txt:2: is not UTF-8"):
        read_routines("Relax;30\nEntspann dich, Schönheit;30\n".encode("latin-1"), "latin.txt")


def test_a_yaml_bomb_is_refused_by_counting_not_expanding() -> None:
    """Twelve levels of nine aliases stand for 9**12 values: expanded, they would never
    fit in memory; counted, the check stops at the alias that passes the limit."""
    levels = "abcdefghijkl"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in itertools.pairwise(levels)
    )
    with pytest.raises(yamlsafe.TooManyAliasesError) as caught:
        yamlsafe.check_expansion(bomb)
    assert caught.value.line == 6  # 9**6 values: the first level past 100,000
    with pytest.raises(yamlsafe.TooManyAliasesError):
        yamlsafe.check_expansion(bomb.split("\n", 3)[0], limit=5)  # nine x's
    yamlsafe.check_expansion((IMPORTS / "w2a/workout.yaml").read_text())  # a few anchors
    yamlsafe.check_expansion(bomb.split("\n", 5)[0] + "\n")  # 9**5 < 100,000: allowed


def test_one_bad_file_among_several_writes_none(mine: Path) -> None:
    with pytest.raises(ValidationError):
        plan_imports(
            [
                ("good.json", (IMPORTS / "jawt/workout-v1.json").read_bytes()),
                ("bad.json", b"{"),
            ],
            mine,
        )
    assert not mine.exists()
