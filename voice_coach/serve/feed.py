"""A podcast feed of the exports: RSS 2.0 with iTunes and Podcasting 2.0 tags, and
the Podcasting 2.0 JSON chapters of each file.

Pure: the server gathers what is on disk into `FeedItem`s; everything here is a
function of those items and the address the client used, so a podcast app that
subscribed through the LAN address gets LAN addresses back.
"""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import PurePosixPath
from urllib.parse import quote

from .. import __version__
from ..timefmt import hms, length
from ..timeline import Chapter

AUDIO_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg"}
"""The exported formats a phone plays, by suffix (WAV is too large to offer)."""

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CHAPTERS_TYPE = "application/json+chapters"
CHAPTERS_VERSION = "1.2.0"

FEED_TITLE = "voice_coach routines"
FEED_DESCRIPTION = "Voice-guided stretching routines exported by voice_coach."
FEED_IMAGE = "feed.png"
"""The channel's picture, served beside the feed (/feed.png)."""


@dataclass(frozen=True)
class FeedItem:
    """One exported audio file, as the feed and the page show it."""

    path: str
    """Path under the export directory, '/'-separated and not URL-quoted."""
    title: str
    size_bytes: int
    modified: datetime
    """Time zone aware; the item's publication date."""
    duration_ms: int | None
    """None when the file's length could not be read."""
    chapters: tuple[Chapter, ...] = ()
    guid: str = ""
    """Stable id; changes when the file is exported again. Defaults to the path."""

    @property
    def media_type(self) -> str:
        return AUDIO_TYPES.get(PurePosixPath(self.path).suffix.lower(), "application/octet-stream")


@functools.cache
def feed_cover() -> bytes:
    """The channel's picture: a cover like the exports' (PNG, the brand written on it)."""
    from ..export.cover import CoverText, cover_png  # Pillow: only when asked for

    return cover_png(CoverText(title="Your routines"))


def item_description(item: FeedItem) -> str:
    """What a podcast app shows under an item: its length and its chapters, so two
    renders of one routine tell apart beyond their titles."""
    parts = [item.title + "."]
    if item.duration_ms is not None:
        parts.append(f"{length(item.duration_ms)}.")
    if item.chapters:
        parts.append(f"Chapters: {', '.join(c.title for c in item.chapters)}.")
    return " ".join(parts)


def file_url(base_url: str, path: str) -> str:
    """Absolute URL of a file under the export directory."""
    return f"{base_url.rstrip('/')}/{quote(path)}"


def chapters_url(base_url: str, path: str) -> str:
    """Absolute URL of a file's JSON chapters (served at /chapters/PATH.json)."""
    return f"{base_url.rstrip('/')}/chapters/{quote(path)}.json"


def chapters_json(chapters: Sequence[Chapter], title: str | None = None) -> str:
    """The Podcasting 2.0 JSON chapters document (times in seconds)."""
    doc: dict[str, object] = {"version": CHAPTERS_VERSION}
    if title:
        doc["title"] = title
    doc["chapters"] = [
        {"startTime": c.start_ms / 1000, "endTime": c.end_ms / 1000, "title": c.title}
        for c in chapters
    ]
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def _sub(
    parent: ET.Element, tag: str, text: str | None = None, attrs: dict[str, str] | None = None
) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs or {})
    if text is not None:
        element.text = text
    return element


def build_feed(
    items: Sequence[FeedItem],
    base_url: str,
    title: str = FEED_TITLE,
    description: str = FEED_DESCRIPTION,
    image: str | None = None,
) -> str:
    """RSS 2.0 feed of `items`, newest first, every URL absolute under `base_url`;
    `image`: the channel's picture, a path under it."""
    # Namespaced tags are written with their usual prefixes; ElementTree declares
    # each namespace once, on the root.
    for prefix, uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
        ET.register_namespace(prefix, uri)
    home = base_url.rstrip("/") + "/"
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", home)
    _sub(channel, "description", description)
    _sub(channel, "language", "en")
    _sub(channel, "generator", f"voice_coach {__version__}")
    _sub(
        channel,
        f"{{{ATOM}}}link",
        attrs={"href": f"{home}feed.xml", "rel": "self", "type": "application/rss+xml"},
    )
    _sub(channel, f"{{{ITUNES}}}author", "voice_coach")
    _sub(channel, f"{{{ITUNES}}}summary", description)
    _sub(channel, f"{{{ITUNES}}}explicit", "false")
    _sub(channel, f"{{{ITUNES}}}category", attrs={"text": "Health & Fitness"})
    _sub(channel, f"{{{PODCAST}}}locked", "yes")
    if image is not None:
        picture = _sub(channel, "image")
        _sub(picture, "url", file_url(base_url, image))
        _sub(picture, "title", title)
        _sub(picture, "link", home)
        _sub(channel, f"{{{ITUNES}}}image", attrs={"href": file_url(base_url, image)})
    if items:
        newest = max(item.modified for item in items)
        _sub(channel, "lastBuildDate", format_datetime(newest, usegmt=True))

    for item in sorted(items, key=lambda i: (i.modified, i.path), reverse=True):
        entry = _sub(channel, "item")
        _sub(entry, "title", item.title)
        _sub(entry, "description", item_description(item))
        _sub(entry, f"{{{ITUNES}}}summary", item_description(item))
        _sub(entry, "guid", item.guid or item.path, {"isPermaLink": "false"})
        _sub(entry, "pubDate", format_datetime(item.modified, usegmt=True))
        _sub(entry, "link", file_url(base_url, item.path))
        enclosure = {
            "url": file_url(base_url, item.path),
            "length": str(item.size_bytes),
            "type": item.media_type,
        }
        _sub(entry, "enclosure", attrs=enclosure)
        if item.duration_ms is not None:
            _sub(entry, f"{{{ITUNES}}}duration", hms(item.duration_ms))
        if item.chapters:
            chapters = {"url": chapters_url(base_url, item.path), "type": CHAPTERS_TYPE}
            _sub(entry, f"{{{PODCAST}}}chapters", attrs=chapters)
    ET.indent(rss)
    return ET.tostring(rss, encoding="unicode", xml_declaration=True) + "\n"
