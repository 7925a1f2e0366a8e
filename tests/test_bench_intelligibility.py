"""The intelligibility benchmark's scoring: pure functions, no recognizer needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks import bench_intelligibility as bench
from benchmarks.bench_intelligibility import (
    Cut,
    Heard,
    Score,
    cuts,
    edit_distance,
    heard,
    wer_target,
    words,
    worst,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ten seconds left.", ["ten", "seconds", "left"]),
        (" 10 seconds left.", ["ten", "seconds", "left"]),
        ("about 45 degrees", ["about", "forty", "five", "degrees"]),
        ("about forty-five degrees", ["about", "forty", "five", "degrees"]),
        ("Rest for 20 seconds.", ["rest", "for", "twenty", "seconds"]),
        ("3, 2, 1", ["three", "two", "one"]),
        ("Let\u2019s go... Well?!", ["lets", "go", "well"]),
        ("2026", ["2026"]),
        ("", []),
    ],
)
def test_words_are_normalized_the_same_way_on_both_sides(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("reference", "hypothesis", "distance"),
    [
        ("hold", "hold", 0),
        ("hold", "that will", 2),  # a substitution and an insertion
        ("switch sides", "sides", 1),
        ("", "thank you", 2),
        ("ten seconds left", "", 3),
        ("lie on your back", "lie on your mark", 1),
        # The same sounds written as one word or two: no error.
        ("round your back up", "round your backup", 0),
        ("cooldown", "cool down", 0),
        ("round your back up and", "round your backup", 1),
        ("four to five", "forty five", 2),
    ],
)
def test_edit_distance_counts_words(reference: str, hypothesis: str, distance: int) -> None:
    assert edit_distance(reference.split(), hypothesis.split()) == distance


def event(
    start_ms: int, duration_ms: int, kind: str = "hold", text: str = "Hold."
) -> dict[str, Any]:
    return {"start_ms": start_ms, "duration_ms": duration_ms, "kind": kind, "text": text}


def test_a_cut_keeps_its_margins_where_there_is_silence() -> None:
    assert cuts([event(5000, 400)], margin_ms=250) == [Cut("Hold.", 4750, 5650)]


def test_a_cut_never_reaches_into_a_neighbour_and_chimes_are_not_cut() -> None:
    events = [
        event(1000, 200, "chime", "start"),
        event(1350, 400, "hold", "Hold."),
        event(1800, 300, "countdown", "Two."),
        event(5000, 300, "countdown", "One."),
    ]
    assert cuts(events, margin_ms=250) == [
        Cut("Hold.", 1200, 1800),  # after the chime's end, up to the next cue's start
        Cut("Two.", 1750, 2350),
        Cut("One.", 4750, 5550),
    ]


def test_an_overlapping_neighbour_leaves_the_cue_its_own_span() -> None:
    events = [event(1000, 500, "setup", "Sit tall."), event(1400, 200, "chime", "end")]
    assert cuts(events, margin_ms=250) == [Cut("Sit tall.", 750, 1500)]


def test_a_cue_heard_scores_its_word_errors() -> None:
    assert heard("Ten seconds left.", " 10 seconds left.") == Heard(
        "Ten seconds left.", "10 seconds left.", 3, 0
    )
    assert heard("Hold.", "That will...").errors == 2


def test_the_worst_cues_group_every_use_of_a_text() -> None:
    cues = [
        heard("Hold.", "That will..."),
        heard("Hold.", "That will..."),
        heard("Hold.", "Hold."),
        heard("Two.", "Tune."),
        heard("Switch sides.", "Switch sides."),
    ]
    (first, second) = worst(cues)
    assert (first.reference, first.uses, first.missed, first.errors) == ("Hold.", 3, 2, 4)
    assert first.heard_as == (("That will...", 2),)
    assert (second.reference, second.errors) == ("Two.", 1)


def test_targets_by_engine_and_routine() -> None:
    assert wer_target("piper", "sciatica-relief") == 0.08
    assert wer_target("piper", "walking") == 0.10
    assert wer_target("espeak-ng", "sciatica-relief") == 0.12
    assert wer_target("pyttsx3", "sciatica-relief") == 0.12
    assert wer_target("espeak-ng", "walking") is None


def test_runs_are_pooled_and_each_one_kept() -> None:
    first = (heard("Two.", "Tune."), heard("Hold.", "Hold."))
    second = (heard("Two.", "Two."), heard("Hold.", "Hold."))
    score = Score("piper", "minimal", (first, second), export_s=1.0, recognition_s=1.0)
    assert score.run_wers == [0.5, 0.0]
    assert score.wer == 0.25
    assert score.exact == 0.75
    assert score.reference_words == 2
    assert len(score.cues) == 4


@pytest.mark.parametrize(("bed", "passed"), [(None, []), ("rain", ["--bed", "rain"])])
def test_the_bed_goes_to_both_export_and_show(
    monkeypatch: pytest.MonkeyPatch, bed: str | None, passed: list[str]
) -> None:
    calls: list[list[str]] = []

    def fake_voice_coach(args: list[str], folder: Path, timeout_s: float = 0) -> bytes:
        calls.append(args)
        timeline = {"events": [event(0, 500, kind="cue", text="Two.")]}
        return json.dumps(timeline).encode() if "show" in args else b""

    class FakeRecognizer:
        def transcribe(self, audio: Any) -> str:
            return "Two."

    monkeypatch.setattr(bench, "voice_coach", fake_voice_coach)
    monkeypatch.setattr(bench, "decode", lambda path: np.zeros(16_000, np.float32))
    score = bench.measure("piper", "minimal", FakeRecognizer(), bed=bed)  # type: ignore[arg-type]
    export, show = calls
    assert export[:4] == ["export", "minimal", "--engine", "piper"]
    assert export[4:-2] == passed and export[-2] == "-o"
    assert show == ["show", "minimal", "--engine", "piper", *passed, "--json"]
    assert (score.bed, score.wer) == (bed, 0.0)
