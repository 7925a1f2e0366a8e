"""Every way a time is written: players, tables, words, podcast apps, Vorbis chapters."""

from __future__ import annotations

import pytest

from voice_coach.timefmt import clock, clock_tenths, hms, hms_millis, length, seconds_words


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0:00"), (999, "0:00"), (12_400, "0:12"), (75_000, "1:15"), (3_725_400, "1:02:05")],
)
def test_clock_counts_whole_seconds_like_a_player(ms: int, text: str) -> None:
    assert clock(ms) == text


def test_clock_never_shows_a_negative_time() -> None:
    assert clock(-300) == "0:00"


@pytest.mark.parametrize(("ms", "text"), [(0, "0:00.0"), (15_554, "0:15.6"), (75_000, "1:15.0")])
def test_clock_tenths(ms: int, text: str) -> None:
    assert clock_tenths(ms) == text


@pytest.mark.parametrize(("ms", "text"), [(0, "0 min 00 s"), (121_400, "2 min 01 s")])
def test_length_in_words(ms: int, text: str) -> None:
    assert length(ms) == text


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "0:00:00"), (59_499, "0:00:59"), (518_139, "0:08:38"), (3_725_400, "1:02:05")],
)
def test_itunes_duration(ms: int, text: str) -> None:
    assert hms(ms) == text


@pytest.mark.parametrize(
    ("ms", "text"), [(0, "00:00:00.000"), (62_500, "00:01:02.500"), (3_725_004, "01:02:05.004")]
)
def test_vorbis_chapter_time(ms: int, text: str) -> None:
    assert hms_millis(ms) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (7.5, "7.5 s"), (119, "119 s"), (120, "2 min"), (150, "2 min 30 s")],
)
def test_seconds_in_words(seconds: float, text: str) -> None:
    assert seconds_words(seconds) == text
