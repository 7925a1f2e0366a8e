"""The podcast feed and JSON chapters: built from items, parsed back with ElementTree."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from conftest import ROUTINES, FakeEngine, require_program
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.export.tags import read_chapters
from voice_coach.serve.feed import (
    CHAPTERS_TYPE,
    ITUNES,
    PODCAST,
    FeedItem,
    build_feed,
    chapters_json,
)
from voice_coach.serve.scan import scan
from voice_coach.timefmt import hms
from voice_coach.timeline import Chapter

BASE = "http://127.0.0.1:8765"
NS = {"itunes": ITUNES, "podcast": PODCAST}
WHEN = datetime(2025, 3, 1, 8, 30, 15, tzinfo=UTC)


def items() -> list[FeedItem]:
    return [
        FeedItem(
            path="sciatica-relief.mp3",
            title="Sciatica relief <& friends>",
            size_bytes=4_152_236,
            modified=WHEN,
            duration_ms=518_139,
            chapters=(Chapter("Introduction", 0, 15_554), Chapter("Piriformis", 15_554, 518_139)),
            guid="voice-coach:sciatica-relief.mp3:1",
        ),
        FeedItem(
            path="long routine/part 1.m4a",
            title="Part 1",
            size_bytes=1000,
            modified=WHEN + timedelta(days=1),
            duration_ms=3_725_400,
        ),
        FeedItem(
            path="old.ogg",
            title="Old",
            size_bytes=10,
            modified=WHEN - timedelta(days=9),
            duration_ms=None,
        ),
    ]


def parse(feed: str) -> ET.Element:
    return ET.fromstring(feed.encode())


def test_feed_parses_back_with_namespaces_newest_first() -> None:
    rss = parse(build_feed(items(), BASE))
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "voice_coach routines"
    assert channel.findtext("link") == BASE + "/"
    assert channel.find("itunes:category", NS) is not None
    entries = channel.findall("item")
    assert [e.findtext("title") for e in entries] == [
        "Part 1",
        "Sciatica relief <& friends>",
        "Old",
    ]
    guids = [e.findtext("guid") for e in entries]
    assert len(set(guids)) == 3 and guids[1] == "voice-coach:sciatica-relief.mp3:1"
    assert all(e.find("guid").get("isPermaLink") == "false" for e in entries)  # type: ignore[union-attr]


def test_items_have_absolute_enclosures_durations_and_chapters() -> None:
    channel = parse(build_feed(items(), BASE)).find("channel")
    assert channel is not None
    by_title = {e.findtext("title"): e for e in channel.findall("item")}
    for item in items():
        entry = by_title[item.title]
        enclosure = entry.find("enclosure")
        assert enclosure is not None
        url = urlsplit(enclosure.get("url", ""))
        assert (url.scheme, url.netloc) == ("http", "127.0.0.1:8765")
        assert unquote(url.path) == "/" + item.path
        assert int(enclosure.get("length", "")) == item.size_bytes
        assert enclosure.get("type") == item.media_type
        pub = parsedate_to_datetime(entry.findtext("pubDate", ""))
        assert pub == item.modified
        duration = entry.findtext("itunes:duration", namespaces=NS)
        chapters = entry.find("podcast:chapters", NS)
        if item.chapters:
            assert chapters is not None and chapters.get("type") == CHAPTERS_TYPE
            chapters_url = urlsplit(chapters.get("url", ""))
            assert chapters_url.netloc == "127.0.0.1:8765"
            assert unquote(chapters_url.path) == f"/chapters/{item.path}.json"
        else:
            assert chapters is None
        assert duration == (None if item.duration_ms is None else hms(item.duration_ms))
    assert by_title["Part 1"].find("enclosure").get("type") == "audio/mp4"  # type: ignore[union-attr]
    assert by_title["Old"].find("enclosure").get("type") == "audio/ogg"  # type: ignore[union-attr]


def test_empty_feed_is_valid() -> None:
    channel = parse(build_feed([], BASE + "/")).find("channel")
    assert channel is not None and channel.findall("item") == []
    assert channel.findtext("link") == BASE + "/"


def test_chapters_json_is_podcasting_2_0() -> None:
    doc = json.loads(
        chapters_json([Chapter("Intro", 0, 1500), Chapter("Step «1»", 1500, 9000)], "T")
    )
    assert doc == {
        "version": "1.2.0",
        "title": "T",
        "chapters": [
            {"startTime": 0, "endTime": 1.5, "title": "Intro"},
            {"startTime": 1.5, "endTime": 9, "title": "Step «1»"},
        ],
    }


def test_feed_and_chapters_of_real_exports(
    fake_engine: type[FakeEngine], cache_dir: Path, tmp_path: Path
) -> None:
    require_program("ffmpeg")
    root = tmp_path / "exports"
    result = CliRunner().invoke(
        app, ["export", str(ROUTINES / "full.yaml"), "-o", str(root / "full.mp3")]
    )
    assert result.exit_code == 0, result.output
    (root / "split").mkdir()
    shutil.copy(root / "full.mp3", root / "split" / "full part.mp3")

    found = [listed.item for group in scan(root) for listed in group.entries]
    assert sorted(i.path for i in found) == ["full.mp3", "split/full part.mp3"]
    channel = parse(build_feed(found, BASE)).find("channel")
    assert channel is not None
    entries = channel.findall("item")
    assert len(entries) == 2
    for entry in entries:
        enclosure = entry.find("enclosure")
        assert enclosure is not None
        path = root / unquote(urlsplit(enclosure.get("url", "")).path).lstrip("/")
        assert int(enclosure.get("length", "")) == path.stat().st_size
        assert entry.findtext("title") == "Full"
        assert entry.find("podcast:chapters", NS) is not None
        # A description: the length and every chapter, so renders tell apart.
        description = entry.findtext("description") or ""
        assert description.startswith("Full. ") and " min " in description
        assert all(c.title in description for c in read_chapters(path))

    item = next(i for i in found if i.path == "full.mp3")
    expected = read_chapters(root / "full.mp3")
    assert len(expected) > 2
    assert item.duration_ms is not None and abs(item.duration_ms - expected[-1].end_ms) < 100
    doc = json.loads(chapters_json(item.chapters, item.title))
    assert [(c["title"], c["startTime"], c["endTime"]) for c in doc["chapters"]] == [
        (c.title, c.start_ms / 1000, c.end_ms / 1000) for c in expected
    ]
