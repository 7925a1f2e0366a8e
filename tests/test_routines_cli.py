"""Routines of your own (`new`, the routines folder, `list`) and `validate`'s timing check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, ROUTINES, FakeEngine, word_ms
from jsonschema import Draft202012Validator
from typer.testing import CliRunner, Result

from voice_coach.cli.commands import app
from voice_coach.routine import yamlsafe
from voice_coach.routine.library import bundled_routines, find_routine
from voice_coach.routine.loader import load_routine
from voice_coach.routine.schema import SCHEMA_FILE, routine_schema
from voice_coach.routine.starter import starter_script
from voice_coach.timeline import build_timeline

runner = CliRunner()


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


@pytest.fixture
def mine(private_user_dirs: Path) -> Path:
    """The routines folder the tests write into (`$VOICE_COACH_ROUTINES`)."""
    return Path(os.environ["VOICE_COACH_ROUTINES"])


def listed(result: Result) -> dict[str, str]:
    """`list`'s rows by name."""
    return {line.split()[0]: line for line in result.stdout.splitlines()[1:]}


# -- new ---------------------------------------------------------------------------------


def test_new_writes_a_commented_starter_that_is_a_valid_routine(mine: Path) -> None:
    result = invoke("new", "my-back")
    assert result.exit_code == 0, result.output
    path = mine / "my-back.yaml"
    assert result.stdout == f"wrote {path}\n"
    assert "voice-coach validate my-back" in result.stderr
    text = path.read_text()
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    assert text.count("#") > 10  # commented
    routine = load_routine(path)
    assert routine.title == "My back"
    assert {type(s.pace).__name__ for s in routine.exercises} == {"NoneType", "Flow", "Count"}
    assert not list(Draft202012Validator(routine_schema()).iter_errors(yamlsafe.load(text)))
    assert build_timeline(routine, word_ms).warnings == ()
    assert find_routine("my-back") == path
    assert "yours" in listed(invoke("list"))["my-back"]


def test_new_from_copies_a_routine_which_is_then_played_instead_of_the_bundled_one(
    mine: Path,
) -> None:
    result = invoke("new", "sciatica-relief", "--from", "sciatica-relief")
    assert result.exit_code == 0, result.output
    assert "played instead of the bundled routine 'sciatica-relief'" in result.stderr
    copy = mine / "sciatica-relief.yaml"
    bundled = bundled_routines()["sciatica-relief"].read_text()
    assert copy.read_text() == bundled.replace(
        "$schema=../voice_coach/routine.schema.json", f"$schema={SCHEMA_FILE}"
    )
    assert find_routine("sciatica-relief") == copy
    rows = listed(invoke("list"))
    assert rows["sciatica-relief"].endswith("yours, instead of the bundled one")
    assert rows["walking"].endswith("bundled")


def test_new_from_a_file_or_a_routine_of_yours(mine: Path) -> None:
    assert invoke("new", "base").exit_code == 0
    assert invoke("new", "variant", "--from", "base").exit_code == 0
    assert (mine / "variant.yaml").read_text() == (mine / "base.yaml").read_text()
    assert invoke("new", "paced.yml", "--from", str(ROUTINES / "paced.yaml")).exit_code == 0
    copied = (mine / "paced.yaml").read_text()
    assert copied.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    assert copied.splitlines()[1:] == (ROUTINES / "paced.yaml").read_text().splitlines()


def test_new_never_overwrites_a_routine_unless_forced(mine: Path) -> None:
    assert invoke("new", "mine").exit_code == 0
    (mine / "mine.yaml").write_text("title: edited\nsteps: [{rest: 5}]\n")
    again = invoke("new", "mine", "--from", "walking")
    assert again.exit_code == 2
    assert f"error: {mine / 'mine.yaml'}: already exists; add --force to replace it" in (
        again.stderr
    )
    assert (mine / "mine.yaml").read_text() == "title: edited\nsteps: [{rest: 5}]\n"
    forced = invoke("new", "mine", "--from", "walking", "--force")
    assert forced.exit_code == 0, forced.output
    assert load_routine(mine / "mine.yaml").title == "Walking session"
    assert sorted(p.name for p in mine.iterdir()) == ["mine.yaml"]  # no partial left


@pytest.mark.parametrize("name", ["../escape", "my back", ".hidden", "a/b", "", "é" * 3, "x" * 65])
def test_a_bad_name_is_a_clear_message_and_writes_nothing(mine: Path, name: str) -> None:
    result = invoke("new", name)
    assert result.exit_code == 2
    assert f"error: NAME: {name!r} cannot name a routine: use letters, digits, - and _" in (
        result.stderr
    )
    assert "Traceback" not in result.output
    assert not mine.exists()


def test_new_from_an_unknown_routine_lists_the_routines(mine: Path) -> None:
    result = invoke("new", "x", "--from", "nope")
    assert result.exit_code == 2
    assert "no routine file or routine named 'nope'; bundled: " in result.stderr
    assert not mine.exists()


def test_an_unwritable_routines_folder_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("VOICE_COACH_ROUTINES", str(tmp_path / "file" / "routines"))
    result = invoke("new", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {tmp_path / 'file' / 'routines'}")
    assert "Traceback" not in result.output


def test_the_starter_names_its_routine_in_its_comments() -> None:
    text = starter_script("knee_rehab")
    assert "voice-coach play knee_rehab" in text
    assert load_routine_text(text).title == "Knee rehab"


def load_routine_text(text: str) -> object:
    from voice_coach.routine.loader import parse_routine

    return parse_routine(text)


# -- list --------------------------------------------------------------------------------


def test_list_says_where_each_routine_comes_from(mine: Path) -> None:
    mine.mkdir(parents=True)
    (mine / "broken.yaml").write_text("title: [unclosed\n")
    (mine / "notes.txt").write_text("not a routine")
    result = invoke("list")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split() == ["name", "title", "steps", "from"]
    rows = listed(result)
    assert set(rows) == {"broken", *bundled_routines()}
    assert "(invalid: run voice-coach validate)" in rows["broken"]
    assert f"yours are in {mine}" in result.stderr


def test_list_reads_titles_without_pydantic() -> None:
    """`list` must stay fast: the light YAML reading, not the loader's models."""
    code = (
        "import sys\n"
        "from voice_coach.cli import main\n"
        "sys.argv = ['voice-coach', 'list']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'numpy'}), "
        "file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
    assert "sciatica-relief" in done.stdout


# -- validate: the timing at the voice ---------------------------------------------------


def test_validate_lays_out_at_the_voice_and_warns_with_line_numbers(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "tight.yaml"
    long_line = " ".join(["word"] * 40)
    script.write_text(
        f"title: Tight\nsteps:\n  - name: Short\n    hold: 5\n    during:\n      - {long_line}\n"
    )
    result = invoke("validate", "--engine", "fake", str(script), str(ROUTINES / "paced.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"ok: {script} (1 step, timing at fake tone, 160 wpm)",
        f"ok: {ROUTINES / 'paced.yaml'} (3 steps, timing at fake tone, 160 wpm)",
    ]
    assert result.stderr.splitlines() == [
        f"warning: {script}:6: step 1 (Short): no room for {long_line!r} in the hold; dropped"
    ]


def test_validate_refuses_a_flow_line_longer_than_its_beat(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "fast.yaml"
    script.write_text(
        "title: Fast\nsteps:\n  - name: Cat cow\n    flow:\n"
        "      - {say: Breathe in and lift your chest up very high., secs: 1}\n"
    )
    result = invoke("validate", "--engine", "fake", str(script))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {script}:5: step 1 (Cat cow): the flow line 'Breathe in and lift your chest "
        "up very high.' takes 0.9 s to say, too long for its 1 s beat (with 0.15 s of quiet after "
        "it); give it more `secs`, or say less"
    )
    assert "Traceback" not in result.output


def test_validate_quick_checks_the_script_alone(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    result = invoke("validate", "--quick", str(ROUTINES / "paced.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: {ROUTINES / 'paced.yaml'} (3 steps)\n"
    assert fake_engine.calls == []
    assert not cache_dir.exists()


def test_show_json_has_flow_and_count_events(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    result = invoke(
        "show", str(ROUTINES / "paced.yaml"), "--engine", "fake", "--json", "--checkin", "off"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == json.loads((FIXTURES / "golden" / "paced.json").read_text())
    assert {"flow", "count"} <= {e["kind"] for e in data["events"]}
