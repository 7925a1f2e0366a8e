"""What every speech engine promises, and the voice choosing they all share.

An engine has a `name`, says whether it works here (`unavailable_reason`), lists its
`voices`, reports its `version`, turns `VoiceSettings` into an exact `ResolvedVoice`
and speaks one line at a time (`synthesize`). `parallel` says how the cache may run
several syntheses at once when it fills up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol, TypeAlias

from ..audio.clip import Clip
from ..errors import EngineError
from ..routine.model import VoiceSettings

DEFAULT_RATE_WPM = 160
"""Calmer than most engines' default (about 175-200): cues are heard lying down."""
DEFAULT_VOLUME = 1.0
SYNTHESIS_TIMEOUT_S = 30.0
"""A single cue that takes longer than this to speak is treated as hung."""

Parallelism: TypeAlias = Literal["process", "thread", "none"]
"""How cold-cache synthesis may run concurrently:

- "process": the engine is not thread-safe; each worker process builds its own
  engine by name through the registry.
- "thread": `synthesize` may be called from several threads at once.
- "none": one phrase at a time (the engine already uses every core, say).
"""


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers, as `voice-coach voices` lists it."""

    id: str
    """What `--voice` accepts, e.g. "gmw/en-US"."""
    name: str
    """Human name, e.g. "English (America)"."""
    languages: tuple[str, ...]
    """Lower-case language tags, most fitting first, e.g. ("en-us", "en")."""
    gender: str | None = None
    """"male", "female", or None when the engine does not say."""
    notes: str | None = None
    """Anything else worth a glance in the listing (sample rate, model), or None."""


@dataclass(frozen=True)
class ResolvedVoice:
    """Exactly how an engine will speak: every field set, part of the cache key."""

    engine: str
    """The engine's registry `name`."""
    engine_version: str
    """`Engine.version()`, plus the voice model's identity where the engine has one
    (piper: the voice package and its version, or a digest of the model's files)."""
    voice: str
    """A `VoiceInfo.id` of this engine (piper also takes a model's path)."""
    rate_wpm: int
    """Words per minute asked for; engines map it so that a rate sounds about as fast
    on each (espeak-ng says sentences at `espeak_engine.PACE` of it)."""
    volume: float
    """0.0 to 1.0; 1.0 is the engine's normal level. Stored clips are brought to the
    same loudness afterwards, so this mostly changes how close to clipping it speaks."""


class Engine(Protocol):
    """A text-to-speech engine: one line of text in, one `Clip` out.

    Built by the registry with no arguments, or with `cache_dir=` (the speech cache's
    directory, for files the engine keeps of its own) when its constructor names that
    parameter. Building one is cheap and starts nothing: whether it can speak here is
    `unavailable_reason`'s answer. The other methods are for an engine whose answer was
    None; they raise `EngineError` (or `ToolError` for an external program), never a
    library's own exceptions.
    """

    name: ClassVar[str]
    """Registry name, as `--engine` takes it and as `ResolvedVoice.engine` holds it."""
    parallel: ClassVar[Parallelism]
    """How the cache may synthesize several lines at once (optional: "none" if absent)."""

    def unavailable_reason(self) -> str | None:
        """None when the engine can be used here; else one line saying why not and how
        to fix it (what to install). Never raises."""

    def voices(self) -> list[VoiceInfo]:
        """Every voice this engine can speak with here, in the engine's own order."""

    def version(self) -> str:
        """The engine's version (and its back end's), part of every cache key: it must
        change when its library could say the same line differently (the engine's own
        code is in the key already, through `cache.made_by`)."""

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        """Fill in defaults, pick a voice for `settings.language` when no voice is
        given, and check the voice exists; `EngineError` listing choices if not."""

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        """Speak one line with `voice` (from this engine's `resolve`): mono 16-bit PCM
        at the engine's own sample rate, silence around it not yet trimmed. Raises
        `EngineError` naming the line and the engine (`phrase_failed`) on failure; a
        clip with no samples is a failure too. Thread-safe only as `parallel` says."""


def normalize_language(tag: str) -> str:
    """ "en_US" and "en-US" -> "en-us"."""
    return tag.strip().lower().replace("_", "-")


def voice_for_language(
    voices: Sequence[VoiceInfo], language: str, loose: bool = True
) -> VoiceInfo | None:
    """The voice that best speaks `language`, or None.

    In order: a voice whose main language it is; a voice whose id ends in it (espeak-ng's
    "gmw/en" for "en", "roa/fr" for "fr"); a voice that lists it among its others; the
    same again without the region ("de-at" -> "de"); finally any regional variant
    ("en" -> "en-us"). Ties go to the engine's own order. Not `loose`: only the
    first three, for the exact tag.
    """
    tag = normalize_language(language)
    if not tag:
        return None
    while True:
        for tier in (_MAIN_LANGUAGE, _ID_SUFFIX, _OTHER_LANGUAGE):
            found = next((v for v in voices if _fits(v, tag, tier)), None)
            if found is not None:
                return found
        if not loose:
            return None
        if "-" not in tag:
            break
        tag = tag.rsplit("-", 1)[0]
    prefix = tag + "-"
    return next((v for v in voices if any(lang.startswith(prefix) for lang in v.languages)), None)


_MAIN_LANGUAGE, _ID_SUFFIX, _OTHER_LANGUAGE = range(3)


def _fits(voice: VoiceInfo, tag: str, tier: int) -> bool:
    if tier == _MAIN_LANGUAGE:
        return voice.languages[:1] == (tag,)
    if tier == _ID_SUFFIX:
        return voice.id.rsplit("/", 1)[-1].lower() == tag
    return tag in voice.languages


def match_voice(voices: Sequence[VoiceInfo], wanted: str) -> VoiceInfo | None:
    """A voice by id, by name (any case, "_" for " "), or by language code."""
    by_id = {v.id: v for v in voices}
    if wanted in by_id:
        return by_id[wanted]
    lowered = wanted.strip().lower()
    for v in voices:
        if v.id.lower() == lowered or v.name.lower() == lowered.replace("_", " "):
            return v
    return voice_for_language(voices, wanted, loose=False)


def some_choices(voices: Sequence[VoiceInfo], prefer: str = "en", limit: int = 8) -> str:
    """A short, readable sample of voice ids for an error message."""
    first = [v.id for v in voices if any(lang.startswith(prefer) for lang in v.languages)]
    rest = [v.id for v in voices if v.id not in first]
    sample = (first + rest)[:limit]
    more = f" and {len(voices) - len(sample)} more" if len(voices) > len(sample) else ""
    return ", ".join(sample) + more


def choose_voice(
    engine: str, voices: Sequence[VoiceInfo], settings: VoiceSettings, default: VoiceInfo
) -> VoiceInfo:
    """`settings.voice`, else the voice for `settings.language`, else `default`."""
    hint = f"see `voice-coach voices --engine {engine}`"
    if settings.voice:
        found = match_voice(voices, settings.voice)
        if found is None:
            raise EngineError(
                f"unknown voice {settings.voice!r} for engine {engine}; it has "
                f"{some_choices(voices)} (ids, names or language codes work; {hint})"
            )
        return found
    if settings.language:
        found = voice_for_language(voices, settings.language)
        if found is None:
            languages = sorted({lang for v in voices for lang in v.languages[:1]})
            raise EngineError(
                f"engine {engine} has no voice for language {settings.language!r}; it speaks "
                f"{', '.join(languages[:12])}{' ...' if len(languages) > 12 else ''} ({hint})"
            )
        return found
    return default


def phrase_failed(engine: str, text: str, why: str) -> EngineError:
    """The one wording for "this engine could not speak this line"."""
    return EngineError(f"engine {engine} could not speak {text!r}: {why}")


def resolved(engine: str, version: str, voice_id: str, settings: VoiceSettings) -> ResolvedVoice:
    """A `ResolvedVoice` for `voice_id`, with the shared rate and volume defaults."""
    return ResolvedVoice(
        engine=engine,
        engine_version=version,
        voice=voice_id,
        rate_wpm=settings.rate_wpm or DEFAULT_RATE_WPM,
        volume=DEFAULT_VOLUME if settings.volume is None else settings.volume,
    )
