"""Live playback benchmark: cue timing, time to the start tone and to the first spoken
cue, ours vs a naive player.

Run from the project root (plays in real time: about twice the routine's length):

    .venv/bin/python -m benchmarks.bench_play              # a ~10-minute routine
    .venv/bin/python -m benchmarks.bench_play --minutes 1  # a quick check

A private PulseAudio server with a null sink is started (tests/integration/pulse.py)
and `parec` records its monitor while `voice-coach play` (a real process, real
speech via pyttsx3 -> espeak-ng, real PortAudio) and then a naive player (sleep until
each cue, then `sounddevice.play`) play the same routine from the same cache. Sound
onsets in the recordings are compared with `voice-coach show --json`. Exits 1 if a
target fails. See benchmarks/README_play.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VOICE_COACH = BIN / "voice-coach"

ONSET_P99_TARGET_MS = 20.0
DRIFT_TARGET_MS = 20.0
TONE_TARGET_S = 0.2
"""The start tone, warm or cold: the player heard Enter."""
COLD_FIRST_CUE_TARGET_S = 1.0
COLD_FIRST_CUE_NATURAL_TARGET_S = 1.5
"""With the natural voice (piper), whose model takes longer to load."""
WARM_FIRST_CUE_TARGET_S = 0.5
MATCH_WINDOW_MS = 250
"""An onset this close to where a cue is expected (after the cues before it) is its onset."""
RESYNC_MS = 3000
"""How far past where it is expected a cue is looked for once the player has jumped."""
PATTERN_MS = 30
"""When re-finding a jumped player, the next events must be heard this close."""
SETTLE_S = 0.5
"""Recording before a player starts, so the recorder is steady and the start is silent."""
TAIL_S = 0.5
COLD_WAIT_S = 60.0
"""Longest wait for the first sound with an empty cache (the naive player synthesizes all)."""

# -- a synthetic routine ---------------------------------------------------------------

# (name, hold seconds, extra keys). --minutes 10 takes the first 11 with two rests:
# 10.0 minutes, 14 holds (sides and reps), 114 spoken cues.
EXERCISES: list[tuple[str, int, dict[str, Any]]] = [
    ("Forward fold", 30, {"setup": ["Stand with your feet apart."]}),
    ("Neck tilt", 30, {"sides": ["right", "left"], "setup": ["Tilt your head to the {side}."]}),
    ("Shoulder rolls", 32, {"reps": 2, "between": "Once more."}),
    ("Chest opener", 35, {"setup": ["Clasp your hands behind you."]}),
    ("Side bend", 30, {"sides": ["left", "right"], "setup": ["Reach your {side} arm over."]}),
    ("Cat cow", 34, {"setup": ["Come onto all fours."], "during": ["Breathe slowly."]}),
    ("Child pose", 40, {}),
    ("Hip flexor", 36, {"setup": ["Kneel on one knee."]}),
    ("Hamstring", 32, {"release": "Lower your leg."}),
    ("Figure four", 30, {}),
    ("Spinal twist", 35, {"during": ["Keep your shoulders down."]}),
    ("Calf stretch", 33, {}),
]
REST_EVERY = 4
REST_S = 10
OVERHEAD_PER_HOLD_S = 6
"""Rough: name or setup, settling, release and recovery around each hold."""


def routine_yaml(minutes: float) -> str:
    """A routine of about `minutes` (at least one exercise)."""
    target_s = minutes * 60
    steps: list[dict[str, Any]] = []
    estimate_s = 8.0  # intro and finish
    exercises = 0
    while True:
        name, hold, extra = EXERCISES[exercises % len(EXERCISES)]
        lap = exercises // len(EXERCISES)
        rest = [{"rest": REST_S}] if exercises and exercises % REST_EVERY == 0 else []
        holds = len(extra.get("sides", [None])) * extra.get("reps", 1)
        more_s = len(rest) * (REST_S + 2) + holds * (hold + OVERHEAD_PER_HOLD_S) + 2
        if exercises and estimate_s + more_s / 2 > target_s:
            break  # the next step would overshoot by more than it would fill
        steps += [*rest, {"name": name + (f" {lap + 1}" if lap else ""), "hold": hold, **extra}]
        estimate_s += more_s
        exercises += 1
    doc = {
        "title": "Play benchmark",
        "defaults": {"countdown": 3, "remaining": [10], "chimes": True},
        "steps": steps,
    }
    return json.dumps(doc, indent=1)  # JSON is YAML


# -- running a player while recording --------------------------------------------------


def heard(samples: Any, rate: int) -> list[int]:
    """Onsets (ms) in `samples`; none in less than a few ms of audio (levels() needs some)."""
    from tests.integration import onsets

    if samples.size * 1000 // rate <= onsets.WINDOW_MS:
        return []
    return onsets.onsets(onsets.levels(samples, rate))


@dataclass
class Run:
    label: str
    samples: Any
    """Recorded mono int16 samples from the moment the process was started."""
    rate: int
    returncode: int | None
    stdout: str
    stderr: str
    tone: bool
    """The player starts with a start tone (ours), before the routine's first cue."""
    onsets_ms: list[int] = field(default_factory=list)

    @property
    def first_sound_s(self) -> float | None:
        return self.onsets_ms[0] / 1000 if self.onsets_ms else None

    @property
    def cue_onsets_ms(self) -> list[int]:
        """Onsets of the routine's own sounds (the tone left out)."""
        return self.onsets_ms[1:] if self.tone else self.onsets_ms

    @property
    def first_cue_s(self) -> float | None:
        cues = self.cue_onsets_ms
        return cues[0] / 1000 if cues else None


def record_process(
    server: Any,
    argv: Sequence[str],
    env: dict[str, str],
    folder: Path,
    label: str,
    until_first_sound: bool,
    timeout_s: float,
    tone: bool = True,
) -> Run:
    """Start `argv` while recording; stop it after its first cue, or let it finish.

    First-sound time: the recording's length (its file size) is read just before the
    process is started; the recording from that frame on is analysed, so an onset at
    t ms in it is t ms after the start. The recorder runs in real time within a few ms
    (a calibration with a 10 ms pacat click lands within 5 ms).
    """
    out, err = folder / f"{label}.out", folder / f"{label}.err"
    with server.recorder(folder / f"{label}.raw") as rec:
        time.sleep(SETTLE_S)
        with out.open("w") as o, err.open("w") as e:
            start_frame = rec.frames_recorded()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=o,
                stderr=e,
                env=env,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )
            try:
                if until_first_sound:
                    deadline = time.monotonic() + COLD_WAIT_S
                    wanted = 2 if tone else 1  # the tone, then the first cue
                    while time.monotonic() < deadline and proc.poll() is None:
                        if len(heard(rec.samples()[start_frame:], rec.rate)) >= wanted:
                            break
                        time.sleep(0.05)
                    time.sleep(0.3)
                    proc.send_signal(signal.SIGINT)
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        time.sleep(TAIL_S)
        rec.stop()
        samples = rec.samples()[start_frame:]
    run = Run(label, samples, rec.rate, proc.returncode, out.read_text(), err.read_text(), tone)
    run.onsets_ms = heard(samples, rec.rate)
    return run


FIRST_SOUND_REPEATS = 5
"""Starts per player and cache state for the start figures (median reported)."""


@dataclass
class Starts:
    """Seconds from spawning a player to its first sound and to its first cue."""

    sounds: list[float] = field(default_factory=list)
    cues: list[float] = field(default_factory=list)
    stderr: str = ""
    """What the starts printed (their notes and warnings)."""

    def add(self, run: Run) -> None:
        self.stderr += run.stderr
        if run.first_sound_s is not None:
            self.sounds.append(run.first_sound_s)
        if run.first_cue_s is not None:
            self.cues.append(run.first_cue_s)


def first_sounds(
    server: Any,
    argv_for: Any,
    env: dict[str, str],
    folder: Path,
    label: str,
    cache: Path | None,
    count: int = FIRST_SOUND_REPEATS,
    tone: bool = True,
) -> tuple[Starts, list[str]]:
    """`count` starts of `argv_for(cache)`, each stopped after its first cue; with
    `cache` None each start gets a fresh empty cache. A start that makes no sound is
    noted."""
    starts = Starts()
    notes: list[str] = []
    for attempt in range(1, count + 1):
        use = cache if cache is not None else folder / f"{label}-cache{attempt}"
        r = record_process(
            server, argv_for(use), env, folder, f"{label}{attempt}", True, 30, tone=tone
        )
        if r.first_cue_s is None:
            last = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
            notes.append(f"{label} start {attempt}: no cue heard: {last}")
        starts.add(r)
    return starts, notes


def warm_run(
    server: Any,
    argv_for: Any,
    env: dict[str, str],
    folder: Path,
    label: str,
    cache: Path,
    total_s: float,
    notes: list[str],
    tone: bool = True,
) -> tuple[Starts, Run]:
    """With the warm `cache`: starts stopped after their first cue, then the whole
    routine, whose start counts as one more. Returns the start times and the whole
    run; notes of starts that made no sound go to `notes`."""
    starts, more = first_sounds(
        server, argv_for, env, folder, f"{label}-warm-start", cache, FIRST_SOUND_REPEATS - 1, tone
    )
    notes += more
    run = record_process(
        server, argv_for(cache), env, folder, f"{label}-warm", False, total_s + 60, tone=tone
    )
    starts.add(run)
    return starts, run


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


# -- the naive baseline ------------------------------------------------------------------


NAIVE_LATENCY_S = 0.1
"""The device buffer our player asks for. With sounddevice's default ("high", 35 ms
here) PortAudio's ALSA -> PulseAudio path underruns and most short clips are lost."""


def naive_play(routine_path: Path, cache_dir: Path, engine: str | None) -> None:
    """Sleep until each cue's start, then `sounddevice.play` its clip (a new stream each)."""
    import sounddevice as sd

    from voice_coach.audio.mix import chime
    from voice_coach.prepare import prepare
    from voice_coach.routine.loader import load_routine
    from voice_coach.routine.model import VoiceSettings

    routine = load_routine(routine_path)
    prepared = prepare(routine, VoiceSettings(engine=engine), cache_dir=cache_dir)
    events = prepared.timeline.events
    t0 = time.monotonic() - events[0].start_ms / 1000  # the first cue now, no lead-in
    for e in events:
        clip = (
            prepared.clips[e.text]
            if e.is_speech
            else chime(e.text, e.duration_ms, prepared.sample_rate)
        )
        delay = t0 + e.start_ms / 1000 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sd.play(clip.samples(), samplerate=clip.sample_rate, latency=NAIVE_LATENCY_S)
    sd.wait()
    print(f"finished {prepared.timeline.title}")


# -- analysis ------------------------------------------------------------------------


@dataclass
class Timing:
    heard: int
    expected: int
    errors_ms: list[float]
    """|error| per heard spoken cue, aligned by the first cue."""
    drift_ms: float | None
    stray: int
    """Onsets not near any event."""
    missing: list[str]
    about_median_ms: list[float] = field(default_factory=list)
    """|error| per heard spoken cue, aligned by the median error instead."""

    def pct(self, q: float, median_aligned: bool = False) -> float | None:
        values = self.about_median_ms if median_aligned else self.errors_ms
        if not values:
            return None
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timing(run: Run, events: list[dict[str, Any]]) -> Timing:
    """Errors of spoken cues after aligning the recording by the first cue.

    Each event's onset is the nearest one within MATCH_WINDOW_MS of where it is
    expected given the previous matched event, so a player that drifts is followed.
    If there is none (the player jumped, e.g. an underrun delayed everything after
    it), the first later onset (up to RESYNC_MS) from which the next two events line
    up again is taken. Errors are measured against the first cue's alignment.
    """
    found = run.cue_onsets_ms
    expected = sum(e["kind"] != "chime" for e in events)
    if not found:
        return Timing(0, expected, [], None, 0, ["everything"])
    offset = found[0] - events[0]["start_ms"]
    local = offset
    used: set[int] = set()
    signed: list[float] = []
    missing: list[str] = []
    spans = []

    def confirmed(shift: int, k: int) -> bool:
        return all(
            any(abs(o - x["start_ms"] - shift) <= PATTERN_MS for o in found)
            for x in events[k + 1 : k + 3]
        )

    for k, e in enumerate(events):
        target = e["start_ms"] + local
        near = [
            (abs(o - target), i)
            for i, o in enumerate(found)
            if i not in used and abs(o - target) <= MATCH_WINDOW_MS
        ]
        if near:
            pick: int | None = min(near)[1]
        else:
            later = [
                i
                for i, o in enumerate(found)
                if i not in used and target - MATCH_WINDOW_MS <= o <= target + RESYNC_MS
            ]
            pick = next((i for i in later if confirmed(found[i] - e["start_ms"], k)), None)
        if pick is None:
            if e["kind"] != "chime":
                missing.append(f"{e['kind']} {e['text']!r} at {e['start_ms']} ms")
            continue
        used.add(pick)
        local = found[pick] - e["start_ms"]
        spans.append((found[pick] - 30, found[pick] + e["duration_ms"] + 100))
        if e["kind"] != "chime":
            signed.append(found[pick] - offset - e["start_ms"])
    stray = [o for o in found if not any(a <= o <= b for a, b in spans)]
    drift = signed[-1] - signed[0] if len(signed) >= 2 else None
    centre = statistics.median(signed) if signed else 0.0
    return Timing(
        len(signed),
        expected,
        [abs(x) for x in signed],
        drift,
        len(stray),
        missing,
        [abs(x - centre) for x in signed],
    )


# -- where start-up time goes ----------------------------------------------------------

BREAKDOWN = r"""
import sys, time
t = time.perf_counter()
marks = []
def mark(what):
    global t
    now = time.perf_counter(); marks.append((what, now - t)); t = now
def stage(what, fn):
    try:
        r = fn(); mark(what); return r
    except Exception as exc:
        marks.append((what + f" (failed: {type(exc).__name__})", float("nan"))); return None
from voice_coach.live import devices; mark("import voice_coach.live.devices")
started = stage("PortAudio and the stream open: the tone plays", devices.start_tone)
import voice_coach.cli.commands; mark("import the command line (typer)")
from voice_coach.live import run, keys, player; mark("import the player (numpy and the rest)")
from voice_coach import plan, prepare; mark("import plan and prepare")
p = stage("plan the routine (YAML, schema, profile, settings)", lambda: plan.make_plan(sys.argv[1]))
from pathlib import Path
def engine():
    return prepare.speech_cache(p.resolved.voice, Path(sys.argv[2]))
cache = stage("start the speech engine", engine)
from voice_coach.timeline import spoken_texts
stage("first clip from the warm cache", lambda: cache.clip(spoken_texts(p.routine)[0]))
if started is not None:
    started.tone.close()
for what, s in marks:
    print(f"{what}\t{s * 1000:.0f}")
"""


def startup_breakdown(routine: Path, cache: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    """The stages of a warm `play` start, each timed in one process."""
    done = subprocess.run(
        [sys.executable, "-c", BREAKDOWN, str(routine), str(cache)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    rows = []
    for line in done.stdout.splitlines():
        what, _, ms = line.partition("\t")
        if ms:
            rows.append((what, ms))
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        rows.append(("(breakdown stopped)", last))
    return rows


WARM_UP_IMPORTS = (
    "import voice_coach.cli.commands, voice_coach.live.run, voice_coach.live.keys, "
    "voice_coach.live.devices, voice_coach.prepare, voice_coach.plan, sounddevice, pyttsx3, "
    "pyttsx3.drivers.espeak, benchmarks.bench_play, tests.integration.onsets"
)


def import_times(
    env: dict[str, str], importtime: bool = True
) -> tuple[float, float, list[tuple[str, float]]]:
    """(python startup ms, `import voice_coach.cli` ms, heaviest imports by -X importtime)."""

    def wall(code: str) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    bare = wall("pass")
    cli = wall("import voice_coach.cli.commands")
    if not importtime:
        return bare, cli, []
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import voice_coach.cli.commands"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    by_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            top = m.group(2).split(".")[0].lstrip("_")
            package = top if top in THIRD_PARTY or top == "voice_coach" else "stdlib and others"
            by_package[package] = by_package.get(package, 0) + int(m.group(1)) / 1000
    heavy = sorted(by_package.items(), key=lambda kv: -kv[1])
    return bare, cli, heavy


THIRD_PARTY = {
    "numpy", "pydantic", "pydantic_core", "typer", "click", "rich", "yaml", "platformdirs",
    "mutagen", "annotated_types", "typing_extensions", "typing_inspection", "shellingham",
    "markdown_it", "pygments", "mdurl",
}  # fmt: skip


# -- the report --------------------------------------------------------------------------


@dataclass
class Row:
    metric: str
    target: str
    ours: str
    naive: str
    ok: bool | None = None


def fmt(value: float | None, digits: int = 0, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def print_table(rows: list[Row]) -> None:
    head = ("metric", "target", "voice-coach play", "naive baseline", "")
    cells = [head] + [
        (r.metric, r.target, r.ours, r.naive, "" if r.ok is None else ("PASS" if r.ok else "FAIL"))
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    for c in cells:
        print("  ".join(s.ljust(w) for s, w in zip(c, widths, strict=True)).rstrip())


def underruns(stderr: str) -> int:
    m = re.search(r"ran short of audio (\d+) time", stderr)
    return int(m.group(1)) if m else 0


def show_json(
    routine: Path, cache: Path, env: dict[str, str], extra: Sequence[str] = ()
) -> dict[str, Any]:
    done = subprocess.run(
        [str(VOICE_COACH), "show", str(routine), "--json", "--cache-dir", str(cache), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"voice-coach show failed:\n{done.stderr}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def run(
    minutes: float,
    skip_naive: bool,
    keep: Path | None,
    engine_name: str | None,
    whole_cold: bool = False,
) -> int:
    from tests.integration.pulse import pulse_server

    for program in ("pulseaudio", "parec", "pactl", "espeak-ng"):
        if shutil.which(program) is None:
            raise SystemExit(
                f"{program} is required (apt-get install pulseaudio "
                "pulseaudio-utils espeak-ng libportaudio2)"
            )
    folder = Path(tempfile.mkdtemp(prefix="bench-play-")) if keep is None else keep
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _run(minutes, skip_naive, folder, pulse_server, engine_name, whole_cold)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _run(
    minutes: float,
    skip_naive: bool,
    folder: Path,
    pulse_server: Any,
    engine_name: str | None,
    whole_cold: bool,
) -> int:
    routine = folder / "routine.yaml"
    routine.write_text(routine_yaml(minutes), encoding="utf-8")
    warm_cache = folder / "cache"
    notes: list[str] = []
    with pulse_server(sink="bench_play") as server:
        env = server.env()
        env.pop("VOICE_COACH_CACHE", None)  # --cache-dir is passed
        # State, history and profile private: no user profile may change the routine.
        for name, sub in (("STATE", "state"), ("DATA", "data"), ("CONFIG", "config")):
            env[f"VOICE_COACH_{name}"] = str(folder / sub)
        env["PYTHONPATH"] = str(ROOT)
        plain_env = dict(env)
        # Cached bytecode, as an installed package has it, in a private folder (nothing
        # is written to the checkout); PYTHONDONTWRITEBYTECODE would recompile each start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        subprocess.run(
            [sys.executable, "-c", WARM_UP_IMPORTS], env=env, cwd=ROOT, check=True, timeout=120
        )

        engine = ["--engine", engine_name] if engine_name else []

        def ours(cache: Path) -> list[str]:
            return [str(VOICE_COACH), "play", str(routine), "--cache-dir", str(cache), *engine]

        def naive(cache: Path) -> list[str]:
            return [
                sys.executable,
                "-m",
                "benchmarks.bench_play",
                "--naive-child",
                str(routine),
                "--cache-dir",
                str(cache),
                *engine,
            ]

        def say(text: str) -> None:
            print(text, flush=True)

        say(f"working in {folder}; recording the null sink of a private PulseAudio")
        load_before = os.getloadavg()[0]
        say(f"our player, empty cache, {FIRST_SOUND_REPEATS} starts: until its first cue ...")
        our_cold, more = first_sounds(server, ours, env, folder, "ours-cold", None)
        notes += more
        say("voice-coach show --json (fills the cache) ...")
        timeline = show_json(routine, warm_cache, env, engine)
        (folder / "timeline.json").write_text(json.dumps(timeline, indent=1), encoding="utf-8")
        events = timeline["events"]
        total_s = timeline["total_ms"] / 1000
        n_speech = sum(e["kind"] != "chime" for e in events)
        say(f"routine: {total_s / 60:.1f} min, {len(events)} events ({n_speech} spoken)")
        cold_whole = None
        if whole_cold:
            say("our player, the whole routine from an empty cache ...")
            cold_whole = record_process(
                server, ours(folder / "cold-whole-cache"), env, folder, "ours-cold-whole",
                False, total_s + 60,
            )  # fmt: skip
        say(f"our player, warm cache, {FIRST_SOUND_REPEATS - 1} starts and the whole routine ...")
        our_warm_starts, our_warm = warm_run(
            server, ours, env, folder, "ours", warm_cache, total_s, notes
        )
        naive_cold = Starts()
        naive_warm_starts = Starts()
        naive_warm = None
        if not skip_naive:
            say(f"naive player, empty cache, {FIRST_SOUND_REPEATS} starts ...")
            naive_cold, more = first_sounds(
                server, naive, env, folder, "naive-cold", None, tone=False
            )
            notes += more
            say(f"naive player, warm cache, {FIRST_SOUND_REPEATS - 1} starts and the whole routine")
            naive_warm_starts, naive_warm = warm_run(
                server, naive, env, folder, "naive", warm_cache, total_s, notes, tone=False
            )
        print("start-up costs ...", flush=True)
        bare_ms, cli_ms, heavy = import_times(env)
        _, plain_cli_ms, _ = import_times(plain_env, importtime=False)
        breakdown = startup_breakdown(routine, warm_cache, env)

    for r in (our_warm, naive_warm):
        if r is not None and (r.returncode != 0 or "finished" not in r.stdout):
            notes.append(f"{r.label}: exit {r.returncode}; {r.stdout.strip()} {r.stderr.strip()}")
    ours_t = timing(our_warm, events)
    printed = our_warm.stderr + our_cold.stderr + (cold_whole.stderr if cold_whole else "")
    waits = [m.group(0) for m in re.finditer(r"waited [0-9.]+ s", printed)]
    naive_t = timing(naive_warm, events) if naive_warm is not None else None

    def both(fn: Any) -> tuple[str, str]:
        return fn(ours_t), (fn(naive_t) if naive_t is not None else "not run")

    from voice_coach.speech import default_engine

    natural = (engine_name or default_engine().name) == "piper"
    cold_target_s = COLD_FIRST_CUE_NATURAL_TARGET_S if natural else COLD_FIRST_CUE_TARGET_S
    rows: list[Row] = []
    rows.append(
        Row(
            "spoken cues heard",
            "all",
            *both(lambda t: f"{t.heard}/{t.expected}"),
            ok=ours_t.heard == ours_t.expected,
        )
    )
    rows.append(Row("onset error p50 |ms|", "", *both(lambda t: fmt(t.pct(50)))))
    p99 = ours_t.pct(99)
    rows.append(
        Row(
            "onset error p99 |ms|",
            f"<= {ONSET_P99_TARGET_MS:g}",
            *both(lambda t: fmt(t.pct(99))),
            ok=p99 is not None and p99 <= ONSET_P99_TARGET_MS,
        )
    )
    rows.append(Row("onset error max |ms|", "", *both(lambda t: fmt(t.pct(100)))))
    rows.append(Row("  p99 if aligned by the median", "", *both(lambda t: fmt(t.pct(99, True)))))
    rows.append(
        Row(
            "drift first -> last cue (ms)",
            f"<= {DRIFT_TARGET_MS:g}",
            *both(lambda t: fmt(t.drift_ms, sign=True)),
            ok=ours_t.drift_ms is not None and abs(ours_t.drift_ms) <= DRIFT_TARGET_MS,
        )
    )
    rows.append(Row("onsets away from any event", "", *both(lambda t: str(t.stray))))
    for label, target, ours_s, naive_s in (
        ("start tone, empty cache (s)", TONE_TARGET_S, our_cold.sounds, []),
        ("start tone, warm cache (s)", TONE_TARGET_S, our_warm_starts.sounds, []),
        ("first cue, empty cache (s)", cold_target_s, our_cold.cues, naive_cold.cues),
        (
            "first cue, warm cache (s)",
            WARM_FIRST_CUE_TARGET_S,
            our_warm_starts.cues,
            naive_warm_starts.cues,
        ),
    ):
        median = statistics.median(ours_s) if ours_s else None
        rows.append(
            Row(
                label,
                f"<= {target:g}",
                spread(ours_s),
                spread(naive_s) if naive_s else ("no tone" if "tone" in label else "not run"),
                ok=median is not None and median <= target,
            )
        )
    rows.append(Row("underrun warnings", "", str(underruns(our_warm.stderr)), "n/a"))
    rows.append(
        Row(
            "waited for speech after the first cue",
            "never",
            "; ".join(sorted(set(waits))) or "never",
            "n/a",
            ok=not waits,
        )
    )

    print()
    print(
        f"Routine: {total_s / 60:.1f} min, {len(events)} events, {n_speech} spoken cues; "
        f"recorded at {our_warm.rate} Hz from a PulseAudio null sink."
    )
    print_table(rows)
    print()
    print("Method: onsets = 5 ms RMS windows at 1 ms steps reaching -45 dBFS after 100 ms of")
    print("quiet (tests/integration/onsets.py). Each recording is aligned by its first cue;")
    print("a cue's error is (its onset - first onset) - (its start_ms - first start_ms);")
    print("drift is the last spoken cue's error minus the first's. First-sound time: the")
    print("recording's length is read just before the process is spawned ('pressing Enter');")
    print("our player's first onset after that frame is its start tone, the next its first")
    print("spoken cue (the naive player has no tone). Start figures are median (min-max) of")
    print(f"{FIRST_SOUND_REPEATS} starts: the empty-cache ones each with a fresh cache, stopped")
    print("with SIGINT after the first cue; the warm ones include the start of the whole-routine")
    print("run. Nothing is recorded between starts: a warm start is any start after the cues")
    print("were synthesized once (by `show`, `export` or an earlier play). Every child runs")
    print("with cached bytecode (a private PYTHONPYCACHEPREFIX, warmed up first), as an")
    print("installed package would.")
    print(f"Load average (1 min) before and after: {load_before:.2f}, {os.getloadavg()[0]:.2f}")
    print("(first-sound and import times grow with other load on the machine).")
    print()
    print(
        f"Start-up: python -c pass {bare_ms:.0f} ms; python -c 'import voice_coach.cli' "
        f"{cli_ms:.0f} ms (median of 5 wall-clock runs, bytecode cached); {plain_cli_ms:.0f} ms"
        " in this environment as it is (PYTHONDONTWRITEBYTECODE etc. left as they are)."
    )
    print("Import time of voice_coach.cli by package (python -X importtime, self ms summed):")
    print("  " + ", ".join(f"{name} {ms:.0f}" for name, ms in heavy))
    print("Stages of a warm `play` start, timed one after another in one process (ms):")
    for what, ms in breakdown:
        print(f"  {what:55} {ms}")
    for t, label in ((ours_t, "ours"), (naive_t, "naive")):
        if t is not None and t.missing:
            notes.append(f"{label}: not heard: " + "; ".join(t.missing[:5]))
    for note in notes:
        print(f"note: {note}")
    failed = [r.metric for r in rows if r.ok is False]
    print()
    print("FAIL: " + ", ".join(failed) if failed else "all targets met")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="length of the routine (default 10; it plays twice in real time)",
    )
    parser.add_argument("--skip-naive", action="store_true", help="only our player")
    parser.add_argument(
        "--engine", help="speech engine for our player (default: voice_coach's default)"
    )
    parser.add_argument(
        "--cold-whole",
        action="store_true",
        help="also play the whole routine once from an empty cache (does speech keep up?)",
    )
    parser.add_argument("--keep", type=Path, help="keep recordings and logs in this folder")
    parser.add_argument("--naive-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.naive_child is not None:
        naive_play(args.naive_child, args.cache_dir, args.engine)
        return 0
    return run(args.minutes, args.skip_naive, args.keep, args.engine, args.cold_whole)


if __name__ == "__main__":
    sys.exit(main())
