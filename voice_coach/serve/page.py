"""The page a phone opens: the studio (pick, tune, make and log a routine, built by
`web/studio.js` from the JSON API), every exported routine with its player, chapter
buttons and downloads, and the QR code of the page itself. The player script also
tells the phone's lock screen and headset what plays (the Media Session): the data
attributes below carry the routine's title, its cover's URL and each chapter's start
and title.

The document is `web/page.html`, a `string.Template`; this module fills in the
entries (every text HTML-escaped), the inline style and scripts (`web/page.css`,
`web/page.js`, `web/studio.js`), and the Content-Security-Policy that lets only those
run and lets them talk only to this server.
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
COMMON_JS = _asset("common.js")
STUDIO_JS = _asset("studio.js")
PLAN_JS = _asset("plan.js")
SHARE_JS = _asset("share.js")
PROGRESS_JS = _asset("progress.js")
PAGE = Template(_asset("page.html"))
"""The document; every value put into it is escaped (or our own asset)."""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {_csp_hash(PAGE_CSS)}; "
    "script-src "
    + " ".join(
        _csp_hash(script)
        for script in (PAGE_JS, COMMON_JS, STUDIO_JS, PLAN_JS, SHARE_JS, PROGRESS_JS)
    )
    + "; "
    "connect-src 'self'; img-src 'self' data:; media-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Only our own inline style and scripts run; the page loads nothing from elsewhere,
and no other site may frame it."""
NO_KEY_NOTE = (
    '<p class="note" id="key-note">This browser can look and listen. To make, save and '
    "log, scan the QR code that <code>voice-coach serve</code> shows in its terminal "
    "(or open the address it prints there).</p>"
)
WRONG_KEY_NOTE = (
    '<p class="note" id="key-note" role="alert">The key in that address is not this '
    "server's (was it replaced with <code>--new-key</code>?). Open the address "
    "<code>voice-coach serve</code> prints now.</p>"
)


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
        f'<h3 class="title">{_e(item.title)}</h3>',
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


def render_index(
    groups: Sequence[Group],
    page_url: str,
    *,
    can_write: bool = False,
    key_url: str | None = None,
    wrong_key: bool = False,
    calendar_url: str | None = None,
    phone_can_reach: bool = True,
) -> str:
    """The page: the studio, every export with its player, chapters and downloads, and
    the QR code of `page_url` so a phone can open it. `can_write`: the browser holds
    the key; `key_url` (given only then) is the address with the key, for the QR code;
    `wrong_key`: the address came with a key that is not the server's; `calendar_url`
    (given only with the key) the plans' calendar feed, shown with its QR code;
    `phone_can_reach`: False when the server listens on this computer only (no
    `--lan`), which the page then says in place of a QR code no phone can open."""
    count = count_entries(groups)
    feed_url = page_url.rstrip("/") + "/feed.xml"
    body: list[str] = []
    if count == 0:
        body.append(
            '<p class="empty">No exports yet: pick a routine above and press Make, or run '
            "<code>voice-coach export sciatica-relief</code>.</p>"
        )
    index = 0
    for group in groups:
        if group.folder:
            body.append(f'<section class="group"><h3>{_e(group.folder)}</h3>')
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
    note = WRONG_KEY_NOTE if wrong_key else "" if can_write else NO_KEY_NOTE
    qr_text = (
        "Scan to open this page with the key to make, save and log (keep it to yourself):"
        if key_url
        else "Scan to open this page:"
    )
    qr = base64.b64encode(qr_svg(key_url or page_url).encode()).decode()
    alt = _e(page_url + (" with the key" if key_url else ""))
    qr_image = f'<img src="data:image/svg+xml;base64,{qr}" alt="QR code of {alt}">'

    if not phone_can_reach:
        qr_text = (
            "A phone cannot open this address: it is this computer's own. To use your "
            "phone, stop <code>voice-coach serve</code> (Ctrl+C) and start it again with "
            "<code>voice-coach serve --lan</code>, then scan the new code. This address:"
        )
        qr_image = ""
    return PAGE.substitute(
        style=PAGE_CSS,
        script=PAGE_JS,
        common=COMMON_JS,
        studio=STUDIO_JS,
        share=SHARE_JS,
        progress=PROGRESS_JS,
        count=f'<span id="export-count">{count} exported file{plural}</span>',
        key_note=note,
        can_write="true" if can_write else "false",
        body="\n".join(body),
        page_url=_e(page_url),
        qr_text=qr_text,
        qr_image=qr_image,
        feed_url=_e(feed_url),
        plan=PLAN_JS,
        calendar=_calendar_html(calendar_url, phone_can_reach),
    )


def _calendar_html(url: str | None, phone_can_reach: bool) -> str:
    """The calendar feed's address and QR code (it holds a key: only for a browser
    that has the server's). No QR code where a phone could not open it."""
    if url is None:
        return ""
    qr = base64.b64encode(qr_svg(url).encode()).decode()
    image = (
        f'<img src="data:image/svg+xml;base64,{qr}" alt="QR code of the calendar address">'
        if phone_can_reach
        else ""
    )
    return (
        '<div id="calendar-feed">'
        "<p>Your plans in the phone's calendar, with reminders (subscribe by address; "
        f'keep it to yourself): <code id="calendar-url">{_e(url)}</code></p>'
        f"{image}</div>"
    )
