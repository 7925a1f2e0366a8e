"""The routine JSON Schema for editors: generated from the loader's models, shipped in the
package, and in agreement with the loader on every bundled script and fixture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROUTINES
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.errors import ValidationError
from voice_coach.routine import yamlsafe
from voice_coach.routine.library import bundled_routines
from voice_coach.routine.loader import load_routine, parse_routine
from voice_coach.routine.schema import DIALECT, SCHEMA_FILE, routine_schema, schema_text

VALIDATOR = Draft202012Validator(routine_schema())

NOT_IN_THE_SCHEMA = {
    "invalid-duplicate-key": "a key given twice: the parsed data holds it once",
    "invalid-long-text": "more than 300 characters with no sentence end or clause break "
    "(the splitter's rules)",
    "invalid-side-without-sides": "{side} or {other} in a step without `sides`",
    "invalid-unknown-placeholder": "a {placeholder} other than {side} and {other}",
}
"""Invalid fixtures the loader refuses and the schema cannot: what it cannot express."""
NOT_YAML = {"invalid-yaml-syntax"}
"""Fixtures that are not YAML at all: nothing to validate."""
ONLY_WITH_A_VOICE = [
    "a flow line or a count's number that takes longer to say than its beat",
    'a hold shorter than its spoken "Hold" cue',
    "a `during` line, countdown or `say` line that does not fit (a warning)",
]
"""Problems that depend on how long the lines take to say: `validate` reports them."""
NOT_IN_THE_SCHEMA_INLINE = {
    "a progression whose max is below its start": (
        "title: T\nprogression: {hold: {start: 30, add: 5, max: 20}}\nsteps: [{rest: 5}]\n"
    ),
    "a flow longer than 3 hours in all": (
        "title: T\nsteps:\n  - name: A\n    flow: [{say: In., secs: 120}]\n    rounds: 100\n"
    ),
}


def data(path: Path) -> Any:
    return yamlsafe.load(path.read_text(encoding="utf-8"))


def schema_errors(instance: Any) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(instance)]


def test_the_shipped_schema_is_the_one_the_models_give() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "the shipped schema is stale; run: voice-coach schema > voice_coach/routine.schema.json"
    )


def test_it_is_a_2020_12_schema() -> None:
    schema = routine_schema()
    assert schema["$schema"] == DIALECT
    Draft202012Validator.check_schema(schema)


def test_every_key_has_a_description_and_an_example() -> None:
    schema = routine_schema()
    objects = [("routine", schema), *schema["$defs"].items()]
    objects.append(("phrases", schema["properties"]["phrases"]))
    missing = [
        f"{owner}.{key}"
        for owner, obj in objects
        for key, prop in obj.get("properties", {}).items()
        if not prop.get("description") or not prop.get("examples")
    ]
    assert missing == []
    # Each example is valid where it stands.
    for owner, obj in objects:
        for key, prop in obj.get("properties", {}).items():
            check = {**prop, "$defs": schema["$defs"]}
            for example in prop["examples"]:
                assert not list(Draft202012Validator(check).iter_errors(example)), (owner, key)


def test_the_schema_command_prints_it() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == routine_schema()
    where = CliRunner().invoke(app, ["schema", "--path"])
    assert where.exit_code == 0 and where.stdout.strip() == str(SCHEMA_FILE)


@pytest.mark.parametrize("name", sorted(bundled_routines()))
def test_bundled_scripts_are_valid_and_point_at_the_shipped_schema(name: str) -> None:
    path = bundled_routines()[name]
    assert schema_errors(data(path)) == []
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../voice_coach/routine.schema.json"
    assert (path.parent / first.split("=", 1)[1]).resolve() == SCHEMA_FILE


@pytest.mark.parametrize("name", ["minimal", "full", "paced", "bedded"])
def test_valid_fixtures_pass_both(name: str) -> None:
    load_routine(ROUTINES / f"{name}.yaml")
    assert schema_errors(data(ROUTINES / f"{name}.yaml")) == []


INVALID = sorted(p.stem for p in ROUTINES.glob("invalid-*.yaml"))


@pytest.mark.parametrize("name", INVALID)
def test_the_schema_refuses_what_the_loader_refuses_where_it_can_say_so(name: str) -> None:
    path = ROUTINES / f"{name}.yaml"
    with pytest.raises(ValidationError):
        load_routine(path)
    if name in NOT_YAML:
        with pytest.raises(yamlsafe.YAMLError):
            data(path)
        return
    errors = schema_errors(data(path))
    if name in NOT_IN_THE_SCHEMA:
        assert errors == [], "the schema can say this one after all: take it off the list"
    else:
        assert errors, f"{name}: the loader refuses it, the schema does not"


@pytest.mark.parametrize(
    "text", NOT_IN_THE_SCHEMA_INLINE.values(), ids=list(NOT_IN_THE_SCHEMA_INLINE)
)
def test_problems_that_span_values_are_the_loaders_alone(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_routine(text)
    assert schema_errors(yamlsafe.load(text)) == []


def test_the_lists_of_what_the_schema_cannot_say_are_complete() -> None:
    assert set(NOT_IN_THE_SCHEMA) | NOT_YAML <= set(INVALID)
    assert ONLY_WITH_A_VOICE  # checked by the timeline and `validate`, at a voice


@pytest.mark.parametrize(
    "text",
    [
        # Step kinds and the keys that go with them.
        "title: T\nsteps:\n  - name: A\n    count: 5\n    tempo: 2\n    say: Up.\n",
        "title: T\nsteps:\n  - name: A\n    count: 5\n",
        "title: T\nsteps:\n  - name: A\n    tempo: 2\n",
        "title: T\nsteps:\n  - name: A\n    flow: [{say: In., secs: 3}]\n    halfway: true\n",
        "title: T\nsteps:\n  - name: A\n    count: 3\n    tempo: 2\n    countdown: 3\n",
        "title: T\nsteps:\n  - name: A\n    flow: []\n",
        "title: T\nsteps:\n  - name: A\n    sides: [left, left]\n",
        "title: T\nsteps:\n  - {name: A, rest: 5}\n",
        # Texts: long instructions are fine, long names are not, blank is nothing.
        f"title: T\nsteps:\n  - name: A\n    setup: {'Sit. ' * 900}\n",
        f"title: T\nsteps:\n  - name: A\n    setup: {'Sit. ' * 1100}\n",
        f"title: T\nsteps:\n  - name: {'N, ' * 110}\n",
        "title: T\nsteps:\n  - name: '   '\n",
        "title: T\nlanguage: english!\nsteps: [{rest: 5}]\n",
        "title: T\nphrases: {hold: Stay., nope: x}\nsteps: [{rest: 5}]\n",
        "title: T\nvoice: {rate: 40}\nsteps: [{rest: 5}]\n",
        # Sound beds: words, a pace (as a mapping or in words), a file, and their levels.
        *(
            f"title: T\nbed: {bed}\nsteps: [{{rest: 5}}]\n"
            for bed in (
                "rain",
                "drone",
                "off",
                "'off'",
                "calm.mp3",
                "'  calm.mp3  '",
                "~/music/calm.mp3",
                "{pace: 110}",
                "{pace: 92.5}",
                "{pace: 40}",
                "{pace: 200}",
                "{pace: 39.5}",
                "{pace: 201}",
                "{pace: '110'}",
                "{pace: true}",
                "'pace:110'",
                "pace 95",
                "'pace : 200'",
                "'pace:200.5'",
                "pace 250",
                "pace 39",
                "pace fast",
                "pace",
                "pacey.mp3",
                "{file: calm.mp3}",
                "{file: ''}",
                "{file: '  '}",
                "{file: 3}",
                "{file: a.mp3, pace: 110}",
                "{tempo: 3}",
                "{}",
                "''",
                "110",
                "true",
                "[rain]",
            )
        ),
        "title: T\nsteps:\n  - name: A\n    bed: {pace: 115}\n  - {rest: 5, bed: 'off'}\n",
        "title: T\nsteps:\n  - {rest: 5, bed: {pace: 300}}\n",
        "title: T\nbed_level: -40\nbed_duck: 0\nsteps: [{rest: 5}]\n",
        "title: T\nbed_level: 0.5\nsteps: [{rest: 5}]\n",
        "title: T\nbed_level: -41\nsteps: [{rest: 5}]\n",
        "title: T\nbed_duck: 40.5\nsteps: [{rest: 5}]\n",
        "title: T\nbed_duck: loud\nsteps: [{rest: 5}]\n",
    ],
)
def test_schema_and_loader_agree(text: str) -> None:
    try:
        parse_routine(text)
        loader_ok = True
    except ValidationError:
        loader_ok = False
    assert (schema_errors(yamlsafe.load(text)) == []) == loader_ok
