"""`voice-coach voices`: every engine, whether it works here, and its voices."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pytest
from conftest import require_program
from typer.testing import CliRunner

from voice_coach import speech
from voice_coach.audio.clip import Clip
from voice_coach.cli.commands import app
from voice_coach.errors import EngineError
from voice_coach.routine.model import VoiceSettings
from voice_coach.speech import Engine, ResolvedVoice, VoiceInfo

runner = CliRunner()


class Working:
    name: ClassVar[str] = "working"
    parallel: ClassVar[str] = "none"

    def unavailable_reason(self) -> str | None:
        return None

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo("w/en", "English (test)", ("en-us", "en"), gender="female"),
            VoiceInfo("w/de", "German (test)", ("de",), notes="slow"),
        ]

    def version(self) -> str:
        return "4.2"

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        return ResolvedVoice("working", "4.2", "w/en", 160, 1.0)

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        return Clip(b"\x00\x01" * 100, 16000)


class Missing(Working):
    name: ClassVar[str] = "missing"

    def unavailable_reason(self) -> str | None:
        return "missing is not installed: pip install missing"


def broken_plugin() -> Engine:
    raise EngineError("engine plugin 'broken' failed to load: No module named 'nowhere'")


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> None:
    table: dict[str, Callable[[], Engine]] = {
        "working": Working,
        "missing": Missing,
        "broken": broken_plugin,
    }
    monkeypatch.setattr(speech, "registry", lambda: table)


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["voices", "--help"])
    assert result.exit_code == 0
    assert "Example: voice-coach voices --engine espeak-ng" in result.output


def test_lists_every_engine_available_or_not(engines: None) -> None:
    result = runner.invoke(app, ["voices"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "working: available, version 4.2, 2 voices" in lines
    rows = [line.split() for line in lines if line.startswith("  ")]
    assert rows == [
        ["w/en", "English", "(test)", "en-us,", "en", "(female)"],
        ["w/de", "German", "(test)", "de", "(slow)"],
    ]
    assert "missing: not available: missing is not installed: pip install missing" in lines
    assert "broken: not available: engine plugin 'broken' failed to load: " in result.output


def test_engine_narrows_to_one(engines: None) -> None:
    result = runner.invoke(app, ["voices", "--engine", "missing"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "missing: not available: missing is not installed: pip install missing"
    ]


def test_an_unknown_engine_lists_the_choices(engines: None) -> None:
    result = runner.invoke(app, ["voices", "--engine", "nope"])
    assert result.exit_code == 1
    assert "unknown engine 'nope'; choose one of: broken, missing, working" in result.output


@pytest.mark.integration
def test_real_espeak_ng_lists_its_voices() -> None:
    require_program("espeak-ng")
    result = runner.invoke(app, ["voices", "--engine", "espeak-ng"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("espeak-ng: available, version ")
    assert any(line.split()[:2] == ["gmw/de", "German"] for line in result.output.splitlines())


@pytest.mark.integration
def test_the_default_engine_comes_first() -> None:
    result = runner.invoke(app, ["voices"])
    assert result.exit_code == 0, result.output
    headings = [
        line.split(" ")[0].removesuffix(":")
        for line in result.output.splitlines()
        if line and not line.startswith(" ")
    ]
    default = speech.default_engine()
    assert headings[0] == default.name
    assert result.output.startswith(f"{default.name} (default: {default.why}): ")
    assert set(speech.BUILTIN_ENGINES) <= set(headings)
