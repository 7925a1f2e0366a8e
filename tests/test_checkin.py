"""The pain check-in in `play`: transcripts to ratings, the question and its answer as a
state machine on a fake clock, keys and voice handing answers in, and the player asking
before and after the routine on a fake device.

The real recognizer on a real (virtual) microphone: integration/test_listen_real.py.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_RATE
from test_listen import Played, utterance_now
from test_player import ROUTINE, FakeDevice, cache, onsets

from voice_coach.live.checkin import (
    ANSWER_WAIT_S,
    TEN_WINDOW_S,
    UNCLEAR,
    YES,
    Answer,
    CheckIn,
    CheckIns,
    Desk,
    Keys,
    Spoken,
    Stop,
    ask,
    checkin_texts,
    rating_in,
)
from voice_coach.live.listen import (
    PHRASES,
    SHAPED_STOP_LEAD,
    Action,
    Ears,
    Hearing,
    Listener,
    judge_answer,
    second_ear_command,
    shaped_like_coach_stop,
    stop_enough,
    stop_over_command,
    stop_phrase,
    written_command,
)
from voice_coach.live.player import PlayResult, play
from voice_coach.live.remote import Remote
from voice_coach.live.session import Status
from voice_coach.live.stream import Output, Source
from voice_coach.live.whisper import (
    SPEEDS,
    STOP_LEAD,
    STOP_WOKEN,
    RatingOdds,
    StopOdds,
    agreed,
    best_woken,
    first_two_words,
    rating_of,
    resampled,
    said_over,
    stop_heard,
    stop_in,
    words_of,
)
from voice_coach.phrases import ENGLISH

QUESTION = "How is your pain now, from zero to ten?"


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("four", 4),
        ("zero", 0),
        ("ten", 10),
        ("no pain", 0),
        ("it's about three", 3),
        ("my pain is seven", 7),
        ("four out of ten", 4),
        ("eight(2)", 8),
        ("<s> six </s>", 6),
        ("four five", UNCLEAR),
        ("how is your pain now from zero to ten", UNCLEAR),
        ("the weather is nice", UNCLEAR),
        ("coach_pause", UNCLEAR),
        ("yes", YES),
        ("unclear: yes", YES),  # whisper's words, no rating in them (Ears.hear_answer)
        ("that's right", YES),
        ("yeah", YES),
        ("unclear: yes please", UNCLEAR),
        ("yes ten", UNCLEAR),
        ("unclear: hmm", UNCLEAR),
        ("", None),
        ("[NOISE]", None),
    ],
)
def test_a_transcript_is_one_rating_unclear_or_nothing(text: str, rating: object) -> None:
    assert rating_in(text) == rating


def test_the_setting_says_when_to_ask() -> None:
    assert CheckIns.of("after") == CheckIns(before=False, after=True)
    assert CheckIns.of("before") == CheckIns(before=True, after=False)
    assert CheckIns.of("both") == CheckIns(before=True, after=True)
    assert not CheckIns.of("off").any


# -- the state machine ------------------------------------------------------------------


def test_one_digit_is_the_rating_and_is_said_back() -> None:
    machine = CheckIn(ENGLISH)
    assert machine.start(0.0) == [QUESTION]
    assert machine.keys(b"3", 2.0) == ["Pain three. Noted."]
    assert (machine.done, machine.rating, machine.why) == (True, 3, "answered")
    assert machine.keys(b"5", 2.5) == [] and machine.rating == 3


def test_one_then_zero_within_the_window_is_ten() -> None:
    machine = CheckIn(ENGLISH)
    machine.start(0.0)
    assert machine.keys(b"1", 1.0) == [] and not machine.done
    assert "1…" in machine.note(1.2)
    assert machine.tick(1.0 + TEN_WINDOW_S - 0.1) == []
    assert machine.keys(b"0", 1.0 + TEN_WINDOW_S - 0.05) == ["Pain ten. Noted."]
    assert machine.rating == 10
    both = CheckIn(ENGLISH)
    both.start(0.0)
    assert both.keys(b"10", 1.0) == ["Pain ten. Noted."]


def test_one_alone_is_one_after_the_window_or_at_enter() -> None:
    machine = CheckIn(ENGLISH)
    machine.start(0.0)
    machine.keys(b"1", 1.0)
    assert machine.tick(1.0 + TEN_WINDOW_S) == ["Pain one. Noted."] and machine.rating == 1
    entered = CheckIn(ENGLISH)
    entered.start(0.0)
    assert entered.keys(b"1\r", 1.0) == ["Pain one. Noted."] and entered.rating == 1


def test_enter_skips_q_stops_and_other_keys_do_nothing() -> None:
    skipped = CheckIn(ENGLISH)
    skipped.start(0.0)
    assert skipped.keys(b" x\x1b[C", 1.0) == [] and not skipped.done
    assert skipped.keys(b"\n", 1.0) == []
    assert (skipped.done, skipped.rating, skipped.why, skipped.stop) == (
        True,
        None,
        "skipped",
        False,
    )
    stopped = CheckIn(ENGLISH)
    stopped.start(0.0)
    stopped.keys(b"q", 1.0)
    assert (stopped.done, stopped.rating, stopped.stop) == (True, None, True)


def test_no_answer_in_time_records_nothing_and_says_nothing() -> None:
    machine = CheckIn(ENGLISH)
    machine.start(10.0)
    assert machine.tick(10.0 + ANSWER_WAIT_S - 0.1) == [] and not machine.done
    assert "15 s" in machine.note(10.0)
    assert machine.tick(10.0 + ANSWER_WAIT_S) == []
    assert (machine.done, machine.rating, machine.why) == (True, None, "no answer")


def test_a_spoken_rating_is_taken_and_an_unclear_one_asked_again_once() -> None:
    spoken = CheckIn(ENGLISH)
    spoken.start(0.0)
    assert spoken.heard(4, 3.0) == ["Pain four. Noted."] and spoken.rating == 4
    unclear = CheckIn(ENGLISH)
    unclear.start(0.0)
    again = unclear.heard(UNCLEAR, 10.0)
    assert again == ["Sorry, I did not catch that. Your pain, from zero to ten?"]
    assert unclear.tick(10.0 + ANSWER_WAIT_S - 0.1) == [] and not unclear.done  # waits anew
    assert unclear.heard(UNCLEAR, 12.0) == ["Nothing noted."]
    assert (unclear.done, unclear.rating, unclear.why) == (True, None, "unclear")
    mended = CheckIn(ENGLISH)
    mended.start(0.0)
    mended.heard(UNCLEAR, 1.0)
    assert mended.heard(0, 2.0) == ["Pain zero. Noted."] and mended.rating == 0


CONFIRM_TEN = "Did you say ten? Say yes to note it."


def test_a_spoken_ten_is_asked_back_and_noted_on_a_yes() -> None:
    machine = CheckIn(ENGLISH)
    machine.start(0.0)
    assert machine.heard(10, 3.0) == [CONFIRM_TEN]
    assert not machine.done and machine.rating is None
    assert machine.note(3.0).startswith("pain 10? say yes")
    assert machine.tick(3.0 + ANSWER_WAIT_S - 0.1) == []  # waits anew
    assert machine.heard(YES, 5.0) == ["Pain ten. Noted."]
    assert (machine.done, machine.rating, machine.why) == (True, 10, "answered")


@pytest.mark.parametrize(
    ("replies", "said", "rating", "why"),
    [
        pytest.param([8], ["Pain eight. Noted."], 8, "answered", id="another-number"),
        pytest.param([10, YES], [CONFIRM_TEN, "Pain ten. Noted."], 10, "answered", id="10-yes"),
        pytest.param([UNCLEAR, YES], [CONFIRM_TEN, "Pain ten. Noted."], 10, "answered", id="?-yes"),
        pytest.param([10, 10], [CONFIRM_TEN, "Nothing noted."], None, "unclear", id="10-10"),
        pytest.param([UNCLEAR, UNCLEAR], [CONFIRM_TEN, "Nothing noted."], None, "unclear", id="??"),
        pytest.param([10, 7], [CONFIRM_TEN, "Pain seven. Noted."], 7, "answered", id="10-7"),
    ],
)
def test_what_follows_a_ten_asked_back_is_what_is_noted(
    replies: list[Answer], said: list[str], rating: int | None, why: str
) -> None:
    """A yes notes it; another number is noted instead; the ten again or anything else is
    asked back once more, then nothing is noted: a sound heard as ten twice is no ten."""
    machine = CheckIn(ENGLISH)
    machine.start(0.0)
    machine.heard(10, 3.0)
    lines = [line for n, reply in enumerate(replies) for line in machine.heard(reply, 4.0 + n)]
    assert lines == said
    assert (machine.done, machine.rating, machine.why) == (True, rating, why)


@pytest.mark.parametrize(
    ("finish", "rating", "why"),
    [
        pytest.param(lambda m: m.tick(3.0 + ANSWER_WAIT_S), None, "no answer", id="silence"),
        pytest.param(lambda m: m.keys(b"9", 5.0), 9, "answered", id="key"),
        pytest.param(lambda m: m.keys(b"10", 5.0), 10, "answered", id="keys-10"),
        pytest.param(lambda m: m.keys(b"\r", 5.0), None, "skipped", id="enter"),
    ],
)
def test_keys_and_time_end_a_ten_asked_back_as_ever(
    finish: Callable[[CheckIn], list[str]], rating: int | None, why: str
) -> None:
    machine = CheckIn(ENGLISH)
    machine.start(0.0)
    machine.heard(10, 3.0)
    finish(machine)
    assert (machine.done, machine.rating, machine.why) == (True, rating, why)


def test_ten_by_keys_is_taken_as_typed_and_a_yes_alone_is_no_answer() -> None:
    typed = CheckIn(ENGLISH)
    typed.start(0.0)
    assert typed.keys(b"10", 1.0) == ["Pain ten. Noted."]
    yes = CheckIn(ENGLISH)
    yes.start(0.0)
    assert yes.heard(YES, 1.0) == ["Sorry, I did not catch that. Your pain, from zero to ten?"]
    unclear_first = CheckIn(ENGLISH)
    unclear_first.start(0.0)
    unclear_first.heard(UNCLEAR, 1.0)
    assert unclear_first.heard(10, 2.0) == [CONFIRM_TEN]  # still asked back
    assert unclear_first.heard(YES, 3.0) == ["Pain ten. Noted."]
    for rating in range(10):
        machine = CheckIn(ENGLISH)
        machine.start(0.0)
        assert machine.heard(rating, 1.0) == [f"Pain {ENGLISH.numbers(rating)}. Noted."]


def test_every_line_a_check_in_says_is_listed_for_synthesis() -> None:
    texts = checkin_texts(ENGLISH)
    assert QUESTION in texts and "Pain ten. Noted." in texts and "Nothing noted." in texts
    assert CONFIRM_TEN in texts
    assert len(texts) == len(set(texts)) == 15


# -- asking: the desk and the loop --------------------------------------------------------


class FakeClock:
    def __init__(self, step_s: float = 0.1) -> None:
        self.now, self.step_s = 0.0, step_s

    def __call__(self) -> float:
        self.now += self.step_s
        return self.now


def test_answers_are_taken_only_while_a_question_is_open() -> None:
    desk = Desk()
    assert not desk.hand_in(Keys(b"4")) and desk.take(0.0) is None
    desk.open()
    assert desk.is_open and desk.hand_in(Keys(b"4"))
    assert desk.take(0.0) == Keys(b"4")
    desk.close()
    assert not desk.hand_in(Spoken(4, "four"))


def test_ask_says_the_question_takes_the_answer_and_waits_until_it_is_said() -> None:
    desk = Desk()
    said: list[str] = []
    notes: list[str] = []
    sounding = iter([True, True, False])

    def say(line: str) -> None:
        said.append(line)
        if line == QUESTION:
            desk.hand_in(Spoken(6, "six"))

    asked = ask(CheckIn(ENGLISH), desk, say, lambda: not next(sounding), notes.append, FakeClock())
    assert (asked.rating, asked.stop, asked.why) == (6, False, "answered")
    assert said == [QUESTION, "Pain six. Noted."] and notes[-1] == "pain noted: 6"
    assert not desk.is_open and next(sounding, None) is None  # waited until it was heard


def test_ask_gives_up_after_the_wait_and_stop_stops() -> None:
    desk = Desk()
    asked = ask(CheckIn(ENGLISH), desk, lambda _l: None, lambda: True, clock=FakeClock(1.0))
    assert (asked.rating, asked.why) == (None, "no answer")
    stopping = Desk()
    asked = ask(
        CheckIn(ENGLISH),
        stopping,
        lambda line: stopping.hand_in(Stop()) and None,
        lambda: True,
        clock=FakeClock(),
    )
    assert (asked.rating, asked.stop, asked.why) == (None, True, "stopped")


# -- the voice: judging an answer against the coach's own sound ----------------------


class AnswerRecognizer:
    """Hears what it is told to, with an answer model; records which model it used."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.used: list[str] = []

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        self.used.append("strict" if strict else "normal")
        return Hearing(self.text, None)

    def hear_answer(self, pcm: bytes) -> str:
        self.used.append("answer")
        return self.text

    def close(self) -> None:
        pass


def test_an_answer_in_silence_is_handed_in_through_the_answer_model() -> None:
    played = Played()
    recognizer = AnswerRecognizer("four")
    played.clock.now += 5.0  # nothing sounded for a while
    handed, reason, text = judge_answer(utterance_now(played), recognizer, played.remote)
    assert (handed, reason, text) == (Spoken(4, "four"), "rating 4", "four")
    assert recognizer.used == ["answer"]


def test_the_coachs_own_question_in_the_microphone_never_answers() -> None:
    played = Played()
    played.remote.say(QUESTION)  # says "zero" and "ten"
    played.play_ms(300)
    for heard_as in ("zero", "ten", "how is your pain now from zero to ten"):
        recognizer = AnswerRecognizer(heard_as)
        handed, reason, _ = judge_answer(utterance_now(played, 0.2), recognizer, played.remote)
        assert (handed, reason) == (None, "the coach's own words")
        assert recognizer.used == []  # not even decoded


def test_coach_stop_stops_other_commands_are_not_answers() -> None:
    played = Played()
    played.clock.now += 5.0
    handed, _, _ = judge_answer(
        utterance_now(played), AnswerRecognizer("coach_stop"), played.remote
    )
    assert handed == Stop()
    handed, reason, _ = judge_answer(
        utterance_now(played), AnswerRecognizer("coach_next"), played.remote
    )
    assert (handed, reason) == (None, "a command, not an answer")
    handed, reason, _ = judge_answer(
        utterance_now(played), AnswerRecognizer("four five"), played.remote
    )
    assert (handed, reason) == (Spoken(UNCLEAR, "four five"), "unclear")
    handed, reason, _ = judge_answer(
        utterance_now(played), AnswerRecognizer("unclear: yes"), played.remote
    )
    assert (handed, reason) == (Spoken(YES, "unclear: yes"), "yes")


# -- the two ears: pocketsphinx for commands, whisper for ratings and "stop" ------------


FAR = -30.0
"""A transcript far less likely than any rating: nothing for a rating to beat."""


class FakeWhisper:
    """Scores, a transcript and the odds of a stop as told; counts what it was asked.
    `again`: the scores at each of the other speeds, in turn (else `scores` again)."""

    def __init__(
        self,
        scores: list[float] | None = None,
        transcript: str = "",
        stop: float = -30.0,
        again: list[list[float]] | None = None,
        command: float = -3.0,
        woken_stop: float | None = None,
    ) -> None:
        self.scores = scores if scores is not None else [-9.0] * 11
        self.woken_stop = stop if woken_stop is None else woken_stop
        self.again = list(again or [])
        self.end = 0.0
        self.text = transcript
        self.stop = stop
        self.command = command
        self.asked: list[str] = []
        self.lengths: list[int] = []
        self.enough: list[float | None] = []

    def rating_odds(self, pcm: bytes) -> RatingOdds:
        self.asked.append("rating")
        self.lengths.append(len(pcm))
        asked_again = self.asked.count("rating") - 2
        if asked_again < 0 or not self.again:
            return RatingOdds(tuple(self.scores), self.end, FAR)
        scores = self.again[asked_again]
        return RatingOdds(tuple(scores), self.end, FAR)

    def stop_odds(self, pcm: bytes, enough: float | None = None) -> StopOdds:
        self.asked.append("stop")
        self.enough.append(enough)
        twice = -5.0 if said_over(self.text) else math.inf  # as likely as the transcript
        best = max(self.stop, self.woken_stop)
        return StopOdds(best, self.woken_stop == best, -5.0, self.text, twice, self.woken_stop)

    def transcript(self, pcm: bytes) -> str:
        self.asked.append("transcript")
        return self.text

    def command_score(self, pcm: bytes, words: str) -> float:
        self.asked.append(f"command {words}")
        return self.command


def scores_for(best: int, lead: float) -> list[float]:
    """`best` at -1, one rival `lead` under it, every other rating far below."""
    scores = [-8.0] * 11
    scores[best] = -1.0
    scores[(best + 1) % 11] = -1.0 - lead
    return scores


SHORT = b"\0\0" * 16000  # 1 s: with the audio kept around it, 0.5 s of speech
LONG = b"\0\0" * 16000 * 4


@pytest.mark.parametrize(
    ("scores", "rating"),
    [
        (scores_for(4, 3.0), 4),
        (scores_for(0, 2.0), 0),
        (scores_for(10, 2.5), 10),
        (scores_for(7, 1.9), None),  # too close to the next: asked again
        ([-1.0] * 11, None),
        ([-7.4, *([-12.0] * 10)], None),  # leads, but nothing is likely: other speech
    ],
)
def test_a_rating_counts_only_when_it_leads_every_other_by_the_margin(
    scores: list[float], rating: int | None
) -> None:
    assert rating_of(RatingOdds(tuple(scores), 0.0, FAR)) == rating


def test_a_rating_the_answer_goes_on_after_is_no_rating() -> None:
    # "hang on" heard as "ten on": ten leads, but the answer does not end there.
    assert rating_of(RatingOdds(tuple(scores_for(10, 3.0)), -6.0, FAR)) is None
    assert rating_of(RatingOdds(tuple(scores_for(10, 3.0)), -0.5, FAR)) == 10


def test_a_rating_counts_only_when_as_likely_as_what_whisper_wrote() -> None:
    # espeak-ng's "hmm": ten leads the ratings, but "Damn." is likelier than "Ten."
    odds = RatingOdds(tuple(scores_for(10, 3.0)), end=-0.5, transcript=-1.2)
    assert rating_of(odds) is None
    assert rating_of(odds, lead=0.5) == 10
    # "Nine." itself, or as likely as whisper's transcript: taken.
    assert rating_of(RatingOdds(tuple(scores_for(9, 3.0)), -0.5, -1.5)) == 9
    # A transcript longer than an answer: no rating.
    assert rating_of(RatingOdds(tuple(scores_for(9, 3.0)), -0.5, math.inf)) is None


@pytest.mark.parametrize(
    ("ratings", "rating"),
    [
        ([None, 9, None], 9),
        ([9, 9, None], 9),
        ([9, 7, None], None),  # the speeds disagree: asked again
        ([None, None, None], None),
        ([], None),
    ],
)
def test_a_rating_heard_at_other_speeds_counts_when_they_agree(
    ratings: list[int | None], rating: int | None
) -> None:
    assert agreed(ratings) == rating


def test_an_answer_resampled_plays_faster_and_higher() -> None:
    rate, hz = 16000, 500.0
    t = np.arange(rate) / rate
    pcm = np.round(8000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()
    for speed in (1.08, 0.92):
        played = np.frombuffer(resampled(pcm, speed), dtype="<i2").astype(np.float64)
        assert played.size == int(rate / speed)
        peak = np.argmax(np.abs(np.fft.rfft(played))) * rate / played.size
        assert peak == pytest.approx(hz * speed, abs=2.0)
    assert resampled(pcm, 1.0) is pcm
    with pytest.raises(ValueError, match="above 0"):
        resampled(pcm, 0.0)


def test_a_rating_needs_one_score_per_rating() -> None:
    with pytest.raises(ValueError, match="one score per rating"):
        rating_of(RatingOdds((0.0,) * 10, 0.0, FAR))


@pytest.mark.parametrize(
    ("transcript", "stop"),
    [
        ("Coach, stop.", True),
        ("coach stop", True),
        ("Stop, stop.", True),
        ("Stop! Stop! Stop!", True),
        ("Stop.", False),  # once: everyday speech says it
        ("bus stop", False),
        ("Stop it.", False),
        ("Don't stop now.", False),
        ("coach stop the music", False),
        ("", False),
    ],
)
def test_whisper_stops_for_coach_stop_or_stop_twice_alone(transcript: str, stop: bool) -> None:
    assert stop_in(transcript) is stop
    phrase = stop_phrase(StopOdds(-30.0, True, -5.0, transcript))
    assert (phrase is not None) is stop
    if phrase is not None:
        assert phrase.action.value == "stop"
        assert phrase.woken is transcript.lower().startswith("coach")


@pytest.mark.parametrize(
    ("stop", "transcript", "heard"),
    [
        (-8.5, -5.3, True),  # "Go, stop." for "coach stop": a stop, less likely
        (-5.5, -6.1, True),  # more likely than whisper's own "Coach Tarp"
        (-15.0, -1.8, False),  # "Coach next"
        (-25.0, -6.6, False),  # unrelated speech
        (-6.0, math.inf, False),  # a transcript longer than a command
    ],
)
def test_whisper_stops_when_a_stop_is_nearly_as_likely_as_what_it_wrote(
    stop: float, transcript: float, heard: bool
) -> None:
    assert stop_heard(StopOdds(stop, True, transcript, "Go, stop."), lead=4.0) is heard


@pytest.mark.parametrize(
    ("transcript", "over"),
    [
        ("star star.", True),  # en-us+klatt4's slow, quiet "stop stop"
        ("Start, start, start, start, start, start, start,", True),  # whisper in a loop
        ("No, no.", True),
        ("Star.", False),
        ("star start", False),
        ("start start now", False),
        ("", False),
    ],
)
def test_said_over_is_one_word_two_or_more_times(transcript: str, over: bool) -> None:
    assert said_over(transcript) is over


@pytest.mark.parametrize(
    ("transcript", "first"),
    [
        ("start start start start", "start start"),
        ("Star, star, star, star,", "Star, star,"),
        (" star star.", "star star."),
        ("Star.", "Star."),
    ],
)
def test_a_loop_is_scored_as_its_first_two_words(transcript: str, first: str) -> None:
    assert first_two_words(transcript) == first


def test_a_whisper_transcript_reads_as_plain_words() -> None:
    assert words_of("Coach, stop.") == "coach stop"
    assert words_of("4.") == "four" and words_of(" 10 ") == "ten"
    assert words_of("I'm fine") == "i'm fine"


class SphinxHears:
    def __init__(self, text: str) -> None:
        self.text = text

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        from voice_coach.live.listen import find_phrase

        return Hearing(self.text, find_phrase(self.text))

    def close(self) -> None:
        pass


def test_a_stop_pocketsphinx_hears_is_not_asked_of_whisper() -> None:
    whisper = FakeWhisper(transcript="Coach next.")
    hearing = Ears(SphinxHears("coach_stop"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.spoken == "coach stop"
    assert whisper.asked == []


def test_another_command_stands_unless_whisper_writes_a_different_one() -> None:
    for transcript in ("Coach next.", "Go next!", "Coach Mag", ""):
        whisper = FakeWhisper(transcript=transcript)
        hearing = Ears(SphinxHears("coach_next"), whisper).hear(SHORT, strict=False)
        assert hearing.phrase is not None and hearing.phrase.spoken == "coach next"
        # Written out, it stands; else a stop is weighed against it (far less likely).
        weighed = [] if transcript == "Coach next." else ["stop"]  # a stop far behind
        assert whisper.asked == ["transcript", *weighed]
    # "coach pause" taken for "coach longer" by pocketsphinx, written out by whisper.
    whisper = FakeWhisper(transcript="Coach Pause")
    hearing = Ears(SphinxHears("coach_longer"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.spoken == "coach pause"


@pytest.mark.parametrize(
    ("transcript", "command"),
    [
        ("Coach next.", "coach next"),
        ("Coach time", "coach time"),
        ("coach, go on!", "coach go on"),
        ("Coach, stop.", "coach stop"),
        ("Stop! Stop!", "stop stop"),
        ("Go next!", None),
        ("Next.", None),
        ("Coach next, please.", None),
        ("Coach stop the music", None),
        ("The coach is back.", None),
    ],
)
def test_a_transcript_is_a_command_word_for_word_or_none(
    transcript: str, command: str | None
) -> None:
    phrase = written_command(transcript)
    assert (phrase.spoken if phrase else None) == command


def test_a_command_pocketsphinx_missed_is_taken_as_whisper_writes_it() -> None:
    whisper = FakeWhisper(transcript="Coach time")
    hearing = Ears(SphinxHears("caught time"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.spoken == "coach time"
    assert whisper.asked == ["transcript", "stop"]  # one transcript, kept for the odds
    whisper = FakeWhisper(transcript="Go next!")
    assert Ears(SphinxHears("go next"), whisper).hear(SHORT, strict=False).phrase is None


@pytest.mark.parametrize(
    ("transcript", "stop"),
    [("Coach, stop.", "coach stop"), ("Stop! Stop!", "stop stop"), ("Coach stop", "coach stop")],
)
def test_a_command_whisper_writes_as_a_stop_stops(transcript: str, stop: str) -> None:
    # "coach stop" taken for "coach longer" by pocketsphinx would lengthen the hold.
    whisper = FakeWhisper(transcript=transcript)
    hearing = Ears(SphinxHears("coach_longer"), whisper).hear(SHORT, strict=True)
    assert hearing.phrase is not None and hearing.phrase.spoken == stop
    assert hearing.second == transcript and hearing.text == "coach_longer"


@pytest.mark.parametrize(
    ("sphinx", "written", "stop", "strict", "stopped"),
    [
        # 5 behind what whisper wrote: a stop where either ear heard a stop's end
        ("cold still", "Gorge up.", -10.0, False, True),
        ("told stop", "Gorge up.", -10.5, False, True),
        ("cold chest all", "Clutch stop!", -10.9, False, True),
        ("cold still", "Gorge up.", -11.5, False, False),  # 6.5 behind: too unlikely
        ("cold still", "Gorge up.", -10.0, True, False),  # the coach on the air
        ("cold chest all", "Gorge up.", -10.0, False, False),  # neither has the shape
        ("cold chest all", "Bus stop, please.", -10.0, False, False),
    ],
)
def test_a_stop_shaped_like_coach_stop_gets_a_wider_lead(
    sphinx: str, written: str, stop: float, strict: bool, stopped: bool
) -> None:
    whisper = FakeWhisper(transcript=written, stop=stop)  # its transcript at -5
    hearing = Ears(SphinxHears(sphinx), whisper).hear(SHORT, strict=strict)
    assert (hearing.phrase is not None and hearing.phrase.action is Action.STOP) is stopped


@pytest.mark.parametrize(
    ("sphinx", "written", "stop", "woken_stop", "strict", "stopped"),
    [
        # en-gb-scotland+f3's "coach stop": "Coach, stop." 3.4 behind, "stop stop" far
        ("gold just all", "Coach Todd.", -30.0, -8.4, False, True),
        ("<s> cold </s>", "Coach Top", -30.0, -9.5, False, True),
        ("gold just all", "Coach Todd.", -30.0, -11.5, False, False),  # 6.5 behind
        ("gold just all", "Coach Todd.", -30.0, -8.4, True, False),  # the coach on the air
        ("gold just all", "Coach Todd, please.", -30.0, -8.4, False, False),  # a word more
        ("gold just all", "Go Todd.", -30.0, -8.4, False, False),  # no wake word
        # en-029+f4's "coach go on": likeliest as "Stop, stop." 5.5 behind (6.7-7.2
        # offline, within 6 in real time), as "Coach, stop." 9.8 behind.
        ("told long", "Coach Dolan", -10.5, -14.8, False, False),
    ],
)
def test_the_wake_word_and_a_word_is_coach_stop_only_as_coach_stop(
    sphinx: str, written: str, stop: float, woken_stop: float, strict: bool, stopped: bool
) -> None:
    whisper = FakeWhisper(transcript=written, stop=stop, woken_stop=woken_stop)  # at -5
    hearing = Ears(SphinxHears(sphinx), whisper).hear(SHORT, strict=strict)
    assert (hearing.phrase is not None and hearing.phrase.action is Action.STOP) is stopped
    if stopped:
        assert hearing.phrase is not None and hearing.phrase.spoken == "coach stop"
    assert whisper.enough == [STOP_LEAD]  # every "coach stop" scored, whole


def test_stop_sayings_with_the_wake_word_are_scored_first() -> None:
    # Whisper.stop_odds' `enough` ends scoring at a "stop stop" only with every
    # "coach stop" scored: StopOdds.woken_stop is whole there.
    assert list(STOP_WOKEN) == sorted(STOP_WOKEN, reverse=True)
    assert best_woken([-9.0, -7.0, -8.0, -1.0]) == -7.0
    assert best_woken([-9.0]) == -9.0 and best_woken([]) == -math.inf


@pytest.mark.parametrize(
    ("written", "spoken"), [("Stop, stop, stop.", "stop stop"), ("Coach, stop!", "coach stop")]
)
def test_a_stop_whisper_writes_out_is_taken_without_its_odds(written: str, spoken: str) -> None:
    # en-029+f4's "stop stop", "still until you" to pocketsphinx: its stop odds (six
    # forced decodings, ~0.3 s) would change nothing.
    whisper = FakeWhisper(transcript=written)
    for strict in (False, True):
        hearing = Ears(SphinxHears("still until you"), whisper).hear(SHORT, strict=strict)
        assert hearing.phrase is not None and hearing.phrase.spoken == spoken
        assert hearing.second == written
    assert "stop" not in whisper.asked


@pytest.mark.parametrize(
    ("sphinx", "written", "strict", "enough"),
    [
        ("longing still", "Clorched up", False, SHAPED_STOP_LEAD),  # en-029+f4's "coach stop"
        ("full chest all", "Clutch stop!", False, SHAPED_STOP_LEAD),
        ("longing still", "Clorched up", True, STOP_LEAD),  # the coach on the air
        # Neither has the shape; the wake word and a word counts "coach stop" only.
        ("full chest all", "Coach Todd.", False, STOP_LEAD),
        ("stop at a", "star star.", False, STOP_LEAD),  # "stop" twice: the likeliest counts
        # A command written out wins over a stop that is not within STOP_LEAD.
        ("cold still", "Coach next.", False, STOP_LEAD),
    ],
)
def test_whisper_stops_scoring_stops_where_one_decides(
    sphinx: str, written: str, strict: bool, enough: float
) -> None:
    assert stop_enough(sphinx, written, strict) == enough
    whisper = FakeWhisper(transcript=written)
    Ears(SphinxHears(sphinx), whisper).hear(SHORT, strict=strict)
    assert whisper.enough == [enough]


@pytest.mark.parametrize(
    "scores",
    [
        (-9.5, -4.0, -12.0, -20.0, -20.0),  # one within SHAPED_STOP_LEAD, then one closer
        (-20.0, -12.0, -20.0, -7.0, -10.5),  # one within STOP_LEAD, last but one
        (-20.0, -10.5, -9.5, -20.0, -20.0),  # none within STOP_LEAD
        (-20.0, -12.0, -20.0, -15.0, -11.5),  # none within either
        # "stop stop" within SHAPED_STOP_LEAD, then within STOP_LEAD
        (-20.0, -20.0, -20.0, -10.5, -7.5),
        (-20.0, -10.5, -20.0, -10.0, -20.0),  # "coach stop" within SHAPED_STOP_LEAD only
    ],
)
@pytest.mark.parametrize(
    ("sphinx", "written", "strict"),
    [
        ("longing still", "Clorched up", False),
        ("longing still", "Clorched up", True),
        ("full chest all", "Coach Todd.", False),
        ("stop at a", "star star.", False),
        ("cold still", "Coach next.", False),
    ],
)
def test_a_stop_scored_short_decides_as_every_stop_would(
    scores: tuple[float, ...], sphinx: str, written: str, strict: bool
) -> None:
    # The ways of writing a stop in any order of likelihood, the transcript at -5: the
    # first within `stop_enough` of it decides as the likeliest of all five would.
    transcript = -5.0
    twice = transcript if said_over(written) else math.inf
    best = max(range(len(scores)), key=lambda n: scores[n])
    every = StopOdds(scores[best], STOP_WOKEN[best], transcript, written, twice, best_woken(scores))
    enough = stop_enough(sphinx, written, strict)
    first = next((n for n, s in enumerate(scores) if s >= transcript - enough), None)
    short = every
    if first is not None:
        scored = scores[: first + 1]
        short = StopOdds(
            scores[first], STOP_WOKEN[first], transcript, written, woken_stop=best_woken(scored)
        )
    decided = [second_ear_command(sphinx, odds, strict) for odds in (every, short)]
    assert [d is not None and d.action for d in decided] == [
        decided[0] is not None and decided[0].action
    ] * 2


@pytest.mark.parametrize(
    ("sphinx", "written", "stop", "strict", "stopped"),
    [
        # en-us+klatt4's slow, quiet "stop stop": "stop at a" to pocketsphinx; 4.5 behind
        ("stop at a", "star star.", -9.5, False, True),
        ("<s> stop(2) at </s>", "Start, start, start, start, start, start,", -10.5, False, True),
        ("stock", "star star.", -9.5, False, True),
        ("stop at a", "star star.", -11.5, False, False),  # 6.5 behind: too unlikely
        ("stop at a", "star star.", -9.5, True, False),  # the coach on the air
        ("stop at a", "star start.", -9.5, False, False),  # two words, not one said twice
        ("stop at a", "Star.", -9.5, False, False),
        # One ear alone: a slow "coach go on" that whisper writes in a loop
        ("cold long", "Go, go, go, go, go, go, go,", -9.5, False, False),
        ("saw", "star star.", -9.5, False, False),
        ("at a stop", "star star.", -9.5, False, False),  # the stop is not the first word
    ],
)
def test_stop_said_twice_needs_both_ears_and_gets_a_wider_lead(
    sphinx: str, written: str, stop: float, strict: bool, stopped: bool
) -> None:
    whisper = FakeWhisper(transcript=written, stop=stop)  # its first two words at -5
    hearing = Ears(SphinxHears(sphinx), whisper).hear(SHORT, strict=strict)
    assert (hearing.phrase is not None and hearing.phrase.action is Action.STOP) is stopped
    if stopped:
        assert hearing.phrase is not None and hearing.phrase.spoken == "stop stop"


@pytest.mark.parametrize(
    ("stop", "strict", "command"),
    [(-10.0, False, "coach stop"), (-11.5, False, "coach longer"), (-10.0, True, "coach longer")],
)
def test_a_stop_taken_for_another_command_is_weighed_when_whisper_writes_its_shape(
    stop: float, strict: bool, command: str
) -> None:
    # en-029+Annie's "coach stop": "coach longer" to pocketsphinx, "Gorge, stop!" to whisper.
    whisper = FakeWhisper(transcript="Gorge, stop!", stop=stop)
    hearing = Ears(SphinxHears("coach_longer"), whisper).hear(SHORT, strict=strict)
    assert hearing.phrase is not None and hearing.phrase.spoken == command
    # 5 and 6.5 under the transcript: in the shape's reach or not; no command scored.
    assert whisper.asked == (["transcript"] if strict else ["transcript", "stop"])


@pytest.mark.parametrize(
    ("stop", "command", "strict", "heard"),
    [
        (-5.9, -18.2, False, "coach stop"),  # 12 likelier as a stop, 0.9 under "Cool job!"
        (-10.2, -18.2, False, "coach stop"),  # 8 likelier, 5.2 under
        (-10.3, -18.2, False, "coach longer"),  # 7.9 likelier: not enough
        (-11.5, -20.0, False, "coach longer"),  # 8.5 likelier, but 6.5 under the transcript
        (-5.9, -18.2, True, "coach longer"),  # the coach on the air: its own words
    ],
)
def test_a_stop_whisper_finds_likelier_than_the_command_heard_wins(
    stop: float, command: float, strict: bool, heard: str
) -> None:
    # en-gb-scotland+f3's "coach stop": "coach longer" to pocketsphinx, "Cool job!" to
    # whisper, far likelier as "Coach, stop." than as "Coach longer."
    whisper = FakeWhisper(transcript="Cool job!", stop=stop, command=command)
    hearing = Ears(SphinxHears("coach_longer"), whisper).hear(SHORT, strict=strict)
    assert hearing.phrase is not None and hearing.phrase.spoken == heard
    # The command is scored only where a stop is within reach of the transcript (-5).
    assert ("command longer" in whisper.asked) is (not strict and stop >= -11.0)


@pytest.mark.parametrize(
    ("stop", "command", "margin", "stopped"),
    [
        (-6.0, -18.0, 8.0, True),
        (-6.0, -13.0, 8.0, False),  # "Coach, please." for "coach pause", taken for "go on"
        (-6.0, -13.0, 6.0, True),
        (-10.5, -25.0, 8.0, False),  # 6.5 under the transcript
    ],
)
def test_stop_over_command_weighs_a_stop_against_the_command_and_the_transcript(
    stop: float, command: float, margin: float, stopped: bool
) -> None:
    odds = StopOdds(stop, True, -4.0, "Cool job!")  # the transcript at -4
    phrase = stop_over_command(odds, command, margin)
    assert (phrase.spoken if phrase else None) == ("coach stop" if stopped else None)


@pytest.mark.parametrize(
    ("heard", "written", "shaped"),
    [
        ("cold still", "", True),
        ("<s> told stop(2) </s>", "Gorge up.", True),
        ("gold stock [NOISE]", "", True),
        ("cold chest all", "Clutch, stop!", True),
        ("", "Go stop", True),
        ("hold it still", "Hold it still.", False),
        ("cold help", "Cold help.", False),
        ("still", "Still.", False),
        ("still cold", "Stop it.", False),
        ("", "Don't stop now.", False),
    ],
)
def test_the_shape_of_coach_stop_is_two_words_ending_in_a_stop(
    heard: str, written: str, shaped: bool
) -> None:
    assert shaped_like_coach_stop(heard, written) is shaped


def test_a_stop_close_behind_a_misheard_command_does_not_override_it() -> None:
    # en-us+croak's "coach next": "Coach Nerkst" to whisper, with a stop 5 behind it.
    whisper = FakeWhisper(transcript="Coach Nerkst", stop=-10.0, command=-12.0)
    hearing = Ears(SphinxHears("coach_next"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.spoken == "coach next"


def test_a_stop_nearly_as_likely_does_not_override_another_command() -> None:
    # "coach resume", written "COUCH RISUUM", with a stop close behind: still resume.
    whisper = FakeWhisper(transcript="COUCH RISUUM", stop=-4.0)
    hearing = Ears(SphinxHears("coach_resume"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.spoken == "coach resume"


def test_a_long_utterance_keeps_the_command_pocketsphinx_heard() -> None:
    whisper = FakeWhisper(transcript="Coach, stop.")
    hearing = Ears(SphinxHears("coach_next"), whisper).hear(LONG, strict=False)
    assert hearing.phrase is not None and hearing.phrase.spoken == "coach next"
    assert whisper.asked == []


def test_an_answer_whisper_writes_as_a_stop_stops_the_session() -> None:
    whisper = FakeWhisper(scores_for(7, 3.0), transcript="Stop, stop.")
    answer = Ears(SphinxHears("coach_next"), whisper).hear_answer(SHORT)
    assert answer == "stop_stop"
    whisper = FakeWhisper(scores_for(7, 3.0), transcript="Coach next.")
    assert Ears(SphinxHears("coach_next"), whisper).hear_answer(SHORT) == "coach_next"


def test_whisper_hears_stop_where_pocketsphinx_heard_other_words() -> None:
    whisper = FakeWhisper(transcript="Coach, stop.")
    hearing = Ears(SphinxHears("cold still"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.action.value == "stop"
    whisper = FakeWhisper(transcript="Gorge top.", stop=-7.0)  # odds, not words
    hearing = Ears(SphinxHears("told still"), whisper).hear(SHORT, strict=False)
    assert hearing.phrase is not None and hearing.phrase.action.value == "stop"
    assert hearing.second == "Gorge top."
    whisper = FakeWhisper(transcript="Stop.")
    hearing = Ears(SphinxHears("still"), whisper).hear(SHORT, strict=True)
    assert hearing.phrase is None
    assert hearing.half is not None and hearing.half.words == "stop stop"


def test_an_utterance_too_long_for_stop_is_not_asked_of_whisper() -> None:
    whisper = FakeWhisper(transcript="Coach, stop.")
    hearing = Ears(SphinxHears("a long sentence"), whisper).hear(LONG, strict=False)
    assert hearing.phrase is None and whisper.asked == []


def test_an_answer_is_the_rating_whisper_is_sure_of() -> None:
    whisper = FakeWhisper(scores_for(7, 3.0))
    assert Ears(SphinxHears("ten one"), whisper).hear_answer(SHORT) == "seven"
    assert rating_in("seven") == 7
    assert whisper.asked == ["stop", "rating"]


def test_an_answer_whisper_is_unsure_of_is_asked_again_or_is_nothing() -> None:
    whisper = FakeWhisper(scores_for(9, 1.0), transcript="the eye")
    text = Ears(SphinxHears("no eight"), whisper).hear_answer(SHORT)
    assert rating_in(text) is UNCLEAR
    whisper = FakeWhisper(scores_for(9, 1.0), transcript="")
    assert Ears(SphinxHears("[NOISE]"), whisper).hear_answer(SHORT) == ""


def test_an_unsure_answer_is_heard_again_at_other_speeds() -> None:
    unsure = scores_for(9, 1.0)
    whisper = FakeWhisper(unsure, "I", again=[unsure, scores_for(9, 3.0), unsure])
    assert Ears(SphinxHears("nine"), whisper).hear_answer(SHORT) == "nine"
    assert whisper.asked == ["stop", "rating", "rating", "rating", "rating"]
    assert whisper.lengths[1:] == [len(resampled(SHORT, s)) for s in SPEEDS]
    # The speeds disagree: asked again.
    whisper = FakeWhisper(unsure, "I", again=[scores_for(9, 3.0), scores_for(5, 3.0), unsure])
    assert rating_in(Ears(SphinxHears("nine"), whisper).hear_answer(SHORT)) is UNCLEAR
    # Sure as said: no other speed is asked.
    whisper = FakeWhisper(scores_for(4, 3.0), "Four.")
    assert Ears(SphinxHears("four"), whisper).hear_answer(SHORT) == "four"
    assert whisper.asked == ["stop", "rating"]


def test_stop_during_the_question_stops_by_either_ear() -> None:
    whisper = FakeWhisper(scores_for(4, 3.0))
    assert Ears(SphinxHears("coach_stop"), whisper).hear_answer(SHORT) == "coach_stop"
    assert whisper.asked == []  # pocketsphinx was sure
    whisper = FakeWhisper(scores_for(4, 0.5), transcript="Stop, stop.")
    text = Ears(SphinxHears("still stock"), whisper).hear_answer(SHORT)
    stop = next(p for p in PHRASES if not p.woken)
    assert text == stop.token


def test_the_listener_hands_answers_in_only_while_the_coach_asks() -> None:
    played = Played()
    blocks: list[Callable[[bytes, float], None]] = []

    @contextmanager
    def microphone(on_block: Callable[[bytes, float], None]) -> Iterator[None]:
        blocks.append(on_block)
        yield

    listener = Listener(lambda _l: None, lambda _t: AnswerRecognizer("four"), microphone)
    with listener(played.remote) as on:
        assert on and played.remote.desk.ways == {"voice"}
    # Deciding, as the worker does, on utterances while a question is open.
    played.clock.now += 5.0
    played.remote.desk.open()
    listener._answer(utterance_now(played), AnswerRecognizer("four"), played.remote)
    assert played.remote.desk.take(0.0) == Spoken(4, "four")
    assert listener.answers[-1].verdict.reason == "rating 4"


# -- the player: asking before and after on a fake device ---------------------------------


def answering(keys: bytes, log: list[str] | None = None) -> Callable[[Remote], object]:
    """Controls that can answer (as the keys on a terminal) and type `keys` once the
    coach asks."""

    @contextmanager
    def controls(remote: Remote) -> Iterator[bool]:
        remote.desk.can_take("keys")
        stop = threading.Event()

        def asked() -> bool:
            """The question has sounded and played out, and the routine is ready to go
            on without waiting for its lines (on a fake device that runs free, a wait
            would shift every cue after it)."""
            sent = remote.airtime.sounding(0.0, time.monotonic(), 0.0)
            said = any(s.said == QUESTION for s in sent) and not remote.airtime.busy()
            return said and remote.session.complete

        def typist() -> None:
            while not stop.is_set():
                if remote.desk.is_open and asked() and remote.desk.hand_in(Keys(keys)):
                    if log is not None:
                        log.append(f"typed at {remote.session.position_ms} ms")
                    return
                stop.wait(0.005)

        thread = threading.Thread(target=typist, daemon=True)
        thread.start()
        try:
            yield True
        finally:
            stop.set()
            thread.join(1)

    return controls


def run_with(
    tmp_path: Path, checkins: CheckIns, controls: object
) -> tuple[PlayResult, FakeDevice, list[Status]]:
    device = FakeDevice(gated=True)
    statuses: list[Status] = []

    def open_stream(source: Source) -> Output:
        return Output(device, source, SAMPLE_RATE, clock=device.clock)

    def status(st: Status) -> None:
        statuses.append(st)
        if st.total_ms is not None or st.note:
            device.gate.set()

    result = play(
        ROUTINE,
        cache(tmp_path),
        open_stream,
        on_status=status,
        controls=controls,  # type: ignore[arg-type]
        checkins=checkins,
    )
    return result, device, statuses


def test_after_the_routine_the_coach_asks_and_the_answer_is_kept(tmp_path: Path) -> None:
    result, device, statuses = run_with(tmp_path, CheckIns(after=True), answering(b"4"))
    assert result.finished and result.pain_after == 4 and result.pain_before is None
    assert any(s.note.startswith("pain now, 0-10?") for s in statuses)
    plain, plain_device, _ = run_with(tmp_path, CheckIns(), answering(b"4"))
    assert plain.pain_after is None
    heard, routine = onsets(device.samples()), onsets(plain_device.samples())
    # The routine as without a check-in, then the question and the answer said back.
    assert heard[: len(routine)] == routine and len(heard) == len(routine) + 2
    question = len(ENGLISH.pain_question.split()) * 100 * SAMPLE_RATE // 1000
    assert heard[-1] - heard[-2] >= question


def test_before_the_routine_it_waits_for_the_answer(tmp_path: Path) -> None:
    log: list[str] = []
    result, device, _ = run_with(tmp_path, CheckIns(before=True), answering(b"10", log))
    assert result.finished and result.pain_before == 10 and result.pain_after is None
    assert log == ["typed at 500 ms"]  # the routine had not moved from its start
    _, plain_device, _ = run_with(tmp_path, CheckIns(), answering(b"4"))
    heard, routine = onsets(device.samples()), onsets(plain_device.samples())
    assert len(heard) == len(routine) + 2
    shift = heard[2] - routine[0]
    assert [h - shift for h in heard[2:]] == routine


def test_q_while_asked_before_stops_the_routine(tmp_path: Path) -> None:
    result, _, _ = run_with(tmp_path, CheckIns(before=True, after=True), answering(b"q"))
    assert not result.finished and result.pain_before is None and result.pain_after is None


def test_with_nothing_to_answer_with_the_coach_does_not_ask(tmp_path: Path) -> None:
    @contextmanager
    def mute(_remote: Remote) -> Iterator[bool]:
        yield True  # on (media keys, say), but no way to give a number

    result, device, statuses = run_with(tmp_path, CheckIns(before=True, after=True), mute)
    assert result.finished and result.pain_before is None and result.pain_after is None
    assert not any(s.note for s in statuses)
    _, plain_device, _ = run_with(tmp_path, CheckIns(), mute)
    assert onsets(device.samples()) == onsets(plain_device.samples())
