"""Sound output devices through PortAudio (the sounddevice package): listing them,
choosing one, and opening the output stream live playback runs on.

Standard library and sounddevice only: `play` opens its stream before anything
heavy is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import ToolError
from .stream import TONE_LATENCY_S, Fill, Output, RawStream, Source, StartTone

EXPORT_INSTEAD = "make an MP3 with `voice-coach export` instead"
NO_DEVICE = (
    "no audio output device found; make an MP3 with `voice-coach export` "
    "and play it on another device"
)


def sounddevice() -> ModuleType:
    """The sounddevice module, or a `ToolError` saying how to get PortAudio."""
    try:
        import sounddevice as sd
    except ImportError:
        raise ToolError(
            "live playback needs the sounddevice package: pip install sounddevice; "
            "or make an MP3 with `voice-coach export`"
        ) from None
    except OSError:
        raise ToolError(
            "live playback needs PortAudio, which is not installed (Debian/Ubuntu: "
            "`sudo apt-get install libportaudio2`); or make an MP3 with "
            "`voice-coach export`"
        ) from None
    module: ModuleType = sd
    return module


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    host_api: str
    default: bool


def output_devices() -> list[OutputDevice]:
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_out = sd.default.device[1]
    except sd.PortAudioError as exc:
        raise ToolError(f"cannot list sound devices: {exc}") from None
    return [
        OutputDevice(i, d["name"], apis[d["hostapi"]]["name"], i == default_out)
        for i, d in enumerate(devices)
        if d["max_output_channels"] > 0
    ]


def pick_device(spec: str | None, devices: list[OutputDevice]) -> int | None:
    """A device index from an index or a (part of a) name; None for the default."""
    if not devices:
        raise ToolError(NO_DEVICE)
    if spec is None:
        return None
    if spec.isdigit() and any(d.index == int(spec) for d in devices):
        return int(spec)
    matches = [d for d in devices if spec.lower() in d.name.lower()]
    if len(matches) == 1:
        return matches[0].index
    listing = "; ".join(f"{d.index}: {d.name}" for d in devices)
    what = "matches several devices" if matches else "is not an output device"
    raise ToolError(f"--device {spec!r} {what}; output devices: {listing}")


def sounddevice_stream(
    sample_rate: int,
    device: int | None,
    latency_s: float,
    fill: Fill,
    on_finished: Callable[[], None],
) -> RawStream:
    """A started PortAudio output stream (the product's `StreamFactory`)."""
    sd = sounddevice()

    def callback(outdata: Any, frames: int, _time: Any, status: Any) -> None:
        if not fill(outdata, frames, bool(status.output_underflow)):
            raise sd.CallbackStop

    try:
        stream = sd.RawOutputStream(
            samplerate=sample_rate,
            channels=1,
            dtype="int16",
            device=device,
            latency=latency_s,
            callback=callback,
            finished_callback=on_finished,
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise ToolError(f"cannot open the sound device: {exc}; {EXPORT_INSTEAD}") from None
    result: RawStream = stream
    return result


@dataclass(frozen=True)
class Speaker:
    """The device live playback goes to, with the start tone playing on it."""

    device: int | None
    """PortAudio's index; None for the default device."""
    tone: Output
    """The start tone's stream: it plays out and stops by itself."""

    def stream(self, source: Source) -> Output:
        """A started stream on this device that plays `source`."""
        return Output(sounddevice_stream, source, device=self.device)


def start_tone(device: str | None = None) -> Speaker:
    """The chosen device (index or part of a name; None: the default), already playing
    the start tone. `ToolError` if there is none to play on."""
    index = None if device is None else pick_device(device, output_devices())
    try:
        tone = Output(sounddevice_stream, StartTone(), device=index, latency_s=TONE_LATENCY_S)
    except ToolError:
        if device is None and not _any_output_device():
            raise ToolError(NO_DEVICE) from None
        raise
    return Speaker(index, tone)


def _any_output_device() -> bool:
    try:
        return bool(output_devices())
    except ToolError:
        return False
