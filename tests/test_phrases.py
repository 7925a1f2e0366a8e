"""Cue words: phrase tables per language, numbers in words, a routine's own phrases."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from voice_coach.errors import ValidationError
from voice_coach.phrases import (
    ENGLISH,
    OVERRIDABLE,
    TABLES,
    french_number,
    german_number,
    number_words,
    phrases_for,
    placeholders,
    spanish_number,
)
from voice_coach.routine.loader import load_routine
from voice_coach.timeline import build_timeline

TEXT_FIELDS = [
    f.name
    for f in dataclasses.fields(ENGLISH)
    if isinstance(getattr(ENGLISH, f.name), str) and f.name != "language"
]


@pytest.mark.parametrize("code", sorted(TABLES))
def test_every_table_is_complete_with_the_same_placeholders(code: str) -> None:
    table = TABLES[code]
    assert table.language == code
    for name in TEXT_FIELDS:
        text = getattr(table, name)
        assert text.strip(), f"{code}.{name} is empty"
        assert placeholders(text) == placeholders(getattr(ENGLISH, name)), f"{code}.{name}"
    assert all(table.units) and table.one
    for n in range(0, 1000):
        assert table.numbers(n).strip()


def test_at_least_english_german_spanish_french() -> None:
    assert {"en", "de", "es", "fr"} <= set(TABLES)


@pytest.mark.parametrize(
    ("fn", "cases"),
    [
        (
            number_words,
            {0: "zero", 7: "seven", 21: "twenty-one", 40: "forty", 115: "one hundred and fifteen"},
        ),
        (
            german_number,
            {
                1: "eins",
                21: "einundzwanzig",
                30: "dreißig",
                57: "siebenundfünfzig",
                101: "einhunderteins",
            },
        ),
        (
            spanish_number,
            {
                1: "uno",
                16: "dieciséis",
                22: "veintidós",
                31: "treinta y uno",
                100: "cien",
                120: "ciento veinte",
            },
        ),
        (
            french_number,
            {
                1: "un",
                21: "vingt et un",
                22: "vingt-deux",
                71: "soixante et onze",
                77: "soixante-dix-sept",
                80: "quatre-vingts",
                91: "quatre-vingt-onze",
                200: "deux cents",
            },
        ),
    ],
)
def test_numbers_in_words(fn: object, cases: dict[int, str]) -> None:
    for n, words in cases.items():
        assert fn(n) == words  # type: ignore[operator]


@pytest.mark.parametrize(
    ("code", "seconds", "text"),
    [
        ("en", 10, "Ten seconds left."),
        ("en", 60, "One minute left."),
        ("en", 90, "One minute thirty seconds left."),
        ("de", 10, "Noch zehn Sekunden."),
        ("de", 60, "Noch eine Minute."),
        ("es", 10, "Quedan diez segundos."),
        ("es", 60, "Queda un minuto."),
        ("fr", 30, "Encore trente secondes."),
        ("fr", 60, "Encore une minute."),
    ],
)
def test_time_left_reads_naturally(code: str, seconds: int, text: str) -> None:
    assert TABLES[code].remaining_text(seconds) == text


@pytest.mark.parametrize(
    ("code", "seconds", "text"),
    [
        ("en", 20, "Rest for 20 seconds."),
        ("en", 90, "Rest for 1 minute 30 seconds."),
        ("de", 20, "Pause: 20 Sekunden."),
        ("es", 60, "Descansa 1 minuto."),
        ("fr", 15, "Repos pendant 15 secondes."),
    ],
)
def test_rest_is_spoken_with_digits(code: str, seconds: int, text: str) -> None:
    assert TABLES[code].rest_text(seconds) == text


def test_countdown_words() -> None:
    assert [TABLES[c].countdown(3) for c in ("en", "de", "es", "fr")] == [
        "Three.",
        "Drei.",
        "Tres.",
        "Trois.",
    ]


def test_unknown_language_falls_back_to_english_with_a_warning() -> None:
    table, warnings = phrases_for("it")
    assert table == ENGLISH
    assert len(warnings) == 1 and "'it'" in warnings[0] and "phrases:" in warnings[0]
    assert phrases_for("de-AT")[0] is TABLES["de"]
    assert phrases_for(None) == (ENGLISH, [])


def test_routine_overrides_replace_phrases() -> None:
    table, _ = phrases_for("en", {"hold": "And hold it there.", "remaining": "{duration} to go."})
    assert table.hold == "And hold it there."
    assert table.remaining_text(60) == "One minute to go."  # also used for one unit


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


def test_language_and_phrases_keys_reach_the_timeline(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "title: Dehnung\nlanguage: de\nphrases: {hold: Jetzt halten.}\n"
        "steps:\n  - name: A\n    sides: [left]\n    setup:\n"
        "      - Das {side} Bein.\n    hold: 15\n",
    )
    routine = load_routine(path)
    assert routine.language == "de" and routine.voice.language == "de"
    texts = [e.text for e in build_timeline(routine, lambda t: 100).speech()]
    assert (
        "Jetzt halten." in texts and "Das linke Bein." in texts and "Noch zehn Sekunden." in texts
    )
    assert texts[-1] == "Gut gemacht. Das war Dehnung."


def test_unknown_language_warns_in_the_timeline(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, "title: T\nlanguage: it\nsteps:\n  - name: A\n"))
    assert "no cue words for language 'it'" in build_timeline(routine, lambda t: 100).warnings[0]


@pytest.mark.parametrize(
    ("yaml_text", "words"),
    [
        ("language: 42\n", "must be a language code"),
        ("language: english language\n", "must be a language code"),
        ("phrases: {hld: x}\n", "unknown phrase 'hld'; allowed: hold"),
        (
            'phrases: {rest: "Rest {minutes}."}\n',
            "rest: unknown placeholder {minutes}; allowed here: {duration}",
        ),
        ("phrases: [x]\n", "must map phrase names to text"),
    ],
)
def test_bad_language_or_phrases(tmp_path: Path, yaml_text: str, words: str) -> None:
    path = write(tmp_path, "title: T\n" + yaml_text + "steps:\n  - name: A\n")
    with pytest.raises(ValidationError) as caught:
        load_routine(path)
    assert words in str(caught.value)
    assert caught.value.problems[0].line == 2


def test_overridable_names_exist_on_the_table() -> None:
    for name in OVERRIDABLE:
        assert hasattr(ENGLISH, name)
