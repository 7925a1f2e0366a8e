"""Text-to-speech engines: one small contract and one registry.

An engine turns a line of text into a `Clip`. Its library is imported inside the
engine, so a missing optional engine never breaks the others. Third-party engines
join through the entry-point group ``voice_coach.engines`` (a class with the same
contract).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Protocol

from .audio import Clip, clip_from_wav_bytes
from .errors import EngineError
from .model import VoiceSettings

DEFAULT_ENGINE = "pyttsx3"
DEFAULT_RATE_WPM = 160
"""Calmer than most engines' default (about 175-200): cues are heard lying down."""
DEFAULT_VOLUME = 1.0
ENTRY_POINT_GROUP = "voice_coach.engines"


@dataclass(frozen=True)
class ResolvedVoice:
    """Exactly how an engine will speak: every field set, part of the cache key."""

    engine: str
    engine_version: str
    voice: str
    rate_wpm: int
    volume: float


class Engine(Protocol):
    name: ClassVar[str]

    def unavailable_reason(self) -> str | None:
        """None when the engine can be used here; else why not and how to fix it."""

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        """Fill in defaults and check the voice exists; `EngineError` if it does not."""

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        """Speak one line. Raise `EngineError` naming the line on failure."""


class Pyttsx3Engine:
    """pyttsx3, which drives espeak-ng (libespeak-ng1) on Linux: offline and fast."""

    name: ClassVar[str] = "pyttsx3"

    def __init__(self) -> None:
        self._engine: Any = None
        self._voices: dict[str, str] | None = None

    def unavailable_reason(self) -> str | None:
        try:
            self._driver()
        except EngineError as exc:
            return str(exc)
        return None

    def _driver(self) -> Any:
        if self._engine is None:
            try:
                import pyttsx3
            except ImportError:
                raise EngineError("pyttsx3 is not installed: pip install pyttsx3") from None
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine = pyttsx3.init()
            except (OSError, RuntimeError, ImportError) as exc:
                raise EngineError(
                    f"pyttsx3 could not start its speech engine ({exc}); on Debian/Ubuntu "
                    "install it with `sudo apt-get install espeak-ng`"
                ) from None
        return self._engine

    def voices(self) -> dict[str, str]:
        """Voice id -> human name."""
        if self._voices is None:
            self._voices = {v.id: v.name for v in self._driver().getProperty("voices")}
        return self._voices

    def version(self) -> str:
        driver_version = metadata.version("pyttsx3")
        try:
            from pyttsx3.drivers import _espeak

            lib = _espeak.Info().decode() if hasattr(_espeak, "Info") else "?"
        except Exception:
            lib = "?"
        return f"{driver_version}/espeak-ng {lib}"

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        driver = self._driver()
        voice = settings.voice or str(driver.getProperty("voice"))
        voices = self.voices()
        if voice not in voices:
            by_name = {name.lower(): vid for vid, name in voices.items()}
            by_lang = {vid.rsplit("/", 1)[-1].lower(): vid for vid in voices}
            match = by_name.get(voice.lower()) or by_lang.get(voice.lower())
            if match is None:
                english = sorted(v for v in voices if "/en" in v)
                raise EngineError(
                    f"unknown voice {voice!r} for engine pyttsx3; it has {len(voices)} "
                    f"voices, e.g. {', '.join(english[:8])} (ids, names such as "
                    "'English (America)', or language codes such as 'en-us' work)"
                )
            voice = match
        return ResolvedVoice(
            engine=self.name,
            engine_version=self.version(),
            voice=voice,
            rate_wpm=settings.rate_wpm or DEFAULT_RATE_WPM,
            volume=DEFAULT_VOLUME if settings.volume is None else settings.volume,
        )

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        driver = self._driver()
        driver.setProperty("voice", voice.voice)
        driver.setProperty("rate", voice.rate_wpm)
        driver.setProperty("volume", voice.volume)
        fd, tmp = tempfile.mkstemp(suffix=".wav", prefix="voice-coach-")
        os.close(fd)
        try:
            # One runAndWait per file: pyttsx3 2.99 writes only the last of several
            # queued save_to_file calls. It also prints "Audio saved to ..." itself.
            with contextlib.redirect_stdout(io.StringIO()):
                driver.save_to_file(text, tmp)
                driver.runAndWait()
            data = Path(tmp).read_bytes()
        finally:
            Path(tmp).unlink(missing_ok=True)
        try:
            clip = clip_from_wav_bytes(data)
        except Exception as exc:
            raise EngineError(f"pyttsx3 produced no usable audio for {text!r}: {exc}") from None
        if clip.frames == 0:
            raise EngineError(f"pyttsx3 produced empty audio for {text!r}")
        return clip


BUILTIN_ENGINES: dict[str, Callable[[], Engine]] = {Pyttsx3Engine.name: Pyttsx3Engine}


def registry() -> dict[str, Callable[[], Engine]]:
    """Built-in engines plus those installed through the entry-point group."""
    engines = dict(BUILTIN_ENGINES)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        engines.setdefault(ep.name, _lazy(ep))
    return engines


def _lazy(ep: metadata.EntryPoint) -> Callable[[], Engine]:
    def make() -> Engine:
        try:
            factory = ep.load()
        except Exception as exc:
            raise EngineError(f"engine plugin {ep.name!r} failed to load: {exc}") from None
        engine: Engine = factory()
        return engine

    return make


def get_engine(name: str | None) -> Engine:
    """A ready engine by name, or `EngineError` listing the choices / how to install it."""
    name = name or DEFAULT_ENGINE
    engines = registry()
    if name not in engines:
        raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(sorted(engines))}")
    engine = engines[name]()
    reason = engine.unavailable_reason()
    if reason:
        raise EngineError(f"engine {name!r} is not available: {reason}")
    return engine
