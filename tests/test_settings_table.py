"""The settings table: every setting round-trips through each place that may set it (a
routine script, a profile, the command line, the API) with the same bounds and the same
message at each bound, because every one of them checks it with the same declaration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import FakeEngine
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.cli.options import OPTIONS
from voice_coach.errors import ValidationError
from voice_coach.routine.files import RoutineFile
from voice_coach.routine.loader import parse_routine
from voice_coach.serve.choices import choices_from_json, choices_from_query
from voice_coach.settings.profile import OverrideFile, load_profile
from voice_coach.settings.table import (
    SETTINGS,
    BedKind,
    Choice,
    Number,
    Setting,
    Switch,
    Text,
    described,
)

runner = CliRunner()


def bounds_cases(s: Setting) -> list[tuple[Any, bool]]:
    """(a value as YAML or JSON writes it, whether it is allowed) at and beyond each bound
    of `s`, and a value of the wrong kind."""
    kind = s.kind
    if isinstance(kind, Number):
        step = 1 if kind.whole else 0.5
        return [
            (kind.low, not kind.low_open),
            (kind.low - step, False),
            (kind.high, True),
            (kind.high + step, False),
            ("abc", False),
            *([(kind.low + 0.5, False)] if kind.whole else []),
        ]
    if isinstance(kind, Switch):
        return [(True, True), (False, True), ("maybe", False)]
    if isinstance(kind, Choice):
        return [*((option, True) for option in kind.options), ("up", False)]
    if isinstance(kind, Text):
        return [("piper", True), ("", False)]
    if isinstance(kind, BedKind):
        return [("rain", True), ("pace:40", True), ("pace:200", True), ("pace:250", False)]
    return [([30, 10], True), ("soon", False)]


def expected(s: Setting, value: Any) -> str | None:
    """The one message every place gives for `value` (None: allowed)."""
    try:
        s.check(value)
    except ValueError as exc:
        return str(exc)
    return None


CASES = [
    pytest.param(s, value, ok, id=f"{s.name}={value!r}")
    for s in SETTINGS
    for value, ok in bounds_cases(s)
]


def words(value: Any) -> str:
    """`value` as typed on a command line."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def problem_messages(exc: ValidationError) -> list[str]:
    return [p.message for p in exc.problems]


# -- each place on its own --------------------------------------------------------------


def script_text(s: Setting, value: Any, place: str) -> str:
    key = {s.name: value}
    data: dict[str, Any] = {"title": "T", "steps": [{"name": "Reach", "hold": 20}]}
    if place == "routine":
        data.update(key)
    elif place == "defaults":
        data["defaults"] = key
    elif place == "voice":
        data["voice"] = key
    elif place == "step":
        data["steps"] = [{"name": "Reach", "hold": 20, **key}]
    elif place == "rest":
        data["steps"].append({"rest": 20, **key})
    return yaml.safe_dump(data)


@pytest.mark.parametrize(("s", "value", "ok"), CASES)
def test_every_place_in_a_script_checks_with_the_setting(s: Setting, value: Any, ok: bool) -> None:
    message = expected(s, value)
    assert (message is None) == ok
    for place in sorted(s.script):
        text = script_text(s, value, place)
        if ok:
            parse_routine(text, folder=Path("/srv"))
            continue
        with pytest.raises(ValidationError) as caught:
            parse_routine(text, folder=Path("/srv"))
        assert message in problem_messages(caught.value), (place, caught.value)


@pytest.mark.parametrize(("s", "value", "ok"), CASES)
def test_a_profile_checks_with_the_setting(
    s: Setting, value: Any, ok: bool, tmp_path: Path
) -> None:
    if "profile" not in s.layers:
        return
    section = {s.group: {s.name: value}} if s.group else {s.name: value}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump({"defaults": section, "routines": {"t": section}}))
    if ok:
        defaults, own = load_profile(path, "t")
        assert defaults.overrides.get(s.name) == own.overrides.get(s.name) == s.check(value)
        return
    with pytest.raises(ValidationError) as caught:
        load_profile(path, "t")
    assert problem_messages(caught.value) == [expected(s, value)] * 2


@pytest.mark.parametrize(("s", "value", "ok"), CASES)
def test_the_api_checks_with_the_setting(s: Setting, value: Any, ok: bool) -> None:
    if "page" not in s.layers or isinstance(value, list):
        return
    for read in (
        lambda: choices_from_json({s.name: value}),
        lambda: choices_from_query([(s.name.replace("_", "-"), words(value))]),
    ):
        if ok:
            assert read().overrides().get(s.name) == s.check(value)
            continue
        with pytest.raises(ValidationError) as caught:
            read()
        assert problem_messages(caught.value) == [expected(s, value)]


@pytest.mark.parametrize(("s", "value", "ok"), CASES)
def test_the_command_line_checks_with_the_setting(
    s: Setting, value: Any, ok: bool, fake_engine: type[FakeEngine], tmp_path: Path
) -> None:
    if "command line" not in s.layers or isinstance(s.kind, Switch) or isinstance(value, list):
        return
    script = tmp_path / "t.yaml"
    script.write_text(script_text(s, None, "none"))
    result = runner.invoke(app, ["settings", str(script), s.flag, words(value)])
    if ok:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert f": {expected(s, value)}\n" in result.output
    assert "Traceback" not in result.output


def test_switches_are_a_flag_and_its_negation_on_the_command_line(
    fake_engine: type[FakeEngine], tmp_path: Path
) -> None:
    script = tmp_path / "t.yaml"
    script.write_text(script_text(SETTINGS[0], None, "none"))
    for s in SETTINGS:
        if not isinstance(s.kind, Switch) or "command line" not in s.layers:
            continue
        for flag, shown in ((s.flag, "on"), (f"--no-{s.flag[2:]}", "off")):
            result = runner.invoke(app, ["settings", str(script), flag])
            assert result.exit_code == 0, result.output
            row = next(line for line in result.stdout.splitlines() if line.startswith(s.name))
            assert row.split()[1:3] == [shown, "command"], row


# -- the table is the only declaration ---------------------------------------------------


def test_the_command_line_has_an_option_for_each_setting_it_may_set() -> None:
    names = {o.name for o in OPTIONS}
    for s in SETTINGS:
        assert (s.name in names) == ("command line" in s.layers), s.name


def test_the_profile_and_the_script_take_exactly_the_settings_the_table_places_there() -> None:
    section = set(OverrideFile.model_fields) - {"voice", "progression"}
    assert section == {s.name for s in SETTINGS if "profile" in s.layers and not s.group}
    voice = set(RoutineFile.model_fields["voice"].annotation.model_fields)  # type: ignore[union-attr]
    assert voice == {s.name for s in SETTINGS if s.group == "voice"}
    top = {s.name for s in SETTINGS if "routine" in s.script}
    assert top <= set(RoutineFile.model_fields)


def test_the_api_describes_every_setting_with_its_bounds() -> None:
    table = {d["name"]: d for d in described()}
    assert list(table) == [s.name for s in SETTINGS]
    assert table["hold"] | {"help": ""} == table["hold"] | {
        "kind": "number",
        "unit": "s",
        "min": 1,
        "max": 10800,
        "per_step": True,
        "help": "",
    }
    assert (table["reps"]["kind"], table["reps"]["max"]) == ("whole", 50)
    assert table["sides"]["choices"] == ["left", "right"]
    assert table["listen"]["layers"] == ["profile"]
