"""Export with a sound bed against the same export without one, every kind of bed,
measured in one run. Real engine, real ffmpeg, private cache.

    .venv/bin/python -m benchmarks.bench_bed [--repeats N]

Every figure comes from this run. Exits 1 if a target fails. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from voice_coach.audio.loudness import apply_gain
from voice_coach.audio.mix import render
from voice_coach.export.encode import FORMATS, level
from voice_coach.prepare import prepare
from voice_coach.routine.model import Bed

from .bench_export import (
    bed_file,
    bench_env,
    ffmpeg_alone,
    routine_text,
    synthetic_routine,
)

BED_RATIO_TARGET = 1.3
"""An export with a bed vs the same export without one, whole processes."""
MINUTES = 30


@dataclass(frozen=True)
class Kind:
    name: str
    option: list[str]
    """What `voice-coach export` is given."""
    spec: Bed | None
    """The same bed, for rendering the mix in process (ffmpeg alone encodes it)."""


def kinds(folder: Path) -> list[Kind]:
    music = bed_file(folder / "music-3min.mp3", seconds=180)
    long_wav = folder / "music-10min.wav"
    chord = "+".join(f"0.2*sin(2*PI*{f}*t)" for f in (110, 165, 220))
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"aevalsrc={chord}:s=44100:d=600", "-ac", "2", str(long_wav)],
        check=True,
    )  # fmt: skip
    return [
        Kind("no bed", [], None),
        Kind("rain", ["--bed", "rain"], Bed("rain")),
        Kind("drone", ["--bed", "drone"], Bed("drone")),
        Kind("pace 110", ["--bed", "pace:110"], Bed("pace", 110)),
        Kind("file, MP3 3 min", ["--bed", str(music)], Bed("file", path=str(music))),
        Kind("file, WAV 10 min", ["--bed", str(long_wav)], Bed("file", path=str(long_wav))),
    ]


def children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def export_process(
    script: Path, cache: Path, target: Path, option: list[str]
) -> tuple[float, float]:
    """`voice-coach export` as a person runs it (a new process, its start-up and its
    ffmpeg included): (wall seconds, CPU seconds)."""
    args = [sys.executable, "-m", "voice_coach", "export", str(script), "-o", str(target)]
    args += ["--cache-dir", str(cache), *option]
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=bench_env(cache))
    return time.perf_counter() - start, children_cpu() - cpu


def write_mix(script_minutes: int, cache: Path, spec: Bed | None, path: Path) -> None:
    """The PCM export gives ffmpeg for the routine with `spec` under it (leveled,
    limited, with its gain), to a WAV for ffmpeg alone: how long the encoder takes
    depends on what it encodes."""
    routine = synthetic_routine(script_minutes)
    if spec is not None:
        routine = dataclasses.replace(routine, bed=spec)
    p = prepare(routine, cache_dir=cache)
    leveled = level(p.timeline, p.clips, p.sample_rate, FORMATS["mp3"], None, None, p.bed)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(p.sample_rate)
        for chunk in render(p.timeline, leveled.clips, p.sample_rate, bed=leveled.bed):
            w.writeframes(apply_gain(chunk, leveled.gain_db))


def run(repeats: int) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="voice-coach-bench-bed-") as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"
        routine = synthetic_routine(MINUTES)
        script = tmp / "benchmark-30.yaml"
        script.write_text(routine_text(routine.title, len(routine.steps)), encoding="utf-8")
        all_kinds = kinds(tmp)
        for kind in all_kinds:  # warms the cache and the bytecode; not timed
            export_process(script, cache, tmp / "warm.mp3", kind.option)
        mixes = {}
        for kind in all_kinds:
            mixes[kind.name] = tmp / f"mix-{len(mixes)}.wav"
            write_mix(MINUTES, cache, kind.spec, mixes[kind.name])
        wall: dict[str, list[float]] = {k.name: [] for k in all_kinds}
        cpu: dict[str, list[float]] = {k.name: [] for k in all_kinds}
        alone: dict[str, list[float]] = {k.name: [] for k in all_kinds}
        for i in range(repeats):
            order = all_kinds if i % 2 == 0 else all_kinds[::-1]
            for kind in order:
                w, c = export_process(script, cache, tmp / "out.mp3", kind.option)
                wall[kind.name].append(w)
                cpu[kind.name].append(c)
                start = time.perf_counter()
                ffmpeg_alone(mixes[kind.name], tmp / "alone.mp3")
                alone[kind.name].append(time.perf_counter() - start)
    base = "no bed"
    header = (
        f"{'bed':<18} {'export s':>9} {'CPU s':>6} {'/ no bed':>9} {'CPU / no bed':>13} "
        f"{'ffmpeg alone s':>15} {'its / no bed':>13} {'export / alone':>15}  target"
    )
    print(header)
    failed = False
    for kind in all_kinds:
        name = kind.name
        w, c, a = min(wall[name]), min(cpu[name]), min(alone[name])
        ratio, cpu_ratio = w / min(wall[base]), c / min(cpu[base])
        ok = name == base or ratio <= BED_RATIO_TARGET
        failed |= not ok
        verdict = "" if name == base else f"<= {BED_RATIO_TARGET}: {'PASS' if ok else 'FAIL'}"
        print(
            f"{name:<18} {w:>9.2f} {c:>6.2f} {ratio:>9.2f} {cpu_ratio:>13.2f} "
            f"{a:>15.2f} {a / min(alone[base]):>13.2f} {w / a:>15.2f}  {verdict}"
        )
    print(
        "export s and CPU s: the fastest of the runs (CPU: the process and its ffmpeg); "
        "ffmpeg alone: encoding the same mix from a WAV with export's MP3 settings"
    )
    for kind in all_kinds:
        print(f"runs, {kind.name}: {spread(wall[kind.name])}; alone {spread(alone[kind.name])}")
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


def spread(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values) + f" s (median {statistics.median(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (default 3)")
    args = parser.parse_args(argv)
    return run(args.repeats)


if __name__ == "__main__":
    sys.exit(main())
