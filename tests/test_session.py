"""Live sessions on a fake clock: the frames read are the time.

`drive` plays a session block by block, like a sound card's callback would, and
issues commands when the device clock (frames read so far) reaches given points.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import SAMPLE_RATE, FakeEngine

from voice_coach.audio.bed import BedPlayer
from voice_coach.audio.clip import Clip
from voice_coach.audio.loudness import FULL_SCALE
from voice_coach.audio.mix import render
from voice_coach.live.session import BED_FADE_MS, Command, LiveSession
from voice_coach.routine.model import Beat, Bed, BedLevels, Count, Exercise, Flow, Rest, Routine
from voice_coach.speech import ResolvedVoice
from voice_coach.timeline import HOLD_STEP_MS, Timeline, build_timeline, spoken_texts

VOICE = ResolvedVoice("fake", "1", "tone", 160, 1.0)
BLOCK = 441  # 20 ms
ROUTINE = Routine(
    title="Test",
    steps=(
        Exercise(name="First", hold_s=12, setup=("Lie down.",)),
        Rest(rest_s=8),
        Exercise(name="Second", hold_s=10, reps=2),
        Exercise(name="Third", hold_s=6),
    ),
)


def f(ms: int) -> int:
    return ms * SAMPLE_RATE // 1000


def speak(text: str) -> Clip:
    return FakeEngine().synthesize(text, VOICE)


def all_clips(routine: Routine = ROUTINE) -> dict[str, Clip]:
    return {t: speak(t) for t in spoken_texts(routine)}


def reference(routine: Routine = ROUTINE, **kw: object) -> tuple[np.ndarray, Timeline]:
    clips = all_clips(routine)
    tl = build_timeline(routine, {t: c.duration_ms for t, c in clips.items()}, **kw)  # type: ignore[arg-type]
    pcm = np.frombuffer(b"".join(render(tl, clips, SAMPLE_RATE)), dtype="<i2")
    return pcm, tl


def session(**kw: object) -> LiveSession:
    s = LiveSession(ROUTINE, SAMPLE_RATE, speak=speak, **kw)  # type: ignore[arg-type]
    s.add_clips(all_clips())
    return s


def drive(
    s: LiveSession, at: dict[int, list[Command]] | None = None, limit_frames: int = f(600_000)
) -> np.ndarray:
    """Read until finished; commands fire when the device clock passes a frame count."""
    pending = sorted((at or {}).items())
    out, clock = [], 0
    while not s.finished and clock < limit_frames:
        while pending and pending[0][0] <= clock:
            for command in pending.pop(0)[1]:
                s.handle(command)
        out.append(s.read(BLOCK))
        clock += BLOCK
    return np.concatenate(out) if out else np.zeros(0, dtype="<i2")


def event(tl: Timeline, kind: str, step: int | None = None, nth: int = 0) -> object:
    return [e for e in tl.events if e.kind == kind and (step is None or e.step == step)][nth]


def test_uninterrupted_session_plays_exactly_the_rendered_timeline() -> None:
    ref, _tl = reference()
    got = drive(session())
    assert np.array_equal(got[: ref.size], ref)
    assert not got[ref.size :].any()  # the rest of the last block is silence
    assert got.size - ref.size < BLOCK


def test_streaming_synthesis_waits_instead_of_skipping() -> None:
    ref, _ = reference()
    s = LiveSession(ROUTINE, SAMPLE_RATE, speak=speak)
    texts = spoken_texts(ROUTINE)
    clips = all_clips()
    s.add_clips({t: clips[t] for t in texts[:3]})
    assert not s.complete
    head = drive(s, limit_frames=f(20_000))
    assert s.waited_frames > 0 and s.status().waiting
    ready = s.position_ms
    s.add_clips(clips)
    assert s.complete
    tail = drive(s)
    played = np.concatenate([head[: f(ready)], tail])
    assert np.array_equal(played[: ref.size], ref)
    # The waiting was silence, and nothing was skipped or repeated.
    assert not head[f(ready) :].any()


def test_pause_in_a_hold_then_resume_says_time_left_and_continues() -> None:
    ref, tl = reference()
    hold = tl.holds[0]
    pause_at = f(hold.start_ms + 3000)  # a silent moment inside the first hold
    resume_at = pause_at + f(5000)
    got = drive(session(), {pause_at: [Command.PAUSE], resume_at: [Command.PAUSE]})
    paused_from = (pause_at // BLOCK + (pause_at % BLOCK > 0)) * BLOCK
    resumed_from = (resume_at // BLOCK + (resume_at % BLOCK > 0)) * BLOCK
    assert np.array_equal(got[:paused_from], ref[:paused_from])
    assert not got[paused_from:resumed_from].any()
    left_s = round((hold.end_ms * SAMPLE_RATE // 1000 - paused_from) / SAMPLE_RATE)
    said = speak(f"{left_s} seconds left.")  # same word count as the spoken words
    interjection = said.frames + f(400)
    after = got[resumed_from + interjection :]
    assert np.array_equal(after[: ref.size - paused_from], ref[paused_from:])
    assert np.abs(got[resumed_from : resumed_from + 50]).max() > 1000


def test_pause_during_a_cue_repeats_it_from_the_start() -> None:
    ref, tl = reference()
    setup = event(tl, "setup")
    pause_at = f(setup.start_ms + 150)  # type: ignore[attr-defined]
    got = drive(session(), {pause_at: [Command.PAUSE], pause_at + f(1000): [Command.PAUSE]})
    resumed_from = ((pause_at + f(1000)) // BLOCK + 1) * BLOCK
    cue_start = f(setup.start_ms)  # type: ignore[attr-defined]
    assert np.array_equal(got[resumed_from : resumed_from + ref.size - cue_start], ref[cue_start:])


def test_next_jumps_to_the_next_step_start() -> None:
    ref, tl = reference()
    at = f(5000)
    got = drive(session(), {at: [Command.NEXT]})
    jumped_from = (at // BLOCK + (at % BLOCK > 0)) * BLOCK
    rest_start = f(event(tl, "rest").start_ms)  # type: ignore[attr-defined]
    assert np.array_equal(
        got[jumped_from : jumped_from + 1000], ref[rest_start : rest_start + 1000]
    )
    assert got.size == pytest.approx(jumped_from + ref.size - rest_start, abs=BLOCK)


def test_next_lands_in_the_step_it_jumps_to_at_any_ms() -> None:
    def speak_odd(text: str) -> Clip:
        """The fake voice, 79 ms longer: cues start at odd ms."""
        return Clip(bytes(2 * f(speak(text).duration_ms + 79)), SAMPLE_RATE)

    s = LiveSession(ROUTINE, SAMPLE_RATE, speak=speak_odd)
    s.add_clips({t: speak_odd(t) for t in spoken_texts(ROUTINE)})
    first = event(s.timeline, "step", step=1).start_ms  # type: ignore[arg-type, attr-defined]
    assert f(first) * 1000 // SAMPLE_RATE != first  # the premise: not a whole frame
    s.handle(Command.NEXT)
    assert s.current_step() == 1
    s.handle(Command.NEXT)
    assert s.current_step() == 2


def test_back_restarts_the_step_or_goes_to_the_previous_one() -> None:
    _ref, tl = reference()
    second = f(event(tl, "step", step=3).start_ms)  # type: ignore[attr-defined]
    # Late in step 3: back restarts step 3.
    s = session()
    drive(s, limit_frames=second + f(6000))
    s.handle(Command.BACK)
    assert s.current_step() == 3 and s._pos == second
    # Right at its start: back goes to the rest before it (step 2).
    s.handle(Command.BACK)
    assert s.current_step() == 2
    assert s._pos == f(event(tl, "rest").start_ms)  # type: ignore[attr-defined]


def test_longer_and_shorter_change_only_the_current_hold() -> None:
    _, tl = reference()
    hold = tl.holds[1]  # step 3, first rep
    s = session()
    drive(s, limit_frames=f(hold.start_ms + 2000))
    s.handle(Command.LONGER)
    s.handle(Command.LONGER)
    new = s.timeline
    assert new is not None
    assert new.holds[1].end_ms - new.holds[1].start_ms == 10_000 + 2 * HOLD_STEP_MS
    assert new.holds[2].end_ms - new.holds[2].start_ms == 10_000  # the next rep unchanged
    assert new.holds[0] == tl.holds[0]
    release = [e for e in new.events if e.kind == "release"][1]
    assert release.start_ms == new.holds[1].end_ms
    for _ in range(5):
        s.handle(Command.SHORTER)
    new = s.timeline
    assert new is not None
    assert new.holds[1].end_ms - new.holds[1].start_ms == 5000  # clamped


def test_shortening_past_now_moves_to_the_release() -> None:
    _, tl = reference()
    hold = tl.holds[1]
    s = session()
    drive(s, limit_frames=f(hold.start_ms + 8000))
    s.handle(Command.SHORTER)
    new = s.timeline
    assert new is not None and new.holds[1].end_ms == hold.start_ms + 5000
    assert s.position_ms <= new.holds[1].end_ms


def test_quit_stops_at_once() -> None:
    s = session()
    got = drive(s, {f(2000): [Command.QUIT]})
    assert s.finished and s.quit_requested
    assert got.size < f(2100)


def test_start_step_begins_at_that_step() -> None:
    ref, tl = reference()
    s = session(start_step=3)
    got = drive(s)
    start = f(event(tl, "step", step=3).start_ms)  # type: ignore[attr-defined]
    assert np.array_equal(got[: ref.size - start], ref[start:])


def test_status_reports_step_side_rep_and_time_left() -> None:
    _, tl = reference()
    hold = tl.holds[2]  # step 3, rep 2
    s = session()
    drive(s, limit_frames=f(hold.start_ms + 4000))
    st = s.status()
    assert (st.step, st.step_name, st.rep, st.reps) == (3, "Second", 2, 2)
    assert st.hold_left_ms == pytest.approx(6000, abs=25)
    assert st.total_ms == tl.total_ms and not st.paused and not st.finished


def test_time_lost_in_an_underrun_is_made_up_in_the_next_silence() -> None:
    ref, tl = reference()
    first = tl.events[0]
    cue_end = f(first.start_ms + first.duration_ms)
    s = session()
    lost = f(250)
    inside = f(first.start_ms + first.duration_ms // 2)
    out = [s.read(BLOCK) for _ in range(inside // BLOCK)]  # into the first cue
    s.catch_up(lost)
    out += [drive(s)]
    got = np.concatenate(out)
    # The cue plays to its end; at the first read in silence the lost frames are
    # skipped, and everything after is the timeline, that much earlier.
    cut = -(-cue_end // BLOCK) * BLOCK
    expected = np.concatenate([ref[:cut], ref[cut + lost :]])
    assert np.array_equal(got[: expected.size], expected)
    assert s.caught_up_frames == lost


def test_made_up_time_never_cuts_into_a_sound() -> None:
    s = session()
    s.catch_up(f(60_000))  # more than any pause
    got = drive(s)
    # Every event is still heard whole: the mix has as much sound as the timeline.
    ref, _ = reference()
    assert np.count_nonzero(got) == np.count_nonzero(ref)
    assert s.caught_up_frames > 0


def test_a_pause_or_a_jump_forgets_lost_time() -> None:
    s = session()
    s.catch_up(f(500))
    s.handle(Command.PAUSE)
    s.handle(Command.PAUSE)
    drive(s)
    assert s.caught_up_frames == 0


# -- flows and counts ------------------------------------------------------------------

FLOW_ROUTINE = Routine(
    title="Flow",
    steps=(
        Exercise(
            name="Cat cow",
            hold_s=0,
            setup=("Kneel.",),
            pace=Flow((Beat("Breathe in, lift.", 3), Beat("Breathe out, round.", 2)), rounds=3),
        ),
        Exercise(name="Bridge", hold_s=0, pace=Count(3, 2, "Up.")),
    ),
)


def flow_session() -> LiveSession:
    s = LiveSession(FLOW_ROUTINE, SAMPLE_RATE, speak=speak)
    s.add_clips(all_clips(FLOW_ROUTINE))
    return s


def next_block(frame: int) -> int:
    """The first block boundary at or after `frame`: where a command takes effect."""
    return -(-frame // BLOCK) * BLOCK


def test_an_uninterrupted_flow_plays_exactly_the_rendered_timeline() -> None:
    ref, _ = reference(FLOW_ROUTINE)
    got = drive(flow_session())
    assert np.array_equal(got[: ref.size], ref)


def test_pause_mid_round_then_resume_repeats_the_beat_and_keeps_the_pace() -> None:
    ref, tl = reference(FLOW_ROUTINE)
    flow = tl.holds[0]
    beat_ms = flow.beats_ms[3]  # round 2, "Breathe out, round."
    pause_at = f(beat_ms + 1200)  # after its line, in the quiet of its beat
    resume_at = pause_at + f(4000)
    got = drive(flow_session(), {pause_at: [Command.PAUSE], resume_at: [Command.PAUSE]})
    paused_from, resumed_from = next_block(pause_at), next_block(resume_at)
    assert np.array_equal(got[:paused_from], ref[:paused_from])
    assert not got[paused_from:resumed_from].any()
    # Straight back to the start of the beat: the line again, then the flow as laid out,
    # with no "N seconds left" in the middle of the breath.
    beat = f(beat_ms)
    after = got[resumed_from:]
    assert np.array_equal(after[: ref.size - beat], ref[beat:])
    assert np.abs(after[:50]).max() > 1000


def test_pause_during_a_flow_line_repeats_it() -> None:
    ref, tl = reference(FLOW_ROUTINE)
    line = [e for e in tl.events if e.kind == "flow"][2]  # round 2, "Breathe in, lift."
    pause_at = f(line.start_ms + 100)
    got = drive(flow_session(), {pause_at: [Command.PAUSE], pause_at + f(700): [Command.PAUSE]})
    resumed_from = next_block(pause_at + f(700))
    start = f(line.start_ms)
    assert np.array_equal(got[resumed_from : resumed_from + ref.size - start], ref[start:])


def test_plus_and_minus_change_the_rounds_of_the_flow_being_played() -> None:
    _, tl = reference(FLOW_ROUTINE)
    flow = tl.holds[0]
    s = flow_session()
    drive(s, limit_frames=f(flow.start_ms + 1000))
    assert s.status().hold_kind == "flow"
    s.handle(Command.LONGER)
    new = s.timeline
    assert new is not None
    assert new.holds[0].end_ms - new.holds[0].start_ms == 4 * 5000
    assert len(new.holds[0].beats_ms) == 8
    assert new.holds[1].end_ms - new.holds[1].start_ms == 6000  # the count unchanged
    drive(s, limit_frames=f(2 * 5000 - 500))  # into round 3 of 4
    assert s.position_ms > flow.start_ms + 2 * 5000
    s.handle(Command.SHORTER)
    s.handle(Command.SHORTER)
    new = s.timeline
    assert new is not None and new.holds[0].end_ms == flow.start_ms + 2 * 5000
    assert s.position_ms == new.holds[0].end_ms  # two rounds are done: the release, now


def test_plus_on_a_count_synthesizes_the_new_number_first(
    fake_engine: type[FakeEngine],
) -> None:
    _, tl = reference(FLOW_ROUTINE)
    count = tl.holds[1]
    s = flow_session()
    drive(s, limit_frames=f(count.start_ms + 500))
    fake_engine.calls = []
    s.handle(Command.LONGER)
    assert fake_engine.calls == ["Four."]
    new = s.timeline
    assert new is not None
    assert [e.text for e in new.events if e.kind == "count" and e.text != "Up."] == [
        "One.",
        "Two.",
        "Three.",
        "Four.",
    ]
    assert s.status().hold_left_ms == pytest.approx(8000 - 500, abs=25)


# -- a bed under the session -----------------------------------------------------------


def silent(text: str) -> Clip:
    """A line as long as the fake engine's, without a sound: only the bed is heard."""
    return Clip(bytes(len(speak(text).pcm)), SAMPLE_RATE)


def bed_session(duck_db: float) -> LiveSession:
    routine = dataclasses.replace(
        ROUTINE, bed=Bed("drone"), bed_levels=BedLevels(level_lu=0.0, duck_db=duck_db)
    )
    s = LiveSession(routine, SAMPLE_RATE, speak=silent)
    s.add_clips({t: silent(t) for t in spoken_texts(ROUTINE)})
    return s


def test_the_bed_is_ducked_under_each_cue_as_in_the_export() -> None:
    ducked = drive(bed_session(12.0), limit_frames=f(30_000)).astype(float)
    plain = drive(bed_session(0.0), limit_frames=f(30_000)).astype(float)
    _, tl = reference()
    cue = event(tl, "setup")  # "Lie down."
    inside = slice(f(cue.start_ms), f(cue.end_ms))  # type: ignore[attr-defined]
    ratio = np.sqrt(np.mean(ducked[inside] ** 2) / np.mean(plain[inside] ** 2))
    assert 20 * np.log10(ratio) == pytest.approx(-12.0, abs=0.1)
    quiet = slice(f(cue.end_ms + 600), f(cue.end_ms + 1000))  # type: ignore[attr-defined]
    assert np.array_equal(ducked[quiet], plain[quiet])  # back up after the cue


def test_the_bed_fades_out_on_pause_stands_still_and_fades_back_in() -> None:
    s = bed_session(0.0)
    drive(s, limit_frames=f(3_000))
    s.handle(Command.PAUSE)
    fading = s.read(f(BED_FADE_MS) + BLOCK)
    assert np.abs(fading[:BLOCK]).max() > 100 and not fading[-BLOCK:].any()
    assert not s.read(f(2_000)).any()  # silent while paused
    s.handle(Command.PAUSE)
    back = s.read(f(BED_FADE_MS) * 2)
    assert np.abs(back[: f(100)]).max() < np.abs(back[-f(100) :]).max()  # fading in


def test_jumping_to_the_next_step_does_not_restart_the_bed() -> None:
    s = bed_session(0.0)
    head = drive(s, limit_frames=f(4_000))
    s.handle(Command.NEXT)
    tail = np.concatenate([s.read(BLOCK) for _ in range(20)])
    played = np.concatenate([head, tail]).astype(float)
    player = BedPlayer(SAMPLE_RATE, level_lu=0.0)
    alone = player.next(played.size, Bed("drone")) * FULL_SCALE
    after = slice(f(BED_FADE_MS), None)  # once faded in: the same sound, on through the jump
    assert np.allclose(played[after], np.round(alone[after]), atol=1)
