"""The plans as a calendar feed a phone's calendar subscribes to.

Calendar apps send no headers or cookies of ours, so the feed's address carries a key
in its path: `/calendar/TOKEN/practice.ics`. The token is derived from the server's
key (an HMAC), so the address reads the calendar and nothing else: it cannot make,
save or log, and a new key (`serve --new-key`) makes a new address.

Apps poll a subscribed calendar; the feed has an `ETag` (a hash of its bytes: the same
plans give the same bytes, see `export.calendar`) and a `Last-Modified` (when this
server first served those bytes), and a poll that names either gets 304 Not Modified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote

from ..export.calendar import Caches
from .keys import same_key
from .scan import scan

PREFIX = "/calendar/"
FILE_NAME = "practice.ics"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def calendar_token(key: str) -> str:
    """The calendar's own key, derived from the server's."""
    digest = hmac.new(key.encode(), b"voice-coach calendar", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def calendar_path(key: str) -> str:
    return f"{PREFIX}{calendar_token(key)}/{FILE_NAME}"


def token_in(path: str) -> str | None:
    """The token an address `/calendar/TOKEN/practice.ics` gives, or None."""
    parts = path.removeprefix(PREFIX).split("/")
    if not path.startswith(PREFIX) or len(parts) != 2 or parts[1] != FILE_NAME:
        return None
    return parts[0]


def allowed(path: str, key: str) -> bool:
    """Whether `path` is the calendar's address with the right token (constant time)."""
    return same_key(token_in(path), calendar_token(key))


def not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """Whether a conditional GET (header names in lower case) already has this feed.
    `If-None-Match` decides when it is given; `If-Modified-Since` only without it."""
    match = headers.get("if-none-match")
    if match is not None:
        tags = [t.strip().removeprefix("W/") for t in match.split(",")]
        return "*" in tags or etag in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return last_modified <= when
    return False


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime

    def headers(self) -> dict[str, str]:
        return {
            "ETag": self.etag,
            "Last-Modified": format_datetime(self.last_modified, usegmt=True),
            "Cache-Control": "no-cache",
        }


class CalendarFeed:
    """The feed of the default profile's plans, remembering when its bytes last changed."""

    def __init__(self, root: Path, profile: Path | None = None) -> None:
        self.root = root
        self.profile = profile
        self._lock = threading.Lock()
        self._seen: tuple[str, datetime] | None = None
        self._caches: Caches = {}

    def current(self, base_url: str) -> Feed:
        from ..export.calendar import plans_calendar

        exports = {
            Path(listed.item.path).stem: listed.item.path
            for group in scan(self.root)
            for listed in group.entries
            if "/" not in listed.item.path
        }
        base = base_url.rstrip("/")

        def url_of(name: str) -> str:
            return f"{base}/{quote(exports[name])}" if name in exports else f"{base}/"

        with self._lock:  # one poll at a time: they share the speech caches
            body, _ = plans_calendar(self.profile, url_of, caches=self._caches)
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if self._seen is None or self._seen[0] != etag:
                self._seen = (etag, datetime.now(UTC).replace(microsecond=0))
            return Feed(body, etag, self._seen[1])
