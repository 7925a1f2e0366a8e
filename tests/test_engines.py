"""Speech engines: one contract for all, espeak-ng's parsers, failures, parallel synthesis.

The contract tests run against every engine available here (in CI pyttsx3 and espeak-ng
must be). Failures are provoked with a fake `espeak-ng` program on PATH and with a
small engine plugin installed into a temporary directory through the entry-point group,
so worker processes can build it by name as they would any third-party engine.
"""

from __future__ import annotations

import ast
import os
import struct
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import FIXTURES

from voice_coach import speech
from voice_coach.audio.clip import Clip
from voice_coach.errors import EngineError
from voice_coach.routine.model import VoiceSettings
from voice_coach.speech import Engine, EspeakNgEngine, PiperEngine, ResolvedVoice, VoiceInfo
from voice_coach.speech import cache as cache_module
from voice_coach.speech import espeak_engine as espeak_module
from voice_coach.speech import piper_engine as piper_module
from voice_coach.speech import pyttsx3_engine as pyttsx3_module
from voice_coach.speech.cache import SpeechCache
from voice_coach.speech.contract import match_voice, voice_for_language
from voice_coach.speech.espeak_engine import (
    clip_from_wav_stream,
    espeak_rate,
    parse_version,
    parse_voices,
)
from voice_coach.speech.piper_engine import join_sentences, length_scale, piper_input

VOICES_TXT = FIXTURES / "espeak-voices.txt"
REQUIRED_IN_CI = {"pyttsx3", "espeak-ng"}
SHORT, LONG = "Hold.", "Breathe slowly, and let your hip soften."


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- the contract, for every engine available here -------------------------------------


@pytest.fixture(scope="module", params=sorted(speech.registry()))
def engine(request: pytest.FixtureRequest) -> Engine:
    """A ready engine; one per module, so piper loads its model once."""
    name: str = request.param
    made = speech.registry()[name]()
    reason = made.unavailable_reason()
    if reason:
        if os.environ.get("CI") and name in REQUIRED_IN_CI:
            pytest.fail(f"{name} must be available in CI: {reason}")
        pytest.skip(f"{name} is not available: {reason}")
    return made


@pytest.fixture(scope="module")
def voice(engine: Engine) -> ResolvedVoice:
    return engine.resolve(VoiceSettings())


@pytest.mark.integration
def test_speaks_a_short_and_a_long_line(engine: Engine, voice: ResolvedVoice) -> None:
    short, long = engine.synthesize(SHORT, voice), engine.synthesize(LONG, voice)
    for clip in (short, long):
        assert isinstance(clip, Clip)
        assert clip.frames > 0 and len(clip.pcm) % 2 == 0  # whole int16 samples, mono
        assert clip.sample_rate > 8000
        assert np.abs(clip.samples().astype(np.int32)).max() > 1000  # not silence
    assert long.duration_ms > short.duration_ms


@pytest.mark.integration
def test_resolve_sets_every_field(engine: Engine, voice: ResolvedVoice) -> None:
    assert voice.engine == engine.name
    assert voice.engine_version and voice.voice
    assert voice.rate_wpm == speech.DEFAULT_RATE_WPM and voice.volume == speech.DEFAULT_VOLUME
    assert voice.voice in {v.id for v in engine.voices()}
    slower = engine.resolve(VoiceSettings(rate_wpm=120, volume=0.5))
    assert (slower.rate_wpm, slower.volume) == (120, 0.5)


@pytest.mark.integration
def test_lists_voices_and_a_version(engine: Engine) -> None:
    voices = engine.voices()
    assert voices and all(isinstance(v, VoiceInfo) and v.id and v.name for v in voices)
    assert engine.version()
    assert engine.parallel in ("process", "thread", "none")


@pytest.mark.integration
def test_an_unknown_voice_lists_choices(engine: Engine) -> None:
    with pytest.raises(EngineError) as caught:
        engine.resolve(VoiceSettings(voice="no-such-voice-xyz"))
    message = str(caught.value)
    assert "no-such-voice-xyz" in message
    assert any(v.id in message for v in engine.voices())
    assert f"voice-coach voices --engine {engine.name}" in message


@pytest.mark.integration
def test_a_language_picks_a_voice_for_it(engine: Engine) -> None:
    english = engine.resolve(VoiceSettings(language="en"))
    assert _languages_of(engine, english.voice)[0].startswith("en")
    if not any(lang.startswith("de") for v in engine.voices() for lang in v.languages):
        with pytest.raises(EngineError, match="no voice for language 'de'"):
            engine.resolve(VoiceSettings(language="de"))
        pytest.skip(f"{engine.name} has no German voice here")
    german = engine.resolve(VoiceSettings(language="de"))
    assert _languages_of(engine, german.voice)[0].startswith("de")
    # A voice that is set wins over the language.
    assert engine.resolve(VoiceSettings(voice=english.voice, language="de")).voice == english.voice


def _languages_of(engine: Engine, voice_id: str) -> tuple[str, ...]:
    return next(v.languages for v in engine.voices() if v.id == voice_id)


@pytest.mark.integration
def test_a_line_starting_with_a_dash_is_spoken(engine: Engine, voice: ResolvedVoice) -> None:
    dash = engine.synthesize("-5 degrees.", voice)
    words = engine.synthesize("minus five degrees.", voice)
    assert dash.frames > 0
    assert abs(dash.duration_ms - words.duration_ms) < 0.3 * words.duration_ms


@pytest.mark.integration
def test_a_faster_rate_speaks_faster(engine: Engine) -> None:
    slow = engine.resolve(VoiceSettings(rate_wpm=120))
    fast = engine.resolve(VoiceSettings(rate_wpm=240))
    assert engine.synthesize(LONG, fast).duration_ms < engine.synthesize(LONG, slow).duration_ms


# -- espeak-ng's output, parsed from canned bytes --------------------------------------


def test_parse_voices_reads_every_column() -> None:
    voices = {v.id: v for v in parse_voices(VOICES_TXT.read_bytes())}
    assert len(voices) == 15
    assert voices["gmw/en"] == VoiceInfo(
        "gmw/en", "English (Great Britain)", ("en-gb", "en"), "male"
    )
    assert voices["gmw/en-GB-x-gbclan"].languages == ("en-gb-x-gbclan", "en-gb", "en")
    assert voices["roa/es-419"].languages == ("es-419", "es-mx", "es")
    assert voices["sit/yue-Latn-jyutping"].name == "Chinese (Cantonese, latin as Jyutping)"
    assert voices["mb/mb-de1"].gender == "female"


@pytest.mark.parametrize(
    "output", [b"", b"Pty Language Age/Gender VoiceName File Other Languages\n", b"\x00\xff?\n1 2"]
)
def test_parse_voices_skips_what_it_does_not_understand(output: bytes) -> None:
    assert parse_voices(output) == []


def test_parse_version() -> None:
    out = b"eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x86_64-linux-gnu/espeak-ng-data\n"
    assert parse_version(out) == "1.51"
    with pytest.raises(ValueError):
        parse_version(b"usage: something else\n")


@pytest.mark.parametrize(
    ("language", "voice_id"),
    [
        ("de", "gmw/de"),
        ("es", "roa/es"),
        ("fr", "roa/fr"),
        ("en", "gmw/en"),
        ("en-US", "gmw/en-US"),
        ("en_us", "gmw/en-US"),
        ("de-AT", "gmw/de"),
        ("zh", "sit/cmn"),
        ("pt", "roa/pt-BR"),
        ("xx", None),
    ],
)
def test_a_language_picks_the_most_fitting_voice(language: str, voice_id: str | None) -> None:
    found = voice_for_language(parse_voices(VOICES_TXT.read_bytes()), language)
    assert (found.id if found else None) == voice_id


@pytest.mark.parametrize(
    ("wanted", "voice_id"),
    [
        ("gmw/en-US", "gmw/en-US"),
        ("GMW/EN-us", "gmw/en-US"),
        ("English (America)", "gmw/en-US"),
        ("english_(america)", "gmw/en-US"),
        ("en-us", "gmw/en-US"),
        ("fr", "roa/fr"),
        ("nope", None),
    ],
)
def test_a_voice_is_found_by_id_name_or_language(wanted: str, voice_id: str | None) -> None:
    found = match_voice(parse_voices(VOICES_TXT.read_bytes()), wanted)
    assert (found.id if found else None) == voice_id


def streamed_wav(pcm: bytes, sample_rate: int = 22050, channels: int = 1) -> bytes:
    """A WAV as espeak-ng writes it to a pipe: placeholder sizes, data to the end."""
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, sample_rate * 2 * channels, 2, 16)
    riff, data = struct.pack("<I", 0x7FFFF024), struct.pack("<I", 0x7FFFF000)
    return b"RIFF" + riff + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + data + pcm


def test_clip_from_a_streamed_wav() -> None:
    pcm = np.arange(-50, 50, dtype="<i2").tobytes()
    assert clip_from_wav_stream(streamed_wav(pcm)) == Clip(pcm, 22050)
    assert clip_from_wav_stream(streamed_wav(pcm + b"\x01")) == Clip(pcm, 22050)  # half sample
    assert clip_from_wav_stream(Clip(pcm, 16000).to_wav_bytes()) == Clip(pcm, 16000)
    assert clip_from_wav_stream(streamed_wav(b"")).frames == 0


def test_espeak_speaks_a_little_slower_than_the_rate_asked() -> None:
    assert espeak_rate(160, "Switch sides.") == 140
    assert espeak_rate(200, "Breathe slowly, and let your hip soften.") == 175
    assert espeak_rate(80) < espeak_rate(81) < espeak_rate(240) < 240


@pytest.mark.parametrize("line", ["Three.", " Drei. ", "Again"])
def test_espeak_counts_at_the_rate_itself(line: str) -> None:
    assert espeak_rate(160, line) == 160


@pytest.mark.parametrize(
    "data",
    [b"", b"not a wav at all", streamed_wav(b"\x00\x00", channels=2), streamed_wav(b"")[:30]],
)
def test_clip_from_a_broken_stream_is_an_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        clip_from_wav_stream(data)


# -- piper, without running a model -----------------------------------------------------


def test_piper_rate_maps_to_length_scale() -> None:
    assert length_scale(piper_module.NATURAL_RATE_WPM) == 1.0
    assert length_scale(240) < 1.0 < length_scale(120)


def test_piper_sentences_join_into_int16_with_a_pause() -> None:
    one, two = np.full(100, 0.5, dtype=np.float32), np.full(50, -1.0, dtype=np.float32)
    pcm = np.frombuffer(join_sentences([one, np.zeros(0, np.float32), two], 1000), "<i2")
    gap = piper_module.SENTENCE_GAP_MS  # at 1000 Hz, one sample per millisecond
    assert pcm.size == 100 + gap + 50
    assert pcm[0] == 16384 and pcm[100 : 100 + gap].max() == 0 and pcm[-1] == -32767


@pytest.mark.parametrize(
    ("line", "given"),
    [
        ("Two.", "Two,"),
        ("Halten.", "Halten,"),
        (" Three. ", "Three,"),
        ("Switch sides.", "Switch sides."),
        ("Ten seconds left.", "Ten seconds left."),
        ("Stop!", "Stop!"),
        ("Ready?", "Ready?"),
        ("Wait...", "Wait..."),
        ("Again", "Again"),
    ],
)
def test_piper_says_a_one_word_line_as_a_call(line: str, given: str) -> None:
    assert piper_input(line) == given


def test_piper_synthesizes_the_line_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []

    class FakeVoice:
        config = SimpleNamespace(sample_rate=1000)

        def synthesize(self, text: str, syn_config: object) -> Iterator[SimpleNamespace]:
            said.append(text)
            yield SimpleNamespace(audio_float_array=np.full(100, 0.5, dtype=np.float32))

    monkeypatch.setitem(sys.modules, "piper", SimpleNamespace(SynthesisConfig=SimpleNamespace))
    engine = PiperEngine()
    engine._loaded["fake"] = FakeVoice()
    voice = ResolvedVoice("piper", "fake", "fake", 160, 1.0)
    assert engine.synthesize("Two.", voice).frames == 100
    engine.synthesize("Switch sides.", voice)
    assert said == ["Two,", "Switch sides."]


def test_piper_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "piper", None)  # import piper -> ImportError
    reason = PiperEngine().unavailable_reason()
    assert reason == "piper is not installed: pip install 'voice-coach[neural]'"


def test_piper_model_path_needs_its_config_beside_it(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"not really a model")
    with pytest.raises(EngineError, match=r"has no voice\.onnx\.json beside it"):
        PiperEngine().resolve(VoiceSettings(voice=str(model)))
    with pytest.raises(EngineError, match="no piper model at"):
        PiperEngine().resolve(VoiceSettings(voice=str(tmp_path / "missing.onnx")))


# -- espeak-ng failing: a fake program on PATH -----------------------------------------

TONE_PCM = (np.sin(np.arange(2205) / 3) * 8000).astype("<i2").tobytes()


@pytest.fixture
def fake_espeak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A stand-in `espeak-ng` first on PATH: `--version` and `--voices` answer from
    fixtures; speaking records argv and stdin, then does what the line asks for:
    "bad" fails, "slow" hangs, "mute" prints nothing, anything else gets a tone."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "tone.wav").write_bytes(streamed_wav(TONE_PCM))
    script = bin_dir / "espeak-ng"
    script.write_text(
        textwrap.dedent(f"""\
            #!/bin/sh
            case "$1" in
              --version) echo "eSpeak NG text-to-speech: 1.51-fake  Data at: /nowhere"; exit 0;;
              --voices) cat "{VOICES_TXT}"; exit 0;;
            esac
            text=$(cat)
            printf '%s\\n' "$*" >> "{tmp_path}/argv.log"
            printf '%s\\n' "$text" >> "{tmp_path}/stdin.log"
            case "$text" in
              *bad*) echo "espeak-ng: something broke" >&2; exit 3;;
              *slow*) exec sleep 30;;  # outlasts the timeout the test sets
              *mute*) exit 0;;
            esac
            cat "{tmp_path}/tone.wav"
            """)
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    yield tmp_path


def test_text_goes_on_stdin_never_as_an_argument(fake_espeak: Path) -> None:
    engine = EspeakNgEngine()
    voice = engine.resolve(VoiceSettings(voice="en-us", rate_wpm=150, volume=0.5))
    clip = engine.synthesize("-5 degrees.", voice)
    assert clip == Clip(TONE_PCM, 22050)
    argv = (fake_espeak / "argv.log").read_text()
    assert argv == "--stdin --stdout -b 1 -v gmw/en-US -s 131 -a 50\n"  # 150 wpm asked
    assert (fake_espeak / "stdin.log").read_text() == "-5 degrees.\n"
    assert voice.engine_version == "1.51-fake"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("A bad line.", "something broke"),
        ("A slow line.", "did not finish within 0.5 s"),
        ("A mute line.", "no usable audio"),
    ],
)
def test_a_failing_phrase_names_phrase_and_engine_and_leaves_no_file(
    fake_espeak: Path, monkeypatch: pytest.MonkeyPatch, text: str, why: str
) -> None:
    monkeypatch.setattr(espeak_module, "SYNTHESIS_TIMEOUT_S", 0.5)
    engine = EspeakNgEngine()
    cache = SpeechCache(fake_espeak / "cache", engine, engine.resolve(VoiceSettings()))
    started = time.monotonic()
    with pytest.raises(EngineError) as caught:
        cache.clips(["Hold.", text])
    assert time.monotonic() - started < 10
    assert f"engine espeak-ng could not speak {text!r}" in str(caught.value)
    assert why in str(caught.value)
    assert files_in(fake_espeak / "cache") == [cache.path("Hold.")]


def test_a_failure_among_parallel_phrases_leaves_only_whole_entries(fake_espeak: Path) -> None:
    engine = EspeakNgEngine()
    cache = SpeechCache(fake_espeak / "cache", engine, engine.resolve(VoiceSettings()))
    texts = [f"Line {i}." for i in range(12)] + ["A bad line."]
    with pytest.raises(EngineError, match=r"engine espeak-ng could not speak 'A bad line\.'"):
        cache.clips(texts)
    files = files_in(fake_espeak / "cache")
    assert cache.path("A bad line.") not in files
    assert all(
        f.suffix == ".wav"
        and f.read_bytes() == cache_module.finish(Clip(TONE_PCM, 22050)).to_wav_bytes()
        for f in files
    )


# -- pyttsx3 off Linux: its own engine, faked ----------------------------------------


class FakePyttsx3:
    """Stands in for what `pyttsx3.init()` returns: `runAndWait` writes the next of
    `outputs` to the file asked for and reports the utterance finished; None: it never
    finishes. Like pyttsx3 it prints to stdout."""

    def __init__(self, outputs: list[bytes | None]) -> None:
        self.outputs = outputs
        self.properties: dict[str, object] = {
            "voice": "de",
            "voices": [
                SimpleNamespace(id="en-gb", name="English", languages=[b"\x05en-gb"]),
                SimpleNamespace(id="de", name="German", languages=["de_DE"], gender="Female"),
            ],
        }
        self.spoken: list[tuple[str, dict[str, object]]] = []
        self.finished: Callable[..., None] | None = None
        self.queued: tuple[str, str] | None = None

    def connect(self, topic: str, callback: Callable[..., None]) -> None:
        assert topic == "finished-utterance"
        self.finished = callback

    def getProperty(self, name: str) -> object:
        return self.properties[name]

    def setProperty(self, name: str, value: object) -> None:
        self.properties[name] = value

    def save_to_file(self, text: str, path: str) -> None:
        self.queued = (text, path)

    def runAndWait(self) -> None:
        assert self.queued and self.finished
        text, path = self.queued
        self.spoken.append((text, {k: v for k, v in self.properties.items() if k != "voices"}))
        output = self.outputs.pop(0)
        if output is not None:
            Path(path).write_bytes(output)
            print(f"Audio saved to {path}")
            self.finished("utterance", True)


@pytest.fixture
def off_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., FakePyttsx3]:
    """Pretend to be macOS with a fake pyttsx3; temporary files go to `tmp_path`."""
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def install(*outputs: bytes | None) -> FakePyttsx3:
        fake = FakePyttsx3(list(outputs))
        monkeypatch.setitem(sys.modules, "pyttsx3", SimpleNamespace(init=lambda: fake))
        return fake

    return install


SPOKEN = Clip(TONE_PCM, 22050)


def test_pyttsx3_off_linux_speaks_through_its_own_engine(
    off_linux: Callable[..., FakePyttsx3], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = off_linux(SPOKEN.to_wav_bytes())
    engine = speech.Pyttsx3Engine()
    assert engine.unavailable_reason() is None
    assert [v.languages for v in engine.voices()] == [("en-gb",), ("de-de",)]
    voice = engine.resolve(VoiceSettings(rate_wpm=150, volume=0.5))
    assert voice.voice == "de"  # the engine's own current voice is the default
    assert engine.synthesize("Hold.", voice) == SPOKEN
    assert fake.spoken == [("Hold.", {"voice": "de", "rate": 150, "volume": 0.5})]
    assert capsys.readouterr().out == ""
    assert files_in(tmp_path) == []


def test_pyttsx3_off_linux_speaks_again_after_an_empty_file(
    off_linux: Callable[..., FakePyttsx3], tmp_path: Path
) -> None:
    fake = off_linux(b"", Clip(b"", 22050).to_wav_bytes(), SPOKEN.to_wav_bytes())
    engine = speech.Pyttsx3Engine()
    assert engine.synthesize("Hold.", engine.resolve(VoiceSettings())) == SPOKEN
    assert [text for text, _ in fake.spoken] == ["Hold."] * pyttsx3_module.ATTEMPTS
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("output", "why"),
    [
        (b"", "no usable audio (EOFError)"),  # an error without a message is named
        (b"not a wav at all", "no usable audio (file does not start with RIFF id)"),
        (Clip(b"", 22050).to_wav_bytes(), "empty audio"),
    ],
)
def test_pyttsx3_off_linux_gives_up_after_its_attempts(
    off_linux: Callable[..., FakePyttsx3], tmp_path: Path, output: bytes, why: str
) -> None:
    fake = off_linux(*[output] * pyttsx3_module.ATTEMPTS)
    engine = speech.Pyttsx3Engine()
    with pytest.raises(EngineError) as caught:
        engine.synthesize("Hold.", engine.resolve(VoiceSettings()))
    assert str(caught.value) == f"engine pyttsx3 could not speak 'Hold.': {why}, 3 times"
    assert len(fake.spoken) == pyttsx3_module.ATTEMPTS
    assert files_in(tmp_path) == []


def test_pyttsx3_off_linux_a_phrase_that_never_finishes_is_not_retried(
    off_linux: Callable[..., FakePyttsx3], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyttsx3_module, "SYNTHESIS_TIMEOUT_S", 0.1)
    fake = off_linux(None, SPOKEN.to_wav_bytes())
    engine = speech.Pyttsx3Engine()
    with pytest.raises(EngineError) as caught:
        engine.synthesize("Hold.", engine.resolve(VoiceSettings()))
    assert (
        str(caught.value) == "engine pyttsx3 could not speak 'Hold.': did not finish within 0.1 s"
    )
    assert len(fake.spoken) == 1
    assert files_in(tmp_path) == []


@pytest.mark.usefixtures("off_linux")
def test_pyttsx3_off_linux_that_cannot_start_says_how_to_install_espeak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def init() -> None:
        raise RuntimeError("no driver")

    monkeypatch.setitem(sys.modules, "pyttsx3", SimpleNamespace(init=init))
    assert speech.Pyttsx3Engine().unavailable_reason() == (
        "pyttsx3 could not start its speech engine (no driver); "
        "on Debian/Ubuntu install it with `sudo apt-get install espeak-ng`"
    )


def test_pyttsx3_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyttsx3", None)  # import pyttsx3 -> ImportError
    reason = speech.Pyttsx3Engine().unavailable_reason()
    assert reason == "pyttsx3 is not installed: pip install pyttsx3"


@pytest.mark.parametrize(
    ("voice", "info"),
    [
        (
            SimpleNamespace(id="gmw/en", name="English", languages=[b"\x05en-gb"], gender="Male"),
            VoiceInfo("gmw/en", "English", ("en-gb",), "male"),
        ),
        (
            SimpleNamespace(id=7, name="Anna", languages=["de_DE", "de"], gender=None),
            VoiceInfo("7", "Anna", ("de-de", "de")),
        ),
        (SimpleNamespace(id="x", name="X"), VoiceInfo("x", "X", ())),
    ],
)
def test_pyttsx3_voices_are_read_from_any_version(voice: object, info: VoiceInfo) -> None:
    assert pyttsx3_module._voice_info(voice) == info


@pytest.mark.parametrize(
    ("gender", "languages", "info"),
    [
        (1, b"\x02en-us", VoiceInfo("gmw/en-us", "English (America)", ("en-us",), "male")),
        (2, b"\x05en_GB", VoiceInfo("gmw/en-us", "English (America)", ("en-gb",), "female")),
        (0, b"", VoiceInfo("gmw/en-us", "English (America)", ())),
        (9, None, VoiceInfo("gmw/en-us", "English (America)", ())),
    ],
)
def test_libespeak_voice_records_are_read(
    gender: int, languages: bytes | None, info: VoiceInfo
) -> None:
    record = SimpleNamespace(
        identifier=b"gmw/en-US", name=b"English (America)", languages=languages, gender=gender
    )
    assert pyttsx3_module._espeak_voice_info(record) == info


def test_libespeak_through_pyttsx3_speaks_at_the_espeak_rate() -> None:
    set_to: dict[int, int] = {}

    class FakeLib:
        EE_OK, RATE, VOLUME, CHARS_UTF8, ENDPAUSE = 0, 1, 2, 4, 8

        def SetSynthCallback(self, callback: object) -> None:
            pass

        def SetVoiceByName(self, name: bytes) -> int:
            return 0

        def SetParameter(self, parameter: int, value: int, relative: int) -> None:
            set_to[parameter] = value

        def Synth(self, text: str, flags: int) -> int:
            driver._collect(b"\x01\x00" * 10, 10, None)
            return 0

        def Synchronize(self) -> None:
            pass

    driver = object.__new__(pyttsx3_module._SyncEspeak)
    driver.lib, driver._chunks = FakeLib(), []
    voice = ResolvedVoice("pyttsx3", "1", "gmw/en", 160, 0.5)
    assert driver.speak("Switch sides.", voice).frames == 10
    assert set_to == {FakeLib.RATE: 140, FakeLib.VOLUME: 50}
    driver.speak("Two.", voice)
    assert set_to[FakeLib.RATE] == 160


# -- parallel cold-cache synthesis ------------------------------------------------------


@pytest.mark.integration
def test_threads_give_the_same_clips_as_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = EspeakNgEngine()
    reason = engine.unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    calls: list[str] = []

    class Counting(EspeakNgEngine):
        def synthesize(self, text: str, voice: ResolvedVoice) -> Clip:
            calls.append(text)
            return super().synthesize(text, voice)

    texts = [f"Stretch number {n}, and breathe." for n in range(12)]
    texts += ["-5 degrees.", *texts[:3]]
    voice = engine.resolve(VoiceSettings())
    one_by_one = SpeechCache(tmp_path / "a", SequentialEspeak(), voice).clips(texts)
    progress: list[tuple[int, int]] = []
    side_by_side = SpeechCache(tmp_path / "b", Counting(), voice).clips(
        texts, lambda done, total: progress.append((done, total))
    )
    assert list(side_by_side.items()) == list(one_by_one.items())
    assert sorted(calls) == sorted(set(texts))
    assert progress == [(n, 13) for n in range(1, 14)]


class SequentialEspeak(EspeakNgEngine):
    parallel = "none"


PLUGIN = '''
"""A test engine installed through the entry-point group, built by name in workers."""

import ast
import os
import time
from typing import ClassVar

import numpy as np

from voice_coach.audio.clip import Clip
from voice_coach.speech import ResolvedVoice, VoiceInfo
from voice_coach.speech.contract import phrase_failed


class ToneEngine:
    name: ClassVar[str] = "tone"
    parallel: ClassVar[str] = "process"

    def __init__(self, cache_dir=None):
        self.cache_dir = cache_dir
        """It keeps a file of its own there when it speaks, as piper keeps models."""

    def unavailable_reason(self):
        return None

    def voices(self):
        return [VoiceInfo("tone", "Tone", ("en",))]

    def version(self):
        return "1"

    def resolve(self, settings):
        return ResolvedVoice("tone", "1", "tone", settings.rate_wpm or 160, 1.0)

    def synthesize(self, text, voice):
        with open(os.environ["TONE_CALLS"], "a") as log:
            log.write(f"{os.getpid()} {text}\\n")
        if "hang" in text:
            time.sleep(60)  # a phrase that never ends: the tests are about the timeout
        if "crash" in text:
            os._exit(3)
        if "fail" in text:
            raise phrase_failed(self.name, text, "it was asked to")
        if self.cache_dir is not None:
            open(os.path.join(self.cache_dir, "tone-was-here"), "w").close()
        time.sleep(0.01)  # speaking takes time, as with a real engine
        frames = 2205 * len(text.split())
        t = np.arange(frames) / 22050
        pitch = 200 + 10 * len(text)
        return Clip((0.3 * 32767 * np.sin(2 * np.pi * pitch * t)).astype("<i2").tobytes(), 22050)
'''


@pytest.fixture
def tone_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install the tone engine as a third-party plugin; returns its call log."""
    site = tmp_path / "site"
    dist = site / "voice_coach_tone-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "voice_coach_tone.py").write_text(PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: voice-coach-tone\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[voice_coach.engines]\ntone = voice_coach_tone:ToneEngine\n"
    )
    monkeypatch.syspath_prepend(str(site))  # worker processes get the same sys.path
    calls = tmp_path / "calls.log"
    calls.touch()
    monkeypatch.setenv("TONE_CALLS", str(calls))
    monkeypatch.setattr(cache_module, "WORKER_START_S", 0.0)  # always worth it here
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    return calls


def logged(calls: Path) -> list[tuple[int, str]]:
    lines = calls.read_text().splitlines()
    return [(int(pid), text) for pid, text in (line.split(" ", 1) for line in lines)]


def test_a_plugin_engine_joins_the_registry(tone_plugin: Path) -> None:
    assert "tone" in speech.registry()
    assert speech.get_engine("tone").resolve(VoiceSettings()).engine == "tone"


def test_worker_processes_give_the_same_clips_as_one_at_a_time(
    tone_plugin: Path, tmp_path: Path
) -> None:
    engine = speech.get_engine("tone")
    voice = engine.resolve(VoiceSettings())
    texts = [f"Line {'word ' * n}end." for n in range(10)] + ["Line end."]
    one_by_one = {t: SpeechCache(tmp_path / "a", engine, voice).clip(t) for t in texts}
    tone_plugin.write_text("")
    progress: list[int] = []
    cache = SpeechCache(tmp_path / "b", engine, voice)
    side_by_side = cache.clips(texts, lambda done, total: progress.append(done))
    assert list(side_by_side.items()) == list(one_by_one.items())
    calls = logged(tone_plugin)
    assert sorted(text for _, text in calls) == sorted(set(texts))  # each exactly once
    assert {pid for pid, _ in calls} - {os.getpid()}, "no worker process was used"
    assert (tmp_path / "b" / "tone-was-here").exists(), "the workers' engines had no cache dir"
    assert not (tmp_path / "a" / "tone-was-here").exists()  # this one was made without
    assert progress == list(range(1, 11))
    assert cache.stats.synthesized == 10


def test_a_hanging_phrase_in_a_worker_is_stopped(
    tone_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "SYNTHESIS_TIMEOUT_S", 3.0)
    engine = speech.get_engine("tone")
    cache = SpeechCache(tmp_path / "cache", engine, engine.resolve(VoiceSettings()))
    started = time.monotonic()
    with pytest.raises(EngineError) as caught:
        cache.clips([f"Line {n}." for n in range(9)] + ["Now hang."])
    assert time.monotonic() - started < 20
    assert "engine tone did not finish speaking 'Now hang.' within 3 s" in str(caught.value)
    assert cache.path("Now hang.") not in files_in(tmp_path / "cache")


def test_a_crashing_phrase_in_a_worker_is_named(tone_plugin: Path, tmp_path: Path) -> None:
    engine = speech.get_engine("tone")
    cache = SpeechCache(tmp_path / "cache", engine, engine.resolve(VoiceSettings()))
    texts = [f"Line {n}." for n in range(9)] + ["Now crash."]
    with pytest.raises(EngineError, match=r"engine tone crashed while speaking 'Now crash\.'"):
        cache.clips(texts)
    files = [f for f in files_in(tmp_path / "cache") if f.suffix == ".wav"]
    assert cache.path("Now crash.") not in files
    assert len(files) == 9  # the others were spoken again by a fresh worker


def test_a_failing_phrase_in_a_worker_names_phrase_and_engine(
    tone_plugin: Path, tmp_path: Path
) -> None:
    engine = speech.get_engine("tone")
    cache = SpeechCache(tmp_path / "cache", engine, engine.resolve(VoiceSettings()))
    with pytest.raises(EngineError, match=r"engine tone could not speak 'Now fail\.'"):
        cache.clips([f"Line {n}." for n in range(9)] + ["Now fail."])
    assert cache.path("Now fail.") not in files_in(tmp_path / "cache")


@pytest.mark.integration
def test_piper_keeps_its_optimized_model_in_the_cache(tmp_path: Path) -> None:
    """Made once, loaded from then on; a damaged one is made again."""
    if PiperEngine().unavailable_reason():
        pytest.skip("piper is not installed")
    model = piper_module._package_model(PiperEngine().voices()[0].id)
    piper_module._session(model, tmp_path)
    (kept,) = files_in(tmp_path)
    assert kept.suffix == ".ort" and kept.stat().st_size > 1_000_000
    made = kept.stat().st_mtime_ns
    session = piper_module._session(model, tmp_path)
    assert kept.stat().st_mtime_ns == made  # loaded, not made again
    assert [i.name for i in session.get_inputs()][:1] == ["input"]
    kept.write_bytes(b"damaged")
    piper_module._session(model, tmp_path)
    assert files_in(tmp_path) == [kept]
    assert kept.stat().st_size > 1_000_000


@pytest.mark.integration
def test_piper_keeps_its_optimized_model_in_the_cache_dir_it_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if PiperEngine().unavailable_reason():
        pytest.skip("piper is not installed")
    default, chosen = tmp_path / "default", tmp_path / "chosen"
    monkeypatch.setenv("VOICE_COACH_CACHE", str(default))
    engine = speech.get_engine("piper", chosen)
    assert engine.synthesize("Hold.", engine.resolve(VoiceSettings())).frames > 0
    (kept,) = files_in(chosen / piper_module.OPTIMIZED_FOLDER)
    assert kept.suffix == ".ort"
    assert not default.exists()
    speech.get_engine("piper").synthesize("Hold.", engine.resolve(VoiceSettings()))
    assert files_in(default / piper_module.OPTIMIZED_FOLDER) == [
        default / piper_module.OPTIMIZED_FOLDER / kept.name
    ]  # without one: the default cache directory


OS_RUNS_PROGRAMS = ("system", "popen", "spawn", "exec", "posix_spawn", "fork")
"""Beginnings of the names of `os` functions that start a program."""


def test_speech_runs_external_programs_only_through_proc() -> None:
    """espeak-ng and any other program go through `voice_coach.proc` (one error with
    the tool's stderr); worker processes of Python itself (multiprocessing) are fine."""
    found = []
    for path in sorted(Path(speech.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                names = [f"{node.value.id}.{node.attr}"]
            else:
                continue
            for name in names:
                module, _, attr = name.partition(".")
                if module in ("subprocess", "pty") or (
                    module == "os" and attr.startswith(OS_RUNS_PROGRAMS)
                ):
                    found.append(f"{path.name}:{node.lineno}: {name}")
    assert not found
