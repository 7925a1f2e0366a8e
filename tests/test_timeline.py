"""The pure timeline: exact milliseconds, with FakeEngine's 100 ms per word."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import replace

import pytest
from conftest import FIXTURES, ROUTINES, word_ms

from voice_coach.errors import TimelineError
from voice_coach.library import bundled_routines
from voice_coach.loader import load_routine, parse_routine
from voice_coach.model import CueOptions, Exercise, Rest, Routine
from voice_coach.timeline import Pacing, Timeline, build_timeline, spoken_texts

P = Pacing()
SETTLE_MS, RECOVER_MS = 2500, 3000
"""The built-in settle and recover times: every existing timeline (the golden one too)
rests on them."""


def layout(routine: Routine, pacing: Pacing = P) -> Timeline:
    return build_timeline(routine, word_ms, pacing)


def starts(tl: Timeline, kind: str) -> list[int]:
    return [e.start_ms for e in tl.events if e.kind == kind]


def one_step(**fields: object) -> Routine:
    step = Exercise(name="Stretch", hold_s=20)
    return Routine(title="Minimal", steps=(replace(step, **fields),))  # type: ignore[arg-type]


def test_minimal_routine_layout_to_the_millisecond() -> None:
    tl = layout(load_routine(ROUTINES / "minimal.yaml"))
    got = [(e.start_ms, e.duration_ms, e.kind, e.text, e.step) for e in tl.events]
    assert got == [
        (500, 100, "intro", "Minimal.", None),
        (1300, 100, "step", "Stretch.", 1),
        (3550, 200, "chime", "start", 1),
        (3900, 100, "hold", "Hold.", 1),
        (13900, 300, "remaining", "Ten seconds left.", 1),
        (20900, 100, "countdown", "Three.", 1),
        (21900, 100, "countdown", "Two.", 1),
        (22900, 100, "countdown", "One.", 1),
        (23550, 200, "chime", "end", 1),
        (23900, 200, "release", "And release.", 1),
        (27100, 800, "finish", "Well done. That is the end of Minimal.", None),
    ]
    assert tl.total_ms == 27900 + P.tail_ms
    assert [(c.title, c.start_ms, c.end_ms) for c in tl.chapters] == [
        ("Introduction", 0, 1300),
        ("Stretch", 1300, tl.total_ms),
    ]
    assert tl.warnings == ()


def test_hold_runs_from_hold_onset_to_release_onset_exactly() -> None:
    for hold_s in (5, 7.25, 60, 600):
        tl = layout(one_step(hold_s=hold_s))
        (hold,) = tl.holds
        assert starts(tl, "hold") == [hold.start_ms]
        assert starts(tl, "release") == [hold.end_ms]
        assert hold.end_ms - hold.start_ms == round(hold_s * 1000)


def test_countdown_and_remaining_are_exact_offsets_from_the_end() -> None:
    tl = layout(one_step(hold_s=90, cues=CueOptions(countdown=5, remaining_s=(60, 30, 10))))
    (hold,) = tl.holds
    by_text = {e.text: e.start_ms for e in tl.events}
    for k, word in enumerate(["One.", "Two.", "Three.", "Four.", "Five."], start=1):
        assert by_text[word] == hold.end_ms - k * 1000
    assert by_text["One minute left."] == hold.end_ms - 60_000
    assert by_text["Thirty seconds left."] == hold.end_ms - 30_000
    assert by_text["Ten seconds left."] == hold.end_ms - 10_000


def test_halfway_is_in_the_middle() -> None:
    tl = layout(one_step(hold_s=40, cues=CueOptions(halfway=True)))
    (hold,) = tl.holds
    assert starts(tl, "halfway") == [hold.start_ms + 20_000]


def test_cues_that_do_not_apply_to_a_short_hold_are_skipped_silently() -> None:
    tl = layout(one_step(hold_s=2.5, cues=CueOptions(countdown=3, remaining_s=(10,))))
    assert [e.text for e in tl.events if e.kind == "countdown"] == ["Two.", "One."]
    assert starts(tl, "remaining") == []
    assert tl.warnings == ()


def test_sides_fill_placeholders_and_switch_between() -> None:
    step = Exercise(
        name="Cross",
        hold_s=10,
        setup=("Cross your {side} leg over your {other}.",),
        release="Lower the {side} leg.",
        sides=("right", "left"),
    )
    tl = layout(Routine(title="T", steps=(step,)))
    spoken = [e.text for e in tl.speech()]
    assert "Cross your right leg over your left." in spoken
    assert "Cross your left leg over your right." in spoken
    assert spoken.index("Switch sides.") > spoken.index("Lower the right leg.")
    assert [h.side for h in tl.holds] == ["right", "left"]
    switch = next(e for e in tl.events if e.kind == "switch")
    first_release = next(e for e in tl.events if e.kind == "release")
    assert switch.start_ms == first_release.end_ms + RECOVER_MS


def test_reps_repeat_the_hold_with_the_between_line() -> None:
    step = Exercise(name="Reach", hold_s=10, reps=3, between="Further.", setup=("Sit.",))
    tl = layout(Routine(title="T", steps=(step,)))
    assert [h.rep for h in tl.holds] == [1, 2, 3]
    assert [e.text for e in tl.events if e.kind == "between"] == ["Further.", "Further."]
    assert [e.text for e in tl.events if e.kind == "setup"] == ["Sit."]
    for hold in tl.holds:
        assert hold.end_ms - hold.start_ms == 10_000
    # Release, recover, "Further.", settle, then the next "Hold".
    between = [e for e in tl.events if e.kind == "between"]
    releases = [e for e in tl.events if e.kind == "release"]
    assert between[0].start_ms == releases[0].end_ms + RECOVER_MS
    assert tl.holds[1].start_ms == between[0].end_ms + SETTLE_MS


def test_the_built_in_settle_and_recover_times_stay() -> None:
    step = Exercise(name="Stretch", hold_s=20)
    assert (step.settle_s, step.recover_s) == (SETTLE_MS / 1000, RECOVER_MS / 1000)


def test_each_step_settles_and_recovers_for_its_own_time_exactly() -> None:
    steps = (
        Exercise(
            name="Cross",
            hold_s=10,
            setup=("Lie down.", "Cross your {side} leg."),
            sides=("right", "left"),
            reps=2,
            settle_s=12.5,
            recover_s=7.25,
        ),
        Exercise(name="Reach", hold_s=10, setup=("Sit.",)),
    )
    tl = layout(Routine(title="T", steps=steps))
    cross, reach = ([e for e in tl.events if e.step == n] for n in (1, 2))
    for hold in (h for h in tl.holds if h.step == 1):
        before = max(e.end_ms for e in cross if e.is_speech and e.end_ms <= hold.start_ms)
        assert hold.start_ms == before + 12_500
    speech = tl.speech()
    after_releases = [
        (speech[i + 1].kind, speech[i + 1].start_ms - e.end_ms)
        for i, e in enumerate(speech)
        if e.kind == "release" and e.step == 1
    ]
    assert after_releases == [
        ("between", 7250),
        ("switch", 7250),
        ("between", 7250),
        ("step", 7250),  # "Reach."
    ]
    (reach_hold,) = (h for h in tl.holds if h.step == 2)
    setup = next(e for e in reach if e.kind == "setup")
    assert reach_hold.start_ms == setup.end_ms + SETTLE_MS
    finish = next(e for e in tl.events if e.kind == "finish")
    reach_release = next(e for e in reach if e.kind == "release")
    assert finish.start_ms == reach_release.end_ms + RECOVER_MS
    _assert_well_formed(tl)


def test_settle_and_recover_never_go_below_the_pause_between_lines() -> None:
    tl = layout(one_step(setup=("Sit.",), settle_s=0, recover_s=0.2))
    setup, release, finish = (
        next(e for e in tl.events if e.kind == kind) for kind in ("setup", "release", "finish")
    )
    chime, hold = (next(e for e in tl.events if e.kind == kind) for kind in ("chime", "hold"))
    assert hold.start_ms == setup.end_ms + P.gap_ms
    assert chime.start_ms >= setup.end_ms  # the start chime still sits in the silence
    assert finish.start_ms == release.end_ms + P.gap_ms
    _assert_well_formed(tl)


def test_rest_lasts_exactly_and_previews_the_next_exercise() -> None:
    steps = (
        Exercise(name="A", hold_s=10),
        Rest(rest_s=20),
        Exercise(name="Seated stretch", hold_s=10),
    )
    tl = layout(Routine(title="T", steps=steps))
    rest = next(e for e in tl.events if e.kind == "rest")
    assert rest.text == "Rest for 20 seconds."
    nxt = next(e for e in tl.events if e.kind == "next")
    assert nxt.text == "Next: seated stretch."
    rest_end = rest.start_ms + 20_000
    assert nxt.end_ms == rest_end - P.next_lead_ms
    following = next(e for e in tl.events if e.kind == "step" and e.step == 3)
    assert following.start_ms == rest_end
    assert [c.title for c in tl.chapters] == [
        "Introduction",
        "A",
        "Rest, then Seated stretch",
        "Seated stretch",
    ]


def test_a_rest_chapter_names_the_exercise_after_it() -> None:
    steps = (
        Exercise(name="Side stretch", hold_s=10),
        Rest(rest_s=10),
        Exercise(name="Seated stretch", hold_s=10),
        Rest(rest_s=10),
        Rest(rest_s=10),
        Exercise(name="Cat", hold_s=10),
        Rest(rest_s=10),
    )
    tl = layout(Routine(title="T", steps=steps))
    assert [c.title for c in tl.chapters] == [
        "Introduction",
        "Side stretch",
        "Rest, then Seated stretch",
        "Seated stretch",
        "Rest, then Cat",
        "Rest, then Cat",
        "Cat",
        "Rest",  # nothing after it to name
    ]


def test_a_line_that_does_not_fit_is_dropped_with_a_warning_and_the_hold_kept() -> None:
    long_line = " ".join(["word"] * 40)  # 4 s of speech in a 5 s hold with a countdown
    tl = layout(one_step(hold_s=5, during=(long_line,)))
    assert long_line not in [e.text for e in tl.events]
    assert len(tl.warnings) == 1
    assert "no room" in tl.warnings[0] and "dropped" in tl.warnings[0]
    (hold,) = tl.holds
    assert hold.end_ms - hold.start_ms == 5000


def test_repeated_warnings_are_counted_once() -> None:
    long_line = " ".join(["word"] * 40)
    tl = layout(one_step(hold_s=5, during=(long_line,), reps=3))
    assert len(tl.warnings) == 1
    assert tl.warnings[0].endswith("(3 times)")


def test_a_hold_shorter_than_its_hold_cue_is_an_error() -> None:
    with pytest.raises(TimelineError, match="shorter than its spoken"):
        build_timeline(one_step(hold_s=1), lambda text: 1500)


def test_during_lines_spread_over_the_hold_and_never_overlap() -> None:
    tl = layout(one_step(hold_s=60, during=("One two.", "Three four.", "Five six.")))
    during = starts(tl, "during")
    (hold,) = tl.holds
    assert during == [hold.start_ms + 15_000, hold.start_ms + 30_000, hold.start_ms + 45_000]


def _assert_well_formed(tl: Timeline) -> None:
    speech = tl.speech()
    for a, b in itertools.pairwise(speech):
        assert a.end_ms <= b.start_ms, f"{a} overlaps {b}"
    assert all(e.end_ms <= tl.total_ms for e in tl.events)
    assert tl.chapters[0].start_ms == 0 and tl.chapters[-1].end_ms == tl.total_ms
    for a, b in zip(tl.chapters, tl.chapters[1:], strict=False):
        assert a.end_ms == b.start_ms and a.start_ms < a.end_ms
    for hold in tl.holds:
        inside = [e for e in tl.events if hold.start_ms <= e.start_ms < hold.end_ms]
        assert all(e.end_ms <= hold.end_ms for e in inside)


@pytest.mark.parametrize("name", sorted(bundled_routines()))
def test_bundled_routines_lay_out_cleanly(name: str) -> None:
    routine = load_routine(bundled_routines()[name])
    tl = layout(routine)
    _assert_well_formed(tl)
    assert len(tl.chapters) == len(routine.steps) + 1
    # With the fake voice's pace nothing should need dropping in the shipped scripts.
    assert tl.warnings == ()


def test_spoken_texts_lists_every_line_the_timeline_speaks() -> None:
    routine = load_routine(ROUTINES / "full.yaml")
    texts = spoken_texts(routine)
    assert len(texts) == len(set(texts))
    spoken = {e.text for e in layout(routine).speech()}
    assert spoken <= set(texts)


def test_timeline_is_a_pure_function() -> None:
    routine = load_routine(ROUTINES / "full.yaml")
    assert layout(routine) == layout(routine)


def test_golden_timeline_json() -> None:
    """The JSON form is a contract; this pins it for a routine using every key."""
    golden = FIXTURES / "golden" / "full.json"
    got = layout(load_routine(ROUTINES / "full.yaml")).to_json()
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(golden.read_text())
    assert set(got) == {"title", "total_ms", "events", "chapters"}
    assert set(got["events"][0]) == {"start_ms", "duration_ms", "kind", "text", "step"}


def test_parse_routine_from_text() -> None:
    routine = parse_routine("title: X\nsteps:\n  - rest: 5\n")
    assert routine.steps == (Rest(rest_s=5, line=3),)
