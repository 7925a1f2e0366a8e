"""The espeak-ng command line: one process per phrase, so phrases can run side by side.

The text goes to espeak-ng on stdin (`--stdin`), never on the command line and never
through a shell, so a line such as "-5 degrees." is spoken rather than read as an
option. The WAV comes back on stdout. Parsing espeak-ng's output is done by pure
functions, tested on canned bytes.
"""

from __future__ import annotations

import re
import struct
from typing import ClassVar

from ..audio.clip import SAMPLE_WIDTH_BYTES, Clip
from ..errors import EngineError, ToolError
from ..proc import run
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

PROGRAM = "espeak-ng"
DEFAULT_VOICE = "gmw/en"
"""espeak-ng's own default, and pyttsx3's: switching between the two keeps the voice."""
PACE = 0.875
"""espeak-ng is given this share of the rate asked for a line of more than one word
(`espeak_rate`): 140 wpm for the default 160. Its formant voice is harder to follow
than a natural one, and a little slower is heard much better: whisper tiny.en missed
11.5 % of the words of the sciatica-relief cues at 160 wpm, 10.4 % at 145, 7.6 % at
140 (benchmarks/README.md, intelligibility). Rates still scale alike on every engine;
espeak-ng is the calmer."""
MAX_AMPLITUDE = 200
"""espeak-ng's `-a` range is 0-200; 100 (its default) is our volume 1.0, as in pyttsx3."""
_GENDERS = {"M": "male", "F": "female"}
_OTHER_LANGUAGE = re.compile(r"\(([^\s()]+)\s+(\d+)\)")


class EspeakNgEngine:
    """espeak-ng through its command line."""

    name: ClassVar[str] = "espeak-ng"
    # Each synthesis is its own process, so threads only wait on them.
    parallel: ClassVar[Parallelism] = "thread"

    def __init__(self) -> None:
        self._voices: list[VoiceInfo] | None = None
        self._version: str | None = None

    def unavailable_reason(self) -> str | None:
        try:
            self.version()
        except (ToolError, EngineError) as exc:
            return str(exc)
        return None

    def version(self) -> str:
        if self._version is None:
            out = run([PROGRAM, "--version"], timeout_s=SYNTHESIS_TIMEOUT_S)
            try:
                self._version = parse_version(out)
            except ValueError as exc:
                raise EngineError(f"espeak-ng --version: {exc}") from None
        return self._version

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            self._voices = parse_voices(run([PROGRAM, "--voices"], timeout_s=SYNTHESIS_TIMEOUT_S))
            if not self._voices:
                raise EngineError(
                    "espeak-ng --voices lists no voices; is espeak-ng-data installed?"
                )
        return self._voices

    def resolve(self, settings: VoiceSettings) -> ResolvedVoice:
        voices = self.voices()
        default = next((v for v in voices if v.id == DEFAULT_VOICE), voices[0])
        voice = choose_voice(self.name, voices, settings, default)
        return resolved(self.name, self.version(), voice.id, settings)

    def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
        amplitude = max(0, min(MAX_AMPLITUDE, round(voice.volume * 100)))
        args = [PROGRAM, "--stdin", "--stdout", "-b", "1"]
        args += [
            "-v",
            voice.voice,
            "-s",
            str(espeak_rate(voice.rate_wpm, text)),
            "-a",
            str(amplitude),
        ]
        try:
            data = run(args, input_bytes=text.encode("utf-8"), timeout_s=SYNTHESIS_TIMEOUT_S)
        except ToolError as exc:
            raise phrase_failed(self.name, text, str(exc)) from None
        try:
            clip = clip_from_wav_stream(data)
        except ValueError as exc:
            raise phrase_failed(self.name, text, f"no usable audio ({exc})") from None
        if clip.frames == 0:
            raise phrase_failed(self.name, text, "empty audio")
        return clip


def espeak_rate(rate_wpm: int, text: str = "") -> int:
    """The words per minute espeak-ng (or libespeak-ng, through pyttsx3) is told for a
    rate and a line: `PACE` of it, so 160 -> 140; a line of one word ("Three.") at the
    rate itself, as counting is brisk: slower, "Three." was heard "Free." in 29 of 31
    countdowns instead of 6."""
    return rate_wpm if len(text.split()) == 1 else round(rate_wpm * PACE)


def parse_version(output: bytes) -> str:
    """ "eSpeak NG text-to-speech: 1.51  Data at: ..." -> "1.51"."""
    text = output.decode("utf-8", "replace")
    found = re.search(r"text-to-speech:\s*(\S+)", text)
    if found is None:
        raise ValueError(f"no version in {text.strip()[:80]!r}")
    return found.group(1)


def parse_voices(output: bytes) -> list[VoiceInfo]:
    """The table `espeak-ng --voices` prints, as voices; lines that do not fit are skipped.

    Columns: priority, language, age/gender, name (spaces written as "_"), file (the
    voice id `-v` accepts), then other languages as "(tag priority)" pairs. A voice's
    languages are its own first, then the others from most to least preferred.
    """
    voices: list[VoiceInfo] = []
    for line in output.decode("utf-8", "replace").splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5 or not fields[0].isdigit():
            continue  # the header, or something we do not understand
        _, language, age_gender, name, file = fields[:5]
        others = _OTHER_LANGUAGE.findall(fields[5]) if len(fields) > 5 else []
        ranked = [normalize_language(tag) for tag, _ in sorted(others, key=lambda o: int(o[1]))]
        own = normalize_language(language)
        gender = age_gender.rpartition("/")[2]
        voices.append(
            VoiceInfo(
                id=file,
                name=name.replace("_", " "),
                languages=tuple(dict.fromkeys([own, *ranked])),
                gender=_GENDERS.get(gender),
            )
        )
    return voices


def clip_from_wav_stream(data: bytes) -> Clip:
    """A WAV written to a pipe: its sizes are placeholders, so the data runs to the end.

    Only what espeak-ng writes is accepted: mono 16-bit PCM. `ValueError` otherwise.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    pos = 12
    sample_rate: int | None = None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise ValueError("truncated format chunk")
            fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
            if (fmt, channels, bits) != (1, 1, 8 * SAMPLE_WIDTH_BYTES):
                raise ValueError(f"expected mono 16-bit PCM, got {channels} ch {bits}-bit")
            sample_rate = rate
        elif chunk == b"data":
            if sample_rate is None:
                raise ValueError("audio data before its format")
            pcm = data[body : min(len(data), body + size)]
            return Clip(pcm[: len(pcm) - len(pcm) % SAMPLE_WIDTH_BYTES], sample_rate)
        pos = body + size + (size & 1)
    raise ValueError("no audio data")
