"""The output stream's pure parts: the start tone, and `LostTime`, the silence heard in
underruns, from the callbacks' timing alone.

For `LostTime`, a simulated device (a buffer of five 50 ms periods, drained in real
time) calls back whenever a period is free, except while the process is stalled; a
stall longer than the buffer runs it dry, and the next callback is flagged as an
underflow.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE_RATE

from voice_coach.live.stream import TONE_GAP_MS, LostTime, StartTone, start_tone

RATE = 22050
PERIOD = 1102
BUFFER = 5 * PERIOD


def simulate(
    stalls: list[tuple[float, float]], until: float = 20.0, clock_ratio: float = 1.0
) -> tuple[list[int], float]:
    """Reports of a `LostTime` over a run; and the seconds the device was really dry.
    `clock_ratio` is the sound card's rate against the computer clock's."""
    lost = LostTime(RATE)
    t, handed, fill, dry = 0.0, 0, 0.0, 0.0
    underflow = False
    reports = []
    while t < until:
        handed += PERIOD
        fill += PERIOD
        reports.append(lost.update(t, handed, underflow))
        underflow = False
        if fill < BUFFER:
            continue  # refilling: the next callback comes at once
        drain = RATE * clock_ratio
        nxt = t + (fill - (BUFFER - PERIOD)) / drain
        for start, length in stalls:
            if start <= nxt < start + length:
                nxt = start + length
        drained = (nxt - t) * drain
        if drained > fill:
            dry += (drained - fill) / drain
            fill, underflow = 0.0, True
        else:
            fill -= drained
        t = nxt
    return reports, dry


@pytest.mark.parametrize("stall_s", [0.3, 0.5, 1.0, 2.5])
def test_the_silence_of_a_stall_is_measured_to_the_frame(stall_s: float) -> None:
    reports, dry = simulate([(5.0, stall_s)])
    assert dry > 0
    assert [r for r in reports if r] == [pytest.approx(dry * RATE, abs=1)]


def test_several_underruns_are_each_measured() -> None:
    reports, dry = simulate([(3.0, 0.6), (9.0, 1.2), (15.0, 0.4)])
    found = [r for r in reports if r]
    assert len(found) == 3
    assert sum(found) == pytest.approx(dry * RATE, abs=3)


def test_no_underrun_no_loss_even_with_a_stall_the_buffer_rides_out() -> None:
    reports, dry = simulate([(5.0, 0.15)])
    assert dry == 0 and not any(reports)


def test_a_drifting_sound_card_clock_is_not_a_loss() -> None:
    for ratio in (0.9999, 1.0001):
        reports, _ = simulate([], until=600, clock_ratio=ratio)
        assert not any(reports)


def test_only_flagged_underruns_count() -> None:
    lost = LostTime(RATE)
    assert lost.update(0.0, BUFFER, False) == 0
    # A long gap between callbacks without an underflow flag (a device that started
    # late, say): nothing was heard missing.
    assert lost.update(3.0, BUFFER + PERIOD, False) == 0
    assert lost.update(4.0, BUFFER + 2 * PERIOD, False) == 0
    # And a flag before anything was played has nothing to compare with.
    fresh = LostTime(RATE)
    assert fresh.update(0.0, PERIOD, True) == 0
    assert fresh.reported == 0


def test_the_start_tone_is_short_soft_and_then_silence() -> None:
    tone = np.frombuffer(start_tone(SAMPLE_RATE), "<i2")
    assert 0.15 <= tone.size / SAMPLE_RATE <= 0.3
    assert 0 < np.abs(tone).max() <= 0.13 * 32767  # well under speech
    assert abs(int(tone[0])) < 200 and abs(int(tone[-1])) < 200  # faded: no click
    source = StartTone(SAMPLE_RATE)
    gap = SAMPLE_RATE * TONE_GAP_MS // 1000
    head = np.frombuffer(source.read(tone.size + gap - 1), "<i2")
    assert np.array_equal(head[: tone.size], tone) and not head[tone.size :].any()
    assert not source.finished
    source.read(1)
    assert source.finished  # its stream plays out and stops
