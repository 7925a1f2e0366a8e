"""Loudness: the BS.1770 meter against the standard's own figures, gating, chunking,
true peak, clip normalisation, program gain, an export's level and the ebur128
summary parser."""

from __future__ import annotations

import math
from array import array
from collections import deque
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from conftest import ROUTINES, FakeEngine
from ebur128 import parse_ebur128_summary

from voice_coach.audio import loudness
from voice_coach.audio.clip import Clip
from voice_coach.audio.loudness import (
    CHIME_UNDER_SPEECH_LU,
    FULL_SCALE,
    STANDARD_HIGH_PASS,
    STANDARD_SHELF,
    TARGET_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    LoudnessMeter,
    Measurement,
    TruePeakMeter,
    apply_gain,
    clip_loudness_lufs,
    gain_for,
    gated_loudness,
    k_weighting,
    k_weighting_impulse_response,
    limit,
    limit_clip,
    measure_pcm,
    measure_placed,
    normalize_clip,
    program_gain_db,
    true_peak_envelope,
)
from voice_coach.export import encode
from voice_coach.export.encode import FORMATS, level, measure_program
from voice_coach.prepare import Prepared, prepare
from voice_coach.routine.loader import load_routine

RATES = (16000, 22050, 24000, 44100, 48000)
Samples = npt.NDArray[np.int16]


# --- Generated test signals (also used by tests/integration/test_loudness_real.py) ---


def to_int16(x: npt.NDArray[np.float64]) -> Samples:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def sine(
    rate: int, seconds: float = 5.0, freq_hz: float = 1000.0, rms_dbfs: float = -20.0
) -> Samples:
    t = np.arange(round(rate * seconds)) / rate
    amplitude = 10 ** (rms_dbfs / 20) * math.sqrt(2) * 32768
    return to_int16(amplitude * np.sin(2 * np.pi * freq_hz * t))


def pink(rate: int, seconds: float = 5.0, rms_dbfs: float = -23.0, seed: int = 1) -> Samples:
    """Noise with a 1/f power spectrum, shaped in the frequency domain."""
    n = round(rate * seconds)
    spectrum = np.fft.rfft(np.random.default_rng(seed).normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    freqs[0] = freqs[1]
    x = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return to_int16(x * 10 ** (rms_dbfs / 20) * 32768 / np.sqrt(np.mean(x**2)))


def bursts(rate: int, seconds: float = 12.0, seed: int = 2) -> Samples:
    """Speech-like: 0.3-0.9 s harmonic bursts with a syllable rhythm, between silences."""
    rng = np.random.default_rng(seed)
    x = np.zeros(round(rate * seconds))
    pos = rate // 2
    while pos < x.size - rate:
        t = np.arange(round(rng.uniform(0.3, 0.9) * rate)) / rate
        f0 = rng.uniform(100, 220)
        voice = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
        envelope = np.sin(np.pi * t / t[-1]) ** 2 * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
        x[pos : pos + t.size] = voice * envelope * rng.uniform(2000, 9000)
        pos += t.size + round(rng.uniform(0.1, 1.5) * rate)
    return to_int16(x)


def inter_sample_peak_sine(rate: int, amplitude: float = 0.5) -> Samples:
    """A sine at fs/4, phase 45 degrees: every sample sits at 0.707 of the true peak.
    Faded in and out, so the cut edges do not ring above the sine itself."""
    n = rate
    i = np.arange(n)
    fade = np.minimum(1.0, np.minimum(i + 1, n - i) / (rate // 20))
    return to_int16(amplitude * 32767 * np.sin(np.pi * i / 2 + np.pi / 4) * fade)


def measured(samples: Samples, rate: int) -> LoudnessMeter:
    meter = LoudnessMeter(rate)
    meter.add(samples)
    return meter


def db(x: float) -> float:
    return 20 * math.log10(x)


# --- K-weighting -------------------------------------------------------------


def test_k_weighting_at_48k_is_the_standards_table() -> None:
    shelf, high_pass = k_weighting(48000)
    for ours, table in ((shelf, STANDARD_SHELF), (high_pass, STANDARD_HIGH_PASS)):
        for name in ("b0", "b1", "b2", "a1", "a2"):
            assert getattr(ours, name) == pytest.approx(getattr(table, name), abs=1e-12)


def test_k_weighting_prototypes_are_the_known_shelf_and_high_pass() -> None:
    shelf, high_pass = loudness.SHELF, loudness.HIGH_PASS
    assert shelf.f0_hz == pytest.approx(1681.97, abs=0.01)
    assert db(shelf.n2) == pytest.approx(4.0, abs=0.001)
    assert shelf.q == pytest.approx(0.7072, abs=0.0001)
    assert shelf.n0 == pytest.approx(1.0)
    assert high_pass.f0_hz == pytest.approx(38.135, abs=0.001)
    assert high_pass.q == pytest.approx(0.5003, abs=0.0001)
    assert high_pass.n0 == high_pass.n1 == 0


def response_db(rate: int, freq_hz: float) -> float:
    h = k_weighting_impulse_response(rate)
    return db(abs(np.sum(h * np.exp(-2j * np.pi * freq_hz * np.arange(h.size) / rate))))


@pytest.mark.parametrize("rate", RATES)
def test_k_weighting_gain(rate: int) -> None:
    # The standard's -0.691 offsets the filter's gain at 997 Hz. Off 48 kHz the
    # bilinear transform's warping moves the curve a little (-0.022 dB at 22050 Hz).
    assert response_db(rate, 997) == pytest.approx(0.691, abs=0.05)
    assert response_db(rate, 1000) == pytest.approx(0.69, abs=0.05)
    assert response_db(rate, 20) < -6  # the high-pass
    assert response_db(rate, 5000) == pytest.approx(4.0, abs=0.6)  # the shelf
    if rate == 48000:
        assert response_db(rate, 997) == pytest.approx(0.691, abs=0.001)


@pytest.mark.parametrize("rate", RATES)
def test_impulse_response_is_short_and_decayed(rate: int) -> None:
    h = k_weighting_impulse_response(rate)
    assert 1000 < h.size < 0.2 * rate
    assert np.abs(h[-100:]).max() < 1e-11


# --- Integrated loudness -----------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_full_scale_997_hz_sine_reads_minus_3_01(rate: int) -> None:
    # BS.1770's calibration: a 0 dBFS sine at 997 Hz reads -3.01 LUFS.
    got = measured(sine(rate, freq_hz=997, rms_dbfs=db(32767 / 32768) - 3.0103), rate)
    tolerance = 0.002 if rate == 48000 else 0.05
    assert got.integrated_lufs() == pytest.approx(-3.01, abs=tolerance)


@pytest.mark.parametrize("rate", RATES)
def test_1_khz_sine_at_minus_20_dbfs_rms(rate: int) -> None:
    # -20 dBFS RMS, +0.698 dB of K-weighting at 1 kHz, -0.691: -19.99 LUFS.
    assert measured(sine(rate), rate).integrated_lufs() == pytest.approx(-19.99, abs=0.05)


def test_loudness_follows_level() -> None:
    a = measured(pink(22050, rms_dbfs=-30), 22050).integrated_lufs()
    b = measured(pink(22050, rms_dbfs=-20), 22050).integrated_lufs()
    assert b - a == pytest.approx(10.0, abs=0.01)


def test_gating_ignores_silence_between_tones() -> None:
    rate = 22050
    tone = sine(rate, seconds=5)
    gap = np.zeros(10 * rate, dtype=np.int16)
    gapped = np.concatenate((gap, tone, gap, tone, gap))
    steady = measured(tone, rate).integrated_lufs()
    ungated = steady + 10 * math.log10(2 * tone.size / gapped.size)
    got = measured(gapped, rate).integrated_lufs()
    # Blocks straddling a tone's edges count too (they are within 10 LU): a little lower.
    assert got == pytest.approx(steady, abs=0.3)
    assert got > ungated + 5


def test_silence_shortcut_matches_filtering_everything() -> None:
    """Blocks of silence after silence skip the filter; the block powers must not move."""
    rate = 22050
    tone = sine(rate, seconds=1.234)
    gap = np.zeros(7 * rate + 123, dtype=np.int16)
    signal = np.concatenate((tone, gap, tone, gap[: 3 * rate], tone, gap))
    meter = measured(signal, rate)
    h = k_weighting_impulse_response(rate)
    y = np.convolve(signal / 32768, h)[: signal.size]
    blocks: array[float] = array("d")
    loudness._Gating(sub_block=2205).feed(y * y, blocks)
    assert len(meter.block_powers) > 150
    ours = np.frombuffer(meter.block_powers)
    assert np.allclose(ours, blocks[: ours.size], rtol=1e-9, atol=1e-18)


def test_relative_and_absolute_gates() -> None:
    loud, quiet, silent = 1.0, 0.05, 1e-8  # 0, -13 and -80 dB
    blocks = np.array([loud] * 10 + [quiet] * 10 + [silent] * 50)
    assert gated_loudness(blocks) == pytest.approx(-0.691)
    kept = np.array([loud] * 10 + [0.2] * 10)  # -7 dB: within 10 LU, kept
    assert gated_loudness(kept) == pytest.approx(-0.691 + 10 * math.log10(0.6))
    assert gated_loudness(np.array([silent] * 5)) == -math.inf
    assert gated_loudness(np.array([])) == -math.inf


def test_too_short_or_silent_audio_reads_minus_infinity() -> None:
    assert measured(sine(22050, seconds=0.3), 22050).integrated_lufs() == -math.inf
    assert measured(np.zeros(44100, dtype=np.int16), 22050).integrated_lufs() == -math.inf
    assert LoudnessMeter(22050).true_peak_dbtp() == -math.inf


@pytest.mark.parametrize("chunk", [1, 997, 4410, 100_000])
def test_chunking_does_not_change_results(chunk: int) -> None:
    rate = 22050
    signal = bursts(rate, seconds=12) if chunk > 1 else bursts(rate, seconds=2.5, seed=5)
    whole = measured(signal, rate)
    meter = LoudnessMeter(rate)
    for i in range(0, signal.size, chunk):
        meter.add(signal[i : i + chunk])
        if i == 3 * chunk:
            meter.integrated_lufs()  # reading in the middle changes nothing
    assert meter.integrated_lufs() == whole.integrated_lufs()
    assert meter.true_peak_dbtp() == whole.true_peak_dbtp()
    assert meter.frames == signal.size


# --- True peak ----------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 997, 100_000])
def test_the_true_peak_meter_reads_as_the_loudness_meter_in_any_chunks(chunk: int) -> None:
    rate = 22050
    signal = bursts(rate, seconds=12) if chunk > 1 else bursts(rate, seconds=2.5, seed=5)
    meter = TruePeakMeter()
    for i in range(0, signal.size, chunk):
        meter.add(signal[i : i + chunk] * (1 / FULL_SCALE))
    # The same reading; the interpolation, cut elsewhere, may round differently.
    assert meter.dbtp() == pytest.approx(measured(signal, rate).true_peak_dbtp(), abs=1e-9)
    assert meter.dbtp() == meter.dbtp()  # reading adds nothing
    assert TruePeakMeter().dbtp() == -math.inf


@pytest.mark.parametrize("rate", [22050, 48000])
def test_true_peak_finds_the_peak_between_samples(rate: int) -> None:
    signal = inter_sample_peak_sine(rate)
    sample_peak = db(np.abs(signal.astype(float)).max() / 32768)
    true_peak = db(0.5 * 32767 / 32768)
    assert sample_peak == pytest.approx(true_peak - 3.01, abs=0.01)
    assert measured(signal, rate).true_peak_dbtp() == pytest.approx(true_peak, abs=0.1)


def test_true_peak_of_a_low_sine_is_its_sample_peak() -> None:
    signal = sine(48000, freq_hz=100, rms_dbfs=-10)
    sample_peak = db(np.abs(signal.astype(float)).max() / 32768)
    assert measured(signal, 48000).true_peak_dbtp() == pytest.approx(sample_peak, abs=0.01)


def test_true_peak_is_at_least_the_sample_peak() -> None:
    signal = pink(22050, rms_dbfs=-12)
    sample_peak = db(np.abs(signal.astype(float)).max() / 32768)
    assert measured(signal, 22050).true_peak_dbtp() >= sample_peak


def test_sparse_and_full_interpolation_agree() -> None:
    """Once a peak is known, only windows near loud samples are interpolated."""
    x = np.random.default_rng(3).normal(0, 0.1, 20000)
    x[[500, 7000, 7005, 19990]] = 0.9
    between = phases()[1:]  # phase 0 is the samples themselves, read apart
    every = max(float(np.abs(np.convolve(x, c, "valid")).max()) for c in between)
    for floor in (0.0, 0.3, 0.6, 0.89, 0.95):
        assert loudness._oversampled_peak(x, floor) == pytest.approx(max(floor, every), rel=1e-12)


def phases() -> npt.NDArray[np.float64]:
    return loudness._interpolation_phases()


# --- Memory and speed -------------------------------------------------------------


def state_sizes(meter: LoudnessMeter) -> dict[str, int]:
    """Element count of every array the meter (and its parts) holds."""
    parts = (meter, meter._filter, meter._gating)
    return {
        f"{type(part).__name__}.{name}": value.size if isinstance(value, np.ndarray) else len(value)
        for part in parts
        for name, value in vars(part).items()
        if isinstance(value, np.ndarray | array | deque | list | dict)
    }


def test_an_hour_keeps_the_meter_small() -> None:
    """60 minutes in 1-second chunks: a second of noise every 30 s, like a cue per hold
    (continuous noise takes several times longer; its speed is measured apart)."""
    rate = 22050
    rng = np.random.default_rng(4)
    noise = [to_int16(rng.normal(0, 3000, rate)) for _ in range(10)]
    silence = np.zeros(rate, dtype=np.int16)
    meter = LoudnessMeter(rate)
    for i in range(3600):
        meter.add(noise[i % 10] if i % 30 == 0 else silence)
        if i == 1799:
            half_hour = state_sizes(meter)
    hour = state_sizes(meter)
    # One float per 100 ms (a 400 ms block starts every 100 ms); blocks still in the
    # input buffer are counted when read.
    pending_blocks = meter._pending.size // 2205 + 1
    assert 36000 - 3 - pending_blocks <= len(meter.block_powers) <= 36000 - 3
    assert meter.block_powers.itemsize == 8
    # Nothing else grows, and the rest is small.
    growing = {name for name in hour if hour[name] != half_hour[name]}
    assert growing == {"LoudnessMeter.block_powers"}
    assert sum(hour.values()) - len(meter.block_powers) < 40_000
    assert math.isfinite(meter.integrated_lufs())


# --- Clips --------------------------------------------------------------------


def clip_of(samples: Samples, rate: int = 22050) -> Clip:
    return Clip(samples.astype("<i2").tobytes(), rate)


def test_short_clip_loudness_is_its_whole_mean_square() -> None:
    # 200 ms (a chime): too short for a gating block.
    got = clip_loudness_lufs(clip_of(sine(22050, seconds=0.2)))
    assert got == pytest.approx(measured(sine(22050), 22050).integrated_lufs(), abs=0.1)
    assert clip_loudness_lufs(clip_of(np.zeros(0, dtype=np.int16))) == -math.inf
    assert clip_loudness_lufs(clip_of(np.zeros(1000, dtype=np.int16))) == -math.inf


def test_long_clip_loudness_is_gated() -> None:
    signal = bursts(22050)
    got = clip_loudness_lufs(clip_of(signal))
    assert got == pytest.approx(measured(signal, 22050).integrated_lufs(), abs=1e-9)


def test_gain_for() -> None:
    assert gain_for(-23.0, -16.0) == 7.0
    assert gain_for(-10.0, -16.0) == -6.0
    assert gain_for(-math.inf, -16.0) == 0.0


@pytest.mark.parametrize("rate", [22050, 48000])
def test_normalize_clip_hits_the_target(rate: int) -> None:
    quiet = clip_of(sine(rate, seconds=2, rms_dbfs=-35), rate)
    out = normalize_clip(quiet, TARGET_LUFS, ceiling_dbtp=-1.0)
    assert out.sample_rate == rate and out.frames == quiet.frames
    assert clip_loudness_lufs(out) == pytest.approx(TARGET_LUFS, abs=0.1)


def test_normalize_clip_holds_the_true_peak_under_the_ceiling() -> None:
    # Speech-like bursts (peaks 17 dB over loudness) and a click: the limiter must act.
    signal = bursts(22050, seconds=6).astype(float)
    signal[30000] = 30000
    clip = clip_of(to_int16(signal))
    for ceiling_dbtp in (-2.5, -6.0, -9.0):
        out = normalize_clip(clip, TARGET_LUFS, ceiling_dbtp)
        assert measured(out.samples(), 22050).true_peak_dbtp() <= ceiling_dbtp
        if ceiling_dbtp == -2.5:
            assert clip_loudness_lufs(out) == pytest.approx(TARGET_LUFS, abs=0.1)
        else:  # pushed at most MAX_MAKEUP_DB into the limiter, then left quieter
            assert clip_loudness_lufs(out) < TARGET_LUFS


def test_limit_clip_holds_the_true_peak_and_leaves_a_clip_under_it_alone() -> None:
    clip = normalize_clip(clip_of(bursts(22050, seconds=4)))
    limited = limit_clip(clip, -6.0)
    assert measured(limited.samples(), 22050).true_peak_dbtp() == pytest.approx(-6.0, abs=0.05)
    assert limited.frames == clip.frames
    assert limit_clip(clip, 0.0) is clip


def test_normalize_clip_leaves_silence_alone() -> None:
    silent = clip_of(np.zeros(10000, dtype=np.int16))
    assert normalize_clip(silent) == silent


def test_chimes_sit_under_speech() -> None:
    chime = clip_of(sine(22050, seconds=0.2, freq_hz=660, rms_dbfs=-9))
    out = normalize_clip(chime, TARGET_LUFS - CHIME_UNDER_SPEECH_LU)
    assert clip_loudness_lufs(out) == pytest.approx(-26.0, abs=0.1)


def test_limiter_only_touches_the_neighbourhood_of_peaks() -> None:
    x = np.full(10000, 1000.0)
    x[5000] = 8000.0
    y = limit(x, ceiling=4000.0, window=100)
    assert true_peak_envelope(y).max() <= 4000.0 * 1.001
    assert y[5000] == pytest.approx(4000.0)
    # Samples whose oversampled neighbourhood passes 4000, +-2 windows: no further.
    assert np.array_equal(y[:4790], x[:4790]) and np.array_equal(y[5210:], x[5210:])
    assert np.all(np.abs(np.diff(y[4790:5000])) < 40)  # a ramp, not a step


def test_true_peak_envelope_is_what_the_meter_reads() -> None:
    x = to_int16(np.random.default_rng(7).normal(0, 5000, 30000))
    envelope_peak = true_peak_envelope(x.astype(float)).max()
    assert db(envelope_peak / 32768) == pytest.approx(measured(x, 22050).true_peak_dbtp())


def test_sliding_minimum() -> None:
    a = np.random.default_rng(6).normal(size=1001)
    for width in (1, 2, 7, 64):
        naive = [a[i : i + width].min() for i in range(a.size - width + 1)]
        assert np.array_equal(loudness._sliding_min(a, width), naive)


# --- Program gain ----------------------------------------------------------------


def test_program_gain_reaches_the_target() -> None:
    rate = 22050
    tone = sine(rate, seconds=3, rms_dbfs=-30)
    program = np.concatenate([tone, np.zeros(5 * rate, dtype=np.int16)] * 4)
    before = measure_pcm([program.tobytes()], rate)
    gain_db = program_gain_db(before)
    assert before.true_peak_dbtp + gain_db < TRUE_PEAK_CEILING_DBTP
    assert gain_db == pytest.approx(TARGET_LUFS - before.integrated_lufs)
    chunks = [program[i : i + rate].tobytes() for i in range(0, program.size, rate)]
    after = measure_pcm((apply_gain(c, gain_db) for c in chunks), rate)
    assert after.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.05)
    assert after.true_peak_dbtp <= TRUE_PEAK_CEILING_DBTP


def test_program_gain_gives_way_to_the_peak_ceiling() -> None:
    rate = 22050
    program = bursts(rate, seconds=30)  # its peaks are 17 dB over its loudness
    before = measure_pcm([program.tobytes()], rate)
    after = measure_pcm([apply_gain(program.tobytes(), program_gain_db(before))], rate)
    assert after.true_peak_dbtp <= TRUE_PEAK_CEILING_DBTP
    assert after.true_peak_dbtp == pytest.approx(TRUE_PEAK_CEILING_DBTP, abs=0.1)
    assert after.integrated_lufs < TARGET_LUFS - 1

    peaky = Measurement(integrated_lufs=-24.0, true_peak_dbtp=-4.0)
    assert program_gain_db(peaky) == pytest.approx(3.0 - loudness.TRUE_PEAK_MARGIN_DB)
    assert program_gain_db(Measurement(-math.inf, -math.inf)) == 0.0


def test_apply_gain_rounds_and_clips() -> None:
    pcm = np.array([0, 100, -100, 20000, -20000], dtype="<i2").tobytes()
    out = np.frombuffer(apply_gain(pcm, 20 * math.log10(2)), dtype="<i2")
    assert out.tolist() == [0, 200, -200, 32767, -32768]
    assert apply_gain(pcm, 0.0) == pcm


# --- An export's level ----------------------------------------------------------------


def full_routine(cache_dir: Path) -> Prepared:
    """The full fixture routine spoken by FakeEngine: steady tones, far from any peak
    ceiling."""
    return prepare(load_routine(ROUTINES / "full.yaml"), cache_dir=cache_dir)


def line_with_a_click(frames: int, rate: int = 22050) -> Clip:
    """A steady voiced line with one sharp 4 ms burst (a plosive), normalized as the
    cache normalizes a line: -16 LUFS, the burst limited under the clip ceiling."""
    t = np.arange(frames) / rate
    x = np.sin(2 * np.pi * 220 * t) * np.minimum(1, np.minimum(t, t[-1] - t) / 0.01)
    burst, at = 4 * rate // 1000, frames // 6
    x[at : at + burst] += 4 * np.hanning(burst) * np.sin(2 * np.pi * 2000 * t[:burst])
    return normalize_clip(clip_of(to_int16(x * 3000), rate))


def test_level_of_a_routine_the_ceiling_does_not_hold_back(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    """The clips as they are; one gain for the target in every format, the MP3's
    raised by what libmp3lame takes off."""
    ready = full_routine(cache_dir)
    rate = ready.sample_rate
    wav, ogg, mp3 = (
        level(ready.timeline, ready.clips, rate, FORMATS[fmt], None, None)
        for fmt in ("wav", "ogg", "mp3")
    )

    before = measure_program(ready.timeline, ready.clips, rate)
    assert wav.clips is ready.clips and ogg.clips is ready.clips and mp3.clips is ready.clips
    assert wav.gain_db == pytest.approx(gain_for(before.integrated_lufs, TARGET_LUFS))
    assert ogg.gain_db == wav.gain_db
    assert mp3.gain_db == pytest.approx(wav.gain_db - encode.lame_input_gain_db(64, rate))
    assert mp3.gain_db > wav.gain_db


def test_level_limits_the_peaks_that_would_hold_a_routine_under_the_target(
    fake_engine: type[FakeEngine], cache_dir: Path
) -> None:
    """A routine of short lines reads well under its lines, so the gain it needs would
    take their peaks past the room kept for the encoder: the peaks are limited instead,
    and the routine still reaches the target."""
    ready = full_routine(cache_dir)
    rate, timeline = ready.sample_rate, ready.timeline
    clips = {text: line_with_a_click(clip.frames, rate) for text, clip in ready.clips.items()}
    spec = FORMATS["m4a"]
    ceiling_dbtp = spec.true_peak_ceiling_dbtp(None)
    before = measure_program(timeline, clips, rate)
    needed_db = gain_for(before.integrated_lufs, TARGET_LUFS)
    held_db = program_gain_db(before, ceiling_dbtp=ceiling_dbtp)
    assert needed_db - held_db > encode.PEAK_LIMIT_FROM_LU  # the case under test

    leveled = level(timeline, clips, rate, spec, None, None)

    after = measure_program(timeline, leveled.clips, rate)
    assert after.integrated_lufs + leveled.gain_db == pytest.approx(
        TARGET_LUFS, abs=encode.LIMITED_WITHIN_LU
    )
    assert after.true_peak_dbtp + leveled.gain_db <= ceiling_dbtp


# --- ffmpeg's ebur128 summary ---------------------------------------------------------

SUMMARY = """\
size=N/A time=00:00:05.00 bitrate=N/A speed= 310x
[Parsed_ebur128_1 @ 0x5581f6a3c0c0] Summary:

  Integrated loudness:
    I:         -21.1 LUFS
    Threshold: -31.1 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold: -41.1 LUFS
    LRA low:   -21.1 LUFS
    LRA high:  -21.1 LUFS

  Sample peak:
    Peak:      -18.1 dBFS

  True peak:
    Peak:      -17.9 dBFS
"""

FRAMES_THEN_SUMMARY = """\
[Parsed_ebur128_0 @ 0x55c] t: 0.4  TARGET:-23 LUFS    M: -20.0 S:-120.7     I: -20.0 LUFS
[Parsed_ebur128_0 @ 0x55c] t: 0.5  TARGET:-23 LUFS    M: -20.0 S:-120.7     I: -19.0 LUFS
[Parsed_ebur128_0 @ 0x55c] Summary:

  Integrated loudness:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS

  Loudness range:
    LRA:         0.0 LU
"""


def test_parse_ebur128_summary() -> None:
    got = parse_ebur128_summary(SUMMARY)
    assert got.integrated_lufs == -21.1
    assert got.true_peak_dbtp == -17.9  # the true peak, not the sample peak above it


def test_parse_ebur128_summary_ignores_frame_lines_and_missing_peak() -> None:
    got = parse_ebur128_summary(FRAMES_THEN_SUMMARY)
    assert got.integrated_lufs == -70.0
    assert got.true_peak_dbtp is None


def test_parse_ebur128_summary_of_silence() -> None:
    got = parse_ebur128_summary(SUMMARY.replace("-17.9 dBFS", " -inf dBFS"))
    assert got.true_peak_dbtp == -math.inf


@pytest.mark.parametrize("text", ["", "Summary:\n\n  Loudness range:\n    LRA: 0.0 LU\n"])
def test_parse_ebur128_summary_rejects_other_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ebur128_summary(text)


# --- a program of placed clips -------------------------------------------------------


def mix_of(placed: list[tuple[int, Clip]], total: int) -> bytes:
    out = np.zeros(total, dtype=np.int32)
    for at, clip in placed:
        out[at : at + clip.frames] += clip.samples()[: max(0, total - at)]
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()


def placed_program(gap_ms: int, seed: int = 3) -> tuple[list[tuple[int, Clip]], int]:
    """Three distinct clips (speech-like bursts, a tone, a quiet one) placed 40 times,
    `gap_ms` apart at the closest, in a program with long silences."""
    rate = 22050
    rng = np.random.default_rng(seed)
    clips = [
        clip_of(bursts(rate, 2.5, seed=seed)),
        clip_of(sine(rate, 0.4, 880, -12)),
        clip_of(sine(rate, 0.8, 330, -35)),
    ]
    placed, at = [], rate // 2
    for i in range(40):
        clip = clips[int(rng.integers(3))]
        placed.append((at, clip))
        pause_ms = gap_ms if i % 3 else int(rng.integers(gap_ms, 20_000))
        at += clip.frames + rate * pause_ms // 1000
    return placed, at + rate


@pytest.mark.parametrize("gap_ms", [150, 40, 0])
def test_a_program_of_placed_clips_reads_as_its_mix(gap_ms: int) -> None:
    """Exact to rounding whether filter tails reach the next clip (150 ms, 40 ms) or
    the clips touch, too close for their peaks to be read apart (the mix is metered)."""
    placed, total = placed_program(gap_ms)
    mixed = mix_of(placed, total)
    ours = measure_placed(placed, total, 22050, lambda: [mixed])
    reference = measure_pcm([mixed], 22050)
    assert ours.integrated_lufs == pytest.approx(reference.integrated_lufs, abs=1e-9)
    assert ours.true_peak_dbtp == pytest.approx(reference.true_peak_dbtp, abs=1e-9)


def test_silence_measures_as_silence() -> None:
    m = measure_placed([], 22050 * 10, 22050, lambda: [bytes(22050 * 20)])
    assert m.integrated_lufs == -math.inf and m.true_peak_dbtp == -math.inf
