"""The pain check-in end to end: `voice-coach play --listen` (a real process, real
PortAudio) on a private PulseAudio server whose default source is a virtual microphone,
with the coach's own output leaking into it at -6 dB; the answer spoken into it by
espeak-ng; the real recognizers (pocketsphinx and whisper). What was recorded is read
back from the history.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voice_coach.history import History

from . import onsets
from .pulse import Microphone, PulseServer, Recorder, virtual_microphone
from .test_listen_real import READY_TIMEOUT_S, Stderr, env, pulse, spoken  # noqa: F401
from .test_play_real import Env
from .waiting import wait_until

pytestmark = pytest.mark.integration

SHORT_ROUTINE = """\
    title: Check in
    steps:
      - name: Reach up
        hold: 5
        remaining: []
"""
ANSWER_WITHIN_S = 10.0
"""From the end of the question to the answer said back: room to speak and decode."""


@pytest.fixture(scope="module")
def leaky_mic(pulse: PulseServer) -> Iterator[Microphone]:  # noqa: F811
    mic = virtual_microphone(pulse)
    mic.leak(pulse.sink, volume_db=-6)  # the coach's own voice in the microphone
    yield mic


def wait_until_said(rec: Recorder, since_ms: int, quiet_ms: int = 700) -> None:
    """Until the recording has sound after `since_ms`, then `quiet_ms` of silence."""

    def said() -> bool:
        samples = rec.samples()
        loud = onsets.levels(samples, rec.rate).loud_ms()
        loud = loud[loud >= since_ms]
        recorded_ms = samples.size * 1000 // rec.rate
        return bool(loud.size) and recorded_ms - (loud[-1] + onsets.WINDOW_MS) >= quiet_ms

    wait_until(said, "the question said, then quiet", 15, 0.1)


def sessions(env: Env) -> list[dict[str, object]]:  # noqa: F811
    with History.open(Path(env.env()["VOICE_COACH_DATA"]) / "history.sqlite") as h:
        return [s.to_json() for s in h.sessions()]


def asked(env: Env, routine: Path) -> tuple[object, Stderr]:  # noqa: F811
    """A play that listens, at its end asking for the pain (the question has played)."""
    play = env.start_play(routine, "--listen", "--debug")
    err = Stderr(play)
    try:
        assert err.until("voice: listening", READY_TIMEOUT_S), str(play)
        # On a busy machine the recognizer may come up after the question was asked.
        assert "checkin: asking" in err.read or err.until("checkin: asking", 60), str(play)
    except BaseException:
        play.kill()
        raise
    return play, err


def test_a_spoken_four_is_noted_and_the_question_never_answers(
    env: Env,  # noqa: F811
    leaky_mic: Microphone,
) -> None:
    routine = env.routine("checkin", SHORT_ROUTINE)
    env.show(routine)
    with env.pulse.recorder(env.root / "checkin.raw") as rec:
        play, err = asked(env, routine)
        try:
            # The question echoes in the microphone; the answer comes once it has ended.
            wait_until_said(rec, since_ms=rec.frames_recorded() * 1000 // rec.rate)
            leaky_mic.say(spoken(env, "four"))
            assert err.until("checkin: answered, rating 4", ANSWER_WITHIN_S), str(play)
            code = err.wait(20)
        finally:
            play.kill()
    assert code == 0 and "finished Check in (pain 4 after)" in play.stdout, str(play)
    answers = re.findall(r"voice: answer: ([^:]+):", play.stderr)
    assert "the coach's own words" in answers, f"the premise: the question was heard\n{play}"
    assert [a for a in answers if a.startswith("rating")] == ["rating 4"], str(play)
    (session,) = sessions(env)
    assert (session["pain_after"], session["pain_before"], session["finished"]) == (4, None, True)


def test_no_answer_records_nothing_and_the_session_is_kept(
    env: Env,  # noqa: F811
    leaky_mic: Microphone,
) -> None:
    routine = env.routine("silent", SHORT_ROUTINE.replace("Check in", "Nobody answers"))
    env.show(routine)
    before = len(sessions(env))
    play, err = asked(env, routine)
    try:
        started = time.monotonic()
        code = err.wait(40)
        waited = time.monotonic() - started
    finally:
        play.kill()
    assert code == 0 and "finished Nobody answers" in play.stdout, str(play)
    assert "pain" not in play.stdout and "checkin: no answer, rating None" in play.stderr
    assert 14 <= waited <= 25, waited
    assert not re.search(r"voice: answer: rating", play.stderr), str(play)
    wait_until(lambda: len(sessions(env)) == before + 1, "the session recorded", 5)
    assert sessions(env)[0]["pain_after"] is None
