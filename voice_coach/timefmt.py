"""Times as people and file formats write them. Every time shown or written anywhere
in voice_coach is formatted here."""

from __future__ import annotations


def clock(ms: int) -> str:
    """Elapsed time as a player shows it: "4:05", "1:02:05" from an hour on (whole
    seconds, rounded down, so a countdown reads 0:00 only when it is over)."""
    hours, rest = divmod(max(0, ms) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def clock_tenths(ms: int) -> str:
    """Minutes and seconds to a tenth, for a timeline table: "4:05.3"."""
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest / 1000:04.1f}"


def length(ms: int) -> str:
    """A length in words: "8 min 38 s" (to the nearest second)."""
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


def hms(ms: int) -> str:
    """H:MM:SS to the nearest second, the form podcast apps read (itunes:duration)."""
    hours, rest = divmod(round(ms / 1000), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def hms_millis(ms: int) -> str:
    """HH:MM:SS.mmm, the form of Vorbis comment chapters."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def seconds_words(seconds: float) -> str:
    """A hold or rest as a person reads it: "45 s", "7.5 s", "2 min", "2 min 30 s" (minutes
    from two on)."""
    total = round(seconds)
    if total < 120:
        return f"{seconds:g} s"
    minutes, rest = divmod(total, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")
