"""The speech cache: one file per distinct phrase and voice, atomic, self-repairing."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import FakeEngine

from voice_coach.atomic import write_atomically
from voice_coach.paths import cache_dir as default_cache_dir
from voice_coach.speech import ResolvedVoice
from voice_coach.speech.cache import SpeechCache

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
