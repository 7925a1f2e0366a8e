"""The QR code of the page's address, as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from voice_coach.serve.qr import qr_svg


def test_qr_svg_is_square_black_on_white() -> None:
    svg = ET.fromstring(qr_svg("http://192.168.1.20:8765/"))
    n = int(svg.get("viewBox", "").split()[2])
    assert n >= 29  # version 3 or more, plus the quiet zone
    paths = svg.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) == 1 and paths[0].get("fill") == "#000"
    assert paths[0].get("d", "").count("M") > n  # a real pattern, not one block
