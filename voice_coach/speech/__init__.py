"""Text-to-speech engines: one small contract and one registry.

An engine turns a line of text into a `Clip` (see `contract.Engine`). Its library is
imported inside the engine, so a missing optional engine never breaks the others.
Built in: pyttsx3 (the default), the espeak-ng command line, and piper (neural, extra
`voice-coach[neural]`). Third-party engines join through the entry-point group
``voice_coach.engines``: a class with the same contract, registered under its `name`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

from ..errors import EngineError, VoiceCoachError
from .contract import (
    DEFAULT_RATE_WPM,
    DEFAULT_VOLUME,
    SYNTHESIS_TIMEOUT_S,
    Engine,
    Parallelism,
    ResolvedVoice,
    VoiceInfo,
)
from .espeak_engine import EspeakNgEngine
from .piper_engine import PiperEngine
from .pyttsx3_engine import Pyttsx3Engine

__all__ = [
    "BUILTIN_ENGINES",
    "DEFAULT_ENGINE",
    "DEFAULT_RATE_WPM",
    "DEFAULT_VOLUME",
    "ENTRY_POINT_GROUP",
    "SYNTHESIS_TIMEOUT_S",
    "Engine",
    "EngineStatus",
    "EspeakNgEngine",
    "Parallelism",
    "PiperEngine",
    "Pyttsx3Engine",
    "ResolvedVoice",
    "VoiceInfo",
    "engine_statuses",
    "get_engine",
    "registry",
]

DEFAULT_ENGINE = "pyttsx3"
ENTRY_POINT_GROUP = "voice_coach.engines"

BUILTIN_ENGINES: dict[str, Callable[[], Engine]] = {
    cls.name: cls for cls in (Pyttsx3Engine, EspeakNgEngine, PiperEngine)
}


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


def _unknown(name: str, engines: dict[str, Callable[[], Engine]]) -> EngineError:
    return EngineError(f"unknown engine {name!r}; choose one of: {', '.join(sorted(engines))}")


def get_engine(name: str | None) -> Engine:
    """A ready engine by name, or `EngineError` listing the choices / how to install it."""
    name = name or DEFAULT_ENGINE
    engines = registry()
    if name not in engines:
        raise _unknown(name, engines)
    engine = engines[name]()
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
        default = " (default)" if self.name == DEFAULT_ENGINE else ""
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
    names = [only] if only is not None else sorted(engines, key=lambda n: (n != DEFAULT_ENGINE, n))
    return [_status(name, engines[name]) for name in names]


def _status(name: str, factory: Callable[[], Engine]) -> EngineStatus:
    try:
        engine = factory()
        reason = engine.unavailable_reason()
        if reason:
            return EngineStatus(name, reason)
        return EngineStatus(name, None, engine.version(), tuple(engine.voices()))
    except VoiceCoachError as exc:
        return EngineStatus(name, str(exc))
