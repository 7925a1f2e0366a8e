"""ffmpeg's `ebur128` filter summary, parsed: the reference our loudness meter is
checked against in tests."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Ebur128Summary:
    """What ffmpeg's `ebur128` filter prints at the end of a run."""

    integrated_lufs: float
    true_peak_dbtp: float | None
    """None unless the filter ran with `peak=true`."""


_SECTION = re.compile(r"^\s*([A-Za-z][A-Za-z ]*):\s*$")
_VALUE = re.compile(r"^\s*(I|Peak):\s*(-?(?:inf|nan|\d+(?:\.\d*)?))\s*(?:LUFS|dBFS)\s*$")


def parse_ebur128_summary(text: str) -> Ebur128Summary:
    """Parse the last `Summary:` block of ffmpeg's log; ValueError if there is none."""
    start = text.rfind("Summary:")
    if start < 0:
        raise ValueError("no ebur128 summary in ffmpeg's output")
    section = ""
    integrated: float | None = None
    true_peak: float | None = None
    for line in text[start:].splitlines()[1:]:
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(1).strip()
            continue
        value = _VALUE.match(line)
        if value is None:
            continue
        key, number = value.group(1), float(value.group(2))
        if key == "I" and section == "Integrated loudness":
            integrated = number
        elif key == "Peak" and section == "True peak":
            true_peak = number
    if integrated is None:
        raise ValueError("ebur128 summary has no integrated loudness (I:)")
    return Ebur128Summary(integrated, true_peak)
