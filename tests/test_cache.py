"""The speech cache: one file per distinct phrase and voice, atomic, self-repairing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import conftest
import pytest
from conftest import FakeEngine
from typer.testing import CliRunner

from voice_coach import speech, timeline
from voice_coach.atomic import write_atomically
from voice_coach.audio import clip as clip_module
from voice_coach.audio import loudness
from voice_coach.cli.commands import app
from voice_coach.paths import cache_dir as default_cache_dir
from voice_coach.speech import (
    EspeakNgEngine,
    PiperEngine,
    Pyttsx3Engine,
    ResolvedVoice,
    espeak_engine,
    piper_engine,
)
from voice_coach.speech.cache import SpeechCache, finish, made_by
from voice_coach.speech.fingerprint import modules_reached

VOICE = ResolvedVoice("fake", "1", "tone", 160, 1.0)


@pytest.fixture
def cache(tmp_path: Path, fake_engine: type[FakeEngine]) -> SpeechCache:
    return SpeechCache(tmp_path, fake_engine(), VOICE)


def test_identical_phrases_are_synthesized_once(cache: SpeechCache) -> None:
    clips = cache.clips(["Hold.", "Three.", "Hold.", "Hold."])
    assert set(clips) == {"Hold.", "Three."}
    assert FakeEngine.calls == ["Hold.", "Three."]
    cache.clips(["Hold.", "Three."])
    assert FakeEngine.calls == ["Hold.", "Three."]
    assert (cache.stats.synthesized, cache.stats.hits) == (2, 2)


def test_a_second_process_reuses_the_files(tmp_path: Path, fake_engine: type[FakeEngine]) -> None:
    SpeechCache(tmp_path, fake_engine(), VOICE).clips(["Hold."])
    again = SpeechCache(tmp_path, fake_engine(), VOICE)
    assert again.clip("Hold.") == SpeechCache(tmp_path, fake_engine(), VOICE).clip("Hold.")
    assert FakeEngine.calls == ["Hold."]


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "other"},
        {"engine_version": "2"},
        {"voice": "en-us"},
        {"rate_wpm": 150},
        {"volume": 0.5},
    ],
)
def test_key_changes_with_every_voice_setting(
    cache: SpeechCache, change: dict[str, object]
) -> None:
    other = SpeechCache(cache.root, cache.engine, replace(VOICE, **change))  # type: ignore[arg-type]
    assert other.key("Hold.") != cache.key("Hold.")


def test_key_changes_with_the_text(cache: SpeechCache) -> None:
    assert cache.key("Hold.") != cache.key("Hold")


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:30],  # truncated header
        lambda b: b[:-200],  # truncated data
        lambda b: b"not a wav at all",
        lambda b: b"",
    ],
)
def test_broken_entries_are_regenerated(cache: SpeechCache, damage: object) -> None:
    good = cache.clip("Hold.")
    path = cache.path("Hold.")
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.clip("Hold.") == good
    assert cache.stats.repaired == 1
    assert FakeEngine.calls == ["Hold.", "Hold."]
    assert path.read_bytes() == good.to_wav_bytes()


def test_write_atomically_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "x.wav"
    write_atomically(target, b"abc")
    write_atomically(target, b"defg")
    assert target.read_bytes() == b"defg"
    assert [p.name for p in target.parent.iterdir()] == ["x.wav"]


def test_write_atomically_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.wav"
    target.write_bytes(b"old")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_cache_dir_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOICE_COACH_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("VOICE_COACH_CACHE")
    assert default_cache_dir().name == "audio_cache"  # running from the checkout


def test_records_an_earlier_version_left_in_the_cache_are_removed(
    fake_engine: type[FakeEngine], tmp_path: Path
) -> None:
    from voice_coach.prepare import speech_cache
    from voice_coach.routine.model import VoiceSettings

    old = tmp_path / "cache" / "quickstart"
    old.mkdir(parents=True)
    (old / "0123.head").write_bytes(b"voice-coach quick start\n{}\n")
    speech_cache(VoiceSettings(engine="fake"), tmp_path / "cache")
    assert not old.exists()


# -- what made a clip is part of its key -------------------------------------------


@pytest.fixture
def fresh_digests() -> Iterator[None]:
    """Digests are kept for the life of the process: forget them around a test that
    changes code or constants (and put back)."""
    made_by.cache_clear()
    yield
    made_by.cache_clear()


@pytest.mark.parametrize(
    ("module", "name", "value"),
    [
        (clip_module, "SILENCE_THRESHOLD", 400),  # trimming
        (loudness, "TARGET_LUFS", -18.0),  # loudness normalization of each clip
        (conftest, "MS_PER_WORD", 120),  # the engine's own code
    ],
)
def test_key_changes_with_a_constant_that_shapes_clips(
    cache: SpeechCache,
    fresh_digests: None,
    monkeypatch: pytest.MonkeyPatch,
    module: ModuleType,
    name: str,
    value: object,
) -> None:
    before = cache.key("Hold.")
    made_by.cache_clear()
    monkeypatch.setattr(module, name, value)
    assert cache.key("Hold.") != before


def test_key_stays_when_code_that_makes_no_clip_changes(
    cache: SpeechCache, fresh_digests: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = cache.key("Hold.")
    made_by.cache_clear()
    monkeypatch.setattr(timeline, "MIN_HOLD_MS", 4000)
    monkeypatch.setattr(piper_engine, "NATURAL_RATE_WPM", 180)  # another engine's
    assert cache.key("Hold.") == before


def test_the_digest_is_the_same_in_every_process(fresh_digests: None) -> None:
    """Else no clip would ever be found again: nothing in it may depend on the process
    (string hashing, set order, ids, the time)."""
    script = (
        "from voice_coach.speech.cache import made_by; from voice_coach import speech; "
        "print(made_by(speech.Pyttsx3Engine), made_by(speech.PiperEngine))"
    )
    here = f"{made_by(Pyttsx3Engine)} {made_by(PiperEngine)}"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == here


def test_each_engine_reaches_its_own_modules_and_those_that_finish_clips() -> None:
    finishing = {"voice_coach.speech.cache", "voice_coach.audio.clip", "voice_coach.audio.loudness"}
    reached = {
        engine.name: modules_reached([engine, finish], {"voice_coach"})
        for engine in (Pyttsx3Engine, EspeakNgEngine, PiperEngine)
    }
    assert all(finishing <= modules for modules in reached.values())
    # pyttsx3 takes espeak-ng's pace from espeak_engine: found, not listed.
    assert "voice_coach.speech.espeak_engine" in reached["pyttsx3"]
    assert "voice_coach.speech.piper_engine" not in reached["pyttsx3"]
    assert "voice_coach.speech.espeak_engine" not in reached["piper"]
    for modules in reached.values():
        assert not modules & {"voice_coach.timeline", "voice_coach.speech", "voice_coach.cli"}


def test_a_changed_engine_constant_gives_its_clips_new_keys(
    fresh_digests: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {engine: made_by(engine) for engine in (Pyttsx3Engine, PiperEngine)}
    made_by.cache_clear()
    monkeypatch.setattr(espeak_engine, "PACE", 0.9)  # how pyttsx3 drives libespeak-ng
    assert made_by(Pyttsx3Engine) != before[Pyttsx3Engine]
    assert made_by(PiperEngine) == before[PiperEngine]


ENGINE_SOURCE = """\
from voice_coach.audio.clip import Clip

class SineEngine:
    def synthesize(self, text, voice):
        from .shaping import shaped  # imported where it is used, as engines do

        return shaped(Clip(b"\\0\\0" * 100, 22050))
"""


def test_a_source_edit_in_a_module_the_engine_imports_gives_a_new_digest(
    tmp_path: Path, fresh_digests: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "sine_engine"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "engine.py").write_text(ENGINE_SOURCE)
    shaping = package / "shaping.py"
    shaping.write_text("def shaped(clip):\n    return clip\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from sine_engine.engine import SineEngine  # type: ignore[import-not-found]

    before = made_by(SineEngine)
    assert "sine_engine.shaping" in modules_reached([SineEngine], {"sine_engine"})
    made_by.cache_clear()
    shaping.write_text("def shaped(clip):\n    return clip  # louder soon\n")
    assert made_by(SineEngine) != before


class FilesKeeper(FakeEngine):
    """An engine that keeps files of its own in the cache directory, as piper does."""

    name = "keeper"
    given: ClassVar[list[Path | None]] = []

    def __init__(self, cache_dir: Path | None = None) -> None:
        FilesKeeper.given.append(cache_dir)


@pytest.mark.parametrize("option", [True, False])
def test_an_engine_that_keeps_files_is_given_the_cache_dir(
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: bool,
) -> None:
    monkeypatch.setitem(speech.BUILTIN_ENGINES, FilesKeeper.name, FilesKeeper)
    FilesKeeper.given = []
    chosen = tmp_path / "chosen"
    routine = tmp_path / "r.yaml"
    routine.write_text("title: T\nsteps:\n  - name: Stretch\n    hold: 10\n")
    args = ["show", str(routine), "--engine", "keeper", "--json"]
    result = CliRunner().invoke(app, args + (["--cache-dir", str(chosen)] if option else []))
    assert result.exit_code == 0, result.output
    wanted = chosen if option else cache_dir  # else $VOICE_COACH_CACHE's
    assert wanted in FilesKeeper.given  # the engine that speaks
    assert set(FilesKeeper.given) <= {wanted, None}  # None: looked at, never speaks
    assert list(wanted.rglob("*.wav"))
