"""`export --split`: one track per chapter, a playlist, tags, and atomic folders."""

from __future__ import annotations

import dataclasses
import subprocess
import wave
from pathlib import Path

import pytest
from conftest import ROUTINES, SAMPLE_RATE, FakeEngine, require_program
from partials import killed_writer, live_writer
from playlists import parse_m3u8
from typer.testing import CliRunner

from voice_coach.audio.clip import ms_to_frames
from voice_coach.audio.loudness import apply_gain
from voice_coach.audio.mix import render
from voice_coach.cli.commands import app
from voice_coach.export import encode as export_encode
from voice_coach.export import split as export_split_module
from voice_coach.export.split import safe_file_name
from voice_coach.prepare import Prepared, prepare
from voice_coach.routine.loader import load_routine
from voice_coach.routine.model import Bed

runner = CliRunner()
FULL = ROUTINES / "full.yaml"
TRACKS = [
    "01 Introduction",
    "02 Side stretch",
    "03 Rest, then Seated stretch",
    "04 Seated stretch",
]


def full_prepared(cache_dir: Path, bed: Bed | None = None) -> Prepared:
    return prepare(dataclasses.replace(load_routine(FULL), bed=bed), cache_dir=cache_dir)


def split(folder: Path, *args: str) -> None:
    result = runner.invoke(
        app, ["export", str(FULL), "--split", "-o", str(folder), "--checkin", "off", *args]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {folder}/ (4 tracks" in result.output


def decoded_frames(path: Path) -> int:
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return len(pcm) // 2


@pytest.mark.parametrize("bed", [None, "rain", "pace"])
def test_wav_tracks_are_the_chapters_exactly(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path, bed: str | None
) -> None:
    """With a bed too: it runs on across the tracks' edges as in the one file."""
    require_program("ffmpeg")
    folder = tmp_path / "full"
    spec = None if bed is None else Bed("pace", pace_spm=100) if bed == "pace" else Bed("rain")
    split(
        folder, "--format", "wav", *(["--bed", "pace:100" if bed == "pace" else bed] if bed else [])
    )
    ready = full_prepared(cache_dir, spec)
    assert (ready.bed is None) == (bed is None)
    leveled = export_encode.level(
        ready.timeline,
        ready.clips,
        ready.sample_rate,
        export_encode.FORMATS["wav"],
        None,
        None,
        ready.bed,
    )
    chunks = render(ready.timeline, leveled.clips, ready.sample_rate, bed=leveled.bed)
    whole = b"".join(apply_gain(c, leveled.gain_db) for c in chunks)
    pcm = b""
    for name, chapter in zip(TRACKS, ready.timeline.chapters, strict=True):
        with wave.open(str(folder / f"{name}.wav"), "rb") as w:
            frames = w.readframes(w.getnframes())
        a, b = (ms_to_frames(ms, SAMPLE_RATE) for ms in (chapter.start_ms, chapter.end_ms))
        assert len(frames) // 2 == b - a, name
        pcm += frames
    assert pcm == whole  # the tracks played in order are the routine, sample for sample


def test_mp3_tracks_playlist_and_tags(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    from mutagen.id3 import ID3

    folder = tmp_path / "full"
    split(folder)
    timeline = full_prepared(cache_dir).timeline
    assert sorted(p.name for p in folder.iterdir()) == [f"{t}.mp3" for t in TRACKS] + ["full.m3u8"]

    text = (folder / "full.m3u8").read_bytes().decode("utf-8")
    assert text.startswith("#EXTM3U\n")
    entries = parse_m3u8(text)
    assert [name for _, _, name in entries] == [f"{t}.mp3" for t in TRACKS]
    assert [title for _, title, _ in entries] == [
        f"Full \N{EN DASH} {c.title}" for c in timeline.chapters
    ]
    assert [s for s, _, _ in entries] == [
        round((c.end_ms - c.start_ms) / 1000) for c in timeline.chapters
    ]

    total = 0
    for n, (name, chapter) in enumerate(zip(TRACKS, timeline.chapters, strict=True), start=1):
        path = folder / f"{name}.mp3"
        frames = decoded_frames(path)
        total += frames
        expected = ms_to_frames(chapter.end_ms - chapter.start_ms, SAMPLE_RATE)
        assert abs(frames - expected) <= SAMPLE_RATE * 30 // 1000, name
        tags = ID3(path)
        assert str(tags["TIT2"]) == chapter.title
        assert str(tags["TALB"]) == "Full"
        assert str(tags["TPE1"]) == "voice_coach"
        assert str(tags["TRCK"]) == f"{n}/4"
        assert str(tags["TCON"]) == "Fitness"
        assert "engine fake" in str(tags.getall("COMM")[0])
        assert tags.getall("APIC")[0].mime == "image/png"
        assert not tags.getall("CHAP")  # a track is one chapter
    expected_total = ms_to_frames(timeline.total_ms, SAMPLE_RATE)
    assert abs(total - expected_total) <= SAMPLE_RATE * 30 // 1000


def test_default_folder_and_rerun_replaces_it(
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_program("ffmpeg")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["export", str(FULL), "--split", "-f", "wav", "--hold", "12"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "exports" / "full-hold12"
    (folder / "99 Old step.wav").write_bytes(b"stale")
    result = runner.invoke(app, ["export", str(FULL), "--split", "-f", "wav", "--hold", "12"])
    assert result.exit_code == 0, result.output
    assert not (folder / "99 Old step.wav").exists()
    assert len(list(folder.glob("*.wav"))) == 4
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["full-hold12"]


def test_a_folder_with_other_files_is_not_replaced(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    music = tmp_path / "Music"
    music.mkdir()
    (music / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["export", str(FULL), "--split", "-o", str(music)])
    assert result.exit_code == 1
    assert "holds files that are not an earlier split export" in result.output
    assert [p.name for p in music.iterdir()] == ["notes.txt"]
    assert not list(tmp_path.glob(".*"))  # no temporary folder left beside it


@pytest.mark.parametrize("earlier", [False, True])
def test_interrupted_split_leaves_nothing_half_written(
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    earlier: bool,
) -> None:
    require_program("ffmpeg")
    out = tmp_path / "out"
    folder = out / "full"
    if earlier:
        split(folder, "-f", "wav")
    before = sorted(p.name for p in folder.iterdir()) if earlier else []
    real = export_split_module._take_frames
    calls = []

    def interrupted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(export_split_module, "_take_frames", interrupted)
    result = runner.invoke(app, ["export", str(FULL), "--split", "-o", str(folder)])
    assert result.exit_code == 130
    assert len(calls) == 3
    if earlier:  # the earlier export is untouched
        assert [p.name for p in out.iterdir()] == ["full"]
        assert sorted(p.name for p in folder.iterdir()) == before
    else:
        assert list(out.iterdir()) == []


def test_split_export_removes_partials_only_of_killed_exports(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    out = tmp_path / "out"
    killed = killed_writer(out / "full", folder=True)
    (killed / "01 Introduction.wav").write_bytes(b"half a track")
    killed_file = killed_writer(out / "full.mp3")
    with live_writer(out / "other", folder=True) as running:
        split(out / "full", "-f", "wav")
        assert not killed.exists() and not killed_file.exists()
        assert sorted(p.name for p in out.iterdir()) == sorted([running.name, "full"])


def test_safe_file_names() -> None:
    assert safe_file_name("Knee: hug / left?") == "Knee hug - left"
    assert safe_file_name(' "Quoted" <x> ') == "Quoted x"
    assert safe_file_name("...") == "Track"
    assert safe_file_name("Ça va\tbien") == "Ça va bien"
    assert len(safe_file_name("x" * 300)) == 80
