"""A directory of synthesized cues: one WAV per distinct way of saying a line.

The key covers everything that changes the sound, so a stale entry is never reused:
the resolved voice (engine, the engine's and its voice model's version, voice, rate,
volume), the text, and a digest of the code that makes the clip (`made_by`: the
engine's modules and those that finish each clip, found by following their code, with
their constants). Entries are written atomically; a truncated or corrupt one is
detected on read and synthesized again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import threading
import time
import wave
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import write_atomically
from ..audio.clip import Clip, clip_from_wav_bytes, trim_silence
from ..audio.loudness import normalize_clip
from ..errors import EngineError, VoiceCoachError
from . import get_engine
from .contract import SYNTHESIS_TIMEOUT_S, Engine, Parallelism, ResolvedVoice
from .fingerprint import code_digest

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

PARALLEL_MIN_PHRASES = 8
"""Fewer missing phrases than this are synthesized one by one: starting workers for
them would cost more than it saves."""
WORKER_START_S = 1.0
"""What a worker process costs before its first phrase (Python, numpy, the engine):
measured 0.6 s, 1.4 s when the `voice-coach` script is re-imported in it."""

Progress = Callable[[int, int], None]


@dataclass
class CacheStats:
    """What a `SpeechCache` did since it was made, counted in lines (clips)."""

    hits: int = 0
    """Clips read from the cache."""
    synthesized: int = 0
    """Clips spoken by the engine and stored."""
    repaired: int = 0
    """Entries found broken (truncated, not a WAV, empty) and so spoken again."""


@dataclass
class SpeechCache:
    """The clips of one engine speaking with one voice, kept as WAV files under `root`.

    Safe to use from several threads, and from several processes on the same `root`:
    an entry is written whole (atomically) or not at all.
    """

    root: Path
    """The cache directory (`--cache-dir`, else `paths.cache_dir()`); made when needed."""
    engine: Engine
    """Speaks the lines missing from the cache."""
    voice: ResolvedVoice
    """How `engine` speaks them; from `engine.resolve`."""
    stats: CacheStats = field(default_factory=CacheStats)
    """Counts of this cache's reads, syntheses and repairs."""
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """Engines such as pyttsx3 are not thread-safe: one synthesis at a time."""
    _stats_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def key(self, text: str) -> str:
        """The entry's name for `text`: a SHA-256 hex digest of the resolved voice, the
        text (exactly, case and punctuation included) and the digest of the code that
        makes the clip (`made_by`). The first call for an engine class in a process
        takes a few milliseconds, later ones microseconds."""
        fields = {
            **dataclasses.asdict(self.voice),
            "text": text,
            "code": made_by(type(self.engine)),
        }
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def path(self, text: str) -> Path:
        """Where `text`'s clip is, or would be, stored: `root/ENGINE/KE/KEY.wav`."""
        key = self.key(text)
        return self.root / self.voice.engine / key[:2] / f"{key}.wav"

    def clip(self, text: str) -> Clip:
        """The text's clip, trimmed and at `TARGET_LUFS` (see `finish`): from the cache,
        else synthesized now and stored. Thread-safe. Raises `EngineError` when the
        engine cannot speak it (nothing is stored then), `OSError` when the entry
        cannot be written."""
        clip = self.cached(text)
        if clip is None:
            clip = self._synthesize(text)
            self._store(text, clip)
        return clip

    def clips(self, texts: Iterable[str], progress: Progress | None = None) -> dict[str, Clip]:
        """Every text's clip, each distinct text synthesized at most once.

        Cached clips are read first; the missing ones are then synthesized, side by
        side when the engine allows it and there are enough of them. `progress` gets
        (done, total) after each text, counting up to the number of distinct texts.
        Returns the clips by text, in the order the texts first appear.

        Raises `EngineError` when a line fails, when one takes longer than
        `SYNTHESIS_TIMEOUT_S` seconds in a worker process, or when it kills its worker;
        the lines finished before it are stored. `OSError` when an entry cannot be
        written.
        """
        unique = list(dict.fromkeys(texts))
        found: dict[str, Clip] = {}
        missing: list[str] = []

        def tick() -> None:
            if progress:
                progress(len(found), len(unique))

        for text in unique:
            clip = self.cached(text)
            if clip is None:
                missing.append(text)
            else:
                found[text] = clip
                tick()
        for text, clip in self._synthesize_all(missing):
            self._store(text, clip)
            found[text] = clip
            tick()
        return {text: found[text] for text in unique}

    def cached(self, text: str) -> Clip | None:
        """The cached clip, or None when it is missing or broken (counted in
        `stats.repaired`; `clip` makes it again). Never synthesizes; a broken entry
        is no error."""
        path = self.path(text)
        if not path.exists():
            return None
        try:
            clip = clip_from_wav_bytes(path.read_bytes())
            if clip.frames > 0:
                with self._stats_lock:
                    self.stats.hits += 1
                return clip
        except (wave.Error, EOFError, OSError, ValueError):
            pass
        with self._stats_lock:
            self.stats.repaired += 1
        return None

    def _synthesize(self, text: str) -> Clip:
        return finish(self._speak(text))

    def _speak(self, text: str) -> Clip:
        """The engine's raw clip (not yet trimmed or normalized)."""
        lock = nullcontext() if _parallelism(self.engine) == "thread" else self._engine_lock
        with lock:
            return self.engine.synthesize(text, self.voice)

    def _one_by_one(self, texts: list[str]) -> Iterator[tuple[str, Clip]]:
        """The engine speaks one phrase at a time; finishing each clip (trim, loudness,
        mostly numpy outside the GIL) runs beside the next phrase, on the other cores."""
        if len(texts) < 2:
            for text in texts:
                yield text, self._synthesize(text)
            return
        with ThreadPoolExecutor(
            os.cpu_count() or 1, thread_name_prefix="voice-coach-finish"
        ) as pool:
            pending: dict[Future[Clip], str] = {}

            def rest() -> Iterator[tuple[str, Clip]]:
                for future in as_completed(list(pending)):
                    yield pending.pop(future), future.result()

            try:
                for text in texts:
                    pending[pool.submit(finish, self._speak(text))] = text
                    for future in [f for f in pending if f.done()]:
                        yield pending.pop(future), future.result()
            except GeneratorExit:
                raise  # the caller stopped listening
            except BaseException:
                yield from rest()  # phrases already spoken are kept when a later one fails
                raise
            yield from rest()

    def _store(self, text: str, clip: Clip) -> None:
        # Written only once the whole clip exists: a failed phrase leaves no entry.
        write_atomically(self.path(text), clip.to_wav_bytes())
        with self._stats_lock:
            self.stats.synthesized += 1

    def _synthesize_all(self, texts: list[str]) -> Iterator[tuple[str, Clip]]:
        """Each text with its new clip, in the order they finish."""
        mode = _parallelism(self.engine)
        workers = min(os.cpu_count() or 1, len(texts))
        if mode == "none" or workers < 2 or len(texts) < PARALLEL_MIN_PHRASES:
            yield from self._one_by_one(texts)
        elif mode == "thread":
            yield from self._in_threads(texts, workers)
        else:
            # Speak one phrase here first: how long it takes tells whether starting
            # worker processes would pay (for pyttsx3's 30 ms a phrase on 2 cores,
            # it does not).
            started = time.perf_counter()
            yield texts[0], self._synthesize(texts[0])
            phrase_s = time.perf_counter() - started
            rest = texts[1:]
            if len(rest) * phrase_s * (1 - 1 / workers) > WORKER_START_S:
                yield from self._in_processes(rest, workers)
            else:
                yield from self._one_by_one(rest)

    def _in_threads(self, texts: list[str], workers: int) -> Iterator[tuple[str, Clip]]:
        with ThreadPoolExecutor(workers, thread_name_prefix="voice-coach-tts") as pool:
            futures = {pool.submit(self._synthesize, text): text for text in texts}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()

    def _in_processes(self, texts: list[str], workers: int) -> Iterator[tuple[str, Clip]]:
        # Worker processes only for a cold cache: multiprocessing loads only then.
        from concurrent.futures.process import BrokenProcessPool

        left = list(texts)
        try:
            with _Workers(self.engine.name, self.root, workers) as pool:
                for text, clip in pool.speak(left, self.voice):
                    left.remove(text)
                    yield text, finish(clip)
        except BrokenProcessPool:
            # A phrase killed its worker, but several were in flight: speak the rest one
            # at a time in one fresh worker, so a crash names its phrase (and a one-off
            # crash heals).
            with _Workers(self.engine.name, self.root, 1) as pool:
                for text in left:
                    try:
                        ((_, clip),) = pool.speak([text], self.voice)
                    except BrokenProcessPool:
                        raise EngineError(
                            f"engine {self.engine.name} crashed while speaking {text!r} "
                            "(its worker process died)"
                        ) from None
                    yield text, finish(clip)


class _Workers:
    """Worker processes that each build the engine by name through the registry, with
    the cache's directory (see `get_engine`).

    Leaving the block because of an error (a hung phrase, Ctrl+C) kills them.
    """

    def __init__(self, engine_name: str, cache_dir: Path, count: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.engine_name = engine_name
        # "spawn": a forked child would inherit the parent's half-used speech library.
        self._pool = ProcessPoolExecutor(
            count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(engine_name, cache_dir),
        )

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None:
            _stop_workers(self._pool)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def speak(self, texts: list[str], voice: ResolvedVoice) -> Iterator[tuple[str, Clip]]:
        """Each text with its clip as they finish; `BrokenProcessPool` if a worker died."""
        from concurrent.futures import FIRST_COMPLETED, wait

        order = {text: i for i, text in enumerate(texts)}
        futures = {self._pool.submit(_speak_in_worker, text, voice): text for text in texts}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, SYNTHESIS_TIMEOUT_S, FIRST_COMPLETED)
            if not done:
                busy = [futures[f] for f in futures if f.running()]
                raise EngineError(
                    f"engine {self.engine_name} did not finish speaking "
                    f"{_some(busy or [futures[f] for f in pending])} within "
                    f"{SYNTHESIS_TIMEOUT_S:g} s"
                )
            for future in sorted(done, key=lambda f: order[futures[f]]):
                yield futures[future], future.result()


def _parallelism(engine: Engine) -> Parallelism:
    # Engines written before `parallel` joined the contract run one phrase at a time.
    mode = getattr(engine, "parallel", "none")
    if mode == "process":
        return "process"
    return "thread" if mode == "thread" else "none"


def _some(texts: list[str]) -> str:
    quoted = [repr(t) for t in texts[:3]]
    return quoted[0] if len(quoted) == 1 else "one of " + ", ".join(quoted)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes, which may be stuck in a hung phrase."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    # Before 3.14 only the private table knows which processes are this pool's.
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()


# -- inside a worker process -----------------------------------------------------------

_WORKER: dict[str, Engine | EngineError] = {}
"""This worker's engine, built by name through the registry, or why it could not be."""


def _start_worker(engine_name: str, cache_dir: Path) -> None:
    try:
        _WORKER["engine"] = get_engine(engine_name, cache_dir)
    except VoiceCoachError as exc:
        _WORKER["engine"] = EngineError(str(exc))


def _speak_in_worker(text: str, voice: ResolvedVoice) -> Clip:
    engine = _WORKER.get("engine") or EngineError("the speech worker did not start")
    if isinstance(engine, EngineError):
        raise engine
    return engine.synthesize(text, voice)


@functools.cache
def made_by(engine: type) -> str:
    """A digest of the code that makes what is stored for `engine`'s clips: its class,
    `finish`, and all they reach (see `fingerprint`). Once per engine and process (a
    few milliseconds): the code does not change while it runs."""
    return code_digest(engine, finish)


def finish(clip: Clip) -> Clip:
    """What is stored for a synthesized clip: no silence around it, and at TARGET_LUFS
    whatever the engine or voice (so exports and live playback both are)."""
    return normalize_clip(trim_silence(clip))
