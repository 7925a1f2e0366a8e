"""The sound bed's parts: ducking from the timeline, pace clicks, generated ambiences,
files looped through ffmpeg, crossfades between beds, and bad input."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import require_program

from voice_coach.audio import bed
from voice_coach.audio.bed import (
    BedPlayer,
    Ducking,
    FileSource,
    LoopSource,
    PaceSource,
    edge_fades,
    probe_file,
    unit_gain,
)
from voice_coach.audio.clip import Clip
from voice_coach.audio.loudness import TARGET_LUFS, clip_loudness_lufs
from voice_coach.errors import SoundFileError, ValidationError
from voice_coach.routine.model import Bed, BedLevels
from voice_coach.timeline import Event

RATE = 22050


def frames(ms: int) -> int:
    return ms * RATE // 1000


def db(gain: float) -> float:
    return float(20 * np.log10(gain))


# -- ducking -------------------------------------------------------------------------


def test_the_bed_is_down_by_each_onset_and_back_up_after_the_end() -> None:
    cue = Event(10_000, 2_000, "hold", "Hold.", 1)
    duck = Ducking([cue], RATE, 12.0)
    onset, end = frames(10_000), frames(12_000)
    down, up = frames(bed.RAMP_DOWN_MS), frames(bed.RAMP_UP_MS)
    g = duck.gain(0, frames(20_000))
    assert g[onset - down - 1] == 1.0  # untouched before the ramp
    assert db(g[onset - down // 2]) == pytest.approx(-6.0, abs=0.01)  # halfway down, in dB
    assert db(g[onset]) == pytest.approx(-12.0)  # fully down at the onset
    assert db(g[end]) == pytest.approx(-12.0)  # and until the cue ends
    assert db(g[end + up // 2]) == pytest.approx(-6.0, abs=0.01)
    assert g[end + up] == 1.0
    # Any chunking gives the same envelope.
    pieces = np.concatenate([duck.gain(a, 1000) for a in range(0, frames(20_000), 1000)])
    assert np.array_equal(pieces[: g.size], g)


def test_close_cues_keep_the_bed_down_between_them() -> None:
    cues = [Event(1_000, 500, "countdown", "Three.", 1), Event(1_600, 500, "countdown", "Two.", 1)]
    g = Ducking(cues, RATE, 12.0).gain(0, frames(3_000))
    between = g[frames(1_500) : frames(1_600)]
    assert db(float(between.max())) < -9  # not back up in a 100 ms gap


def test_no_duck_means_no_change() -> None:
    assert np.all(Ducking([Event(0, 100, "hold", "Hold.", 1)], RATE, 0.0).gain(0, 500) == 1)


# -- sources -------------------------------------------------------------------------


def test_pace_clicks_start_exactly_on_the_tempo() -> None:
    source = PaceSource(110, RATE)
    x = source.frames(0, RATE * 30)
    onsets = [
        i for i in range(1, x.size) if x[i] != 0 and x[i - 1] == 0 and x[i - 2 : i].sum() == 0
    ]
    expected = [round(k * RATE * 60 / 110) for k in range(len(onsets))]
    assert len(onsets) == 55  # 30 s at 110 steps per minute
    assert [o - 1 for o in onsets] == expected  # the click's first sample is sin(0) = 0
    chunked = np.concatenate([source.frames(a, 777) for a in range(0, x.size, 777)])
    assert np.array_equal(chunked[: x.size], x)


@pytest.mark.parametrize("spec", [Bed("rain"), Bed("drone"), Bed("pace", 90)])
def test_generated_beds_sit_at_the_level_asked_for(spec: Bed) -> None:
    player = BedPlayer(RATE, level_lu=-20.0)
    x = player.next(round(RATE * 25), spec)  # two breaths of the drone
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2").tobytes()
    assert clip_loudness_lufs(Clip(pcm, RATE)) == pytest.approx(TARGET_LUFS - 20, abs=0.6)


def test_a_generated_ambience_loops_without_a_seam() -> None:
    source = LoopSource(bed._rain_loop(RATE))
    size = source.loop.size
    x = source.frames(size - 100, 200)
    assert abs(x[100] - x[99]) < 0.2  # the step across the seam is like any other
    assert np.array_equal(source.frames(3, 10), source.frames(size + 3, 10))


def tone_file(path: Path, seconds: float, freq: float = 440.0) -> Path:
    t = np.arange(round(seconds * RATE)) / RATE
    samples = (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return path


def test_a_short_file_loops_with_a_crossfade(tmp_path: Path) -> None:
    require_program("ffmpeg")
    path = tone_file(tmp_path / "short.wav", 3.0)
    source = FileSource(path, RATE, 3 * RATE)
    x = np.concatenate([source.frames(a, 4096) for a in range(0, 10 * RATE, 4096)])
    source.close()
    assert x.size >= 10 * RATE
    level = np.abs(x[: 10 * RATE]).reshape(-1, RATE // 10).max(axis=1)
    assert level.min() > 0.2  # never a gap: the end fades into the start
    with pytest.raises(ValueError, match="forward only"):
        FileSource(path, RATE, 3 * RATE).frames(100, 10)


def test_a_short_file_decoded_once_plays_as_the_decoder_plays_it(tmp_path: Path) -> None:
    """Up to IN_MEMORY_S a file is decoded once and looped from memory: the same
    frames as a decoder pass per loop, crossfades included, whatever the chunks."""
    require_program("ffmpeg")
    path = tone_file(tmp_path / "short.wav", 3.0, freq=330.0)
    source = bed.source_for(Bed("file", path=str(path)), RATE)
    assert isinstance(source, bed.DecodedFile)
    streamed = FileSource(path, RATE, 3 * RATE)
    n = 11 * RATE
    expected = np.concatenate([streamed.frames(a, 5000) for a in range(0, n, 5000)])[:n]
    streamed.close()
    got = np.concatenate([source.frames(a, 7777) for a in range(0, n, 7777)])[:n]
    assert np.allclose(got, expected, atol=1 / 32768)


def test_a_file_bed_is_measured_and_set_to_the_level(tmp_path: Path) -> None:
    require_program("ffmpeg")
    spec = Bed("file", path=str(tone_file(tmp_path / "tone.wav", 20.0)))
    x = BedPlayer(RATE, level_lu=-18.0).next(RATE * 10, spec)
    pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2").tobytes()
    assert clip_loudness_lufs(Clip(pcm, RATE)) == pytest.approx(TARGET_LUFS - 18, abs=0.6)
    assert unit_gain(spec, RATE) > 0


class _StopsYielding:
    """A decoder pass that gives `frames` frames of a tone, then ends; every later
    pass gives nothing (as ffmpeg does on a file emptied under it)."""

    passes = 0

    def __init__(self, frames: int) -> None:
        _StopsYielding.passes += 1
        self.left = 2 * frames if _StopsYielding.passes == 1 else 0

    def read(self, n: int) -> bytes:
        take = min(n, self.left)
        self.left -= take
        return (np.full(take // 2, 8000, dtype="<i2")).tobytes()

    def close(self) -> None:
        pass


def test_a_decoder_that_stops_yielding_ends_with_an_error_naming_the_file(
    tmp_path: Path,
) -> None:
    """The file is there and unchanged, but the second pass gives nothing: the source
    gives up at once rather than starting the decoder again and again."""
    path = tone_file(tmp_path / "calm.wav", 3.0)
    _StopsYielding.passes = 0
    source = FileSource(path, RATE, 3 * RATE, decoder=lambda p, r: _StopsYielding(RATE))
    first = source.frames(0, RATE // 2)  # the first pass: sound
    assert first.any()
    with pytest.raises(SoundFileError, match=r"calm\.wav could not be read on: it gave no sound"):
        source.frames(RATE // 2, 10 * RATE)
    assert _StopsYielding.passes == 2


def test_a_pass_shorter_than_probed_loops_on_when_the_file_is_unchanged(tmp_path: Path) -> None:
    """Probed lengths can be estimates: a full file that decodes a little short loops."""
    require_program("ffmpeg")
    path = tone_file(tmp_path / "short.wav", 2.0)
    source = FileSource(path, RATE, 3 * RATE)  # probed 3 s, decodes 2 s
    x = source.frames(0, 7 * RATE)
    source.close()
    assert np.abs(x).reshape(-1, RATE // 10).max(axis=1).min() > 0.2  # sound all along


@pytest.mark.parametrize("fault", ["removed", "truncated"])
def test_a_file_removed_or_cut_short_while_playing_ends_with_an_error(
    tmp_path: Path, fault: str
) -> None:
    require_program("ffmpeg")
    path = tone_file(tmp_path / "bed.wav", 2.0)
    source = FileSource(path, RATE, 2 * RATE)
    assert source.frames(0, RATE).any()
    if fault == "removed":
        path.unlink()
        expected = r"bed\.wav could not be read on: (ffmpeg failed|it was removed)"
    else:
        with path.open("r+b") as f:
            f.truncate(44 + 2 * RATE // 4)  # a quarter of a second left
        expected = r"bed\.wav could not be read on: it changed"
    with pytest.raises(SoundFileError, match=expected):
        for at in range(RATE, 60 * RATE, RATE):
            source.frames(at, RATE)
    source.close()


def test_a_file_written_again_is_measured_again(tmp_path: Path) -> None:
    """The measured gain is kept per identity of the file (path, size, mtime), so a
    long-running server mixes a replaced file at its own level."""
    require_program("ffmpeg")
    path = tmp_path / "bed.wav"
    spec = Bed("file", path=str(path))
    tone_file(path, 5.0)
    loud = unit_gain(spec, RATE)
    assert unit_gain(spec, RATE) == loud  # the same file: kept
    quiet = tone_file(tmp_path / "quiet.wav", 4.0)
    samples = np.frombuffer(quiet.read_bytes()[44:], "<i2") // 8
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    assert unit_gain(spec, RATE) == pytest.approx(loud * 8, rel=0.02)


# -- one bed after another -------------------------------------------------------------


def test_changing_beds_crossfades() -> None:
    player = BedPlayer(RATE, level_lu=0.0)
    drone = player.next(RATE * 2, Bed("drone"))
    change = player.next(RATE * 3, Bed("pace", 100))
    xfade = frames(bed.CROSSFADE_MS)
    assert np.abs(drone).max() > 0.1
    # The drone fades out under the new bed over the crossfade, then is gone.
    tail = change[xfade + 10 :]
    assert np.allclose(tail, _faded(Bed("pace", 100), change.size)[xfade + 10 :])
    fading = player.next(xfade, None)  # no bed: the last one fades out, then silence
    assert np.abs(fading[:100]).max() > 0 and fading[-1] == 0
    assert not player.next(100, None).any()


def _faded(spec: Bed, n: int) -> np.ndarray:
    source = bed.source_for(spec, RATE)
    x = source.frames(0, n) * unit_gain(spec, RATE)
    ramp = np.clip((np.arange(n) + 1) / frames(bed.CROSSFADE_MS), 0, 1)
    return x * ramp


def test_the_routine_fades_the_bed_in_and_out() -> None:
    total = RATE * 60
    g = edge_fades(0, total, total, RATE)
    assert g[0] == 0 and g[frames(bed.FADE_IN_MS)] == 1
    assert g[total - frames(bed.FADE_OUT_MS) - 1] == 1 and g[-1] < 0.001


# -- bad input -------------------------------------------------------------------------


def test_missing_undecodable_and_too_long_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_program("ffprobe")
    with pytest.raises(ValidationError, match=r"no sound file at .*nope\.mp3"):
        probe_file(tmp_path / "nope.mp3", "--bed")
    text = tmp_path / "notes.mp3"
    text.write_text("not sound at all")
    with pytest.raises(ValidationError, match="is not a sound file ffmpeg can decode"):
        probe_file(text, "--bed")
    long = tone_file(tmp_path / "long.wav", 3.0)
    assert probe_file(long, "--bed") == pytest.approx(3.0, abs=0.01)
    monkeypatch.setattr(bed, "MAX_FILE_S", 2)
    with pytest.raises(ValidationError, match="hours long; at most 3"):
        probe_file(long, "--bed")


def test_ffprobe_is_given_the_file_as_is(tmp_path: Path) -> None:
    """Names with spaces and dashes are passed as one argument, never through a shell."""
    require_program("ffprobe")
    odd = tone_file(tmp_path / "-my calm; music.wav", 1.0)
    assert probe_file(odd, "--bed") == pytest.approx(1.0, abs=0.01)


# -- under a routine -----------------------------------------------------------------


def test_a_step_can_change_the_bed_and_equal_neighbours_play_on() -> None:
    rain, brisk, slow = Bed("rain"), Bed("pace", 115), Bed("pace", 90)
    chapters = [0, 10_000, 20_000, 30_000, 40_000]  # the introduction, then 4 steps
    plan = bed.plan_bed(chapters, rain, [None, brisk, Bed("off"), slow])
    assert plan.segments == ((0, rain), (20_000, brisk), (30_000, None), (40_000, slow))
    assert plan.spec_at(15_000) == rain and plan.spec_at(35_000) is None
    assert plan.label() == "rain, pace 115, pace 90"
    assert bed.plan_bed(chapters, None, [None] * 4).silent


def test_rendering_with_a_bed_ducks_it_under_the_cues() -> None:
    from voice_coach.audio.mix import render
    from voice_coach.timeline import Timeline

    cue = Event(5_000, 1_000, "hold", "Hold.", 1)
    timeline = Timeline("T", 10_000, (cue,), ())
    speech = {"Hold.": Clip(bytes(2 * RATE), RATE)}  # silent speech: only the bed sounds
    plan = bed.BedPlan(((0, Bed("drone")),), BedLevels(level_lu=-20, duck_db=12))
    pcm = np.frombuffer(b"".join(render(timeline, speech, RATE, bed=plan)), "<i2")

    def rms(a_ms: int, b_ms: int) -> float:
        x = pcm[frames(a_ms) : frames(b_ms)].astype(float)
        return float(np.sqrt(np.mean(x * x)))

    plain = dataclasses.replace(plan, levels=BedLevels(level_lu=-20, duck_db=0))
    unducked = np.frombuffer(b"".join(render(timeline, speech, RATE, bed=plain)), "<i2")
    under = unducked[frames(5_100) : frames(5_900)].astype(float)
    assert db(rms(5_100, 5_900) / float(np.sqrt(np.mean(under * under)))) == pytest.approx(
        -12, abs=0.1
    )
    assert np.array_equal(pcm[: frames(4_000)], unducked[: frames(4_000)])  # not before
    assert rms(0, 20) < rms(3_000, 4_000) / 10  # faded in from silence
    chunked = b"".join(render(timeline, speech, RATE, chunk_frames=999, bed=plan))
    assert chunked == pcm.tobytes()  # the same whatever the chunks
    later = b"".join(render(timeline, speech, RATE, start_frame=frames(7_000), bed=plan))
    assert later == pcm[frames(7_000) :].tobytes()  # a range is the same frames


def test_a_routine_names_its_beds_in_order() -> None:
    from voice_coach.routine.model import Exercise, Rest, Routine

    steps = (
        Exercise("Walk", 60, bed=Bed("pace", 90)),
        Rest(20, bed=Bed("off")),
        Exercise("Brisk", 60, bed=Bed("pace", 115)),
        Exercise("Slow", 60, bed=Bed("pace", 90)),
    )
    assert Routine("Walk", steps).bed_label() == "pace 90, pace 115"
    assert Routine("Rain", (Exercise("A", 30),), bed=Bed("rain")).bed_label() == "rain"
    assert Routine("None", (Exercise("A", 30),)).bed_label() == ""
