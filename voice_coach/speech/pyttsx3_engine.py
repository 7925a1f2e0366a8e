"""pyttsx3, which drives espeak-ng (libespeak-ng1) in-process on Linux: the default."""

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
from typing import Any, ClassVar

from ..audio.clip import Clip, clip_from_wav_bytes
from ..errors import EngineError
from ..model import VoiceSettings
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

ATTEMPTS = 3
"""Tries per phrase before giving up (see `Pyttsx3Engine.synthesize`)."""


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
        out = []
        with _SyncEspeak.lock:
            listed = self.lib.ListVoices(None)
        for v in listed:
            genders = (None, "male", "female")
            out.append(
                VoiceInfo(
                    id=v.identifier.decode("utf-8").lower(),
                    name=v.name.decode("utf-8"),
                    languages=(normalize_language(v.languages[1:].decode("utf-8", "ignore")),)
                    if v.languages
                    else (),
                    gender=genders[v.gender] if 0 <= v.gender < 3 else None,
                )
            )
        return out

    def speak(self, text: str, voice: str, rate_wpm: int, volume: float) -> bytes:
        lib = self.lib
        with _SyncEspeak.lock:
            lib.SetSynthCallback(self._collect)
            if lib.SetVoiceByName(voice.encode("utf-8")) != lib.EE_OK:
                raise RuntimeError(f"libespeak-ng has no voice {voice!r}")
            lib.SetParameter(lib.RATE, rate_wpm, 0)
            lib.SetParameter(lib.VOLUME, round(volume * 100), 0)
            self._chunks = []
            if lib.Synth(text, flags=lib.CHARS_UTF8 | lib.ENDPAUSE) != lib.EE_OK:
                raise RuntimeError("espeak_Synth failed")
            lib.Synchronize()
            return b"".join(self._chunks)


class Pyttsx3Engine:
    """pyttsx3: offline and fast. On Linux it speaks through libespeak-ng."""

    name: ClassVar[str] = "pyttsx3"
    # Its espeak driver keeps global state in libespeak-ng and is not thread-safe,
    # so concurrent synthesis needs worker processes, each with its own driver.
    parallel: ClassVar[Parallelism] = "process"

    def __init__(self) -> None:
        self._sync: _SyncEspeak | None = None
        """On Linux: libespeak-ng driven synchronously (see `_SyncEspeak`)."""
        self._engine: Any = None
        self._voices: list[VoiceInfo] | None = None
        self._finished = threading.Event()
        """Set when the driver has written the current phrase's file."""

    def unavailable_reason(self) -> str | None:
        try:
            self._driver()
        except EngineError as exc:
            return str(exc)
        return None

    def _driver(self) -> Any:
        if sys.platform.startswith("linux"):
            if self._sync is None:
                try:
                    import pyttsx3
                except ImportError:
                    raise EngineError("pyttsx3 is not installed: pip install pyttsx3") from None
                try:
                    self._sync = _SyncEspeak()
                except (OSError, RuntimeError, ImportError, AttributeError) as exc:
                    raise EngineError(
                        f"pyttsx3 could not start espeak-ng ({exc}); on Debian/Ubuntu "
                        "install it with `sudo apt-get install espeak-ng`"
                    ) from None
            return self._sync
        if self._engine is None:
            try:
                import pyttsx3
            except ImportError:
                raise EngineError("pyttsx3 is not installed: pip install pyttsx3") from None
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine = pyttsx3.init()
                self._engine.connect("finished-utterance", self._on_finished)
            except (OSError, RuntimeError, ImportError) as exc:
                raise EngineError(
                    f"pyttsx3 could not start its speech engine ({exc}); on Debian/Ubuntu "
                    "install it with `sudo apt-get install espeak-ng`"
                ) from None
        return self._engine

    def _on_finished(self, name: object = None, completed: object = True) -> None:
        self._finished.set()

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            driver = self._driver()
            if isinstance(driver, _SyncEspeak):
                self._voices = driver.voices()
            else:
                self._voices = [_voice_info(v) for v in driver.getProperty("voices")]
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
        voices = self.voices()
        if not voices:
            raise EngineError("pyttsx3 lists no voices; is espeak-ng-data installed?")
        driver = self._driver()
        current = "gmw/en" if isinstance(driver, _SyncEspeak) else str(driver.getProperty("voice"))
        default = next((v for v in voices if v.id == current), voices[0])
        voice = choose_voice(self.name, voices, settings, default)
        return resolved(self.name, self.version(), voice.id, settings)

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        driver = self._driver()
        if isinstance(driver, _SyncEspeak):
            try:
                pcm = driver.speak(text, voice.voice, voice.rate_wpm, voice.volume)
            except (RuntimeError, OSError, ValueError) as exc:
                raise phrase_failed(self.name, text, str(exc)) from None
            if not pcm:
                raise phrase_failed(self.name, text, "empty audio")
            return Clip(pcm, _SyncEspeak.sample_rate)
        driver.setProperty("voice", voice.voice)
        driver.setProperty("rate", voice.rate_wpm)
        driver.setProperty("volume", voice.volume)
        # The espeak driver races with libespeak-ng's own threads: now and then (about
        # 1 phrase in 150 on a busy machine) it writes a file with no audio. Speaking
        # the phrase again works.
        why = ""
        for _ in range(ATTEMPTS):
            data = self._speak_to_wav(driver, text)
            try:
                clip = clip_from_wav_bytes(data)
            except Exception as exc:
                why = f"no usable audio ({exc or type(exc).__name__})"
                continue
            if clip.frames > 0:
                return clip
            why = "empty audio"
        raise phrase_failed(self.name, text, f"{why}, {ATTEMPTS} times")

    def _speak_to_wav(self, driver: Any, text: str) -> bytes:
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
                driver.save_to_file(text, tmp)
                driver.runAndWait()
                finished = self._finished.wait(SYNTHESIS_TIMEOUT_S)
            if not finished:
                raise phrase_failed(
                    self.name, text, f"did not finish within {SYNTHESIS_TIMEOUT_S:g} s"
                )
            return Path(tmp).read_bytes()
        except (OSError, RuntimeError) as exc:
            raise phrase_failed(self.name, text, str(exc)) from None
        finally:
            Path(tmp).unlink(missing_ok=True)


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
