"""Text-to-speech engines: one small contract and one registry.

An engine turns a line of text into a `Clip` (see `contract.Engine`). Its library is
imported inside the engine, so a missing optional engine never breaks the others.
Built in: piper (neural, extra `voice-coach[neural]`; the default where it has a
voice for the routine's language), pyttsx3 (espeak-ng in-process; the default
otherwise) and the espeak-ng command line. Third-party engines join through the entry-point group
``voice_coach.engines``: a class with the same contract, registered under its `name`.
An engine that keeps files of its own (piper: its optimized voice models) names a
`cache_dir` parameter in its constructor and is given the speech cache's directory.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TypeAlias

from ..errors import EngineError, VoiceCoachError
from ..routine.model import VoiceSettings
from .contract import (
    DEFAULT_RATE_WPM,
    DEFAULT_VOLUME,
    SYNTHESIS_TIMEOUT_S,
    Engine,
    Parallelism,
    ResolvedVoice,
    VoiceInfo,
    voice_for_language,
)
from .espeak_engine import EspeakNgEngine
from .piper_engine import PiperEngine
from .pyttsx3_engine import Pyttsx3Engine

__all__ = [
    "BUILTIN_ENGINES",
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOLUME",
    "ENTRY_POINT_GROUP",
    "FALLBACK_ENGINE",
    "NATURAL_ENGINE",
    "SYNTHESIS_TIMEOUT_S",
    "DefaultEngine",
    "Engine",
    "EngineFactory",
    "EngineStatus",
    "EspeakNgEngine",
    "Parallelism",
    "PiperEngine",
    "Pyttsx3Engine",
    "ResolvedVoice",
    "VoiceInfo",
    "default_engine",
    "engine_name",
    "engine_statuses",
    "fallback_note",
    "get_engine",
    "registry",
]

NATURAL_ENGINE = "piper"
"""The default when it has a voice for the routine's language: a natural neural voice."""
FALLBACK_ENGINE = "pyttsx3"
"""The default otherwise: espeak-ng, which speaks about a hundred languages."""
NATURAL_VOICE_HINT = "pip install 'voice-coach[neural]'"
ENTRY_POINT_GROUP = "voice_coach.engines"

EngineFactory: TypeAlias = Callable[..., Engine]
"""An engine class, or a function that makes an engine: called with no arguments, or
with `cache_dir=` when it names that parameter (see `get_engine`)."""

BUILTIN_ENGINES: dict[str, EngineFactory] = {
    cls.name: cls for cls in (Pyttsx3Engine, EspeakNgEngine, PiperEngine)
}


def registry() -> dict[str, EngineFactory]:
    """Built-in engines plus those installed through the entry-point group."""
    engines = dict(BUILTIN_ENGINES)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        engines.setdefault(ep.name, _lazy(ep))
    return engines


def _lazy(ep: metadata.EntryPoint) -> EngineFactory:
    def make(cache_dir: Path | None = None) -> Engine:
        try:
            factory = ep.load()
        except Exception as exc:
            raise EngineError(f"engine plugin {ep.name!r} failed to load: {exc}") from None
        return _make(factory, cache_dir)

    return make


def _make(factory: EngineFactory, cache_dir: Path | None) -> Engine:
    """`factory()`, told `cache_dir` when it takes one: only an engine that keeps files
    of its own (piper) names the parameter, so other engines need not accept it."""
    if cache_dir is not None and _takes_cache_dir(factory):
        return factory(cache_dir=cache_dir)
    engine: Engine = factory()
    return engine


def _takes_cache_dir(factory: EngineFactory) -> bool:
    try:
        return "cache_dir" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # no signature to read (a class written in C)
        return False


def _unknown(name: str, engines: dict[str, EngineFactory]) -> EngineError:
    return EngineError(f"unknown engine {name!r}; choose one of: {', '.join(sorted(engines))}")


@dataclass(frozen=True)
class DefaultEngine:
    """Which engine speaks when nobody chose one, and why."""

    name: str
    why: str
    """For `voices`: e.g. "the natural voice: piper with joe for en"."""
    fallback_note: str | None = None
    """Set when the natural voice could not be used: what to do to get it."""


def default_engine(language: str | None = None) -> DefaultEngine:
    """The one rule for the default engine: piper when it has an installed voice for
    `language` (English when None), else pyttsx3. `--engine`, the profile and a
    routine's `voice.engine` choose otherwise.

    Looking costs about a tenth of a second (piper reads every installed package's
    metadata), so the answer is kept while nothing is installed or removed: a
    long-running `serve` sees a voice installed after it started at its next request.
    """
    with _DEFAULTS.lock:
        installed = installed_stamp()
        if installed != _DEFAULTS.installed:
            if _DEFAULTS.installed:
                importlib.invalidate_caches()  # the import system's own listings too
            _DEFAULTS.installed, _DEFAULTS.chosen = installed, {}
        if language not in _DEFAULTS.chosen:
            _DEFAULTS.chosen[language] = _choose_default(language)
        return _DEFAULTS.chosen[language]


@dataclass
class _Defaults:
    """The default engine per language, as chosen with what was installed then."""

    installed: tuple[tuple[str, int], ...] = ()
    chosen: dict[str | None, DefaultEngine] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_DEFAULTS = _Defaults()


def installed_stamp() -> tuple[tuple[str, int], ...]:
    """When each folder Python imports from last changed (a few microseconds).

    Installing or removing a package (piper, a voice package) adds or removes an entry
    in one of them, which changes that folder's modification time: the test the import
    system itself uses to refresh its listings.
    """
    stamps = []
    for folder in sys.path:
        try:
            stamps.append((folder, os.stat(folder or ".").st_mtime_ns))
        except OSError:
            stamps.append((folder, -1))
    return tuple(stamps)


def _choose_default(language: str | None) -> DefaultEngine:
    wanted = language or "en"
    piper = PiperEngine()
    reason = piper.unavailable_reason()
    if reason is None:
        voice = voice_for_language(piper.voices(), wanted)
        if voice is not None:
            return DefaultEngine(
                NATURAL_ENGINE, f"the natural voice: piper with {voice.name} for {wanted}"
            )
        reason = f"piper has no voice for {wanted!r} installed"
    return DefaultEngine(
        FALLBACK_ENGINE,
        f"piper cannot speak here ({reason})",
        f"speaking with espeak-ng (pyttsx3): {reason}; for the natural voice: {NATURAL_VOICE_HINT}"
        if language in (None, "en") or language.startswith("en-")
        else f"speaking with espeak-ng (pyttsx3): {reason}",
    )


def engine_name(settings: VoiceSettings) -> str:
    """The engine `settings` name, else the default for their language."""
    return settings.engine or default_engine(settings.language).name


def fallback_note(settings: VoiceSettings) -> str | None:
    """One line for the person when the default had to fall back from the natural
    voice (nothing when an engine was chosen)."""
    return None if settings.engine else default_engine(settings.language).fallback_note


def get_engine(name: str, cache_dir: Path | None = None) -> Engine:
    """A ready engine by name, or `EngineError` listing the choices / how to install it.

    `cache_dir` is where the speech cache is: an engine that keeps files of its own
    there (piper: each voice model as onnxruntime optimized it) is given it; None: the
    default cache directory.
    """
    factory = BUILTIN_ENGINES.get(name)  # no scan of installed plugins for these
    if factory is None:
        engines = registry()
        if name not in engines:
            raise _unknown(name, engines)
        factory = engines[name]
    engine = _make(factory, cache_dir)
    reason = engine.unavailable_reason()
    if reason:
        raise EngineError(f"engine {name!r} is not available: {reason}")
    return engine


@dataclass(frozen=True)
class EngineStatus:
    """What `voice-coach voices` reports about one engine."""

    name: str
    unavailable_reason: str | None
    """None when the engine works here."""
    version: str | None = None
    voices: tuple[VoiceInfo, ...] = ()

    def describe(self) -> list[str]:
        """This engine as lines of text: a heading, then a voice per line."""
        chosen = default_engine()
        default = f" (default: {chosen.why})" if self.name == chosen.name else ""
        if self.unavailable_reason is not None:
            return [f"{self.name}{default}: not available: {self.unavailable_reason}"]
        count = len(self.voices)
        lines = [
            f"{self.name}{default}: available, version {self.version}, "
            f"{count} voice{'s' if count != 1 else ''}"
        ]
        id_width = max((len(v.id) for v in self.voices), default=0)
        name_width = max((len(v.name) for v in self.voices), default=0)
        for v in self.voices:
            languages = ", ".join(v.languages) or "-"
            extra = "; ".join(x for x in (v.gender, v.notes) if x)
            line = f"  {v.id:<{id_width}}  {v.name:<{name_width}}  {languages}"
            lines.append(f"{line}  ({extra})" if extra else line)
        return lines


def engine_statuses(only: str | None = None) -> list[EngineStatus]:
    """Every registered engine (or just `only`), whether it works here, and its voices."""
    engines = registry()
    if only is not None and only not in engines:
        raise _unknown(only, engines)
    first = default_engine().name
    names = [only] if only is not None else sorted(engines, key=lambda n: (n != first, n))
    return [_status(name, engines[name]) for name in names]


def _status(name: str, factory: EngineFactory) -> EngineStatus:
    try:
        engine = factory()
        reason = engine.unavailable_reason()
        if reason:
            return EngineStatus(name, reason)
        return EngineStatus(name, None, engine.version(), tuple(engine.voices()))
    except VoiceCoachError as exc:
        return EngineStatus(name, str(exc))
