"""QR codes of the page's address: an SVG for the page, block characters for the
terminal (the qrcode package draws both)."""

from __future__ import annotations


def qr_svg(text: str) -> str:
    """`text` as a QR code, an SVG image: black modules on white, with the quiet zone."""
    import qrcode  # type: ignore[import-untyped,unused-ignore]

    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    size = len(matrix)
    # One horizontal run of dark modules per path segment keeps the SVG small.
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_terminal(text: str) -> str:
    """`text` as a QR code drawn with block characters, for the terminal.

    Inverted (light modules drawn) so it scans on the usual dark terminal."""
    import io

    import qrcode  # type: ignore[import-untyped,unused-ignore]

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.StringIO()
    code.print_ascii(out=buffer, invert=True)
    return buffer.getvalue()
