"""Shared test doubles: a deterministic speech engine and a private cache.

`FakeEngine` "speaks" 100 ms of tone per word, so every cue's length is known
exactly and its onset is audible in rendered audio.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from voice_coach import speech
from voice_coach.audio.clip import Clip
from voice_coach.routine.model import VoiceSettings
from voice_coach.speech import ResolvedVoice, VoiceInfo

FIXTURES = Path(__file__).parent / "fixtures"
ROUTINES = FIXTURES / "routines"
SAMPLE_RATE = 22050
MS_PER_WORD = 100


def word_ms(text: str) -> int:
    """How long FakeEngine speaks `text`."""
    return MS_PER_WORD * len(text.split())


class FakeEngine:
    """A deterministic engine: a 440 Hz tone, 100 ms per word. Records what it said."""

    name: ClassVar[str] = "fake"
    parallel: ClassVar[str] = "none"
    calls: ClassVar[list[str]] = []

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("tone", "Tone", ("en",))]

    def version(self) -> str:
        return "1"

    def unavailable_reason(self) -> str | None:
        return None

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        return ResolvedVoice(
            "fake",
            "1",
            settings.voice or "tone",
            settings.rate_wpm or 160,
            1.0 if settings.volume is None else settings.volume,
        )

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        type(self).calls.append(text)
        frames = SAMPLE_RATE * word_ms(text) // 1000
        t = np.arange(frames) / SAMPLE_RATE
        tone = 0.3 * 32767 * np.sin(2 * np.pi * 440 * t)
        return Clip(tone.astype("<i2").tobytes(), SAMPLE_RATE)


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the real user's history, positions, profile and routines."""
    home = tmp_path / "user"
    for var, sub in (
        ("VOICE_COACH_DATA", "data"),
        ("VOICE_COACH_STATE", "state"),
        ("VOICE_COACH_CONFIG", "config"),
        ("VOICE_COACH_ROUTINES", "routines"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    return home


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeEngine]]:
    """Make `--engine fake` available and start with an empty call log."""
    monkeypatch.setitem(speech.BUILTIN_ENGINES, "fake", FakeEngine)
    FakeEngine.calls = []
    yield FakeEngine


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private speech cache, also set through the environment for CLI runs."""
    path = tmp_path / "cache"
    monkeypatch.setenv("VOICE_COACH_CACHE", str(path))
    return path


def ctrl_c_back() -> None:
    """`preexec_fn` for a child that is sent SIGINT: a shell that started the tests in
    the background may have SIGINT ignored, and an ignored SIGINT stays ignored in a
    child (Python then installs no KeyboardInterrupt): give Ctrl+C back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def require_program(name: str) -> str:
    """Path of an external program; skip the test if it is missing, except in CI,
    where a missing program means the set-up is broken and the test must fail."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("VOICE_COACH_REQUIRE_TOOLS") or os.environ.get("CI"):
            pytest.fail(f"{name} is required here (CI) but is not installed")
        pytest.skip(f"{name} is not installed")
    return path
