"""The page a phone opens: every exported routine with its player, chapter buttons
and downloads, and the QR code of the page itself. The script also tells the phone's
lock screen and headset what plays (the Media Session): the data attributes below
carry the routine's title, its cover's URL and each chapter's start and title.

The document is `web/page.html`, a `string.Template`; this module fills in the
entries (every text HTML-escaped), the inline style and script (`web/page.css`,
`web/page.js`), and the Content-Security-Policy that lets only those two run.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Sequence
from importlib import resources
from pathlib import PurePosixPath
from string import Template
from urllib.parse import quote

from ..timefmt import clock, length
from .qr import qr_svg
from .scan import Group, Listed, count_entries

NBSP = "\u00a0"


def _asset(name: str) -> str:
    return (resources.files("voice_coach.serve") / "web" / name).read_text(encoding="utf-8")


PAGE_CSS = _asset("page.css")
PAGE_JS = _asset("page.js")
PAGE = Template(_asset("page.html"))
"""The document; every value put into it is escaped (or our own asset)."""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {_csp_hash(PAGE_CSS)}; "
    f"script-src {_csp_hash(PAGE_JS)}; "
    "img-src 'self' data:; media-src 'self'; base-uri 'none'; form-action 'none'"
)
"""Only our own inline style and script run; the page loads nothing from elsewhere."""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _href(path: str) -> str:
    return _e("/" + quote(path))


def _entry_html(listed: Listed, index: int) -> str:
    item = listed.item
    fmt = PurePosixPath(item.path).suffix.lstrip(".").upper()
    meta = [length(item.duration_ms) if item.duration_ms is not None else None]
    if item.chapters:
        n = len(item.chapters)
        meta.append(f"{n} chapter{'' if n == 1 else 's'}")
    meta.append(f"{fmt}, {item.size_bytes / 1e6:.1f} MB")
    session = f' data-title="{_e(item.title)}"'
    if listed.cover:
        session += f' data-cover="{_href(f"cover/{item.path}.png")}"'  # see http.derived
    lines = [
        f'<article class="routine" id="routine-{index}"{session}>',
        f'<h2 class="title">{_e(item.title)}</h2>',
        # No-break spaces keep "5 min 02 s" and "1.0 MB" whole on a narrow screen.
        f'<p class="meta">{_e(" · ".join(m.replace(" ", NBSP) for m in meta if m))}</p>',
        f'<audio controls preload="metadata" src="{_href(item.path)}"></audio>',
    ]
    if item.chapters:
        lines.append(f'<ol class="chapters" aria-label="Chapters of {_e(item.title)}">')
        for chapter in item.chapters:
            lines.append(
                f'<li><button type="button" data-start="{chapter.start_ms / 1000:g}"'
                f' data-title="{_e(chapter.title)}">'
                f'<span class="time">{clock(chapter.start_ms)}</span>'
                f"<span>{_e(chapter.title)}</span></button></li>"
            )
        lines.append("</ol>")
    if listed.picture:
        lines.append(
            f'<img class="picture" src="{_href(listed.picture)}" loading="lazy" '
            f'alt="Timeline of {_e(item.title)}">'
        )
    lines += [
        '<p class="links">',
        f'<a class="button" href="{_href(item.path)}" download>Download {_e(fmt)}</a>',
        "</p>",
        "</article>",
    ]
    return "\n".join(lines)


def render_index(groups: Sequence[Group], page_url: str) -> str:
    """The page: every routine with its player, chapters and downloads, and the QR code
    of `page_url` so a phone can open it."""
    count = count_entries(groups)
    feed_url = page_url.rstrip("/") + "/feed.xml"
    body: list[str] = []
    if count == 0:
        body.append(
            '<p class="empty">No exports yet. Make one with '
            "<code>voice-coach export sciatica-relief</code>, then reload.</p>"
        )
    index = 0
    for group in groups:
        if group.folder:
            body.append(f'<section class="group"><h2>{_e(group.folder)}</h2>')
            if group.playlist:
                body.append(
                    f'<p class="links"><a class="button" href="{_href(group.playlist)}">'
                    "Playlist</a></p>"
                )
        for listed in group.entries:
            index += 1
            body.append(_entry_html(listed, index))
        if group.folder:
            body.append("</section>")
    plural = "" if count == 1 else "s"
    return PAGE.substitute(
        style=PAGE_CSS,
        script=PAGE_JS,
        count=f"{count} routine{plural}",
        body="\n".join(body),
        page_url=_e(page_url),
        feed_url=_e(feed_url),
        qr=base64.b64encode(qr_svg(page_url).encode()).decode(),
    )
