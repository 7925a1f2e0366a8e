"""The served page: user text escaped, and what an empty folder says."""

from __future__ import annotations

from datetime import UTC, datetime

from voice_coach.serve.feed import FeedItem
from voice_coach.serve.page import render_index
from voice_coach.serve.scan import (
    Group,
    Listed,
)
from voice_coach.timeline import Chapter


def test_render_index_escapes_user_text() -> None:
    item = FeedItem(
        path='x"<y>.mp3',
        title="<script>alert(1)</script> & co",
        size_bytes=1,
        modified=datetime(2025, 1, 1, tzinfo=UTC),
        duration_ms=61_000,
        chapters=(Chapter('<b onclick="x">Stretch</b>', 0, 61_000),),
    )
    page = render_index([Group("<i>folder</i>", (Listed(item, cover=True),))], 'http://h/"><x>')
    assert "<script>alert" not in page and "<b onclick" not in page and "<i>folder" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert 'src="/x%22%3Cy%3E.mp3"' in page
    # The data attributes the script hands to the lock screen are escaped too.
    assert 'data-title="&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"' in page
    assert 'data-cover="/cover/x%22%3Cy%3E.mp3.png"' in page
    assert 'data-title="&lt;b onclick=&quot;x&quot;&gt;Stretch&lt;/b&gt;"' in page
    assert "http://h/&quot;&gt;&lt;x&gt;" in page
    assert "1\u00a0min\u00a001\u00a0s · 1\u00a0chapter" in page


def test_empty_index_says_how_to_export() -> None:
    assert "voice-coach export" in render_index([], "http://127.0.0.1:1/")


def test_the_qr_code_is_shown_only_where_a_phone_can_open_it() -> None:
    lan = render_index([], "http://192.168.1.20:8765/", key_url="http://192.168.1.20:8765/?key=k")
    assert "QR code of http://192.168.1.20:8765/ with the key" in lan and "--lan" not in lan
    local = render_index([], "http://127.0.0.1:8765/", phone_can_reach=False)
    assert "QR code of" not in local
    assert "A phone cannot open this address" in local and "voice-coach serve --lan" in local


def test_the_calendar_is_offered_with_the_key_and_its_qr_code_only_where_a_phone_reaches() -> None:
    feed = "http://192.168.1.20:8765/calendar/t0k3n/practice.ics"
    lan = render_index([], "http://192.168.1.20:8765/", can_write=True, calendar_url=feed)
    assert feed in lan and 'alt="QR code of the calendar address"' in lan
    local = render_index(
        [], "http://127.0.0.1:8765/", can_write=True, calendar_url=feed, phone_can_reach=False
    )
    assert feed in local and "QR code of the calendar address" not in local
    assert "calendar-feed" not in render_index([], "http://192.168.1.20:8765/")
