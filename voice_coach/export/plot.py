"""A picture of a timeline: waveform, chapters and cue marks, as a PNG; and a chart
laid out by `progress.chart` (practice and pain per week), as a PNG.

The waveform is the min/max of the rendered PCM per pixel column, gathered while
streaming the renderer's chunks, so a long routine is never held in memory.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from ..atomic import write_atomically
from ..audio.clip import Clip
from ..audio.mix import render, total_frames
from ..errors import ExportError
from ..timefmt import clock
from ..timeline import Timeline

if TYPE_CHECKING:
    from ..progress import Chart

PLOT_SIZE_PX = (1600, 400)
BACKGROUND = (251, 250, 247)
BAND = (242, 240, 233)
"""Every other chapter is shaded with this."""
WAVE = (60, 110, 145)
GRID = (170, 170, 165)
INK = (60, 60, 60)
KIND_COLOURS: dict[str, tuple[int, int, int]] = {
    "hold": (46, 139, 87),
    "flow": (0, 150, 160),
    "count": (196, 72, 110),
    "release": (217, 130, 43),
    "countdown": (126, 87, 194),
    "other": (150, 150, 150),
}
"""Cue marks by kind; every kind not named here is "other"."""
TICK_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_TICKS = 14

# Layout, in pixels from the top of a 400 px high picture (scaled to other heights).
_LEFT, _RIGHT = 24, 24
_HEADER, _CHAPTERS, _WAVE_TOP, _WAVE_BOTTOM, _CUES_TOP, _CUES_BOTTOM, _AXIS = (
    6,
    34,
    58,
    300,
    308,
    328,
    336,
)


def column_peaks(
    chunks: Iterable[bytes], total_frames_: int, columns: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Min and max sample per pixel column of a stream of PCM chunks (0 where silent)."""
    lows = np.zeros(columns, dtype=np.int32)
    highs = np.zeros(columns, dtype=np.int32)
    if total_frames_ <= 0 or columns <= 0:
        return lows, highs
    pos = 0
    for chunk in chunks:
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.int32)
        if samples.size == 0:
            continue
        frames = np.arange(pos, pos + samples.size, dtype=np.int64)
        cols = np.minimum(frames * columns // total_frames_, columns - 1)
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        at = cols[starts]
        lows[at] = np.minimum(lows[at], np.minimum.reduceat(samples, starts))
        highs[at] = np.maximum(highs[at], np.maximum.reduceat(samples, starts))
        pos += samples.size
    return lows, highs


def tick_step_s(total_s: float) -> int:
    """The smallest step from `TICK_STEPS_S` that gives at most `MAX_TICKS` ticks."""
    for step in TICK_STEPS_S:
        if total_s / step <= MAX_TICKS:
            return step
    return TICK_STEPS_S[-1] * max(1, round(total_s / TICK_STEPS_S[-1] / MAX_TICKS))


def _fit(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels ("" if not even that fits)."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…" if text else ""


def timeline_image(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    size_px: tuple[int, int] = PLOT_SIZE_PX,
) -> Image.Image:
    width, height = size_px
    sy = height / 400
    y_header, y_chap, y_top, y_bottom, y_cues, y_cues_end, y_axis = (
        round(v * sy)
        for v in (_HEADER, _CHAPTERS, _WAVE_TOP, _WAVE_BOTTOM, _CUES_TOP, _CUES_BOTTOM, _AXIS)
    )
    plot_w = width - _LEFT - _RIGHT
    total_ms = max(1, timeline.total_ms)

    def x_of(ms: int) -> int:
        return _LEFT + round(ms * plot_w / total_ms)

    image = Image.new("RGB", size_px, BACKGROUND)
    draw = ImageDraw.Draw(image)
    small = ImageFont.load_default(size=max(8, round(13 * sy)))
    big = ImageFont.load_default(size=max(9, round(16 * sy)))

    # Chapters: shaded bands, a line at each start, the title in the band.
    for n, chapter in enumerate(timeline.chapters):
        x0, x1 = x_of(chapter.start_ms), x_of(chapter.end_ms)
        if n % 2:
            draw.rectangle((x0, y_chap, x1, y_cues_end), fill=BAND)
        draw.line((x0, y_chap, x0, y_cues_end), fill=GRID, width=1)
        label = _fit(chapter.title, small, x1 - x0 - 6)
        if label:
            draw.text((x0 + 4, y_chap + 4), label, font=small, fill=INK)
    draw.line((x_of(total_ms), y_chap, x_of(total_ms), y_cues_end), fill=GRID, width=1)

    # Waveform, scaled to its own peak so quiet voices are still visible.
    frames = total_frames(timeline, sample_rate)
    lows, highs = column_peaks(render(timeline, clips, sample_rate), frames, plot_w)
    peak = max(1, int(max(-lows.min(initial=0), highs.max(initial=0))))
    mid = (y_top + y_bottom) / 2
    half = (y_bottom - y_top) / 2 * 0.95
    draw.line((_LEFT, mid, _LEFT + plot_w, mid), fill=GRID, width=1)
    for col in np.flatnonzero((lows != 0) | (highs != 0)):
        x = _LEFT + int(col)
        top = mid - highs[col] / peak * half
        bottom = mid - lows[col] / peak * half
        draw.line((x, top, x, max(bottom, top + 1)), fill=WAVE, width=1)

    # Cue marks: one tick per event, coloured by kind.
    for event in timeline.events:
        kind = event.kind if event.kind in KIND_COLOURS else "other"
        x = x_of(event.start_ms)
        draw.line((x, y_cues, x, y_cues_end), fill=KIND_COLOURS[kind], width=2)

    # Time axis in minutes.
    draw.line((_LEFT, y_axis, _LEFT + plot_w, y_axis), fill=INK, width=1)
    step_s = tick_step_s(total_ms / 1000)
    for s in range(0, total_ms // 1000 + 1, step_s):
        x = x_of(s * 1000)
        draw.line((x, y_axis, x, y_axis + round(5 * sy)), fill=INK, width=1)
        draw.text((x, y_axis + round(8 * sy)), clock(s * 1000), font=small, fill=INK, anchor="mt")
    draw.text((_LEFT + plot_w, height - round(4 * sy)), "min:s", font=small, fill=INK, anchor="rb")

    # Header: title and length on the left, the legend on the right.
    minutes, seconds = divmod(round(timeline.total_ms / 1000), 60)
    draw.text(
        (_LEFT, y_header),
        f"{timeline.title}  ({minutes} min {seconds:02d} s)",
        font=big,
        fill=INK,
    )
    x = _LEFT + plot_w
    for name in reversed(KIND_COLOURS):
        x -= round(small.getlength(name)) + 6
        draw.text((x, y_header + 2), name, font=small, fill=INK)
        x -= 14
        draw.rectangle((x, y_header + 4, x + 9, y_header + 13), fill=KIND_COLOURS[name])
        x -= 12
    return image


def timeline_png(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    size_px: tuple[int, int] = PLOT_SIZE_PX,
) -> bytes:
    buf = io.BytesIO()
    timeline_image(timeline, clips, sample_rate, size_px).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_timeline_png(
    timeline: Timeline,
    clips: Mapping[str, Clip],
    sample_rate: int,
    path: Path,
    size_px: tuple[int, int] = PLOT_SIZE_PX,
) -> Path:
    """Draw the timeline into `path` (a PNG), atomically; return the path."""
    data = timeline_png(timeline, clips, sample_rate, size_px)
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


_PIL_ANCHOR = {"start": "ls", "middle": "ms", "end": "rs"}


def chart_png(chart: Chart, scale: float = 2.0) -> bytes:
    """A chart laid out by `progress.chart` as a PNG, `scale` times its size (sharp on
    a screen or in print)."""
    from ..progress import Box, Line

    image = Image.new("RGB", (round(chart.width * scale), round(chart.height * scale)), "white")
    draw = ImageDraw.Draw(image)
    for s in chart.shapes:
        if isinstance(s, Box):
            box = (s.x * scale, s.y * scale, (s.x + s.width) * scale, (s.y + s.height) * scale)
            draw.rectangle(box, fill=_rgb(s.colour))
        elif isinstance(s, Line):
            points = [(x * scale, y * scale) for x, y in s.points]
            width = max(1, round(s.width * scale))
            if s.dashed:
                for a, b in itertools.pairwise(points):
                    _dashed(draw, a, b, _rgb(s.colour), width, 6 * scale, 4 * scale)
            elif len(points) > 1:
                draw.line(points, fill=_rgb(s.colour), width=width, joint="curve")
            if s.dots:
                r = 3.5 * scale
                for x, y in points:
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgb(s.colour))
        else:
            font = ImageFont.load_default(size=round(s.size * scale))
            draw.text(
                (s.x * scale, s.y * scale),
                s.text,
                font=font,
                fill=_rgb(s.colour),
                anchor=_PIL_ANCHOR[s.anchor],
            )
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _dashed(
    draw: ImageDraw.ImageDraw,
    a: tuple[float, float],
    b: tuple[float, float],
    colour: tuple[int, int, int],
    width: int,
    on: float,
    off: float,
) -> None:
    (x0, y0), (x1, y1) = a, b
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1
    t = 0.0
    while t < length:
        t1 = min(length, t + on)
        draw.line(
            [
                (x0 + (x1 - x0) * t / length, y0 + (y1 - y0) * t / length),
                (x0 + (x1 - x0) * t1 / length, y0 + (y1 - y0) * t1 / length),
            ],
            fill=colour,
            width=width,
        )
        t = t1 + off


def write_chart_png(chart: Chart, path: Path) -> Path:
    """Draw a chart into `path` (a PNG), atomically; return the path."""
    try:
        write_atomically(path, chart_png(chart))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
