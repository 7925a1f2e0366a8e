"""Engine benchmarks: cold export of sciatica-relief on every available engine.

Run from the project root:

    .venv/bin/python -m benchmarks.bench_engines [--engine NAME ...]

For each engine, in one run and with a fresh cache each time:

- the cold export of `sciatica-relief` to MP3 (synthesis of every unique line, the
  cache's own parallelism, render, loudness pass, encode);
- the sum of each unique line's synthesis time run alone, one after another, on a warm
  engine, and the same plus what the cache does to each new clip (trim, loudness
  normalization): the sequential baseline. The cold cache fill against it is the
  parallel speed-up (sequential sum / cold fill);
- the real-time factor: the engine's synthesis time / seconds of speech produced.

Target: piper's real-time factor <= 0.15 on this 2-core machine. Exits 1 if it fails.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from voice_coach.export.encode import export_audio
from voice_coach.export.tags import Tags
from voice_coach.prepare import prepare
from voice_coach.routine.library import bundled_routines
from voice_coach.routine.loader import load_routine
from voice_coach.routine.model import VoiceSettings
from voice_coach.speech import engine_statuses, get_engine
from voice_coach.speech.cache import SpeechCache, finish
from voice_coach.timeline import spoken_texts

ROUTINE = "sciatica-relief"
PIPER_RTF_TARGET = 0.15


@dataclass(frozen=True)
class Figures:
    engine: str
    lines: int
    speech_s: float
    """Seconds of speech produced (sum of the trimmed clips)."""
    sequential_s: float
    """Sum of each line's synthesis alone (the engine only)."""
    sequential_stored_s: float
    """The same plus trimming and loudness normalization, as the cache stores it."""
    cold_synthesis_s: float
    """The cold export's synthesis phase (the cache's parallel path)."""
    cold_export_s: float

    @property
    def speed_up(self) -> float:
        return self.sequential_stored_s / self.cold_synthesis_s

    @property
    def rtf(self) -> float:
        return self.sequential_s / self.speech_s


def measure(engine_name: str) -> Figures:
    routine = load_routine(bundled_routines()[ROUTINE])
    texts = spoken_texts(routine)
    settings = VoiceSettings(engine=engine_name)

    # Sequential baseline: a warm engine (its model loaded), each line timed alone. Its
    # files (piper's optimized model) go to a folder of this run, not the user's cache.
    models = tempfile.TemporaryDirectory()
    engine = get_engine(engine_name, Path(models.name))
    voice = engine.resolve(settings)
    engine.synthesize(texts[0], voice)
    sequential = stored = 0.0
    speech = 0.0
    for text in texts:
        start = time.perf_counter()
        clip = engine.synthesize(text, voice)
        middle = time.perf_counter()
        finish(clip)
        sequential += middle - start
        stored += time.perf_counter() - start
        speech += clip.frames / clip.sample_rate

    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp) / "cache"
        start = time.perf_counter()
        warm_up = get_engine(engine_name, cache_dir)
        SpeechCache(cache_dir, warm_up, warm_up.resolve(settings)).clips(texts)
        synthesis = time.perf_counter() - start

        cold_cache = Path(tmp) / "cold"
        start = time.perf_counter()
        ready = prepare(routine, settings, cold_cache)
        export_audio(
            ready.timeline,
            ready.clips,
            ready.sample_rate,
            Path(tmp) / "out.mp3",
            tags=Tags(title=routine.title),
        )
        cold_export = time.perf_counter() - start
    return Figures(engine_name, len(texts), speech, sequential, stored, synthesis, cold_export)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", help="Only these engines.")
    args = parser.parse_args(argv)
    statuses = engine_statuses()
    failed = False
    print(f"cold export of {ROUTINE}, fresh cache per engine\n")
    header = (
        f"{'engine':<10} {'lines':>5} {'speech s':>8} {'alone s':>8} {'+store s':>8} "
        f"{'cold fill s':>11} {'speed-up':>8} {'RTF':>6} {'cold export s':>13}  target"
    )
    print(header)
    for status in statuses:
        if args.engine and status.name not in args.engine:
            continue
        if status.unavailable_reason is not None:
            print(f"{status.name:<10} not available: {status.unavailable_reason}")
            continue
        f = measure(status.name)
        verdict = ""
        if status.name == "piper":
            ok = f.rtf <= PIPER_RTF_TARGET
            failed |= not ok
            verdict = f"RTF <= {PIPER_RTF_TARGET}: {'PASS' if ok else 'FAIL'}"
        print(
            f"{f.engine:<10} {f.lines:>5} {f.speech_s:>8.1f} {f.sequential_s:>8.2f} "
            f"{f.sequential_stored_s:>8.2f} {f.cold_synthesis_s:>11.2f} {f.speed_up:>8.2f} "
            f"{f.rtf:>6.3f} "
            f"{f.cold_export_s:>13.2f}  {verdict}"
        )
    print(
        "\nalone: each unique line synthesized on its own, one after another (warm engine);"
        "\n+store: the same plus trimming and loudness normalization of each clip;"
        "\ncold fill: the cache filling itself (parallel where the engine allows);"
        "\nspeed-up: +store / cold fill; RTF: alone / speech seconds."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
