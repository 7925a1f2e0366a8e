"""Voice commands without a microphone or a recognizer: parsing transcripts, the
language model's text, the gate against the coach's own voice (a fake recognizer and
the session's own clock), carrying commands out, and the listener's one-line refusals.

The real recognizer on a real (virtual) microphone: integration/test_listen_real.py.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_RATE, FakeEngine

from voice_coach.audio.clip import Clip
from voice_coach.errors import ValidationError
from voice_coach.live import listen
from voice_coach.live.listen import (
    BLOCK_S,
    LEAD_IN_S,
    PHRASES,
    Action,
    Hearing,
    Listener,
    ListenError,
    RecognizerProcess,
    Utterance,
    carry_out,
    find_phrase,
    half_of,
    judge,
    model_text,
    says_word,
    sentences,
)
from voice_coach.live.remote import Airtime, Remote, ack_tone, combined
from voice_coach.live.session import Command, LiveSession
from voice_coach.phrases import Phrases
from voice_coach.plan import listens, make_plan
from voice_coach.routine.model import Exercise, Routine
from voice_coach.settings.words import Choices
from voice_coach.speech import ResolvedVoice
from voice_coach.timeline import spoken_texts

VOICE = ResolvedVoice("fake", "1", "tone", 160, 1.0)
BLOCK = SAMPLE_RATE // 20  # 50 ms, as a device callback asks
LATENCY_S = 0.2
ROUTINE = Routine(
    title="Gate check",
    steps=(
        Exercise(name="Reach up", hold_s=20, setup=("Stop at once if it hurts.",)),
        Exercise(name="Bend", hold_s=10),
    ),
)


def speak(text: str) -> Clip:
    return FakeEngine().synthesize(text, VOICE)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Played:
    """A session on a fake device: every block goes through the airtime at the time
    the clock says, the way the player's stream callback does."""

    def __init__(self, routine: Routine = ROUTINE) -> None:
        self.clock = Clock()
        self.session = LiveSession(routine, SAMPLE_RATE, speak=speak)
        self.session.add_clips({t: speak(t) for t in spoken_texts(routine)})
        self.airtime = Airtime(SAMPLE_RATE, LATENCY_S, clock=self.clock)
        self.remote = Remote(self.session, self.airtime, speak, Path("/nonexistent"))

    def play_ms(self, ms: int) -> None:
        for _ in range(ms * SAMPLE_RATE // 1000 // BLOCK):
            before = self.session.position_ms
            block = self.session.read(BLOCK)
            self.airtime.mix(block, before, self.session.position_ms)
            self.clock.now += BLOCK / SAMPLE_RATE

    def play_until(self, text: str) -> None:
        """On until the line `text` has started sounding."""
        timeline = self.session.timeline
        assert timeline is not None
        start = next(e.start_ms for e in timeline.events if e.text == text)
        self.play_ms(start - self.session.position_ms + 100)

    def play_until_quiet(self, ms: int) -> None:
        """On until nothing has sounded for `ms` (the middle of a hold)."""
        quiet_since = self.clock.now
        while self.clock.now - quiet_since < ms / 1000:
            self.play_ms(50)
            if self.airtime.sounding(self.clock.now - 0.05, self.clock.now, 0.0):
                quiet_since = self.clock.now


class FakeRecognizer:
    """Hears what it is told to; records whether it was asked to be strict."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.strict: list[bool] = []

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        self.strict.append(strict)
        return Hearing(self.text, find_phrase(self.text))

    def close(self) -> None:
        pass


def utterance_now(played: Played, length_s: float = 0.9) -> Utterance:
    """An utterance that ended just now."""
    return Utterance(played.clock.now - length_s, played.clock.now, b"\0\0" * 100)


# -- transcripts and the language model ----------------------------------------------


def test_a_transcript_names_the_command_in_it() -> None:
    assert find_phrase("coach_pause") is not None
    assert find_phrase("coach_pause").action is Action.PAUSE  # type: ignore[union-attr]
    assert find_phrase("okay coach_go_on").action is Action.RESUME  # type: ignore[union-attr]
    assert find_phrase("<sil> coach_next you [NOISE]").action is Action.NEXT  # type: ignore[union-attr]
    assert find_phrase("okay coach_go_on you") is None, "amid other words: not a command"
    assert find_phrase("or coach_resume should") is None
    assert find_phrase("coach_next coach_back") is None
    assert find_phrase("coach_resume(2)").action is Action.RESUME  # type: ignore[union-attr]
    assert find_phrase("cope good") is None
    assert find_phrase("coach pause") is None, "the command is one token, not two words"
    assert find_phrase("") is None


def test_every_command_of_the_issue_is_there_once() -> None:
    spoken = [p.spoken for p in PHRASES]
    assert spoken == [
        "coach pause",
        "coach go on",
        "coach resume",
        "coach next",
        "coach back",
        "coach longer",
        "coach shorter",
        "coach stop",
        "coach time",
        "stop stop",
    ]
    assert len({p.token for p in PHRASES}) == len(PHRASES)


def test_stop_said_twice_without_the_wake_word_is_stop() -> None:
    for text in (
        "stop_stop",
        "stop stop",
        "okay stop stop",
        "coach_stop coach_stop",
        "stop_stop(3)",
    ):
        phrase = find_phrase(text)
        assert phrase is not None and phrase.action is Action.STOP, text
    assert find_phrase("stop") is None, "one plain stop is no command"
    assert find_phrase("stop at once") is None
    assert find_phrase("coach_stop coach_next") is None, "commands at odds"
    assert find_phrase("you stop stop it now") is None, "amid other words"
    assert half_of("stop") is not None and half_of("stop").action is Action.STOP  # type: ignore[union-attr]
    assert half_of("still") is half_of("stop"), "how some voices' stop is heard"
    assert half_of("stop it") is None and half_of("") is None and half_of("coach_stop") is None


def test_the_language_model_text_holds_the_routine_words_and_each_command_by_weight() -> None:
    weights = {p.words: 3 for p in PHRASES}
    lines = model_text(["Next: Seated hamstring stretch.", "Stop at once!"], weights).splitlines()
    assert "next seated hamstring stretch" in lines
    assert "stop at once" in lines
    assert lines.count("coach_next") == 3
    assert "couch" in lines, "words that sound like the wake word compete with it"


def test_sentences_are_lower_case_words_only() -> None:
    assert sentences(["Hold it... 20 seconds, don't move!", "—"]) == ["hold it seconds don't move"]


def test_says_word_matches_whole_words_only() -> None:
    assert says_word(["Next: figure four."], "next")
    assert not says_word(["The nextdoor neighbour."], "next")
    assert says_word(["Now go on, gently."], "go on")


# -- the gate: the coach must not obey itself -----------------------------------------


def test_a_command_in_silence_is_heard_with_the_normal_model() -> None:
    played = Played()
    played.play_until(Phrases().hold)
    played.play_until_quiet(1500)
    recognizer = FakeRecognizer("coach_next")
    verdict, _ = judge(utterance_now(played), recognizer, played.remote)
    assert verdict.phrase is not None and verdict.phrase.action is Action.NEXT
    assert recognizer.strict == [False]


def test_while_the_coach_speaks_the_strict_model_decides() -> None:
    played = Played()
    played.play_until("Reach up.")
    recognizer = FakeRecognizer("coach_back")
    verdict, _ = judge(utterance_now(played, 0.5), recognizer, played.remote)
    assert recognizer.strict == [True]
    assert verdict.phrase is not None, "a command the coach is not saying still counts"


def test_the_coach_saying_the_word_is_not_a_command() -> None:
    played = Played()
    played.play_until("Stop at once if it hurts.")
    verdict, hearing = judge(
        utterance_now(played, 0.5), FakeRecognizer("coach_stop"), played.remote
    )
    assert verdict.phrase is None
    assert verdict.reason == "the coach's own words"
    assert hearing is not None and hearing.phrase is not None


def test_the_echo_of_a_line_counts_just_after_it() -> None:
    played = Played()
    played.play_until("Stop at once if it hurts.")
    played.play_ms(3000)  # the line (100 ms a word here) is over; its echo may not be
    end = played.airtime.sounding(0, played.clock.now - 2.0, 0.0)[-1]
    heard_until = end.at_s + end.frames / SAMPLE_RATE + LATENCY_S
    late = Utterance(heard_until - 0.5, heard_until + 0.2, b"\0\0")
    verdict, _ = judge(late, FakeRecognizer("coach_stop"), played.remote)
    assert verdict.reason == "the coach's own words"
    later = Utterance(heard_until + 1.0, heard_until + 1.8, b"\0\0")
    assert judge(later, FakeRecognizer("coach_stop"), played.remote)[0].phrase is not None


def test_an_answer_the_coach_speaks_is_its_own_words_too() -> None:
    played = Played()
    played.play_until(Phrases().hold)
    played.play_until_quiet(1500)
    played.remote.say("Time to stop.")
    played.play_ms(200)
    verdict, _ = judge(utterance_now(played, 0.2), FakeRecognizer("coach_time"), played.remote)
    assert verdict.reason == "the coach's own words"


def test_stop_then_stop_in_two_utterances_close_together_is_stop() -> None:
    played = Played()
    played.play_until(Phrases().hold)
    played.play_until_quiet(1500)
    first = utterance_now(played, 0.4)
    heard = judge(first, FakeRecognizer("stop"), played.remote)
    assert heard[0].phrase is None, "one plain stop is no command"
    played.play_ms(900)  # a pause longer than the voice activity window
    verdict, _ = judge(
        utterance_now(played, 0.4), FakeRecognizer("stop"), played.remote, (first, heard[1])
    )
    assert verdict.phrase is not None and verdict.phrase.action is Action.STOP
    played.play_ms(1500)
    late, _ = judge(
        utterance_now(played, 0.4), FakeRecognizer("stop"), played.remote, (first, heard[1])
    )
    assert late.phrase is None, "too far apart"
    other, _ = judge(
        utterance_now(played, 0.4), FakeRecognizer("stop"), played.remote, (first, None)
    )
    assert other.phrase is None, "nothing was heard before"


class HearsMore:
    """pocketsphinx as it hears a quiet "stop stop" the detector began at its second
    "stop": one "stop" in the utterance, both with the audio before it."""

    def __init__(self, with_lead_in: str = "stop_stop") -> None:
        self.with_lead_in = with_lead_in
        self.heard: list[tuple[int, bool]] = []

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        self.heard.append((len(pcm), strict))
        text = self.with_lead_in if pcm.startswith(LEAD_IN) else "stop"
        return Hearing(text, find_phrase(text))

    def close(self) -> None:
        pass


LEAD_IN = b"\1\0" * int(LEAD_IN_S * listen.SAMPLE_RATE)


def test_one_stop_alone_is_heard_again_with_the_audio_before_it() -> None:
    played = Played()
    played.play_until(Phrases().hold)
    played.play_until_quiet(1500)
    utterance = replace(utterance_now(played, 0.4), lead_in=LEAD_IN)
    recognizer = HearsMore()
    verdict, hearing = judge(utterance, recognizer, played.remote)
    assert verdict.phrase is not None and verdict.phrase.spoken == "stop stop"
    assert hearing is not None and hearing.text == "stop_stop"
    assert recognizer.heard == [(200, False), (len(LEAD_IN) + 200, False)]
    # Still one "stop" with the audio before it, or another command: no command.
    for heard_then in ("stop", "coach_next"):
        verdict, hearing = judge(utterance, HearsMore(heard_then), played.remote)
        assert verdict.phrase is None and hearing is not None and hearing.text == "stop"
    # Nothing recorded before the utterance: heard once.
    recognizer = HearsMore()
    verdict, _ = judge(utterance_now(played, 0.4), recognizer, played.remote)
    assert verdict.phrase is None and len(recognizer.heard) == 1


def test_a_stop_heard_with_the_audio_before_it_is_checked_against_the_coach_then() -> None:
    played = Played()
    played.play_until("Stop at once if it hurts.")
    played.play_until_quiet(600)  # the line ended just before the utterance's lead-in
    utterance = replace(utterance_now(played, 0.3), lead_in=LEAD_IN)
    recognizer = HearsMore()
    verdict, _ = judge(utterance, recognizer, played.remote)
    assert verdict.reason == "the coach's own words"
    assert recognizer.heard[0][1] is False, "the utterance alone is after the echo"
    assert recognizer.heard[-1][1] is True, "heard again with the strict model"


def test_the_coach_saying_stop_is_not_stop_stop() -> None:
    played = Played()
    played.play_until("Stop at once if it hurts.")
    verdict, _ = judge(utterance_now(played, 0.5), FakeRecognizer("stop_stop"), played.remote)
    assert verdict.reason == "the coach's own words"
    first = utterance_now(played, 0.3)
    heard = judge(first, FakeRecognizer("stop"), played.remote)[1]
    played.play_ms(500)
    verdict, _ = judge(
        utterance_now(played, 0.3), FakeRecognizer("stop"), played.remote, (first, heard)
    )
    assert verdict.reason == "the coach's own words"


def test_an_utterance_too_long_for_a_command_is_not_decoded() -> None:
    played = Played()
    recognizer = FakeRecognizer("coach_stop")
    verdict, hearing = judge(Utterance(1.0, 5.0, b"", too_long=True), recognizer, played.remote)
    assert verdict.phrase is None and hearing is None and recognizer.strict == []


# -- carrying commands out ------------------------------------------------------------


def test_pause_pauses_and_go_on_resumes_each_only_once() -> None:
    played = Played()
    played.play_ms(1000)
    by_action = {p.action: p for p in PHRASES}
    carry_out(by_action[Action.PAUSE], played.remote)
    assert played.session.status().paused
    carry_out(by_action[Action.PAUSE], played.remote)
    assert played.session.status().paused, "pause is not a toggle by voice"
    carry_out(by_action[Action.RESUME], played.remote)
    assert not played.session.status().paused
    carry_out(by_action[Action.RESUME], played.remote)
    assert not played.session.status().paused


def test_stop_quits_the_way_q_does_and_is_acknowledged() -> None:
    played = Played()
    played.play_ms(500)
    carry_out(next(p for p in PHRASES if p.action is Action.STOP), played.remote)
    assert played.session.quit_requested and played.session.finished
    played.play_ms(100)
    tone = played.airtime.sounding(0, played.clock.now, 0.0)
    assert tone, "the acknowledgement plays even as the routine stops"


def test_next_moves_on_a_step() -> None:
    played = Played()
    played.play_ms(500)
    carry_out(next(p for p in PHRASES if p.action is Action.NEXT), played.remote)
    assert played.session.status().step == 1
    carry_out(next(p for p in PHRASES if p.action is Action.NEXT), played.remote)
    assert played.session.status().step == 2


def test_time_says_how_long_is_left_in_the_hold() -> None:
    played = Played()
    played.play_until(Phrases().hold)
    played.play_ms(5000)
    carry_out(next(p for p in PHRASES if p.action is Action.TIME), played.remote)
    played.play_ms(100)
    said = [s.said for s in played.airtime.sounding(0, played.clock.now, 1.0) if s.said]
    assert said and said[0].endswith("seconds left."), said


# -- the airtime ----------------------------------------------------------------------


def test_short_sounds_are_mixed_in_one_after_the_other() -> None:
    clock = Clock()
    airtime = Airtime(SAMPLE_RATE, LATENCY_S, clock=clock)
    tone = ack_tone(SAMPLE_RATE)
    airtime.play(tone)
    airtime.play(tone)
    out = np.concatenate(
        [airtime.mix(np.zeros(BLOCK, dtype="<i2"), 0, 0) for _ in range(2 * tone.size // BLOCK + 2)]
    )
    assert np.array_equal(out[: 2 * tone.size], np.concatenate([tone, tone]))
    assert not out[2 * tone.size :].any()


def test_a_block_counts_as_heard_from_its_hand_over_until_the_device_played_it() -> None:
    clock = Clock()
    airtime = Airtime(SAMPLE_RATE, LATENCY_S, clock=clock)
    loud = np.full(BLOCK, 5000, dtype="<i2")
    airtime.mix(loud, 0, 50)
    block_s = BLOCK / SAMPLE_RATE
    assert airtime.sounding(clock.now + block_s + LATENCY_S - 0.01, clock.now + 5, 0.0)
    assert not airtime.sounding(clock.now + block_s + LATENCY_S + 0.01, clock.now + 5, 0.0)
    assert airtime.sounding(clock.now + block_s + LATENCY_S + 0.01, clock.now + 5, 0.1)
    airtime.mix(np.zeros(BLOCK, dtype="<i2"), 50, 100)
    assert len(airtime.sounding(0, clock.now + 5, 0.0)) == 1, "silence is not on the air"


# -- the listener's refusals and the combination ----------------------------------------


@contextmanager
def no_microphone(_on_block: object) -> Iterator[None]:
    raise ListenError("no microphone to listen to (no default input device)")
    yield  # pragma: no cover


def test_no_microphone_is_one_line_and_playback_goes_on() -> None:
    lines: list[str] = []
    listener = Listener(
        lines.append, make_recognizer=lambda _t: FakeRecognizer(""), blocks=no_microphone
    )
    with listener(Played().remote) as on:
        assert not on
    assert len(lines) == 1 and "no microphone" in lines[0] and "keys" in lines[0]
    assert listener.note() == ""


def test_a_routine_in_another_language_is_one_line() -> None:
    lines: list[str] = []
    german = Routine(title="Dehnen", steps=(Exercise(name="Strecken", hold_s=10),), language="de")

    def unused(_on_block: object) -> Iterator[None]:
        raise AssertionError("the microphone is not opened")

    listener = Listener(lines.append, make_recognizer=lambda _t: FakeRecognizer(""), blocks=unused)  # type: ignore[arg-type]
    with listener(Played(german).remote) as on:
        assert not on
    assert len(lines) == 1 and "English" in lines[0] and "'de'" in lines[0]


def test_no_recognizer_is_one_line() -> None:
    lines: list[str] = []

    @contextmanager
    def silent(on_block: object) -> Iterator[None]:
        yield

    def missing(_texts: Sequence[str]) -> FakeRecognizer:
        raise ListenError("voice commands need pocketsphinx: pip install 'voice-coach[listen]'")

    listener = Listener(lines.append, make_recognizer=missing, blocks=silent)
    with listener(Played().remote):
        pass
    assert len(lines) == 1 and "pip install" in lines[0]


def test_combined_controls_enter_all_and_are_on_if_any_is() -> None:
    entered: list[str] = []

    def source(name: str, on: bool):  # type: ignore[no-untyped-def]
        @contextmanager
        def controls(_remote: Remote) -> Iterator[bool]:
            entered.append(name)
            yield on
            entered.append(f"/{name}")

        return controls

    with combined(source("keys", False), source("voice", True))(Played().remote) as on:
        assert on and entered == ["keys", "voice"]
    assert entered == ["keys", "voice", "/voice", "/keys"]
    with combined(source("keys", False))(Played().remote) as on:
        assert not on


def test_a_remote_is_a_plain_handler_for_the_keys() -> None:
    played = Played()
    played.remote(Command.PAUSE)
    assert played.session.status().paused


def test_the_profile_can_turn_listening_on_and_the_command_line_wins(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    choices = Choices(profile=profile)
    profile.write_text("defaults: {hold: 30}\n")
    assert not listens("sciatica-relief", choices)
    profile.write_text("defaults: {listen: true}\nroutines:\n  walking: {listen: false}\n")
    assert listens("sciatica-relief", choices)
    assert not listens("walking", choices), "the routine's section over the defaults"
    assert not listens("sciatica-relief", choices, asked=False), "--no-listen wins"
    assert listens("walking", choices, asked=True), "--listen wins"
    profile.write_text("defaults: {listen: maybe}\n")
    assert not listens("sciatica-relief", choices), "make_plan reports a bad profile"
    with pytest.raises(ValidationError, match="listen"):
        make_plan("sciatica-relief", choices)


class DyingRecognizer:
    """A recognizer whose process has gone: every utterance raises, as
    `RecognizerProcess` does then."""

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        raise ListenError("the recognizer process ended")

    def close(self) -> None:
        pass


def test_a_recognizer_that_dies_mid_play_is_one_line_and_playback_goes_on() -> None:
    lines: list[str] = []
    listener = Listener(lines.append, make_recognizer=lambda _t: DyingRecognizer())
    audio: queue.Queue[tuple[bytes, float] | None] = queue.Queue()
    rng = np.random.default_rng(0)
    rate = listen.SAMPLE_RATE
    quiet = rng.normal(0, 30, rate)
    loud = rng.normal(0, 8000, rate // 2)
    samples = np.concatenate([quiet, loud, quiet, quiet]).astype("<i2")
    block = int(BLOCK_S * rate)
    for i in range(0, samples.size, block):
        audio.put((samples[i : i + block].tobytes(), (i + block) / rate))
    audio.put(None)
    listener._work(audio, Played().remote)  # returns: no exception escapes
    assert lines == ["the recognizer process ended; voice commands are off, the keys still work"]
    assert not listener.listening


def test_the_recognizer_process_gone_is_a_listen_error_not_a_traceback() -> None:
    import multiprocessing

    process = RecognizerProcess.__new__(RecognizerProcess)
    process._conn, child = multiprocessing.Pipe()
    child.close()
    with pytest.raises(ListenError, match="the recognizer process ended"):
        process.hear(b"\0\0" * 100, strict=False)
