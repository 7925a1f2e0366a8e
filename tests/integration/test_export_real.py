"""End-to-end exports with the real default engine (piper where installed, else pyttsx3
-> espeak-ng) and real ffmpeg.

The exported audio is decoded again and its sound onsets are compared with the
timeline that `show --json` prints: every cue must be heard where the timeline says,
holds must be silent between their cues, and nothing may sound anywhere else.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from conftest import require_program
from mutagen.id3 import ID3
from typer.testing import CliRunner, Result

import voice_coach.export.encode
from voice_coach.audio.clip import clip_from_wav_bytes
from voice_coach.cli.commands import app
from voice_coach.export.tags import read_chapters
from voice_coach.prepare import prepare
from voice_coach.routine.loader import load_routine
from voice_coach.speech import default_engine
from voice_coach.timeline import Chapter

from . import onsets
from .waiting import wait_until

pytestmark = pytest.mark.integration

ROUTINE = Path(__file__).parent / "fixtures" / "short-routine.yaml"
ONSET_TOLERANCE_MS = 30
"""An event's sound must start this close to its start_ms."""
SMEAR_MS = 60
"""MP3 smearing around an event, allowed when checking silence."""
DURATION_TOLERANCE_MS = 100
OTHER_FORMAT_TOLERANCE_MS = 150


def cli(*args: object) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


cli_synthesizing = cli
"""Runs that synthesize: no retries; a failed line is a failure."""


def describe(result: Result) -> str:
    return (
        f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
        f"exception: {result.exception!r}"
    )


def export(out: Path, cache: Path, *extra: object) -> Result:
    result = cli_synthesizing("export", ROUTINE, "-o", out, "--cache-dir", cache, *extra)
    assert result.exit_code == 0, describe(result)
    assert out.is_file()
    return result


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def cache_files(cache: Path) -> dict[Path, tuple[int, int]]:
    """Every file in the cache with its (mtime_ns, size)."""
    return {
        p: (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(cache.rglob("*")) if p.is_file()
    }


@dataclass(frozen=True)
class Exported:
    timeline: dict[str, Any]
    mp3: Path
    cache: Path
    samples: npt.NDArray[np.int16]
    levels: onsets.Levels
    onsets: list[int]

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.timeline["events"])

    def spans(self, before_ms: float, after_ms: float) -> list[tuple[float, float]]:
        return [
            (e["start_ms"] - before_ms, e["start_ms"] + e["duration_ms"] + after_ms)
            for e in self.events
        ]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The short routine's timeline (`show --json`) and its MP3 (`export`), one shared cache."""
    require_program("espeak-ng")
    require_program("ffmpeg")
    require_program("ffprobe")
    root = tmp_path_factory.mktemp("exported")
    cache = root / "cache"
    mp3 = root / "out" / "routine.mp3"
    export(mp3, cache)  # synthesizes every line (cold cache)
    shown = cli("show", ROUTINE, "--json", "--cache-dir", cache)
    assert shown.exit_code == 0, describe(shown)
    assert shown.stderr == "", "the routine must lay out without warnings (all cues placed)"
    timeline = json.loads(shown.stdout)
    samples = onsets.decode(mp3)
    lv = onsets.levels(samples)
    return Exported(timeline, mp3, cache, samples, lv, onsets.onsets(lv))


def test_timeline_json_has_the_expected_shape(exported: Exported) -> None:
    tl = exported.timeline
    assert tl["title"] == "Integration check"
    kinds = [e["kind"] for e in tl["events"]]
    for kind in ("intro", "step", "setup", "hold", "during", "remaining", "countdown"):
        assert kind in kinds
    for kind in ("release", "switch", "rest", "next", "between", "finish", "chime"):
        assert kind in kinds
    assert kinds.count("hold") == 4
    assert all(set(e) == {"start_ms", "duration_ms", "kind", "text", "step"} for e in tl["events"])
    assert [c["title"] for c in tl["chapters"]] == [
        "Introduction",
        "Side stretch",
        "Rest, then Toe touch",
        "Toe touch",
    ]


def test_every_event_is_heard_at_its_start(exported: Exported) -> None:
    misses = []
    for e in exported.events:
        near = onsets.nearest(exported.onsets, e["start_ms"])
        if near is None or abs(near - e["start_ms"]) > ONSET_TOLERANCE_MS:
            misses.append(f"{e['kind']} {e['text']!r} at {e['start_ms']} ms: nearest onset {near}")
    assert not misses, "\n".join(misses)


def test_decoded_duration_matches_total(exported: Exported) -> None:
    got = onsets.duration_ms(exported.samples)
    assert abs(got - exported.timeline["total_ms"]) <= DURATION_TOLERANCE_MS


def test_holds_are_silent_between_their_cues(exported: Exported) -> None:
    events = exported.events
    allowed = exported.spans(SMEAR_MS, SMEAR_MS)
    loud = exported.levels.loud
    holds = [i for i, e in enumerate(events) if e["kind"] == "hold"]
    assert len(holds) == 4
    for i in holds:
        hold = events[i]
        release = next(e for e in events[i + 1 :] if e["kind"] == "release")
        begin = hold["start_ms"] + hold["duration_ms"]
        end = release["start_ms"]
        inside = [begin + int(t) for t in np.flatnonzero(loud[begin:end])]
        stray = onsets.outside(inside, allowed)
        assert not stray, (
            f"sound in the hold at {hold['start_ms']} ms outside its cues: {stray[:10]}"
        )
        quiet_ms = int(np.count_nonzero(~loud[begin:end]))
        assert quiet_ms > 1000, "a hold should be mostly silence; is the threshold right?"


def test_no_sound_starts_away_from_an_event(exported: Exported) -> None:
    stray = onsets.outside(exported.onsets, exported.spans(ONSET_TOLERANCE_MS, SMEAR_MS))
    assert not stray, f"onsets not near any scheduled event: {stray}"
    assert len(exported.onsets) >= len(exported.events)


def test_chapters_read_back(exported: Exported) -> None:
    expected = [
        Chapter(c["title"], c["start_ms"], c["end_ms"]) for c in exported.timeline["chapters"]
    ]
    got = read_chapters(exported.mp3)
    assert got == expected
    assert [c.start_ms for c in got] == sorted(c.start_ms for c in got)

    # In the file's order: players that ignore the CTOC list chapters so.
    probed = ffprobe(exported.mp3)["chapters"]
    assert probed[0]["tags"]["title"] == "Introduction"
    assert len(probed) == len(expected)
    assert [c["tags"]["title"] for c in probed] == [c.title for c in expected]
    assert [round(float(c["start_time"]) * 1000) for c in probed] == [c.start_ms for c in expected]


def test_id3_tags(exported: Exported) -> None:
    id3 = ID3(exported.mp3)
    assert str(id3["TIT2"]) == exported.timeline["title"]
    assert str(id3["TPE1"]) == "voice_coach"
    assert str(id3["TALB"]) == "voice_coach routines"
    assert str(id3["TRCK"]) == "1"
    assert str(id3["TCON"]) == "Fitness"
    comments = id3.getall("COMM")
    assert len(comments) == 1
    assert f"engine {default_engine().name} " in str(comments[0])


@pytest.fixture(scope="module")
def export_as(
    exported: Exported, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """The routine exported (warm cache) in another format; each format only once."""
    folder = tmp_path_factory.mktemp("formats")
    done: dict[str, Path] = {}

    def get(fmt: str) -> Path:
        if fmt not in done:
            done[fmt] = folder / f"routine.{fmt}"
            export(done[fmt], exported.cache, "--format", fmt)
        return done[fmt]

    return get


@pytest.mark.parametrize("fmt", ["ogg", "m4a"])
def test_other_formats_have_chapters(
    exported: Exported, export_as: Callable[[str], Path], fmt: str
) -> None:
    probed = sorted(ffprobe(export_as(fmt))["chapters"], key=lambda c: float(c["start_time"]))
    chapters = exported.timeline["chapters"]
    assert [c.get("tags", {}).get("title") for c in probed] == [c["title"] for c in chapters]
    assert [round(float(c["start_time"]) * 1000) for c in probed] == [
        c["start_ms"] for c in chapters
    ]


@pytest.mark.parametrize("fmt", ["ogg", "m4a", "wav"])
def test_other_formats_have_the_same_length(
    exported: Exported, export_as: Callable[[str], Path], fmt: str
) -> None:
    out = export_as(fmt)
    total = exported.timeline["total_ms"]
    probed_ms = float(ffprobe(out)["format"]["duration"]) * 1000
    assert abs(probed_ms - total) <= OTHER_FORMAT_TOLERANCE_MS
    decoded_ms = onsets.duration_ms(onsets.decode(out))
    assert abs(decoded_ms - total) <= OTHER_FORMAT_TOLERANCE_MS


def test_warm_cache_synthesizes_nothing_and_repairs_a_corrupt_entry(
    cache_dir: Path, tmp_path: Path
) -> None:
    require_program("espeak-ng")
    require_program("ffmpeg")
    first = tmp_path / "first.mp3"
    export(first, cache_dir)
    before = cache_files(cache_dir)
    wavs = [p for p in before if p.suffix == ".wav"]
    assert wavs, "the first export should fill the cache"

    second = tmp_path / "second.mp3"
    export(second, cache_dir)
    assert cache_files(cache_dir) == before, "a warm-cache export must not synthesize anything"
    assert np.array_equal(onsets.decode(first), onsets.decode(second))

    # As `export` makes it: with the pain check-in's closing reminder.
    exported = dataclasses.replace(load_routine(ROUTINE), log_reminder=True)
    stats = prepare(exported, cache_dir=cache_dir).cache
    assert (stats.hits, stats.synthesized, stats.repaired) == (len(wavs), 0, 0)

    victim = wavs[0]
    with victim.open("r+b") as f:
        f.truncate(30)
    third = tmp_path / "third.mp3"
    export(third, cache_dir)
    repaired = victim.read_bytes()
    assert len(repaired) > 30
    assert clip_from_wav_bytes(repaired).frames > 0
    after = cache_files(cache_dir)
    assert after.keys() == before.keys()
    assert {p: v for p, v in after.items() if p != victim} == {
        p: v for p, v in before.items() if p != victim
    }, "only the corrupt entry is synthesized again"
    assert onsets.decode(third).size > 0

    stats = prepare(exported, cache_dir=cache_dir).cache
    assert (stats.hits, stats.synthesized, stats.repaired) == (len(wavs), 0, 0)
    assert cache_files(cache_dir) == after, "the repaired entry is reused as it is"


@pytest.fixture
def interrupt_render(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Make export's renderer yield three chunks, then raise KeyboardInterrupt (Ctrl+C)."""
    real = voice_coach.export.encode.render
    yielded: list[int] = []

    def render(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for i, chunk in enumerate(real(*args, **kwargs)):
            if i == 3:
                raise KeyboardInterrupt
            yielded.append(len(chunk))
            yield chunk

    monkeypatch.setattr(voice_coach.export.encode, "render", render)
    yield yielded


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_interrupted_export_leaves_nothing(
    exported: Exported, tmp_path: Path, interrupt_render: list[int], fmt: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / f"routine.{fmt}"
    result = cli("export", ROUTINE, "-o", target, "--cache-dir", exported.cache, "--format", fmt)
    assert result.exit_code == 130, describe(result)
    assert "interrupted" in result.stderr
    assert len(interrupt_render) == 3, "the interrupt should come in the middle of encoding"
    assert not target.exists()
    assert list(folder.iterdir()) == [], "no .partial (or .ffmeta) file may remain"


def test_interrupted_export_keeps_the_previous_file(
    exported: Exported, tmp_path: Path, interrupt_render: list[int]
) -> None:
    target = tmp_path / "routine.mp3"
    shutil.copyfile(exported.mp3, target)
    result = cli("export", ROUTINE, "-o", target, "--cache-dir", exported.cache)
    assert result.exit_code == 130, describe(result)
    assert target.read_bytes() == exported.mp3.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routine.mp3"]


def starts_with_id3(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(3) == b"ID3"
    except FileNotFoundError:  # renamed into place meanwhile
        return False


def test_an_export_killed_outright_is_cleaned_up_by_the_next(
    exported: Exported, tmp_path: Path
) -> None:
    """SIGKILL runs no clean-up: the partial stays until the next export into the folder
    removes it, its writer's lock having died with the writer."""
    folder = tmp_path / "out"
    target = folder / "routine.mp3"
    args = ["export", ROUTINE, "-o", target, "--cache-dir", exported.cache]
    child = subprocess.Popen(
        [sys.executable, "-m", "voice_coach", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def encoding() -> list[Path]:
        assert child.poll() is None, "the export ended before it was caught encoding"
        return [p for p in folder.glob(".routine.mp3.*.partial") if starts_with_id3(p)]

    # Killed once ffmpeg has written into the partial (it keeps writing there, orphaned,
    # until it reads the end of its input); not just the ffmetadata partial beside it.
    # Polled often, so as not to miss the moment before the partial is renamed.
    try:
        partials = wait_until(encoding, "ffmpeg to write into the partial", 60, 0.002)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not target.exists()
    assert partials[0].exists()

    export(target, exported.cache)
    assert [p.name for p in folder.iterdir()] == ["routine.mp3"]


def test_missing_ffmpeg_is_one_line_with_the_fix(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("espeak-ng")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("ffmpeg") is None
    target = tmp_path / "out" / "routine.mp3"
    result = cli_synthesizing("export", ROUTINE, "-o", target, "--cache-dir", cache_dir)
    assert result.exit_code == 1, describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, describe(result)
    assert "apt-get install ffmpeg" in lines[0]
    assert lines[0].startswith("error: ")
    assert not target.exists()
    assert not target.parent.exists() or not any(target.parent.iterdir())


FLOW_ROUTINE = Path(__file__).parent / "fixtures" / "flow-routine.yaml"


def test_flow_lines_and_counted_reps_are_heard_on_their_beats(tmp_path: Path) -> None:
    require_program("espeak-ng")
    require_program("ffmpeg")
    cache, mp3 = tmp_path / "cache", tmp_path / "flow.mp3"
    result = cli_synthesizing("export", FLOW_ROUTINE, "-o", mp3, "--cache-dir", cache)
    assert result.exit_code == 0, describe(result)
    shown = cli("show", FLOW_ROUTINE, "--json", "--cache-dir", cache)
    assert shown.exit_code == 0, describe(shown)
    assert shown.stderr == "", "every line fits its beat at this voice"
    events = json.loads(shown.stdout)["events"]

    # The layout keeps the beats exactly: 5 s a line, two rounds; a number every 2 s.
    flow = [e for e in events if e["kind"] == "flow"]
    first = flow[0]["start_ms"]
    assert [e["start_ms"] for e in flow] == [first + k * 5000 for k in range(4)]
    release = next(e for e in events if e["kind"] == "release" and e["step"] == 1)
    assert release["start_ms"] == first + 20_000
    numbers = [e for e in events if e["kind"] == "count" and e["text"] != "Point."]
    one = numbers[0]["start_ms"]
    assert [e["start_ms"] for e in numbers] == [one + k * 2000 for k in range(4)]
    points = [e for e in events if e["text"] == "Point."]
    assert [e["start_ms"] + e["duration_ms"] + 150 for e in points] == [
        e["start_ms"] for e in numbers
    ]

    # And the exported audio has each of them where the layout says.
    heard = onsets.onsets(onsets.levels(onsets.decode(mp3)))
    misses = []
    for e in [*flow, release, *numbers, *points]:
        near = onsets.nearest(heard, e["start_ms"])
        if near is None or abs(near - e["start_ms"]) > ONSET_TOLERANCE_MS:
            misses.append(f"{e['kind']} {e['text']!r} at {e['start_ms']} ms: nearest onset {near}")
    assert not misses, "\n".join(misses)


LONG_HOLDS = "title: Long holds\nsteps:\n" + "".join(
    f"  - name: Stretch {n}\n    hold: 240\n" for n in ("one", "two", "three", "four", "five")
)
"""About 20 minutes, of few lines: quick to synthesize, seconds to export."""


def test_a_bed_file_removed_mid_export_ends_it_with_one_line_and_no_file(
    tmp_path: Path,
) -> None:
    """A bed file too long to be decoded at once (6 minutes) under a 20-minute routine,
    removed once the export is encoding: when its decoder starts again the export
    stops with one line naming the file, exit code 1, and nothing is left where it
    was writing."""
    require_program("ffmpeg")
    require_program("espeak-ng")
    from voice_coach.audio.bed import IN_MEMORY_S

    routine = tmp_path / "long.yaml"
    routine.write_text(LONG_HOLDS)
    bed = tmp_path / "calm bed.wav"
    seconds = IN_MEMORY_S + 60
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
         f"sine=frequency=60:sample_rate=8000:duration={seconds}", str(bed)],
        check=True,
        timeout=60,
    )  # fmt: skip
    folder = tmp_path / "out"
    target = folder / "routine.mp3"
    args = ["export", routine, "-o", target, "--bed", bed, "--engine", "espeak-ng"]
    args += ["--cache-dir", tmp_path / "cache"]
    child = subprocess.Popen(
        [sys.executable, "-m", "voice_coach", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )

    def encoding() -> list[Path] | bool:
        """The partial file once it holds audio; True if the export ended before."""
        if child.poll() is not None:
            return True
        return [p for p in folder.glob(".routine.mp3.*.partial") if size_of(p) > 0]

    encoding_seen = wait_until(encoding, "the export to start encoding", 60, interval_s=0.002)
    bed.unlink()
    try:
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert encoding_seen is not True, "the bed should have been removed while it was encoding"
    assert child.returncode == 1, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: the sound file ") and "calm bed.wav" in lines[0]
    assert not target.exists()
    assert list(folder.iterdir()) == [], "no partial file may remain"


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # renamed into place meanwhile
        return 0
