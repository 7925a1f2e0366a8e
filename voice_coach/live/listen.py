"""Voice commands in `play --listen`: "coach" and one word, heard offline through the
default microphone.

    microphone (16 kHz mono)
      -> `Utterances`: one stretch of speech at a time (voice activity), with a little
         audio before and after; longer than a command: ignored
      -> `Recognizer`: pocketsphinx with the en-us model its wheel ships, decoding with
         a small language model made at start from the routine's own lines, everyday
         words and the commands, each command one token ("coach_pause") whose weight
         in the model is its threshold; `Ears` ask whisper (whisper.py) too about a
         short utterance where pocketsphinx heard no command or another than stop
      -> `judge`: against what the coach itself sounded then (`Airtime`): while it
         speaks, and just after, only the strict model counts, and never a command
         whose word the coach was saying
      -> the session, and a short note or spoken answer as acknowledgement.

The coach must not obey itself: "Next: seated hamstring stretch" or "Stop at once if
it hurts" spoken by the coach and picked up by the microphone are the routine's own
lines, which the language model knows word for word, and they sound while `Airtime`
says the coach is on the air.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import queue
import re
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .checkin import Handed, Spoken, Stop, rating_in
from .remote import Remote
from .session import Command
from .whisper import (
    RATING_NAMES,
    SPEEDS,
    STOP_LEAD,
    RatingOdds,
    StopOdds,
    Whisper,
    WhisperUnavailable,
    rating_across,
    resampled,
    stop_heard,
    stop_in,
    words_of,
)

log = logging.getLogger(__name__)

WAKE_WORD = "coach"
SAMPLE_RATE = 16000
"""What the acoustic model was trained on; the sound server resamples the microphone."""
BLOCK_S = 0.03
"""One voice-activity frame."""
PRE_S = 0.3
POST_S = 0.2
"""Audio kept before and after the detected speech: the recognizer needs some silence
around the words (cut tight, the last consonant of "next" was lost)."""
VAD_WINDOW_S = 0.3
"""Silence that ends an utterance: the wait between the end of a command and its
recognition."""
MAX_UTTERANCE_S = 3.0
"""Longer stretches of speech are not a command (a command spoken slowly is ~1.6 s)."""
LEAD_IN_S = 0.3
"""Audio before an utterance's `PRE_S` (`Utterance.lead_in`), heard again with it where
pocketsphinx heard one half of "stop stop" alone (`judge`). The detector begins speech
where 90 % of a `VAD_WINDOW_S` window is voiced, which a quick, quiet first word may not
fill: en-us+klatt4's "stop stop" at 170 wpm, 6 dB under the usual level, began at its
second "stop" and was one "stop" to both ears. Kept for every utterance, more audio
before them all cost as much as it gained: stops said twice with a pause were heard
less often, and an unrelated line became "stop stop"."""
ECHO_TAIL_S = 0.35
"""After a sound leaves the device, how long its echo may still be in the microphone
(device and microphone latency, room)."""
RECOGNIZER_NICENESS = 10
"""Below the player. On a busy machine the recognizer then gets the CPU last, and its
decoding time becomes wait: hence one decoding pass (the tree search only; without
the flat-lexicon pass and the best-path search), 75 ms an utterance instead of 118
ms on the tuning set, with 4 fewer of 432 commands heard but fewer wrong (1 instead
of 4) and fewer false in unrelated speech (1 instead of 4 of 313)."""
DITHER = 8.0
"""Noise (in 16-bit steps) added before recognition: a digitally silent input (a
virtual microphone) makes the recognizer's feature normalization fail."""


class Action(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"
    NEXT = "next"
    BACK = "back"
    LONGER = "longer"
    SHORTER = "shorter"
    STOP = "stop"
    TIME = "time"
    """Say how long is left in the hold."""


@dataclass(frozen=True)
class Phrase:
    """A command: the wake word, then `words`."""

    words: str
    action: Action
    pronunciations: tuple[str, ...]
    """Of `words`, in the CMU dictionary's phones (ARPAbet)."""
    weight: int
    """How many times the command stands in the language model's text: the higher,
    the more readily it is heard (and the more readily imagined). Tuned with
    benchmarks/tune_listen.py on voices benchmarks/bench_listen.py does not score."""
    woken: bool = True
    """Said after the wake word; False: `words` alone are the command ("stop stop")."""
    heard_as: tuple[str, ...] = ()
    """Of a command said twice without the wake word: the plain words the recognizer
    makes of its word for some voices ("still" for "stop", slow or high)."""

    @property
    def token(self) -> str:
        return "_".join(self.spoken.split())

    @property
    def spoken(self) -> str:
        return f"{WAKE_WORD} {self.words}" if self.woken else self.words

    @property
    def sounds(self) -> tuple[str, ...]:
        """Its pronunciations with the wake word's, if it has one."""
        return tuple(f"K OW CH {p}" if self.woken else p for p in self.pronunciations)

    @property
    def halves(self) -> str:
        """Of a command said twice without the wake word: a pattern for one half as
        plain words."""
        return "(?:" + "|".join(map(re.escape, (self.words.split()[0], *self.heard_as))) + ")"

    @property
    def cue_words(self) -> tuple[str, ...]:
        """Words that, in the coach's own lines, may be what the microphone heard."""
        return (self.words, WAKE_WORD) if self.woken else (*set(self.words.split()), *self.heard_as)


PHRASES: tuple[Phrase, ...] = (
    # American and British (non-rhotic) pronunciations, and a few other accents' vowels
    # ("back" with the vowel of "bah", "beck", "buck"; "time" as "toym").
    Phrase("pause", Action.PAUSE, ("P AO Z",), 600),
    Phrase("go on", Action.RESUME, ("G OW AA N", "G OW AO N"), 600),
    Phrase("resume", Action.RESUME, ("R IH Z UW M", "R IY Z UW M", "R IH Z Y UW M"), 600),
    Phrase("next", Action.NEXT, ("N EH K S T", "N EH K S", "EH K S T", "N EH IH K S T"), 600),
    Phrase("back", Action.BACK, ("B AE K", "B AA K", "B EH K", "B AH K"), 600),
    Phrase("longer", Action.LONGER, ("L AO NG G ER", "L AO NG ER", "L AA NG G AH"), 600),
    Phrase("shorter", Action.SHORTER, ("SH AO R T ER", "SH AO T AH"), 600),
    Phrase("stop", Action.STOP, ("S T AA P", "S T AO P", "S T AH P"), 3000),
    Phrase("time", Action.TIME, ("T AY M", "T OY M", "T AH IY M"), 600),
    # Stopping is what the coach asks for when pain grows: the one command that must not
    # be missed, hence a weight above the others', and "stop" said twice with no wake
    # word.
    Phrase(
        "stop stop",
        Action.STOP,
        ("S T AA P S T AA P", "S T AO P S T AO P", "S T AH P S T AH P"),
        3000,
        woken=False,
        heard_as=("still", "stock"),
    ),
)
STRICT_WEIGHT = 20
"""Every command's weight in the model used while the coach is on the air."""

EVERYDAY = """
a about after again all also always am an and any are around as ask at away bad be
because been before being best better between big both but by call came can car
cause close cold come could course cup day did do does dog done down each easy end
enough even ever every eye face fact feel few find fine first five food for four
friend from full get give glad go going gone good got great had half hand hard has
have he head hear help her here high him his hold home hope hot house how i if in
into is it its just keep kind know last late left less let life like line little
live look lot love made make man many may me mean might mind money more morning most
move much must my name need never new nice night no not nothing now of off oh ok okay
old once one only open or other our out over own part people place play please point
put quite rather read ready real really right room round run said same saw say see
seem set she should show side since sit six slow small so some something soon sorry
start still stop such sure take talk tell ten than thank that the their them then there
these they thing think this those though three through to today together told too
took top towards try turn two under until up us use very wait walk want was watch
water way we week well went were what when where which while who why will with word
work world would write yeah year yes yet you your
couch coat code cope poach pouch coast ghost post toast road load boat goat note cold
gold pose paws pass pours peace piece text nest neck best test desk bag black pack
lack track stock shop drop step stuck tip type tight tie nine mine fine long longing
shorten shore shirt short sort assume zoom moon tune news knew nights later letter
"""
"""Words anyone may say near the microphone, and words that sound like the commands:
the language model's alternatives to hearing a command."""


@dataclass(frozen=True)
class Hearing:
    text: str
    """What the recognizer made of the utterance."""
    phrase: Phrase | None
    """The command in it, if any."""
    second: str = ""
    """What the second ear (whisper) made of it, when asked: pocketsphinx heard no
    command, or another command than stop, in a short utterance."""

    @property
    def half(self) -> Phrase | None:
        """The command said twice without the wake word whose one half this is ("stop"),
        as either ear heard it."""
        return half_of(self.text) or half_of(words_of(self.second))


class Recognizer(Protocol):
    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        """Decode one utterance (16 kHz mono s16le); `strict`: the coach was on the air."""
        ...

    def close(self) -> None: ...


class ListenError(Exception):
    """Voice commands cannot run here (no recognizer, no model for the language, no
    microphone); the message says why in one line."""


def sentences(texts: Sequence[str]) -> list[str]:
    """Lines as the language model reads them: lower case words, nothing else."""
    out = []
    for text in texts:
        words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())
        if words:
            out.append(" ".join(words))
    return out


def model_text(routine_texts: Sequence[str], weights: dict[str, int]) -> str:
    """The language model's training text: the routine's own lines, everyday words (one
    per line), and each command token as often as its weight."""
    lines = sentences(routine_texts) + EVERYDAY.split()
    for phrase in PHRASES:
        lines += [phrase.token] * weights[phrase.words]
    return "\n".join(lines) + "\n"


OTHER_WORDS_MAX = 1
"""Words besides the command a transcript may hold and still be a command ("okay
coach_go_on", "coach_next you" for a breath after it). A command heard amid more words
is the model's best guess at a stretch of unrelated speech. Tuning (the other voices
and text): a command token came up in 39 of 313 fragments of unrelated speech, in 4
of them with at most one other word; of 432 spoken commands, one less was heard."""


def find_phrase(text: str, other_words_max: int | None = OTHER_WORDS_MAX) -> Phrase | None:
    """The command a transcript holds, if it holds one and at most `other_words_max`
    other words (None: any number; benchmarks/tune_listen.py compares the rules)."""
    tokens = {p.token: p for p in PHRASES}
    plain = " ".join(w.split("(")[0] for w in text.split() if not w.startswith(("<", "[")))
    for phrase in PHRASES:
        if not phrase.woken:  # its words heard as plain words are the command too
            plain = re.sub(rf"\b{phrase.halves} {phrase.halves}\b", phrase.token, plain)
    words = plain.split()
    found = [tokens[w] for w in words if w in tokens]
    if not found or len({p.action for p in found}) != 1:
        return None  # none, or commands at odds ("coach_stop coach_stop" is one)
    if other_words_max is not None and len(words) > len(found) + other_words_max:
        return None
    return found[0]


class SphinxRecognizer:
    """pocketsphinx 5 with the en-us model in its wheel; nothing is downloaded."""

    def __init__(self, routine_texts: Sequence[str]) -> None:
        try:
            import pocketsphinx
            from pocketsphinx.lm import ArpaBoLM
        except ImportError:
            raise ListenError(
                "voice commands need pocketsphinx: pip install 'voice-coach[listen]'"
            ) from None
        self._decoder = pocketsphinx.Decoder(
            loglevel="FATAL", lm=None, jsgf=None, fwdflat=False, bestpath=False
        )
        words = [
            (phrase.token if i == 0 else f"{phrase.token}({i + 1})", phones)
            for phrase in PHRASES
            for i, phones in enumerate(phrase.sounds)
        ]
        # Before any language model: pocketsphinx adds a word added later to every one.
        for n, (name, phones) in enumerate(words, 1):
            self._decoder.add_word(name, phones, n == len(words))  # the last one applies all
        normal = {p.words: p.weight for p in PHRASES}
        strict = {p.words: STRICT_WEIGHT for p in PHRASES}
        with tempfile.TemporaryDirectory(prefix="voice-coach-lm-") as tmp:
            for name, weights in (("normal", normal), ("strict", strict)):
                lm = ArpaBoLM(text=model_text(routine_texts, weights), add_start=True)
                lm.compute()
                path = Path(tmp) / f"{name}.arpa"
                with path.open("w", encoding="utf-8") as f:
                    lm.write(f)
                self._decoder.add_lm_file(name, str(path))
        self._noise = np.random.default_rng(0)

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        text = self._decode(pcm, "strict" if strict else "normal")
        return Hearing(text, find_phrase(text))

    def _decode(self, pcm: bytes, search: str) -> str:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        samples += self._noise.normal(0.0, DITHER, samples.size)
        data = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(data, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def close(self) -> None:
        """Nothing to release but memory."""


class SecondEar(Protocol):
    """What `Ears` asks of whisper (`whisper.Whisper`; a fake in unit tests)."""

    def rating_odds(self, pcm: bytes) -> RatingOdds: ...

    def stop_odds(self, pcm: bytes, enough: float | None = None) -> StopOdds: ...

    def transcript(self, pcm: bytes) -> str: ...

    def command_score(self, pcm: bytes, words: str) -> float: ...


SECOND_EAR_MAX_S = 2.5
"""Utterances up to this long (the speech, without the audio kept around it) in which
pocketsphinx heard no command, or another than stop, go to whisper: "coach stop" said
slowly is 1.6 s."""


def _short(pcm: bytes) -> bool:
    """Short enough to be a command (`SECOND_EAR_MAX_S` of speech)."""
    return len(pcm) / 2 / SAMPLE_RATE - PRE_S - POST_S <= SECOND_EAR_MAX_S


def for_second_ear(hearing: Hearing, pcm: bytes) -> bool:
    """Whether whisper is asked for a stop in an utterance (`Ears.hear`): pocketsphinx
    heard no command in it, and it is short enough for one (`SECOND_EAR_MAX_S`)."""
    return hearing.phrase is None and _short(pcm)


def may_be_misheard(hearing: Hearing, pcm: bytes) -> bool:
    """Whether whisper's transcript is read for another command than the one
    pocketsphinx heard (`Ears.hear`): pocketsphinx heard a command other than stop in
    a short utterance. Most of all for stop, which ranks above every other command: a
    "coach stop" taken for "coach longer" lengthens the very hold the person wants to
    end."""
    phrase = hearing.phrase
    return phrase is not None and phrase.action is not Action.STOP and _short(pcm)


SHAPED_STOP_LEAD = 6.0
"""`STOP_LEAD` where either ear heard an utterance shaped like "coach stop"
(`shaped_like_coach_stop`). Then a stop's end is heard and only the wake word is in
doubt: en-029+f4's "coach stop" is "cold still" to pocketsphinx and "Gorge up." to
whisper, en-gb-scotland+f3's "cold chest all" and "Clutch stop!", with "Coach, stop."
3-6 behind. Where pocketsphinx heard another command, whisper's shape alone counts
(`Ears._checked`). On the tuning voices and on ten female Caribbean and Scottish
variants that neither benchmark scores, every lead from 5 to 10 gained the same and
made no false stop (benchmarks/tune_listen.py --whisper, benchmarks/README.md). The
same lead holds for the shape of "stop" said twice (`stop_said_twice`)."""


def shaped_like_coach_stop(heard: str, written: str) -> bool:
    """Whether pocketsphinx's transcript (`heard`) or whisper's (`written`) is two words
    ending in a stop: pocketsphinx's own ways of hearing one ("cold still", "told
    stop"), whisper's "stop" ("Go, stop!", "Clutch stop!")."""
    sphinx_words = plain_words(heard).split()
    whisper_words = words_of(written).split()
    return (len(sphinx_words) == 2 and half_of(sphinx_words[1]) is not None) or (
        len(whisper_words) == 2 and whisper_words[1] == "stop"
    )


def second_ear_command(
    heard: str, odds: StopOdds, strict: bool, shaped_lead: float = SHAPED_STOP_LEAD
) -> Phrase | None:
    """The command in an utterance where pocketsphinx heard none (`heard`), by whisper's
    odds: a stop (`stop_phrase`; where the coach is silent, within `shaped_lead` where
    either ear heard the shape of "coach stop", "coach stop" itself where whisper wrote
    the wake word and a word (`stop_for_coach_and_a_word`), or where the two heard that
    of "stop" said twice: `stop_said_twice`), else a command it writes word for word."""
    phrase = stop_phrase(odds) or written_command(odds.text)
    if phrase is None and not strict:
        if shaped_like_coach_stop(heard, odds.text):
            phrase = stop_phrase(odds, shaped_lead)
        else:
            phrase = stop_for_coach_and_a_word(odds, shaped_lead) or stop_said_twice(
                heard, odds, shaped_lead
            )
    return phrase


def woken_with_a_word(written: str) -> bool:
    """Whether whisper's transcript is the wake word and one word more ("Coach Todd.",
    "Coach Top"): how it writes some female "coach stop"s whose end it mishears, and
    other commands' ("Coach Dolan" for "coach go on")."""
    words = words_of(written).split()
    return len(words) == 2 and words[0] == WAKE_WORD


def stop_for_coach_and_a_word(odds: StopOdds, lead: float = SHAPED_STOP_LEAD) -> Phrase | None:
    """ "coach stop" where whisper wrote the wake word and a word (`woken_with_a_word`)
    and "coach stop" itself is at most `lead` less likely than that (`odds.woken_stop`;
    "stop stop" does not count). Where pocketsphinx heard no command, "Coach, stop." was
    0.4-3.4 behind such a transcript of a stop ("Coach Todd.", "Coach Top") and 8.0 or
    more behind one of another command ("Coach Mag", "Coach Shorta"), on the tuning and
    check voices and on en-029+f4 and en-gb-scotland+f3. "Coach Dolan" (en-029+f4's
    "coach go on") is likeliest as "Stop, stop.", 6.7-7.2 behind, and came within 6 in
    real time: a stop when any stop counted. With this, the check voices' stops went
    582 -> 584 of 616 with 0 false stops at leads 3-8 (benchmarks/tune_listen.py
    --whisper, benchmarks/README.md)."""
    if not woken_with_a_word(odds.text) or odds.woken_stop < odds.transcript - lead:
        return None
    return stop_command(woken=True)


def stop_enough(heard: str, written: str, strict: bool) -> float:
    """The lead at which any stop command decides `second_ear_command` for an utterance
    pocketsphinx heard as `heard` and whisper wrote as `written`, so that whisper may
    stop scoring the ways of writing one there (`Whisper.stop_odds`'s `enough`): one
    within `STOP_LEAD` of the transcript is a stop whatever the rest; where the coach
    is silent, the shape of "coach stop" and no command written out, one within
    `SHAPED_STOP_LEAD`. A shaped "coach stop" with "Coach, stop." in reach is then one
    forced decoding instead of five: 0.15 -> 0.06 s on an idle machine, of bench_listen
    part (4)'s latency. The wake word and a word (`stop_for_coach_and_a_word`) keeps
    `STOP_LEAD`: a "stop stop" within `SHAPED_STOP_LEAD` decides nothing there, and one
    scored after it might be within `STOP_LEAD`."""
    if strict or written_command(written) is not None or not shaped_like_coach_stop(heard, written):
        return STOP_LEAD
    return SHAPED_STOP_LEAD


def stop_said_twice(heard: str, odds: StopOdds, lead: float = SHAPED_STOP_LEAD) -> Phrase | None:
    """ "stop stop" where pocketsphinx's first word is a stop (`heard`: "stop at a") and
    whisper wrote one word over (`whisper.said_over`: "star star.", or "start" fourteen
    times when its decoding loops), with "Stop, stop." at most `lead` less likely than
    that word twice (`StopOdds.twice`): en-us+klatt4's slow, quiet "stop stop", with
    "Stop, stop." 3.5-5.3 behind. Each ear alone is no stop: a slow "coach go on",
    "cold long" to pocketsphinx, may loop as "Go, go, go, ..." in whisper, with a stop
    close to "Go, go," (benchmarks/tune_listen.py --whisper)."""
    words = plain_words(heard).split()
    if not words or half_of(words[0]) is None or odds.stop < odds.twice - lead:
        return None
    return stop_command(woken=False)


COMMAND_STOP_MARGIN = 8.0
"""How much likelier (natural log) than the command pocketsphinx heard whisper must find
a stop, which must also be within `SHAPED_STOP_LEAD` of whisper's own transcript, for
the stop to win over that command (`stop_over_command`): "coach" and a word,
pocketsphinx in doubt of the word. A female "coach stop" that pocketsphinx took for
"coach longer" ("Gorgeous, Tab.", "Cool job!" to whisper) is 12-15 likelier as "Coach,
stop." than as "Coach longer." and 0.3-5 behind the transcript. Where pocketsphinx
took another command for the wrong one, a stop may be likelier than the wrong one,
but by less: en-us-nyc's "coach pause", "coach go on" to pocketsphinx and "Coach,
please." to whisper, by 0.7; en-029+linda's "coach shorter" ("all coach longer", "Go
to short, eh?") by 4.4-5.9. On the tuning and check voices, every margin from 6 to 12
caught the same stops and made no stop of another command
(benchmarks/tune_listen.py --whisper, benchmarks/README.md)."""


def stop_over_command(
    odds: StopOdds,
    command: float,
    margin: float = COMMAND_STOP_MARGIN,
    within: float = SHAPED_STOP_LEAD,
) -> Phrase | None:
    """The stop command, where whisper finds it (`odds.stop`) at least `margin` likelier
    than the command pocketsphinx heard (`command`, its `Whisper.command_score`) and at
    most `within` less likely than its own transcript."""
    if odds.stop < command + margin or not stop_heard(odds, within):
        return None
    return stop_command(odds.woken)


def written_command(text: str) -> Phrase | None:
    """The command a whisper transcript is, word for word with nothing else: "Coach,
    stop." and "Stop! Stop!" (`stop_in`), "Coach next."; None for anything more or
    less ("Go next!", "Coach next, please", "Next.")."""
    if stop_in(text):
        return written_stop(text)
    words = words_of(text)
    return next((p for p in PHRASES if p.woken and p.spoken == words), None)


class Ears:
    """pocketsphinx for every utterance and every command; whisper (`whisper.Whisper`)
    for a pain rating, and in a short utterance where pocketsphinx heard no command or
    another than stop: "stop" as whisper weighs it (with `SHAPED_STOP_LEAD` where
    either ear heard the shape of "coach stop", or whisper wrote the wake word and a
    word, and the coach is silent: `second_ear_command`), or a command it writes word
    for word (`written_command`), which wins over pocketsphinx's. Where pocketsphinx
    heard another command while the coach is silent, a stop whisper finds likelier than
    that command wins too (`stop_over_command`)."""

    def __init__(self, sphinx: Recognizer, whisper: SecondEar) -> None:
        self.sphinx = sphinx
        self.whisper = whisper

    @classmethod
    def for_routine(cls, routine_texts: Sequence[str]) -> Ears:
        """Both recognizers, pocketsphinx's language model made from `routine_texts`."""
        sphinx = SphinxRecognizer(routine_texts)
        try:
            whisper = Whisper()
        except WhisperUnavailable as exc:
            raise ListenError(f"voice commands need whisper: {exc}") from None
        return cls(sphinx, whisper)

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        hearing = self.sphinx.hear(pcm, strict)
        if for_second_ear(hearing, pcm):
            text = self.whisper.transcript(pcm)
            if stop_in(text):
                # A stop written out needs no odds: ~0.3 s of forced decodings saved,
                # where pocketsphinx missed a stop (bench_listen part 4's latency).
                return Hearing(hearing.text, written_stop(text), text)
            odds = self.whisper.stop_odds(pcm, stop_enough(hearing.text, text, strict))
            return Hearing(hearing.text, second_ear_command(hearing.text, odds, strict), odds.text)
        return self._checked(hearing, pcm, weigh_stop=not strict)

    def _checked(self, hearing: Hearing, pcm: bytes, weigh_stop: bool) -> Hearing:
        """`hearing`, or the command whisper writes word for word instead of the one
        pocketsphinx heard (`may_be_misheard`). The words, not the odds: weighing a stop
        against the transcript would take "coach resume", written "COUCH RISUUM", for
        one (benchmarks/tune_listen.py --whisper). With `weigh_stop` (the coach is
        silent), a stop whisper finds likelier than the command pocketsphinx heard
        (`stop_over_command`), or a transcript of two words ending in "stop" ("Gorge,
        stop!") within `SHAPED_STOP_LEAD`, is the stop pocketsphinx took for another
        command."""
        phrase = hearing.phrase
        if phrase is None or not may_be_misheard(hearing, pcm):
            return hearing
        text = self.whisper.transcript(pcm)
        written = written_command(text)
        if written is None and weigh_stop:
            odds = self.whisper.stop_odds(pcm)
            # Both need a stop within SHAPED_STOP_LEAD of the transcript; the command is
            # scored (three decodings) only then.
            if stop_heard(odds, SHAPED_STOP_LEAD):
                if shaped_like_coach_stop("", text):
                    written = stop_phrase(odds, SHAPED_STOP_LEAD)
                else:
                    command = self.whisper.command_score(pcm, phrase.words)
                    written = stop_over_command(odds, command)
        if written is None or written.action is phrase.action:
            return hearing
        return Hearing(hearing.text, written, text)

    def hear_answer(self, pcm: bytes) -> str:
        """An utterance while the coach waits for a pain rating: a command pocketsphinx
        heard ("coach_stop"), else "stop" as whisper heard it, else the rating whisper is
        sure of ("four"), as said or at the other `SPEEDS`, else "unclear: ..." (asked
        again), or "" for no words."""
        hearing = self._checked(self.sphinx.hear(pcm, strict=False), pcm, weigh_stop=False)
        if hearing.phrase is not None:
            return hearing.phrase.token
        odds = self.whisper.stop_odds(pcm)
        phrase = stop_phrase(odds)
        if phrase is not None:  # before the rating: "stop, stop" may lead with "one"
            return phrase.token
        # As said (the same encoding), then a little faster and slower if need be.
        speeds = (1.0, *SPEEDS)
        rating = rating_across(self.whisper.rating_odds(resampled(pcm, s)) for s in speeds)
        if rating is not None:
            return RATING_NAMES[rating]
        heard = words_of(odds.text) or plain_words(hearing.text)
        return f"unclear: {heard}" if heard else ""

    def close(self) -> None:
        """Nothing to release but memory."""


def plain_words(text: str) -> str:
    """A pocketsphinx transcript without its fillers and noises ("<sil>", "[NOISE]") or
    alternative pronunciations' marks ("stop(2)")."""
    return " ".join(w.split("(")[0] for w in text.split() if not w.startswith(("<", "[", "++")))


def stop_phrase(odds: StopOdds, lead: float = STOP_LEAD) -> Phrase | None:
    """The stop command whisper heard (`stop_heard` within `lead`), if any: "coach stop"
    or "stop stop"."""
    if not stop_heard(odds, lead):
        return None
    if stop_in(odds.text):
        return written_stop(odds.text)
    return stop_command(odds.woken)


def written_stop(text: str) -> Phrase:
    """The stop command a transcript that is one (`stop_in`) says: "Coach, stop." is
    "coach stop", "Stop! Stop!" is "stop stop"."""
    return stop_command(words_of(text).startswith(WAKE_WORD))


def stop_command(woken: bool) -> Phrase:
    """ "coach stop" (`woken`) or "stop stop"."""
    return next(p for p in PHRASES if p.action is Action.STOP and p.woken == woken)


class RecognizerProcess:
    """`Ears` in a process of their own. pocketsphinx holds the GIL while it loads its
    model (measured: 0.8 s) and while it decodes (0.2 s an utterance), and whisper
    computes on every core it is given: in the player's process that would starve the
    sound device's callback, and every cue after it would come late."""

    def __init__(self, routine_texts: Sequence[str]) -> None:
        import multiprocessing

        # spawn, not fork: the player's process runs PortAudio and threads.
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_recognizer,
            args=(child, list(routine_texts)),
            name="voice-coach-recognizer",
            daemon=True,
        )
        self._process.start()
        child.close()
        try:
            problem = self._conn.recv()
        except EOFError:
            problem = "the recognizer process ended at start"
        if problem is not None:
            self.close()
            raise ListenError(problem)

    def hear(self, pcm: bytes, strict: bool) -> Hearing:
        text, second, words = self._ask((pcm, strict))
        phrase = next((p for p in PHRASES if p.words == words), None)
        return Hearing(text, phrase, second)

    def hear_answer(self, pcm: bytes) -> str:
        text: str = self._ask((pcm, ANSWER))
        return text

    def _ask(self, request: tuple[bytes, object]) -> Any:
        """The recognizer process's reply; `ListenError` if it failed or has gone."""
        try:
            self._conn.send(request)
            reply = self._conn.recv()
        except (EOFError, OSError):
            raise ListenError("the recognizer process ended") from None
        if isinstance(reply, Failed):
            raise ListenError(f"the recognizer failed ({reply.why})")
        return reply

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


ANSWER = "answer"
"""Asks the recognizer process for `Ears.hear_answer` instead of `Ears.hear`."""


@dataclass(frozen=True)
class Failed:
    """The recognizer process's reply when an utterance raised: why, in one line."""

    why: str


def _serve_recognizer(conn: Any, routine_texts: list[str]) -> None:
    """The recognizer process: None (or why not) once ready, then one answer per
    utterance, until it is sent None or its parent goes."""
    # Below the player: on a busy machine the sound device's callback comes first.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(RECOGNIZER_NICENESS)
    try:
        recognizer = Ears.for_routine(routine_texts)
    except ListenError as exc:
        conn.send(str(exc))
        return
    except Exception as exc:  # a model that will not load: say why, in one line
        log.debug("the recognizer could not start", exc_info=True)
        conn.send(f"the recognizer could not start ({type(exc).__name__}: {exc})")
        return
    conn.send(None)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        pcm, strict = request
        try:
            if strict == ANSWER:
                conn.send(recognizer.hear_answer(pcm))
                continue
            hearing = recognizer.hear(pcm, strict)
        except Exception as exc:
            log.debug("the recognizer failed on an utterance", exc_info=True)
            conn.send(Failed(f"{type(exc).__name__}: {exc}"))
            return
        conn.send((hearing.text, hearing.second, hearing.phrase.words if hearing.phrase else None))


# -- utterances -----------------------------------------------------------------------


@dataclass(frozen=True)
class Utterance:
    start_s: float
    end_s: float
    """Clock times of the speech (without the audio kept around it)."""
    pcm: bytes
    """The speech with PRE_S before and POST_S after (as far as recorded)."""
    too_long: bool = False
    lead_in: bytes = b""
    """The `LEAD_IN_S` of audio before `pcm` (as far as recorded)."""


class Utterances:
    """Stretches of speech in a stream of 16 kHz audio, found by pocketsphinx's voice
    activity detector. `feed` takes the audio as it comes, with the clock time of its
    end; the stream's own sample count places each sample on that clock."""

    def __init__(self, max_s: float = MAX_UTTERANCE_S) -> None:
        from pocketsphinx import Endpointer

        self._ep = Endpointer(window=VAD_WINDOW_S, ratio=0.9, sample_rate=SAMPLE_RATE)
        self._frame_bytes: int = self._ep.frame_bytes
        self._pending = b""
        self._fed = 0
        """Samples fed to the detector (its own time, in samples)."""
        self._end_clock = 0.0
        self._end_sample = 0
        self._kept: deque[bytes] = deque()
        self._kept_from = 0
        """Stream sample index of the first kept byte."""
        self._keep_samples = int((max_s + PRE_S + LEAD_IN_S + 1.0) * SAMPLE_RATE)
        self._max_s = max_s

    def _clock(self, sample: float) -> float:
        return self._end_clock - (self._end_sample - sample) / SAMPLE_RATE

    def _cut(self, from_sample: int, to_sample: int) -> bytes:
        data = b"".join(self._kept)
        a = max(0, from_sample - self._kept_from) * 2
        b = max(0, to_sample - self._kept_from) * 2
        return data[a:b]

    def feed(self, pcm: bytes, end_clock_s: float) -> list[Utterance]:
        """Audio up to clock time `end_clock_s`; the utterances that ended in it."""
        self._kept.append(pcm)
        kept_samples = sum(len(b) for b in self._kept) // 2
        while kept_samples - len(self._kept[0]) // 2 > self._keep_samples:
            kept_samples -= len(self._kept[0]) // 2
            self._kept_from += len(self._kept.popleft()) // 2
        self._end_sample = self._kept_from + kept_samples
        self._end_clock = end_clock_s
        self._pending += pcm
        found = []
        while len(self._pending) >= self._frame_bytes:
            frame, self._pending = (
                self._pending[: self._frame_bytes],
                self._pending[self._frame_bytes :],
            )
            was = self._ep.in_speech
            self._ep.process(frame)
            self._fed += len(frame) // 2
            if was and not self._ep.in_speech:
                start = int(self._ep.speech_start * SAMPLE_RATE)
                end = int(self._ep.speech_end * SAMPLE_RATE)
                too_long = (end - start) / SAMPLE_RATE > self._max_s
                first = start - int(PRE_S * SAMPLE_RATE)
                pcm_out = b"" if too_long else self._cut(first, end + int(POST_S * SAMPLE_RATE))
                lead_in = (
                    b"" if too_long else self._cut(first - int(LEAD_IN_S * SAMPLE_RATE), first)
                )
                found.append(
                    Utterance(self._clock(start), self._clock(end), pcm_out, too_long, lead_in)
                )
        return found


# -- deciding -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    phrase: Phrase | None
    """The command to carry out; None: nothing to do."""
    reason: str
    """Why, for the debug output: "heard", "no command", "the coach's own words"."""


def says_word(texts: Sequence[str], words: str) -> bool:
    """Whether any of `texts` contains `words` as whole words ("next" in "Next: lunge")."""
    pattern = re.compile(r"\b" + re.escape(words) + r"\b", re.IGNORECASE)
    return any(pattern.search(t) for t in texts)


TWICE_GAP_S = 1.0
"""A command said twice without the wake word ("stop, stop") comes as two utterances when
the pause between the words outlasts VAD_WINDOW_S: each one half of it, at most this
far apart, make the command."""


def half_of(text: str) -> Phrase | None:
    """The command said twice without the wake word whose one half `text` is ("stop")."""
    words = plain_words(text)
    return next((p for p in PHRASES if not p.woken and re.fullmatch(p.halves, words)), None)


def judge(
    utterance: Utterance,
    recognizer: Recognizer,
    remote: Remote,
    before: tuple[Utterance, Hearing | None] | None = None,
) -> tuple[Verdict, Hearing | None]:
    """What to do about one utterance, given what the coach sounded while it was spoken
    (`before`: the utterance before it and what was heard in it, if anything)."""
    if utterance.too_long:
        return Verdict(None, "too long for a command"), None
    start_s = utterance.start_s
    on_air = remote.airtime.sounding(start_s, utterance.end_s, ECHO_TAIL_S)
    hearing = recognizer.hear(utterance.pcm, strict=bool(on_air))
    phrase = hearing.phrase
    if phrase is None and before is not None and before[1] is not None:
        half = hearing.half
        near = start_s - before[0].end_s <= TWICE_GAP_S
        if half is not None and near and half is before[1].half:
            phrase, start_s = half, before[0].start_s
            on_air = remote.airtime.sounding(start_s, utterance.end_s, ECHO_TAIL_S)
    if phrase is None and hearing.half is not None and utterance.lead_in:
        # One "stop" alone: the detector may have begun at the second of two.
        earlier_s = start_s - PRE_S - len(utterance.lead_in) / 2 / SAMPLE_RATE
        wide_air = remote.airtime.sounding(earlier_s, utterance.end_s, ECHO_TAIL_S)
        again = recognizer.hear(utterance.lead_in + utterance.pcm, strict=bool(wide_air))
        if again.phrase is not None and again.phrase.action is Action.STOP:
            phrase, start_s, on_air, hearing = again.phrase, earlier_s, wide_air, again
    if phrase is None:
        return Verdict(None, "no command"), hearing
    if on_air:
        said = [s.said for s in on_air if s.said]
        lines = remote.spoken_between(min(s.from_ms for s in on_air), max(s.to_ms for s in on_air))
        if any(says_word([*said, *lines], words) for words in phrase.cue_words):
            return Verdict(None, "the coach's own words"), hearing
    return Verdict(phrase, "heard"), hearing


def carry_out(phrase: Phrase, remote: Remote) -> None:
    """Do what the command asks, and acknowledge it out loud."""
    status = remote.status()
    action = phrase.action
    if action is Action.TIME:
        if status.hold_left_ms is not None and status.hold_left_ms >= 1000:
            remote.say(remote.remaining_text(round(status.hold_left_ms / 1000)))
        else:
            remote.acknowledge()
        return
    remote.acknowledge()
    if action is Action.PAUSE:
        if not status.paused:
            remote.handle(Command.PAUSE)
    elif action is Action.RESUME:
        if status.paused:
            remote.handle(Command.PAUSE)
    else:
        remote.handle(COMMANDS[action])


COMMANDS = {
    Action.NEXT: Command.NEXT,
    Action.BACK: Command.BACK,
    Action.LONGER: Command.LONGER,
    Action.SHORTER: Command.SHORTER,
    Action.STOP: Command.QUIT,
}


# -- the microphone -------------------------------------------------------------------

Blocks = Callable[[Callable[[bytes, float], None]], contextlib.AbstractContextManager[None]]
"""Opens a microphone that calls back with each block of 16 kHz audio and the clock
time of its end, for the duration of a `with` block; `ListenError` if there is none."""


@contextmanager
def microphone(on_block: Callable[[bytes, float], None]) -> Iterator[None]:
    """The default input device through PortAudio."""
    from .devices import sounddevice

    try:
        sd = sounddevice()
    except Exception as exc:
        raise ListenError(str(exc)) from None

    def callback(indata: Any, _frames: int, _time: Any, _status: Any) -> None:
        on_block(bytes(indata), time.monotonic())

    try:
        sd.query_devices(kind="input")
        stream = sd.RawInputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="int16",
            blocksize=int(BLOCK_S * SAMPLE_RATE),
            callback=callback,
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise ListenError(f"no microphone to listen to ({exc})") from None
    try:
        yield
    finally:
        stream.close()


@dataclass(frozen=True)
class Heard:
    """One utterance the listener acted on or let go, for the status line and tests."""

    at_s: float
    """Clock time of the decision."""
    utterance_end_s: float
    text: str
    verdict: Verdict
    second: str = ""
    """What whisper wrote, when it was asked (`Hearing.second`)."""


class Listener:
    """Voice control as a source of commands for `play` (a `Controls`).

    Problems that keep it from listening (no recognizer, a language it has no model
    for, no microphone) go to `notify` as one line; playback goes on with the keys."""

    def __init__(
        self,
        notify: Callable[[str], None],
        make_recognizer: Callable[[Sequence[str]], Recognizer] = RecognizerProcess,
        blocks: Blocks = microphone,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._notify = notify
        self._make_recognizer = make_recognizer
        self._blocks = blocks
        self._clock = clock
        self.listening = False
        self.heard: list[Heard] = []
        """Every utterance decided on, oldest first."""
        self.answers: list[Heard] = []
        """Every utterance taken as an answer to the coach's question, oldest first."""

    def note(self) -> str:
        """For the status line: listening, and the last command heard."""
        if not self.listening:
            return ""
        acted = [h.verdict.phrase for h in self.heard if h.verdict.phrase is not None]
        return f'listening · heard "{acted[-1].spoken}"' if acted else "listening"

    @contextmanager
    def __call__(self, remote: Remote) -> Iterator[bool]:
        try:
            self._check(remote)
            audio: queue.Queue[tuple[bytes, float] | None] = queue.Queue()
            with self._blocks(lambda pcm, at: audio.put((pcm, at))):
                remote.desk.can_take("voice")
                # The recognizer takes a second or two to build: in the worker, while
                # the routine plays; what the microphone hears meanwhile waits in `audio`.
                worker = threading.Thread(
                    target=self._work, args=(audio, remote), name="voice-coach-listen", daemon=True
                )
                worker.start()
                try:
                    yield True
                finally:
                    self.listening = False
                    audio.put(None)
                    worker.join(timeout=2)
        except ListenError as exc:
            self._notify(f"{exc}; voice commands are off, the keys still work")
            yield False

    def _check(self, remote: Remote) -> None:
        language = (remote.routine.language or "en").lower()
        if not language.startswith("en"):
            raise ListenError(
                f"voice commands know English only, and this routine is in {language!r}"
            )

    def _work(self, audio: queue.Queue[tuple[bytes, float] | None], remote: Remote) -> None:
        from ..timeline import spoken_texts

        started = self._clock()
        try:
            recognizer = self._make_recognizer(spoken_texts(remote.routine))
            utterances = Utterances()
        except ListenError as exc:
            self._notify(f"{exc}; voice commands are off, the keys still work")
            return
        log.debug("voice: listening (the recognizer took %.1f s to start)", self._clock() - started)
        self.listening = True
        try:
            self._decide(audio, recognizer, utterances, remote)
        except ListenError as exc:
            self.listening = False
            self._notify(f"{exc}; voice commands are off, the keys still work")
        finally:
            recognizer.close()

    def _decide(
        self,
        audio: queue.Queue[tuple[bytes, float] | None],
        recognizer: Recognizer,
        utterances: Utterances,
        remote: Remote,
    ) -> None:
        before: tuple[Utterance, Hearing | None] | None = None
        while True:
            item = audio.get()
            if item is None:
                return
            for utterance in utterances.feed(*item):
                if remote.desk.is_open:
                    self._answer(utterance, recognizer, remote)
                    before = None
                    continue
                verdict, hearing = judge(utterance, recognizer, remote, before)
                before = None if verdict.phrase else (utterance, hearing)
                now = self._clock()
                if verdict.phrase is not None:
                    carry_out(verdict.phrase, remote)
                text = hearing.text if hearing else ""
                second = hearing.second if hearing else ""
                self.heard.append(Heard(now, utterance.end_s, text, verdict, second))
                log.debug(
                    "voice: %s: %r, %.0f ms after the utterance%s",
                    verdict.reason,
                    text,
                    (now - utterance.end_s) * 1000,
                    f" -> {verdict.phrase.action.value}" if verdict.phrase else "",
                )

    def _answer(self, utterance: Utterance, recognizer: Recognizer, remote: Remote) -> None:
        """An utterance while the coach waits for a pain rating: handed in as an answer."""
        handed, reason, text = judge_answer(utterance, recognizer, remote)
        now = self._clock()
        if handed is not None:
            remote.desk.hand_in(handed)
        self.answers.append(Heard(now, utterance.end_s, text, Verdict(None, reason)))
        log.debug(
            "voice: answer: %s: %r, %.0f ms after the utterance",
            reason,
            text,
            (now - utterance.end_s) * 1000,
        )


# -- answers to the coach's question (the pain check-in) ------------------------------


def hear_answer(recognizer: Recognizer, pcm: bytes) -> str:
    """What an answer says: `Ears.hear_answer` where the recognizer has it (a rating
    word, a command's token, "unclear: ..." or ""), else its plain transcript."""
    answer_model = getattr(recognizer, "hear_answer", None)
    if answer_model is not None:
        return str(answer_model(pcm))
    return recognizer.hear(pcm, False).text


def judge_answer(
    utterance: Utterance, recognizer: Recognizer, remote: Remote
) -> tuple[Handed | None, str, str]:
    """What an utterance hands in while the coach waits for a pain rating, why, and its
    transcript. Nothing for anything heard while the coach sounded (its own question
    leaking into the microphone is never an answer) or too long for one; "coach stop"
    stops; else the rating in it, or a yes (`rating_in`: unclear speech is asked again)."""
    if utterance.too_long:
        return None, "too long for an answer", ""
    if remote.airtime.sounding(utterance.start_s, utterance.end_s, ECHO_TAIL_S):
        return None, "the coach's own words", ""
    text = hear_answer(recognizer, utterance.pcm)
    phrase = find_phrase(text)
    if phrase is not None:
        if phrase.action is Action.STOP:
            return Stop(), "stop", text
        return None, "a command, not an answer", text
    answer = rating_in(text)
    if answer is None:
        return None, "no words", text
    why = answer.value if isinstance(answer, enum.Enum) else f"rating {answer}"
    return Spoken(answer, text), why, text
