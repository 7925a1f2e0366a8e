"""The pure timeline: exact milliseconds, with FakeEngine's 100 ms per word."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import replace

import pytest
from conftest import FIXTURES, ROUTINES, word_ms

from voice_coach.errors import TimelineError
from voice_coach.routine.library import bundled_routines
from voice_coach.routine.loader import load_routine, parse_routine
from voice_coach.routine.model import Beat, Count, CueOptions, Exercise, Flow, Rest, Routine
from voice_coach.settings.layers import COMMAND_LINE, Layer, Overrides, resolve
from voice_coach.timeline import Event, HoldSpan, Pacing, Timeline, build_timeline, spoken_texts

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
        (3900, 500, "hold", "Hold it and stay relaxed.", 1),
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
    tl = layout(one_step(hold_s=2.9, cues=CueOptions(countdown=3, remaining_s=(10,))))
    assert [e.text for e in tl.events if e.kind == "countdown"] == ["Two.", "One."]
    assert starts(tl, "remaining") == []
    assert tl.warnings == ()


def test_sides_fill_placeholders_and_switch_between() -> None:
    step = Exercise(
        name="Cross",
        hold_s=10,
        setup=("Cross your {side} leg over your {other}.",),
        release=("Lower the {side} leg.",),
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
    step = Exercise(name="Reach", hold_s=10, reps=3, between=("Further.",), setup=("Sit.",))
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
    tl = layout(one_step(hold_s=5, during=((long_line,),)))
    assert long_line not in [e.text for e in tl.events]
    assert len(tl.warnings) == 1
    assert "no room" in tl.warnings[0] and "dropped" in tl.warnings[0]
    (hold,) = tl.holds
    assert hold.end_ms - hold.start_ms == 5000


def test_repeated_warnings_are_counted_once() -> None:
    long_line = " ".join(["word"] * 40)
    tl = layout(one_step(hold_s=5, during=((long_line,),), reps=3))
    assert len(tl.warnings) == 1
    assert tl.warnings[0].endswith("(3 times)")


def test_a_hold_shorter_than_its_hold_cue_is_an_error() -> None:
    with pytest.raises(TimelineError, match="shorter than its spoken"):
        build_timeline(one_step(hold_s=1), lambda text: 1500)


def test_during_lines_spread_over_the_hold_and_never_overlap() -> None:
    tl = layout(one_step(hold_s=60, during=(("One two.",), ("Three four.",), ("Five six.",))))
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


@pytest.mark.parametrize("name", ["full", "paced"])
def test_golden_timeline_json(name: str) -> None:
    """The JSON form is a contract; this pins it for routines using every key."""
    golden = FIXTURES / "golden" / f"{name}.json"
    got = layout(load_routine(ROUTINES / f"{name}.yaml")).to_json()
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(golden.read_text())
    assert set(got) == {"title", "total_ms", "events", "chapters"}
    assert set(got["events"][0]) == {"start_ms", "duration_ms", "kind", "text", "step"}


def test_parse_routine_from_text() -> None:
    routine = parse_routine("title: X\nsteps:\n  - rest: 5\n")
    assert routine.steps == (Rest(rest_s=5, line=3),)


# -- instructions of any length ---------------------------------------------------------


def test_each_sentence_of_an_instruction_is_its_own_cue_of_the_same_kind() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - name: Knee hug\n"
        "    setup: Lie on your back. Draw both knees in.\n"
        "    hold: 40\n"
        "    during: [Breathe out. Let your back widen.]\n"
        "    release: Lower your feet. Rest a moment.\n"
    )
    tl = layout(routine)
    by_kind = {k: [e for e in tl.events if e.kind == k] for k in ("setup", "during", "release")}
    assert [e.text for e in by_kind["setup"]] == ["Lie on your back.", "Draw both knees in."]
    assert [e.text for e in by_kind["during"]] == ["Breathe out.", "Let your back widen."]
    assert [e.text for e in by_kind["release"]] == ["Lower your feet.", "Rest a moment."]
    (hold,) = tl.holds
    for pieces in by_kind.values():
        first, second = pieces
        assert second.start_ms == first.end_ms + P.gap_ms  # the usual gap between lines
    assert by_kind["during"][0].start_ms == hold.start_ms + 20_000  # the middle, as before
    assert by_kind["release"][0].start_ms == hold.end_ms
    finish = next(e for e in tl.events if e.kind == "finish")
    assert finish.start_ms == by_kind["release"][1].end_ms + RECOVER_MS
    _assert_well_formed(tl)


def test_a_dropped_line_is_reported_with_its_file_and_line() -> None:
    long_line = " ".join(["word"] * 40)
    routine = parse_routine(
        f"title: T\nsteps:\n  - name: S\n    hold: 5\n    during:\n      - Fine.\n"
        f"      - {long_line}\n",
        source="mine.yaml",
    )
    (warning,) = layout(routine).warnings
    assert warning.startswith(f"mine.yaml:7: step 1 (S): no room for {long_line!r}")


# -- flows: lines paced by the breath --------------------------------------------------


def span_events(tl: Timeline, span: HoldSpan, kind: str) -> list[Event]:
    return [e for e in tl.events if e.kind == kind and span.start_ms <= e.start_ms <= span.end_ms]


def assert_flow_on_its_beats(tl: Timeline, span: HoldSpan, flow: Flow, texts: list[str]) -> None:
    """Round r, line i exactly at first + r·Σsecs + Σ(secs before i); release at
    first + rounds·Σsecs."""
    expected = [
        (
            span.start_ms
            + round((r * flow.round_s + sum(b.beat_s for b in flow.beats[:i])) * 1000),
            t,
        )
        for r in range(flow.rounds)
        for i, t in enumerate(texts)
    ]
    got = [(e.start_ms, e.text) for e in span_events(tl, span, "flow")]
    assert got == expected
    assert span.end_ms == span.start_ms + round(flow.rounds * flow.round_s * 1000)
    assert list(span.beats_ms) == [at for at, _ in expected]
    release = next(e for e in tl.events if e.kind == "release" and e.start_ms == span.end_ms)
    assert release.step == span.step


def test_a_flow_starts_where_hold_would_and_keeps_its_beats_exactly() -> None:
    tl = layout(load_routine(ROUTINES / "paced.yaml"))
    span = tl.holds[0]
    assert span.kind == "flow" and span.rep == 1
    setup = [e for e in tl.events if e.kind == "setup" and e.step == 1]
    assert span.start_ms == setup[-1].end_ms + SETTLE_MS
    flow = Flow((Beat("a", 4), Beat("b", 3.5)), rounds=2)
    lines = ["Breathe in, lift your chest.", "Breathe out, round your back."]
    assert_flow_on_its_beats(tl, span, flow, lines)
    # The countdown counts down to the release; the chimes frame the flow.
    assert [(e.start_ms, e.text) for e in span_events(tl, span, "countdown")] == [
        (span.end_ms - 2000, "Two."),
        (span.end_ms - 1000, "One."),
    ]
    chimes = [(e.start_ms, e.text) for e in tl.events if e.kind == "chime" and e.step == 1]
    assert chimes == [(span.start_ms - 350, "start"), (span.end_ms - 350, "end")]
    assert not [e for e in tl.events if e.kind in ("hold", "remaining", "during")]
    _assert_well_formed(tl)


def flow_step(**fields: object) -> Exercise:
    flow = Flow((Beat("In, up.", 3), Beat("Out, down.", 2.5)), rounds=3)
    base = Exercise(name="Flow", hold_s=0, pace=flow, setup=("Kneel.",))
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_flow_with_sides_and_reps_repeats_exactly_and_takes_its_length_as_hold_s() -> None:
    step = flow_step(sides=("left", "right"), reps=2, between=("Again.",))
    assert step.hold_s == 3 * 5.5
    tl = layout(Routine(title="T", steps=(step,)))
    assert [(h.side, h.rep, h.kind) for h in tl.holds] == [
        ("left", 1, "flow"),
        ("left", 2, "flow"),
        ("right", 1, "flow"),
        ("right", 2, "flow"),
    ]
    for span in tl.holds:
        assert_flow_on_its_beats(tl, span, step.pace, ["In, up.", "Out, down."])  # type: ignore[arg-type]
    between = [e for e in tl.events if e.kind == "between"]
    assert [b.start_ms + b.duration_ms + SETTLE_MS for b in between] == [
        tl.holds[1].start_ms,
        tl.holds[3].start_ms,
    ]
    assert len([e for e in tl.events if e.kind == "switch"]) == 1
    _assert_well_formed(tl)


def test_without_chimes_or_countdown_a_flow_is_only_its_lines() -> None:
    step = flow_step(cues=CueOptions(countdown=0, chimes=False, halfway=True))
    tl = layout(Routine(title="T", steps=(step,)))
    (span,) = tl.holds
    inside = [e.kind for e in tl.events if span.start_ms <= e.start_ms < span.end_ms]
    assert inside == ["flow"] * 6
    assert not [e for e in tl.events if e.kind == "chime"]


def test_a_countdown_that_collides_with_a_flow_line_is_dropped_with_a_warning() -> None:
    flow = Flow((Beat("Breathe out slowly and fully now.", 3),), rounds=2)
    tl = layout(Routine(title="T", steps=(Exercise(name="F", hold_s=0, pace=flow, line=4),)))
    (span,) = tl.holds
    # The last line starts 3 s before the end, where "Three." would.
    assert [e.text for e in span_events(tl, span, "countdown")] == ["Two.", "One."]
    assert tl.warnings == (
        "<memory>:4: step 1 (F): no room for 'Three.' at 3 s into the flow; dropped",
    )


def test_a_flow_line_that_does_not_fit_its_beat_is_an_error_naming_it() -> None:
    routine = parse_routine(
        "title: T\nsteps:\n  - name: Cat cow\n    flow:\n"
        "      - {say: Breathe in., secs: 4}\n"
        "      - {say: Breathe out and round your back up very slowly., secs: 1}\n",
        source="cat.yaml",
    )
    with pytest.raises(TimelineError) as caught:
        layout(routine)
    assert str(caught.value) == (
        "cat.yaml:6: step 1 (Cat cow): the flow line 'Breathe out and round your back up "
        "very slowly.' takes 0.9 s to say, too long for its 1 s beat (with 0.15 s of quiet after "
        "it); give it more `secs`, or say less"
    )


# -- counts: reps at a tempo -----------------------------------------------------------


def test_count_numbers_fall_on_the_tempo_and_say_lines_end_just_before_them() -> None:
    routine = load_routine(ROUTINES / "paced.yaml")
    tl = layout(routine)
    counts = [h for h in tl.holds if h.kind == "count"]
    assert [(h.side, h.rep) for h in counts] == [
        ("right", 1),
        ("right", 2),
        ("left", 1),
        ("left", 2),
    ]
    for span in counts:
        numbers = [e for e in span_events(tl, span, "count") if e.text != "Up."]
        assert [(e.start_ms, e.text) for e in numbers] == [
            (span.start_ms + k * 2500, word) for k, word in enumerate(["One.", "Two.", "Three."])
        ]
        assert span.end_ms == span.start_ms + 3 * 2500
        ups = [
            e
            for e in tl.events
            if e.text == "Up." and span.start_ms - 2500 < e.start_ms < span.end_ms
        ]
        assert [e.end_ms + P.min_gap_ms for e in ups] == [e.start_ms for e in numbers]
        assert list(span.beats_ms) == [e.start_ms for e in ups]
        # The start chime comes before the first "Up.", in the settle time.
        start_chime = next(
            e
            for e in tl.events
            if e.kind == "chime" and e.end_ms + P.chime_gap_ms == ups[0].start_ms
        )
        assert start_chime.text == "start"
    setup = [e.text for e in tl.events if e.kind == "setup" and e.step == 3]
    lie = "Lie on your back with your knees bent."
    assert setup == [lie, "Lift your left foot.", lie, "Lift your right foot."]
    _assert_well_formed(tl)


def count_step(**fields: object) -> Exercise:
    base = Exercise(name="Pumps", hold_s=0, pace=Count(4, 1.5), setup=("Sit.",), line=9)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_count_ignores_the_countdown_and_its_numbers_are_the_beats() -> None:
    tl = layout(Routine(title="T", steps=(count_step(cues=CueOptions(countdown=5)),)))
    (span,) = tl.holds
    assert span.kind == "count" and span.end_ms - span.start_ms == 6000
    assert [e.start_ms - span.start_ms for e in span_events(tl, span, "count")] == [
        0,
        1500,
        3000,
        4500,
    ]
    assert list(span.beats_ms) == [span.start_ms + k * 1500 for k in range(4)]
    assert not [e for e in tl.events if e.kind == "countdown"]


def test_a_say_line_that_does_not_fit_is_dropped_with_a_warning() -> None:
    say = "Press both feet down and lift up."  # 0.7 s: no room between two numbers 1 s apart
    step = count_step(pace=Count(3, 1, say), settle_s=1)
    tl = layout(Routine(title="T", steps=(step,), source="pumps.yaml"))
    assert [e.text for e in tl.events if e.kind == "count"] == ["One.", "Two.", "Three."]
    assert tl.warnings == (
        f"pumps.yaml:9: step 1 (Pumps): no room for {say!r} before the first number "
        "(a longer `settle` makes room); dropped",
        f"pumps.yaml:9: step 1 (Pumps): no room for {say!r} before the number 2; dropped",
        f"pumps.yaml:9: step 1 (Pumps): no room for {say!r} before the number 3; dropped",
    )


def test_a_number_longer_than_the_tempo_is_an_error() -> None:
    with pytest.raises(
        TimelineError,
        match=r"the number 'One\.' takes 1\.2 s to say, too long "
        r"for the tempo of 1 s.*use a slower `tempo`",
    ):
        build_timeline(Routine(title="T", steps=(count_step(pace=Count(2, 1)),)), lambda t: 1200)


# -- overrides and live changes reach flows and counts ---------------------------------


def test_scale_stretches_beats_and_tempo_and_reps_repeat_them() -> None:
    routine = load_routine(ROUTINES / "paced.yaml")
    resolved = resolve(routine, [Layer(COMMAND_LINE, Overrides.of(scale=2.0, reps=2))]).routine
    flow_step_, _, count_ = resolved.steps
    assert isinstance(flow_step_, Exercise) and isinstance(count_, Exercise)
    assert flow_step_.pace == Flow(
        (Beat("Breathe in, lift your chest.", 8), Beat("Breathe out, round your back.", 7)), 2
    )
    assert (flow_step_.hold_s, flow_step_.reps) == (30, 2)
    assert count_.pace == Count(3, 5, "Up.") and count_.hold_s == 15
    tl = layout(resolved)
    flows = [h for h in tl.holds if h.kind == "flow"]
    assert len(flows) == 2
    for span in flows:
        assert_flow_on_its_beats(tl, span, flow_step_.pace, [b.say for b in flow_step_.pace.beats])
    for span in (h for h in tl.holds if h.kind == "count"):
        assert span.end_ms - span.start_ms == 15_000


def test_live_presses_add_and_remove_rounds_and_counts() -> None:
    routine = load_routine(ROUTINES / "paced.yaml")
    tl = build_timeline(routine, word_ms, adjust={0: 1, 1: -5})
    flow, count = tl.holds[0], tl.holds[1]
    assert flow.end_ms - flow.start_ms == 3 * 7500
    assert len(flow.beats_ms) == 6
    assert count.end_ms - count.start_ms == 2500  # never below one
    assert tl.holds[2].end_ms - tl.holds[2].start_ms == 3 * 2500  # the others unchanged
    more = spoken_texts(routine, adjust={1: 2})
    assert "Five." in more and "Five." not in spoken_texts(routine)
