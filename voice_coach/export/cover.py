"""Cover art for exports: a calm square PNG with the routine's title.

The picture is a pure function of its text (and the size): the same routine and
stage give the same bytes, so re-exports do not change for nothing.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from typing import TypeAlias

from PIL import Image, ImageDraw, ImageFont

COVER_SIZE_PX = 600
BRAND = "voice_coach"

PALETTES: tuple[tuple[str, str], ...] = (
    ("#2f5d62", "#5e8b7e"),  # teal to sage
    ("#34495e", "#5d7b9d"),  # slate
    ("#3d4f73", "#7f93bd"),  # dusk blue
    ("#4f4363", "#927fa8"),  # lavender
    ("#35584a", "#7fa386"),  # forest
    ("#5a4a3f", "#a58c74"),  # sand
)
"""(top, bottom) of the background gradient; the title picks one."""
TEXT_COLOUR = (250, 249, 244)

Font: TypeAlias = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class CoverText:
    """Everything written on a cover."""

    title: str
    stage: str = ""
    """E.g. "Week 3" when a progression applies; "" for none."""
    bed: str = ""
    """The sound bed under it, e.g. "rain" (written small, "with rain"); "" for none."""
    brand: str = BRAND


def _font(size_px: int) -> Font:
    # Pillow >= 10.1 scales its bundled font when FreeType is present.
    return ImageFont.load_default(size=size_px)


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def palette_for(title: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """A palette chosen by a stable hash of the title (not `hash()`, which varies per run)."""
    top, bottom = PALETTES[zlib.crc32(title.encode("utf-8")) % len(PALETTES)]
    return _hex(top), _hex(bottom)


def wrap(text: str, font: Font, width_px: float) -> list[str]:
    """Greedy word wrap to `width_px`; a word longer than a line is broken by characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        while font.getlength(word) > width_px and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > width_px:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width_px:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines or [""]


def _fit_title(title: str, width_px: float, max_lines: int, sizes: range) -> tuple[Font, list[str]]:
    """The largest font size at which the title fits in `max_lines` lines."""
    for size in sizes:
        font = _font(size)
        lines = wrap(title, font, width_px)
        if len(lines) <= max_lines:
            return font, lines
    font = _font(sizes[-1])
    lines = wrap(title, font, width_px)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1] + "…"]
    return font, lines


def render_cover(text: CoverText, size_px: int = COVER_SIZE_PX) -> Image.Image:
    top, bottom = palette_for(text.title)
    # Vertical gradient: one row per pixel, stretched across.
    column = Image.new("RGB", (1, size_px))
    for row in range(size_px):
        t = row / max(1, size_px - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        column.putpixel((0, row), colour)
    image = column.resize((size_px, size_px)).convert("RGBA")

    # A soft, breathing circle behind the title.
    glow = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(glow)
    centre = size_px / 2
    for radius_frac, alpha in ((0.40, 18), (0.32, 22), (0.24, 26)):
        r = radius_frac * size_px
        draw.ellipse((centre - r, centre - r, centre + r, centre + r), fill=(255, 255, 255, alpha))
    image = Image.alpha_composite(image, glow)

    draw = ImageDraw.Draw(image)
    scale = size_px / COVER_SIZE_PX
    font, lines = _fit_title(
        text.title, 0.78 * size_px, 4, range(round(76 * scale), round(30 * scale) - 1, -4)
    )
    line_h = font.size * 1.18 if isinstance(font, ImageFont.FreeTypeFont) else 14
    stage_font = _font(round(34 * scale))
    stage_h = 70 * scale if text.stage else 0
    bed_font = _font(round(26 * scale))
    bed_h = 48 * scale if text.bed else 0
    block_h = line_h * len(lines) + stage_h + bed_h
    y = (size_px - block_h) / 2
    for line in lines:
        draw.text((centre, y + line_h / 2), line, font=font, fill=TEXT_COLOUR, anchor="mm")
        y += line_h
    if text.stage:
        y += 24 * scale
        w = draw.textlength(text.stage, font=stage_font) + 36 * scale
        h = 46 * scale
        draw.rounded_rectangle(
            (centre - w / 2, y, centre + w / 2, y + h),
            radius=h / 2,
            outline=TEXT_COLOUR,
            width=max(1, round(2 * scale)),
        )
        draw.text((centre, y + h / 2), text.stage, font=stage_font, fill=TEXT_COLOUR, anchor="mm")
        y += h
    if text.bed:
        y += 22 * scale
        bed_line = wrap(f"with {text.bed}", bed_font, 0.8 * size_px)[0]
        draw.text((centre, y + 13 * scale), bed_line, font=bed_font, fill=TEXT_COLOUR, anchor="mm")
    if text.brand:
        draw.text(
            (centre, size_px - 34 * scale),
            text.brand,
            font=_font(round(20 * scale)),
            fill=tuple(round(0.3 * b + 0.7 * t) for b, t in zip(bottom, TEXT_COLOUR, strict=True)),
            anchor="mm",
        )
    return image.convert("RGB")


def cover_png(text: CoverText, size_px: int = COVER_SIZE_PX) -> bytes:
    """The cover as PNG bytes (deterministic for the same text and size)."""
    buf = io.BytesIO()
    render_cover(text, size_px).save(buf, format="PNG", optimize=True)
    return buf.getvalue()
