"""Choosing the output device by index or name."""

from __future__ import annotations

import pytest

from voice_coach.errors import ToolError
from voice_coach.live.devices import OutputDevice, pick_device

DEVICES = [
    OutputDevice(0, "pulse", "ALSA", False),
    OutputDevice(3, "default", "ALSA", True),
    OutputDevice(5, "USB speaker", "ALSA", False),
]


def test_pick_device_by_index_or_name() -> None:
    assert pick_device(None, DEVICES) is None
    assert pick_device("3", DEVICES) == 3
    assert pick_device("usb", DEVICES) == 5
    with pytest.raises(ToolError, match=r"'nope' is not an output device; output devices: 0"):
        pick_device("nope", DEVICES)
    with pytest.raises(ToolError, match="matches several"):
        pick_device("u", DEVICES)


def test_no_device_suggests_export() -> None:
    with pytest.raises(ToolError, match="voice-coach export"):
        pick_device(None, [])
