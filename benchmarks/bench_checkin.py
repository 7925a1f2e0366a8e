"""Spoken answers to the pain check-in (`play --listen`, the `checkin` setting): ratings
zero to ten heard right, never wrong, and fast; the coach's own question never taken
for an answer.

    .venv/bin/python -m benchmarks.bench_checkin            # measure (~6 min on 2 cores)
    .venv/bin/python -m benchmarks.bench_checkin --tune     # whisper's rating rule (~15 min)

No sound server and no real time: the audio is made as benchmarks/bench_listen.py
makes it (espeak-ng, room noise 30 dB under the voice, 16 kHz), cut by the listener's
own `Utterances` and decoded by the recognizer `play` runs (`RecognizerProcess`, its own
process, below the player's priority: pocketsphinx for commands, whisper tiny.en for
the rating), through `judge_answer` as `play` judges it.

1. Answers: "zero" to "ten" and "no pain" by espeak-ng voices and variants the
   recognizer was not tuned on (neither its commands, benchmarks/tune_listen.py, nor
   whisper's rating rule, --tune), at 170 and 120 words a minute. What each answer
   records is decided by the coach's own check-in (`CheckIn`): when it asks again (an
   unclear answer) or hears nothing, the person says the same words again, a new
   rendition with other noise; when it asks a ten back ("Did you say ten? Say yes to
   note it."), the person says "yes" in the same voice. Latency: from the end of
   the speech to the rating, the voice activity detector's wait (audio time) plus the
   decoding (wall time, IPC included) plus one microphone block. Target: >= 95 %
   recorded as the right number within 1.5 s, none recorded as a wrong number.
   (1b) Replies that are no rating ("hang on", "stop, stop", "I don't know"...) by
   the same voices, through the same check-in, the same reply said again whenever
   the coach asks, also back (the worst case: a person who hums at every question):
   target 0 recorded as a rating.
2. The echo: the coach's own lines (the question, asking again or back, "Pain N. Noted.") in
   the default voice, into the microphone at -6 dB after 50-300 ms (device, room),
   with noise. Judged as `play` does while the coach is on the air (the blocks it
   sent, on the clock): target 0 ratings recorded. Beside it, without that gate, what
   the recognizer alone makes of them (no target: the gate is the guarantee).

Exit code 1 if a target fails.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.bench_listen import RATE, SPEECH_DBFS, Piper, at_level, espeak, room_noise, trimmed
from benchmarks.tune_listen import TUNING_VOICES as COMMAND_TUNING_VOICES
from benchmarks.tune_listen import utterances
from voice_coach.live import listen
from voice_coach.live.checkin import (
    CONFIRMED_BY_VOICE,
    UNCLEAR,
    CheckIn,
    Spoken,
    Unclear,
    Yes,
    checkin_texts,
    confirm_text,
    rating_in,
)
from voice_coach.phrases import ENGLISH

MEASURING_VOICES = (
    "en-gb",
    "en-gb-scotland",
    "en-029",
    "en-gb-x-rp",
    "en-us-nyc",
    "en-us+f3",
    "en-gb+f5",
    "en-us+m7",
    "en-us+klatt4",
    "en-029+f5",
)
TUNING_VOICES = tuple(COMMAND_TUNING_VOICES)
"""whisper's rating rule (margin, floors, lead, speeds) was chosen on these (the commands' tuning
set, `--tune`)."""
assert not set(MEASURING_VOICES) & (set(TUNING_VOICES) | set(COMMAND_TUNING_VOICES)), (
    "measure on voices the recognizer was not tuned on"
)
RATES_WPM = {"normal": 170, "slow": 120}
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
ANSWERS = (*((word, n) for n, word in enumerate(NUMBERS)), ("no pain", 0))
WITHIN_S = 1.5
RIGHT_TARGET = 0.95
MIC_BLOCK_S = listen.BLOCK_S
ECHO_DB = -6.0
ECHO_DELAYS_S = (0.05, 0.15, 0.3)
DEVICE_BLOCK_S = 0.05
"""The player hands the device 50 ms blocks (what `Airtime` records)."""


@dataclass
class Heard:
    answer: object
    """A rating, `UNCLEAR`, or None (nothing heard)."""
    text: str
    latency_s: float


def decide(
    speech: npt.NDArray[np.float64], recognizer: listen.Recognizer, rng: np.random.Generator
) -> Heard:
    """`speech` alone in room noise, cut and judged as `play` does with nothing on the
    air: the first utterance's rating, transcript and latency."""
    lead, tail = RATE, 2 * RATE
    feed = room_noise(lead + speech.size + tail, rng)
    feed[lead : lead + speech.size] += at_level(speech, SPEECH_DBFS)
    pcm = np.clip(np.round(feed), -32768, 32767).astype("<i2").tobytes()
    cutter = listen.Utterances()
    block = int(MIC_BLOCK_S * RATE) * 2
    for i in range(0, len(pcm), block):
        at_s = (i + block) / 2 / RATE
        for u in cutter.feed(pcm[i : i + block], at_s):
            if u.too_long:
                continue
            started = time.perf_counter()
            text = listen.hear_answer(recognizer, u.pcm)
            decode_s = time.perf_counter() - started
            answer = rating_in(text)
            if answer is None:
                continue
            return Heard(answer, text, (at_s - u.end_s) + decode_s + MIC_BLOCK_S)
    return Heard(None, "", 0.0)


@functools.cache
def spoken(voice: str, wpm: int, text: str) -> npt.NDArray[np.float64]:
    return trimmed(espeak(voice, wpm, text))


@dataclass
class Trial:
    voice: str
    rate: str
    said: str
    expected: int
    heard: list[Heard]
    """Every rendition the person said, in order."""
    rating: int | None
    """What the check-in recorded."""
    asked_back: bool
    """The coach asked the rating back ("Did you say ten?")."""

    @property
    def latency_s(self) -> float:
        """Of the answer recorded: the last one heard."""
        return self.heard[-1].latency_s

    @property
    def right(self) -> bool:
        return self.rating == self.expected and self.latency_s <= WITHIN_S

    @property
    def wrong(self) -> bool:
        return self.rating is not None and self.rating != self.expected

    @property
    def texts(self) -> str:
        return texts_of(self.heard)


def texts_of(heard: list[Heard]) -> str:
    """What each rendition was heard as, in order."""
    return " / ".join(repr(h.text) for h in heard)


ASKED_BACK = frozenset(confirm_text(ENGLISH, n) for n in CONFIRMED_BY_VOICE)


def checked_in(
    speech: npt.NDArray[np.float64],
    asked_back_reply: npt.NDArray[np.float64],
    recognizer: listen.Recognizer,
    rng: np.random.Generator,
) -> tuple[list[Heard], int | None, bool]:
    """`speech` answered to the coach's check-in (`CheckIn`, as `play` runs it), said
    again each time the coach asks again, and once when it heard nothing; once the
    coach has asked a rating back, `asked_back_reply` instead: the renditions heard,
    the rating recorded, whether it was asked back."""
    machine = CheckIn(ENGLISH)
    machine.start(0.0)
    heard: list[Heard] = []
    asked_back = False
    silent_once = False
    while not machine.done:
        answer = decide(asked_back_reply if asked_back else speech, recognizer, rng)
        heard.append(answer)
        if answer.answer is None:
            if silent_once:  # the coach waits out the question
                machine.tick(math.inf)
                break
            silent_once = True  # no "Noted": the person says it again
            continue
        assert isinstance(answer.answer, int | Unclear | Yes)
        lines = machine.heard(answer.answer, 0.0)
        asked_back |= any(line in ASKED_BACK for line in lines)
    return heard, machine.rating, asked_back


def answers(voices: tuple[str, ...], recognizer: listen.Recognizer, seed: int) -> list[Trial]:
    rng = np.random.default_rng(seed)
    trials = []
    for voice in voices:
        for rate, wpm in RATES_WPM.items():
            for said, expected in ANSWERS:
                speech, yes = spoken(voice, wpm, said), spoken(voice, wpm, "yes")
                heard, rating, asked_back = checked_in(speech, yes, recognizer, rng)
                trials.append(Trial(voice, rate, said, expected, heard, rating, asked_back))
    return trials


def report_answers(trials: list[Trial]) -> bool:
    def share(ts: list[Trial]) -> str:
        ok = sum(t.right for t in ts)
        return f"{ok}/{len(ts)} ({100 * ok / max(1, len(ts)):.0f} %)"

    print(f"\n(1) answers recorded as the right number within {WITHIN_S} s")
    for voice in dict.fromkeys(t.voice for t in trials):
        rows = [t for t in trials if t.voice == voice]
        by_rate = "  ".join(f"{r}: {share([t for t in rows if t.rate == r])}" for r in RATES_WPM)
        print(f"  espeak-ng {voice:16} {share(rows):>14}   {by_rate}")
    for said, _ in ANSWERS:
        rows = [t for t in trials if t.said == said]
        missed = [f"{t.voice} {t.rate}: {t.texts}" for t in rows if not t.right]
        print(
            f"  {said:8} {share(rows):>14}" + (f"   missed: {'; '.join(missed)}" if missed else "")
        )
    wrong = [t for t in trials if t.wrong]
    said_again = sum(len(t.heard) > 1 for t in trials)
    asked_back = sum(t.asked_back for t in trials)
    print(
        f"  all: {share(trials)}; said again {said_again} (of them asked back {asked_back});"
        f" left unrecorded {sum(t.rating is None for t in trials)}; wrong number {len(wrong)}"
    )
    for t in wrong:
        print(f"    wrong: {t.said!r} -> {t.rating} ({t.texts}) [{t.voice} {t.rate}]")
    latencies = sorted(t.latency_s for t in trials if t.rating is not None)
    if latencies:
        p = np.percentile(latencies, [50, 90, 99])
        print(
            f"  latency, end of speech to the rating: median {p[0]:.2f} s, p90 {p[1]:.2f} s, "
            f"p99 {p[2]:.2f} s, max {latencies[-1]:.2f} s"
        )
    right = sum(t.right for t in trials) / max(1, len(trials))
    passed = right >= RIGHT_TARGET and not wrong
    print(
        f"  target >= {RIGHT_TARGET:.0%} right within {WITHIN_S} s and 0 wrong: "
        f"{'PASS' if passed else 'FAIL'}"
    )
    return passed


# -- (2) the echo ---------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def echo(recognizer: listen.Recognizer, voice: object) -> bool:
    """The coach's check-in lines leaking into the microphone, judged with the gate
    (as `play`) and without it (the recognizer alone)."""
    from voice_coach.live.remote import Airtime, Remote
    from voice_coach.live.session import LiveSession
    from voice_coach.routine.model import Exercise, Routine

    rng = np.random.default_rng(21)
    lines = checkin_texts(ENGLISH)
    gated_ratings, ungated = 0, []
    utterances = 0
    for text in lines:
        said = voice(170, text)  # type: ignore[operator]
        for delay_s in ECHO_DELAYS_S:
            clock = _Clock()
            airtime = Airtime(RATE, 0.2, clock=clock)
            routine = Routine(title="Echo", steps=(Exercise(name="Reach", hold_s=5),))
            remote = Remote(LiveSession(routine, RATE), airtime, lambda _t: None, Path("."))  # type: ignore[arg-type, return-value]
            lead = RATE
            out = np.zeros(lead + said.size + 3 * RATE)
            out[lead : lead + said.size] = at_level(said, SPEECH_DBFS)
            # What the player sent: 50 ms blocks on the clock, the line marked as said.
            block = int(DEVICE_BLOCK_S * RATE)
            for i in range(0, out.size, block):
                clock.now = i / RATE
                airtime.mix(np.clip(out[i : i + block], -32768, 32767).astype("<i2"), 0, 0)
            # What the microphone heard: the same, later and quieter, in noise.
            shift = int(delay_s * RATE)
            mic = room_noise(out.size + shift, rng)
            mic[shift:] += out * 10 ** (ECHO_DB / 20)
            pcm = np.clip(np.round(mic), -32768, 32767).astype("<i2").tobytes()
            cutter = listen.Utterances()
            step = int(MIC_BLOCK_S * RATE) * 2
            for i in range(0, len(pcm), step):
                clock.now = (i + step) / 2 / RATE
                for u in cutter.feed(pcm[i : i + step], clock.now):
                    utterances += 1
                    handed, _reason, _ = listen.judge_answer(u, recognizer, remote)
                    gated_ratings += isinstance(handed, Spoken) and handed.answer is not UNCLEAR
                    if not u.too_long:
                        answer = rating_in(listen.hear_answer(recognizer, u.pcm))
                        if answer is not None and answer is not UNCLEAR:
                            ungated.append(f"{text!r} +{delay_s:g} s -> {answer}")
    print(f"\n(2) the coach's own check-in lines in the microphone at {ECHO_DB:g} dB")
    print(f"  {len(lines)} lines x {len(ECHO_DELAYS_S)} delays: {utterances} utterances")
    print(
        f"  ratings (or yeses) recorded (as play judges, the gate on): {gated_ratings} (target 0)"
    )
    print(f"  without the gate, the recognizer alone took {len(ungated)} as a rating or a yes")
    for line in ungated:
        print(f"    {line}")
    passed = gated_ratings == 0
    print(f"  target 0: {'PASS' if passed else 'FAIL'}")
    return passed


OTHER_REPLIES = (
    "hang on",
    "I don't know",
    "wait a moment",
    "stop, stop",
    "coach stop",
    "what did you say",
    "hmm",
    "let me think",
    "okay",
    "not sure",
)
"""Things said after the question that are no rating: none may be recorded as one."""


def other_replies(voices: tuple[str, ...], recognizer: listen.Recognizer, seed: int) -> bool:
    """Replies that are no rating, by `voices` at both rates: ratings recorded (target 0)."""
    rng = np.random.default_rng(seed)
    recorded, asked_back = [], []
    for voice in voices:
        for wpm in RATES_WPM.values():
            for said in OTHER_REPLIES:
                speech = spoken(voice, wpm, said)
                heard, rating, back = checked_in(speech, speech, recognizer, rng)
                line = f"{said!r} -> {rating} ({texts_of(heard)}) [{voice} {wpm}]"
                if rating is not None:
                    recorded.append(line)
                elif back:
                    asked_back.append(line)
    total = len(voices) * len(RATES_WPM) * len(OTHER_REPLIES)
    print(f"\n(1b) {total} replies that are no rating ({len(OTHER_REPLIES)} phrases)")
    print(f"  asked back and then not recorded: {len(asked_back)}")
    for line in asked_back:
        print(f"    {line}")
    print(f"  recorded as a rating: {len(recorded)} (target 0)")
    for line in recorded:
        print(f"    {line}")
    print(f"  target 0: {'PASS' if not recorded else 'FAIL'}")
    return not recorded


TUNE_SPEEDS = (1.08, 0.92, 1.15, 0.85)
"""The other speeds `--tune` weighs (`whisper.SPEEDS` is chosen from them)."""


def tune() -> None:
    """whisper's rating rule on the tuning voices: each answer's odds once, as said and
    at every speed in `TUNE_SPEEDS`, then every set of values on the same odds, as
    `play` asks (again once), and the other replies (but the stops, caught before a
    rating) recorded as ratings. Table 1: margin and floors (`whisper.RATING_MARGIN`,
    `RATING_FLOOR`, `RATING_END_FLOOR`) at the speeds and lead in use; table 2: the
    lead (`RATING_LEAD`) and the other speeds (`SPEEDS`) at the margin and floors in
    use."""
    from voice_coach.live import whisper as w

    ear = w.Whisper()
    rng = np.random.default_rng(7)
    speeds = (1.0, *TUNE_SPEEDS)

    def odds_of(speech: npt.NDArray[np.float64]) -> dict[float, w.RatingOdds] | None:
        found = utterances(speech, rng)
        if not found:
            return None
        return {s: ear.rating_odds(w.resampled(found[0], s)) for s in speeds}

    answers = []
    for voice in TUNING_VOICES:
        for wpm in RATES_WPM.values():
            for said, expected in ANSWERS:
                speech = spoken(voice, wpm, said)
                answers.append((expected, odds_of(speech), odds_of(speech)))
    others = [
        odds_of(spoken(voice, wpm, said))
        for voice in TUNING_VOICES
        for wpm in RATES_WPM.values()
        for said in OTHER_REPLIES
        if "stop" not in said
    ]
    print(f"{len(answers)} answers, {len(others)} other replies; tuning voices {TUNING_VOICES}")

    def score(
        other_speeds: tuple[float, ...],
        margin: float = w.RATING_MARGIN,
        floor: float = w.RATING_FLOOR,
        end_floor: float = w.RATING_END_FLOOR,
        lead: float = w.RATING_LEAD,
    ) -> str:
        def rated(odds: dict[float, w.RatingOdds] | None) -> int | None:
            if odds is None:
                return None
            heard = (odds[s] for s in (1.0, *other_speeds))
            return w.rating_across(heard, margin, floor, end_floor, lead)

        right = wrong = 0
        for expected, first, second in answers:
            got = rated(first)
            got = got if got is not None else rated(second)
            right += got == expected
            wrong += got is not None and got != expected
        taken = sum(rated(o) is not None for o in others)
        return (
            f"{right:4}/{len(answers)} ({100 * right / len(answers):.1f} %)  {wrong:5}  {taken:5}"
        )

    print(f"\n1. at the speeds {w.SPEEDS} and lead {w.RATING_LEAD}")
    print("margin  floor  end floor   right (asked again once)  wrong  other replies taken")
    for margin in (1.0, 1.5, 2.0, 2.5, 3.0):
        for floor in (-99.0, -5.0, -4.0, -3.0):
            for end_floor in (-99.0, -4.0, -3.0):
                result = score(w.SPEEDS, margin, floor, end_floor)
                print(f"{margin:6.1f} {floor:6.1f} {end_floor:6.1f}      {result}")
    print(f"\n2. at margin {w.RATING_MARGIN}, floor {w.RATING_FLOOR}, end {w.RATING_END_FLOOR}")
    print("lead  other speeds              right (asked again once)  wrong  other replies taken")
    for lead in (math.inf, 1.0, 0.5, 0.0, -0.5):
        for n in range(len(TUNE_SPEEDS) + 1):
            chosen = TUNE_SPEEDS[:n]
            print(f"{lead:4.1f}  {chosen!s:24}  {score(chosen, lead=lead)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tune",
        action="store_true",
        help="choose whisper's rating rule, on the tuning voices",
    )
    args = parser.parse_args(argv)
    if args.tune:
        tune()
        return 0
    from voice_coach.plan import load
    from voice_coach.timeline import spoken_texts

    recognizer = listen.RecognizerProcess(spoken_texts(load("sciatica-relief")))
    try:
        trials = answers(MEASURING_VOICES, recognizer, seed=11)
        passed = report_answers(trials)
        passed &= other_replies(MEASURING_VOICES, recognizer, seed=13)
        piper = Piper()
        voice = piper.say if piper.available else (lambda r, t: espeak("en-us", r, t))
        print(f"\n(2) the coach's voice: {'piper' if piper.available else 'espeak-ng en-us'}")
        passed &= echo(recognizer, voice)
    finally:
        recognizer.close()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
