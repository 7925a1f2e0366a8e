"""Pain ratings and notes into the history: checked once (`practice.check_answers`),
given to `log`, corrected with `amend`; bad ones refused in one line, nothing written.

The same through the API: tests/test_api.py; asked for live: tests/test_checkin.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROUTINES, FakeEngine
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.errors import ValidationError
from voice_coach.history import History
from voice_coach.practice import Answers, api_name, check_answers

runner = CliRunner()
FULL = str(ROUTINES / "full.yaml")
LONG_NOTE = "x" * 501


def sessions() -> list[dict[str, object]]:
    data = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    return list(data["sessions"])


def test_answers_are_whole_ratings_from_zero_to_ten_and_a_short_note() -> None:
    assert check_answers(4, 2, "  easier today ") == Answers(4, 2, "easier today")
    assert check_answers("0", "10", words=True) == Answers(0, 10, "")
    assert check_answers(None, 3.0) == Answers(None, 3, "")
    assert check_answers() == Answers()
    assert Answers(None, 3, "").given() == {"pain_after": 3}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"pain_after": 11}, "--pain: a pain rating must be a whole number from 0 to 10, got 11"),
        ({"pain_after": -1}, "--pain: a pain rating must be a whole number from 0 to 10, got -1"),
        ({"pain_before": 2.5}, "--pain-before: a pain rating must be a whole number from 0 to 10"),
        ({"pain_after": "four"}, "--pain: a pain rating must be a whole number, got 'four'"),
        ({"pain_after": True}, "--pain: a pain rating must be a whole number, got True"),
        ({"note": LONG_NOTE}, "--note: is 501 characters long; at most 500 allowed"),
        ({"note": 5}, "--note: must be text, got 5"),
    ],
)
def test_bad_answers_are_named_with_what_is_allowed(given: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_answers(**given)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_the_api_names_them_its_own_way_with_the_same_words() -> None:
    with pytest.raises(ValidationError) as caught:
        check_answers(pain_after=11, named=api_name)
    assert str(caught.value) == "pain: a pain rating must be a whole number from 0 to 10, got 11"


def test_log_records_the_ratings_and_the_note(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    result = runner.invoke(
        app,
        ["log", FULL, "--minutes", "5", "--pain", "3", "--pain-before", "4", "--note", "stiff"],
    )
    assert result.exit_code == 0, result.output
    assert "pain 4 before, 3 after" in result.output and "(session 1)" in result.output
    (session,) = sessions()
    assert (session["pain_before"], session["pain_after"], session["note"]) == (4, 3, "stiff")
    plain = runner.invoke(app, ["log", FULL, "--minutes", "5"])
    assert plain.exit_code == 0 and "pain" not in plain.output
    assert sessions()[0]["pain_after"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pain", "11"], "--pain: a pain rating must be a whole number from 0 to 10, got 11"),
        (["--pain", "bad"], "--pain: a pain rating must be a whole number, got 'bad'"),
        (["--pain-before", "-2"], "--pain-before: a pain rating must be a whole number from 0"),
        (["--note", LONG_NOTE], "--note: is 501 characters long; at most 500 allowed"),
        (["--checkin", "never"], "must be after or before or both or off, got 'never'"),
    ],
)
def test_log_refuses_a_bad_answer_in_one_line_and_writes_nothing(
    fake_engine: type[FakeEngine], cache_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["log", FULL, "--minutes", "5", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert message in result.output.splitlines()[0], result.output
    assert sessions() == []


def test_amend_corrects_a_rating_afterwards_and_keeps_the_rest(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    runner.invoke(app, ["log", FULL, "--minutes", "5", "--pain", "6", "--note", "first"])
    runner.invoke(app, ["log", FULL, "--minutes", "3", "--pain", "5"])
    result = runner.invoke(app, ["amend", "1", "--pain", "2"])
    assert result.exit_code == 0, result.output
    assert "session 1" in result.output and "pain 2 after" in result.output
    newest, oldest = sessions()
    assert (oldest["pain_after"], oldest["note"], oldest["duration_s"]) == (2, "first", 300)
    assert newest["pain_after"] == 5
    result = runner.invoke(app, ["amend", "last", "--pain-before", "7", "--note", "sore"])
    assert result.exit_code == 0, result.output
    newest, _ = sessions()
    assert (newest["pain_before"], newest["pain_after"], newest["note"]) == (7, 5, "sore")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "--pain", "12"], "--pain: a pain rating must be a whole number from 0 to 10"),
        (["9", "--pain", "2"], "no session 9; see `voice-coach history`"),
        (["first", "--pain", "2"], "'first' is not a session; give its number"),
        (["1"], "nothing to change: no pain rating and no note given"),
    ],
)
def test_amend_refuses_in_one_line_and_changes_nothing(
    fake_engine: type[FakeEngine], cache_dir: Path, args: list[str], message: str
) -> None:
    runner.invoke(app, ["log", FULL, "--minutes", "5", "--pain", "6"])
    result = runner.invoke(app, ["amend", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert message in result.output.splitlines()[0], result.output
    with History.open() as h:
        (session,) = h.sessions()
    assert session.pain_after == 6


def test_amend_with_no_sessions_says_so(cache_dir: Path) -> None:
    result = runner.invoke(app, ["amend", "last", "--pain", "2"])
    assert result.exit_code == 2 and "no sessions yet to correct" in result.output
