"""pyttsx3, which drives espeak-ng (libespeak-ng1) in-process on Linux: the default.

Two drivers sit behind one small protocol (`_Driver`), chosen once by platform in
`_start_driver`: on Linux, libespeak-ng driven synchronously through pyttsx3's own
ctypes bindings (`_SyncEspeak`); elsewhere, pyttsx3's own engine saving each phrase
to a WAV file (`_SaveToFile`).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..audio.clip import Clip, clip_from_wav_bytes
from ..errors import EngineError
from ..routine.model import VoiceSettings
from .contract import (
    SYNTHESIS_TIMEOUT_S,
    Parallelism,
    ResolvedVoice,
    VoiceInfo,
    choose_voice,
    normalize_language,
    phrase_failed,
    resolved,
)
from .espeak_engine import espeak_rate

ATTEMPTS = 3
"""Tries per phrase before giving up (see `_SaveToFile.speak`)."""
_INSTALL_ESPEAK = "on Debian/Ubuntu install it with `sudo apt-get install espeak-ng`"
_ESPEAK_GENDERS = (None, "male", "female")
"""libespeak-ng's `espeak_VOICE.gender`: 0 none, 1 male, 2 female."""


class _Driver(Protocol):
    """What `Pyttsx3Engine` needs from the speech back end of this platform."""

    def voices(self) -> list[VoiceInfo]:
        """Every voice the back end offers here."""

    def default_voice_id(self) -> str:
        """The voice the back end speaks with unless told otherwise."""

    def speak(self, text: str, voice: ResolvedVoice) -> Clip:
        """One phrase; RuntimeError, OSError or ValueError saying why it failed."""

    def version(self) -> str:
        """pyttsx3's version and its back end's, part of every cache key."""


def _start_driver() -> _Driver:
    """This platform's driver, or `EngineError` saying how to install what is missing."""
    try:
        import pyttsx3
    except ImportError:
        raise EngineError("pyttsx3 is not installed: pip install pyttsx3") from None
    if sys.platform.startswith("linux"):
        try:
            return _SyncEspeak()
        except (OSError, RuntimeError, ImportError, AttributeError) as exc:
            raise EngineError(
                f"pyttsx3 could not start espeak-ng ({exc}); {_INSTALL_ESPEAK}"
            ) from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            engine = pyttsx3.init()
        return _SaveToFile(engine)
    except (OSError, RuntimeError, ImportError) as exc:
        raise EngineError(
            f"pyttsx3 could not start its speech engine ({exc}); {_INSTALL_ESPEAK}"
        ) from None


class _SyncEspeak:
    """libespeak-ng through pyttsx3's own ctypes bindings, in synchronous mode.

    pyttsx3's espeak driver runs libespeak-ng asynchronously and writes each WAV from
    espeak's thread, after `runAndWait` has already returned: files came back empty
    now and then, and the same phrase came back with slightly different lengths. In
    synchronous mode `espeak_Synth` returns only once every sample has been passed to
    our callback, so each phrase is complete and the same every time. libespeak-ng
    keeps one global state per process, hence the class-level lock.
    """

    lock = threading.Lock()
    sample_rate = 0

    def __init__(self) -> None:
        from pyttsx3.drivers import _espeak

        self.lib: Any = _espeak
        self._chunks: list[bytes] = []
        with _SyncEspeak.lock:
            if not _SyncEspeak.sample_rate:
                rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0)
                if rate <= 0:
                    raise RuntimeError("libespeak-ng failed to initialize")
                _SyncEspeak.sample_rate = int(rate)
            _espeak.SetSynthCallback(self._collect)

    def _collect(self, wav: Any, numsamples: int, events: Any) -> int:
        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def voices(self) -> list[VoiceInfo]:
        with _SyncEspeak.lock:
            listed = self.lib.ListVoices(None)
        return [_espeak_voice_info(v) for v in listed]

    def default_voice_id(self) -> str:
        return "gmw/en"

    def speak(self, text: str, voice: ResolvedVoice) -> Clip:
        lib = self.lib
        with _SyncEspeak.lock:
            lib.SetSynthCallback(self._collect)
            if lib.SetVoiceByName(voice.voice.encode("utf-8")) != lib.EE_OK:
                raise RuntimeError(f"libespeak-ng has no voice {voice.voice!r}")
            lib.SetParameter(lib.RATE, espeak_rate(voice.rate_wpm, text), 0)
            lib.SetParameter(lib.VOLUME, round(voice.volume * 100), 0)
            self._chunks = []
            if lib.Synth(text, flags=lib.CHARS_UTF8 | lib.ENDPAUSE) != lib.EE_OK:
                raise RuntimeError("espeak_Synth failed")
            lib.Synchronize()
            pcm = b"".join(self._chunks)
        if not pcm:
            raise RuntimeError("empty audio")
        return Clip(pcm, _SyncEspeak.sample_rate)

    def version(self) -> str:
        return f"{metadata.version('pyttsx3')}/espeak-ng {self.lib.Info().decode()}"


class _SaveToFile:
    """pyttsx3's own engine (`pyttsx3.init()`): each phrase saved to a WAV file."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._finished = threading.Event()
        """Set when the engine has written the current phrase's file."""
        engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, name: object = None, completed: object = True) -> None:
        self._finished.set()

    def voices(self) -> list[VoiceInfo]:
        return [_voice_info(v) for v in self.engine.getProperty("voices")]

    def default_voice_id(self) -> str:
        return str(self.engine.getProperty("voice"))

    def speak(self, text: str, voice: ResolvedVoice) -> Clip:
        self.engine.setProperty("voice", voice.voice)
        self.engine.setProperty("rate", voice.rate_wpm)
        self.engine.setProperty("volume", voice.volume)
        # The espeak driver races with libespeak-ng's own threads: now and then (about
        # 1 phrase in 150 on a busy machine) it writes a file with no audio. Speaking
        # the phrase again works.
        why = ""
        for _ in range(ATTEMPTS):
            data = self._speak_to_wav(text)
            try:
                clip = clip_from_wav_bytes(data)
            except Exception as exc:
                why = f"no usable audio ({str(exc) or type(exc).__name__})"
                continue
            if clip.frames > 0:
                return clip
            why = "empty audio"
        raise RuntimeError(f"{why}, {ATTEMPTS} times")

    def _speak_to_wav(self, text: str) -> bytes:
        fd, tmp = tempfile.mkstemp(suffix=".wav", prefix="voice-coach-")
        os.close(fd)
        try:
            # One runAndWait per file: pyttsx3 2.99 writes only the last of several
            # queued save_to_file calls. It also prints "Audio saved to ..." itself.
            # The espeak driver's runAndWait returns once synthesis has *started*:
            # libespeak-ng speaks on its own thread, and the driver writes the file
            # when it ends, so wait for that.
            self._finished.clear()
            with contextlib.redirect_stdout(io.StringIO()):
                self.engine.save_to_file(text, tmp)
                self.engine.runAndWait()
                finished = self._finished.wait(SYNTHESIS_TIMEOUT_S)
            if not finished:
                raise RuntimeError(f"did not finish within {SYNTHESIS_TIMEOUT_S:g} s")
            return Path(tmp).read_bytes()
        finally:
            Path(tmp).unlink(missing_ok=True)

    def version(self) -> str:
        # Names libespeak-ng even where pyttsx3 speaks through another back end: the
        # string is part of every cache key, so it stays as it always was.
        try:
            from pyttsx3.drivers import _espeak

            lib = _espeak.Info().decode() if hasattr(_espeak, "Info") else "?"
        except Exception:
            lib = "?"
        return f"{metadata.version('pyttsx3')}/espeak-ng {lib}"


class Pyttsx3Engine:
    """pyttsx3: offline and fast. On Linux it speaks through libespeak-ng."""

    name: ClassVar[str] = "pyttsx3"
    # Its espeak driver keeps global state in libespeak-ng and is not thread-safe,
    # so concurrent synthesis needs worker processes, each with its own driver.
    parallel: ClassVar[Parallelism] = "process"

    def __init__(self) -> None:
        self._started: _Driver | None = None
        self._voices: list[VoiceInfo] | None = None

    def unavailable_reason(self) -> str | None:
        try:
            self._driver()
        except EngineError as exc:
            return str(exc)
        return None

    def _driver(self) -> _Driver:
        if self._started is None:
            self._started = _start_driver()
        return self._started

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            self._voices = self._driver().voices()
        return self._voices

    def version(self) -> str:
        return self._driver().version()

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        voices = self.voices()
        if not voices:
            raise EngineError("pyttsx3 lists no voices; is espeak-ng-data installed?")
        current = self._driver().default_voice_id()
        default = next((v for v in voices if v.id == current), voices[0])
        voice = choose_voice(self.name, voices, settings, default)
        return resolved(self.name, self.version(), voice.id, settings)

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        driver = self._driver()
        try:
            return driver.speak(text, voice)
        except (RuntimeError, OSError, ValueError) as exc:
            raise phrase_failed(self.name, text, str(exc)) from None


def _espeak_voice_info(voice: Any) -> VoiceInfo:
    """One of libespeak-ng's `espeak_VOICE` records: bytes, languages behind a priority byte."""
    return VoiceInfo(
        id=voice.identifier.decode("utf-8").lower(),
        name=voice.name.decode("utf-8"),
        languages=(normalize_language(voice.languages[1:].decode("utf-8", "ignore")),)
        if voice.languages
        else (),
        gender=_ESPEAK_GENDERS[voice.gender] if 0 <= voice.gender < 3 else None,
    )


def _voice_info(voice: Any) -> VoiceInfo:
    # Some pyttsx3 versions give espeak's raw bytes: a priority byte, then the tag.
    raw = [
        lang.decode("utf-8", "replace") if isinstance(lang, bytes) else str(lang)
        for lang in (getattr(voice, "languages", None) or ())
    ]
    languages = tuple(normalize_language("".join(c for c in r if c.isprintable())) for r in raw)
    gender = getattr(voice, "gender", None)
    return VoiceInfo(
        id=str(voice.id),
        name=str(voice.name),
        languages=languages,
        gender=str(gender).lower() if gender else None,
    )
