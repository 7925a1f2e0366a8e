"""What the export server finds in its folder: locating a request safely, covers read
from the files, Vorbis chapters."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_http import AUDIO, make_exports

from voice_coach.serve.scan import (
    Cover,
    Refused,
    locate,
    read_cover,
    vorbis_chapters,
)
from voice_coach.timeline import Chapter


def test_locate(tmp_path: Path) -> None:
    root = make_exports(tmp_path)
    assert locate(root, "/a.mp3") == root / "a.mp3"
    assert locate(root, "/split%20part/one.mp3") == root / "split part" / "one.mp3"
    for path, status in [
        ("/../pyproject.toml", 403),
        ("/%2e%2e/pyproject.toml", 403),
        ("/%252e%252e/pyproject.toml", 403),
        ("a.mp3", 403),
        ("/escape.mp3", 403),
        ("/split%20part", 404),
        ("/.a.mp3.x1.partial", 404),
        ("/nope", 404),
    ]:
        with pytest.raises(Refused) as refused:
            locate(root, path)
        assert refused.value.status == status, path


def test_covers_follow_the_file_and_only_images_are_served(tmp_path: Path) -> None:
    from mutagen.id3 import APIC, ID3, PictureType

    path = tmp_path / "x.mp3"
    path.write_bytes(AUDIO)

    def embed(data: bytes, mime: str) -> None:
        tags = ID3()
        tags.add(APIC(encoding=3, mime=mime, type=PictureType.COVER_FRONT, desc="", data=data))
        tags.save(path, v2_version=3)

    assert read_cover(path) is None
    jpeg = b"\xff\xd8\xff\xe0 a JPEG"
    embed(jpeg, "image/jpeg")
    assert read_cover(path) == Cover(jpeg, "image/jpeg")  # the file changed: read again
    # A tag that claims an image but holds a page is not served as either.
    embed(b"<script>alert(1)</script>", "image/png")
    assert read_cover(path) is None
    embed(b"<script>alert(1)</script>", "text/html")
    assert read_cover(path) is None


def test_vorbis_chapters() -> None:
    comments = {
        "chapter001": ["00:00:00.000"],
        "chapter001name": ["Intro"],
        "CHAPTER002": ["00:01:02.5"],
        "CHAPTER002NAME": ["Step"],
    }
    assert vorbis_chapters(comments, 90_000) == [
        Chapter("Intro", 0, 62_500),
        Chapter("Step", 62_500, 90_000),
    ]
    assert vorbis_chapters({}, 1000) == []
