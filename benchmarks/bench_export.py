"""Export benchmarks: real engine (pyttsx3 -> espeak-ng), real ffmpeg, private cache.

Run from the project root:

    .venv/bin/python -m benchmarks.bench_export

Every figure comes from this one run; nothing is extrapolated. Exits 1 if a target
fails. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from voice_coach.audio.mix import event_clips, render
from voice_coach.export.encode import FORMATS, export_audio
from voice_coach.export.tags import Tags
from voice_coach.phrases import number_words
from voice_coach.prepare import Prepared, prepare, settings_comment
from voice_coach.routine.loader import parse_routine
from voice_coach.routine.model import Bed, Routine
from voice_coach.timeline import Timeline, build_timeline

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

EXPORT_RATIO_TARGET = 1.2
"""`voice-coach export` with a warm cache, the whole process (start-up, loading, render,
encode) vs ffmpeg alone encoding the same audio from a WAV, also a whole process."""
MEMORY_RATIO_TARGET = 1.3
"""Peak RSS exporting a 60-minute routine vs a 5-minute one."""
NAIVE_BUDGET_S = 60.0
"""A naive run of the whole routine that goes past this is abandoned for a 10-minute one."""
NAIVE_PORTION_MS = 10 * 60_000
TIMING_REPEATS = 5
"""Timed runs of each of export and ffmpeg-alone, interleaved; the fastest of each is
compared (the least disturbed by whatever else the machine runs)."""
MS_PER_CHAR = 55
"""Rough speaking time per character at 160 wpm, only to pick how many steps to generate."""


# -- a synthetic routine of a given length -------------------------------------------


def _step(i: int) -> dict[str, Any]:
    """Step `i` (1-based) of a repeating pattern: sides, reps, rest, single hold."""
    name = f"Stretch number {number_words(i)}"
    kind = (i - 1) % 4
    if kind == 0:
        return {
            "name": name,
            "setup": ["Lie on your back.", "Bend your {side} knee toward your chest."],
            "hold": 60,
            "sides": ["right", "left"],
            "during": ["Breathe slowly.", "Let your shoulders relax."],
            "release": "Slowly lower your {side} leg.",
        }
    if kind == 1:
        return {
            "name": name,
            "setup": ["Sit tall, with your legs straight."],
            "hold": 60,
            "reps": 2,
            "during": ["Keep breathing."],
            "between": "Once more, gently.",
        }
    if kind == 2:
        return {"rest": 20}
    return {
        "name": name,
        "setup": ["Stand up slowly.", "Reach both arms overhead."],
        "hold": 60,
        "halfway": True,
        "during": ["Lengthen your spine."],
    }


def _routine(title: str, n_steps: int) -> Routine:
    text = routine_text(title, n_steps)
    return parse_routine(text, source=f"<{title}>", slug=title.lower().replace(" ", "-"))


def routine_text(title: str, n_steps: int) -> str:
    """The routine's script (YAML)."""
    data = {
        "title": title,
        "intro": ["Move gently, and stop if anything hurts."],
        "steps": [_step(i) for i in range(1, n_steps + 1)],
    }
    return yaml.safe_dump(data, sort_keys=False)


def _estimate_ms(routine: Routine) -> int:
    return build_timeline(routine, lambda text: MS_PER_CHAR * len(text)).total_ms


def synthetic_routine(minutes: int) -> Routine:
    """The shortest routine of the repeating pattern that lasts about `minutes`."""
    title = f"Benchmark {minutes} minutes"
    n = 1
    while _estimate_ms(_routine(title, n)) < minutes * 60_000:
        n += 1
    return _routine(title, n)


# -- helpers --------------------------------------------------------------------------


def prepare_warm(routine: Routine, cache: Path, notes: list[str]) -> Prepared:
    """`prepare`, filling the cache."""
    return prepare(routine, cache_dir=cache)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and the children it ran)."""
    cpu = cpu_seconds()
    wall, _ = timed(fn)
    return wall, cpu_seconds() - cpu


def clock(ms: float) -> str:
    minutes, rest = divmod(round(ms / 1000), 60)
    return f"{minutes}:{rest:02d}"


def export_in_process(
    routine: Routine, cache: Path, target: Path, fmt: str = "mp3", check_peak: bool = True
) -> Prepared:
    """What `voice-coach export` does, in process: prepare (warm cache) and encode to
    `fmt`; without `check_peak`, the file is not decoded to check its true peak."""
    p = prepare(routine, cache_dir=cache)
    tags = Tags(title=routine.title, comment=settings_comment(p))
    export_audio(
        p.timeline, p.clips, p.sample_rate, target, fmt, tags=tags, bed=p.bed, check_peak=check_peak
    )
    return p


def decoded_peak_rows(routine: Routine, cache: Path, tmp: Path) -> list[Row]:
    """The 30-minute export in process, with and without decoding the file to check its
    true peak (MP3 and Ogg as they are written, M4A once written), interleaved: the
    fastest of each, wall and CPU time (this process and its ffmpegs)."""
    rows = []
    for fmt in ("mp3", "m4a"):
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for i in range(TIMING_REPEATS):
            for check in (True, False) if i % 2 == 0 else (False, True):
                out = tmp / f"peak-{check}.{fmt}"
                times[check].append(
                    timed_cpu(
                        lambda c=check, o=out, f=fmt: export_in_process(routine, cache, o, f, c)
                    )
                )
        (wall, cpu), (wall0, cpu0) = (
            (min(w for w, _ in times[c]), min(u for _, u in times[c])) for c in (True, False)
        )
        rows.append(
            Row(
                f"  {fmt.upper()} in process, decoded-peak check / without",
                f"{wall:.2f} / {wall0:.2f} s ({wall / wall0:.2f}); "
                f"CPU {cpu:.2f} / {cpu0:.2f} s ({cpu / cpu0:.2f})",
            )
        )
    return rows


def bed_file(path: Path, seconds: int) -> Path:
    """An MP3 of a soft chord with pink noise, `seconds` long, made by ffmpeg."""
    chord = "+".join(f"0.2*sin(2*PI*{f}*t)" for f in (110, 165, 220))
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"aevalsrc={chord}:s=44100:d={seconds}",
            "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.05:d={seconds}",
            "-filter_complex", "amix=inputs=2", "-ac", "2", "-b:a", "128k", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def export_process(script: Path, cache: Path, target: Path, checkin: str = "after") -> None:
    """`voice-coach export` as a person runs it: a new process, its start-up included."""
    args = [str(Path(sys.executable).parent / "voice-coach"), "export", str(script)]
    args += ["-o", str(target), "--cache-dir", str(cache), "--checkin", checkin]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=bench_env(cache))


def bench_env(cache: Path) -> dict[str, str]:
    """Private user folders (no profile may change the routine), and cached bytecode in
    a private folder as an installed package has it (this sandbox may forbid writing
    it; each start would compile every module again)."""
    env = dict(os.environ)
    folder = cache.parent
    for name in ("STATE", "DATA", "CONFIG"):
        env[f"VOICE_COACH_{name}"] = str(folder / name.lower())
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def write_wav(p: Prepared, path: Path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(p.sample_rate)
        for chunk in render(p.timeline, p.clips, p.sample_rate):
            w.writeframes(chunk)


def ffmpeg_alone(wav: Path, out: Path) -> None:
    """ffmpeg encoding a ready WAV with export.py's MP3 settings."""
    spec = FORMATS["mp3"]
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav)]
    args += ["-c:a", spec.codec, "-b:a", f"{spec.default_kbps}k", "-ac", "1"]
    args += ["-f", spec.muxer, str(out)]
    subprocess.run(args, check=True)


def our_render(timeline: Timeline, p: Prepared) -> int:
    """The chunked renderer, collecting all PCM in memory (as the naive baseline does)."""
    pcm = bytearray()
    for chunk in render(timeline, p.clips, p.sample_rate):
        pcm += chunk
    return len(pcm)


def naive_pydub(timeline: Timeline, p: Prepared, deadline: float) -> int | None:
    """The timeline assembled with pydub `+=`: silence, clip, silence, clip... in order.
    None when it passes `deadline` (time.perf_counter()) before the end."""
    from pydub import AudioSegment

    rate = p.sample_rate
    out = AudioSegment.silent(duration=0, frame_rate=rate)
    pos_ms = 0
    for (_frame, clip), event in zip(
        event_clips(timeline, p.clips, rate), timeline.events, strict=True
    ):
        if event.start_ms > pos_ms:
            out += AudioSegment.silent(duration=event.start_ms - pos_ms, frame_rate=rate)
        out += AudioSegment(data=clip.pcm, sample_width=2, frame_rate=rate, channels=1)
        pos_ms = len(out)
        if time.perf_counter() > deadline:
            return None
    if timeline.total_ms > pos_ms:
        out += AudioSegment.silent(duration=timeline.total_ms - pos_ms, frame_rate=rate)
    return len(out.raw_data)


def portion(timeline: Timeline, until_ms: int) -> Timeline:
    """The first `until_ms` of a timeline: events starting before then, cut there."""
    events = tuple(e for e in timeline.events if e.end_ms <= until_ms)
    return dataclasses.replace(timeline, total_ms=until_ms, events=events, chapters=())


# -- peak memory, one fresh process per export ------------------------------------------


def vm_kb(field: str) -> int | None:
    """A size from /proc/self/status (Linux), in KiB: VmHWM is this process's peak RSS
    since its exec, unlike ru_maxrss, which a child inherits from the process that
    forked it (here, a benchmark parent holding 30 minutes of naive audio)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def measure_ffmpeg(folder: Path, log: Path) -> bool:
    """Put an `ffmpeg` first on PATH that runs the real one under /usr/bin/time, which
    appends ffmpeg's own peak RSS (KiB) to `log`. False if /usr/bin/time is missing."""
    real, gnu_time = shutil.which("ffmpeg"), shutil.which("time", path="/usr/bin:/bin")
    if real is None or gnu_time is None:
        return False
    wrapper = folder / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\nexec {gnu_time} -f %M -a -o "{log}" "{real}" "$@"\n')
    wrapper.chmod(0o755)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    return True


def child_main(minutes: int, cache: Path, out: Path, bed: str = "") -> None:
    """Export one synthetic routine, with the sound file `bed` under it if given; print
    this process's and ffmpeg's peak RSS (KiB)."""
    with tempfile.TemporaryDirectory(prefix="voice-coach-bench-child-") as tmp:
        log = Path(tmp) / "ffmpeg-rss.txt"
        timed_ffmpeg = measure_ffmpeg(Path(tmp), log)
        start_kb = vm_kb("VmHWM")
        routine = synthetic_routine(minutes)
        if bed:
            routine = dataclasses.replace(routine, bed=Bed("file", path=bed))
        p = export_in_process(routine, cache, out)
        ffmpeg_kb = max(map(int, log.read_text().split())) if timed_ffmpeg else None
        report = {
            "total_ms": p.timeline.total_ms,
            "synthesized": p.cache.synthesized,
            "start_kb": start_kb,
            "self_kb": vm_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "ffmpeg_kb": ffmpeg_kb,
        }
    print(json.dumps(report))


def peak_memory(minutes: int, cache: Path, out: Path, bed: Path | None = None) -> dict[str, Any]:
    """Export in a fresh process, with the sound file `bed` under it if given; its
    report of peak memory."""
    args = [sys.executable, "-m", "benchmarks.bench_export", "--child", str(minutes)]
    args += [str(cache), str(out), str(bed or "")]
    done = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {minutes}-minute export child failed ({done.returncode})")
    report: dict[str, Any] = json.loads(done.stdout)
    return report


# -- the run -------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    measured: str
    target: str = ""
    ok: bool | None = None

    @property
    def result(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "FAIL")


def run(checkin: str = "after") -> int:
    started = time.perf_counter()
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="voice-coach-bench-") as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"
        # As `export` makes them with this `checkin`: a reminder to log the pain at the end
        # (the in-process export and ffmpeg alone then have the very audio it has).
        r30, r60, r5 = (
            dataclasses.replace(synthetic_routine(m), log_reminder=checkin != "off")
            for m in (30, 60, 5)
        )
        rows.append(Row("checkin (the closing reminder to log the pain)", checkin))

        # Warm the cache for every routine (the only synthesis in the whole run).
        warm = [timed(lambda r=r: prepare_warm(r, cache, notes)) for r in (r60, r30, r5)]
        warm_s = sum(seconds for seconds, _ in warm)
        p30 = warm[1][1]
        lines = len(list(cache.rglob("*.wav")))
        tl = p30.timeline
        rows.append(
            Row(
                "30-min routine",
                f"{clock(tl.total_ms)} long, {len(r30.exercises)} exercises, "
                f"{len(tl.holds)} holds, {len(tl.events)} events",
            )
        )
        rows.append(Row("cache warm-up (all 3 routines)", f"{lines} lines in {warm_s:.1f} s"))

        # Warm-cache export vs ffmpeg alone on the same audio: whole processes, and
        # the export's own work in this process.
        wav = tmp / "same.wav"
        write_wav(p30, wav)
        script = tmp / "benchmark-30.yaml"
        script.write_text(routine_text(r30.title, len(r30.steps)), encoding="utf-8")
        export_process(script, cache, tmp / "warm-up.mp3", checkin)  # bytecode cached
        export_times, ffmpeg_times, inside_times = [], [], []
        export_cpu, ffmpeg_cpu = [], []
        for i in range(TIMING_REPEATS):
            for name in ("ours", "alone", "inside") if i % 2 == 0 else ("inside", "alone", "ours"):
                if name == "ours":
                    o = tmp / "o.mp3"
                    wall, cpu = timed_cpu(lambda o=o: export_process(script, cache, o, checkin))
                    export_times.append(wall)
                    export_cpu.append(cpu)
                elif name == "alone":
                    wall, cpu = timed_cpu(lambda: ffmpeg_alone(wav, tmp / "alone.mp3"))
                    ffmpeg_times.append(wall)
                    ffmpeg_cpu.append(cpu)
                else:
                    wall, _ = timed(lambda: export_in_process(r30, cache, tmp / "inside.mp3"))
                    inside_times.append(wall)
        ours, alone, inside = min(export_times), min(ffmpeg_times), min(inside_times)
        ratio = ours / alone
        cpu_ratio = min(export_cpu) / min(ffmpeg_cpu)
        rows.append(Row("voice-coach export of 30 min to MP3, warm (process)", f"{ours:.2f} s"))
        rows.append(Row("ffmpeg alone, same audio from a WAV (process)", f"{alone:.2f} s"))
        rows.append(
            Row(
                "  export / ffmpeg alone",
                f"{ratio:.2f}",
                f"<= {EXPORT_RATIO_TARGET}",
                ratio <= EXPORT_RATIO_TARGET,
            )
        )
        rows.append(
            Row(
                "  the same in CPU time (python + ffmpeg; no target)",
                f"{cpu_ratio:.2f} ({min(export_cpu):.2f} / {min(ffmpeg_cpu):.2f} s)",
            )
        )
        rows.append(
            Row(
                "  of which prepare + encode in process (no start-up)",
                f"{inside:.2f} s ({inside / alone:.2f} x ffmpeg alone)",
            )
        )
        rows += decoded_peak_rows(r30, cache, tmp)

        # The naive pydub baseline (no target).
        deadline = time.perf_counter() + NAIVE_BUDGET_S
        naive_s, naive_len = timed(lambda: naive_pydub(tl, p30, deadline))
        part = tl
        if naive_len is None:
            notes.append(
                f"naive pydub on the whole 30 min passed {NAIVE_BUDGET_S:.0f} s and was "
                f"stopped; both sides below were measured on the first "
                f"{NAIVE_PORTION_MS // 60_000} minutes only"
            )
            part = portion(tl, NAIVE_PORTION_MS)
            naive_s, naive_len = timed(lambda: naive_pydub(part, p30, float("inf")))
        render_s, render_len = timed(lambda: our_render(part, p30))
        label = f"{clock(part.total_ms)} of audio"
        rows.append(Row(f"our render to PCM, {label}", f"{render_s:.2f} s"))
        rows.append(Row(f"naive pydub += assembly, {label}", f"{naive_s:.2f} s"))
        rows.append(Row("  naive / ours (baseline, no target)", f"{naive_s / render_s:.0f}x"))
        if naive_len is not None and abs(naive_len - render_len) > 2 * p30.sample_rate:
            notes.append(f"naive PCM {naive_len} bytes vs ours {render_len} (rounding drift)")

        # Peak memory: a fresh process per export, warm cache.
        m5 = peak_memory(5, cache, tmp / "mem5.mp3")
        m60 = peak_memory(60, cache, tmp / "mem60.mp3")
        if m5["synthesized"] or m60["synthesized"]:
            notes.append("a memory child synthesized lines: the cache was not warm")
        mem_ratio = m60["self_kb"] / m5["self_kb"]
        for m in (m5, m60):
            start = f"{m['start_kb'] / 1024:.1f}" if m["start_kb"] else "?"
            rows.append(
                Row(
                    f"peak RSS, export of {clock(m['total_ms'])} (python process)",
                    f"{m['self_kb'] / 1024:.1f} MiB ({start} MiB after imports)",
                )
            )
        rows.append(
            Row(
                "  60 min / 5 min",
                f"{mem_ratio:.2f}",
                f"<= {MEMORY_RATIO_TARGET}",
                mem_ratio <= MEMORY_RATIO_TARGET,
            )
        )
        # The same with a sound file under it (3 minutes of music-like sound: it
        # loops), decoded by ffmpeg as the export goes.
        music = bed_file(tmp / "bed.mp3", seconds=180)
        b5 = peak_memory(5, cache, tmp / "bed5.mp3", music)
        b60 = peak_memory(60, cache, tmp / "bed60.mp3", music)
        bed_ratio = b60["self_kb"] / b5["self_kb"]
        rows.append(
            Row(
                "peak RSS with a file bed, 5 min / 60 min",
                f"{b5['self_kb'] / 1024:.1f} / {b60['self_kb'] / 1024:.1f} MiB",
            )
        )
        rows.append(
            Row(
                "  60 min / 5 min, with the bed",
                f"{bed_ratio:.2f}",
                f"<= {MEMORY_RATIO_TARGET}",
                bed_ratio <= MEMORY_RATIO_TARGET,
            )
        )
        if m5["ffmpeg_kb"] and m60["ffmpeg_kb"]:
            rows.append(
                Row(
                    "peak RSS of its ffmpeg, 5 min / 60 min",
                    f"{m5['ffmpeg_kb'] / 1024:.1f} / {m60['ffmpeg_kb'] / 1024:.1f} MiB",
                )
            )
        else:
            notes.append("no /usr/bin/time: ffmpeg's own peak RSS was not measured")

    print_table(rows)
    for note in notes:
        print(f"note: {note}")
    print(
        f"timed runs: export {spread(export_times)}; ffmpeg alone {spread(ffmpeg_times)}; "
        f"in process {spread(inside_times)}"
    )
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    failed = [r for r in rows if r.ok is False]
    return 1 if failed else 0


def spread(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values) + f" s (median {statistics.median(values):.2f})"


def print_table(rows: list[Row]) -> None:
    header = Row("figure", "measured", "target")
    widths = [
        max(len(r.figure) for r in [header, *rows]),
        max(len(r.measured) for r in [header, *rows]),
        max(len(r.target) for r in [header, *rows]),
    ]
    print(f"{'figure':<{widths[0]}}  {'measured':<{widths[1]}}  {'target':<{widths[2]}}  result")
    for r in rows:
        print(
            f"{r.figure:<{widths[0]}}  {r.measured:<{widths[1]}}  {r.target:<{widths[2]}}  "
            f"{r.result}".rstrip()
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--child", nargs=4, metavar=("MINUTES", "CACHE", "OUT", "BED"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--checkin",
        default="after",
        choices=("after", "before", "both", "off"),
        help="export's --checkin (off: no closing reminder to log the pain, the run before it)",
    )
    args = parser.parse_args(argv)
    if args.child:
        minutes, cache, out, bed = args.child
        child_main(int(minutes), Path(cache), Path(out), bed)
        return 0
    return run(args.checkin)


if __name__ == "__main__":
    sys.exit(main())
