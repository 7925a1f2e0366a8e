"""Reading back the playlists split exports write (for tests)."""

from __future__ import annotations


def parse_m3u8(text: str) -> list[tuple[int, str, str]]:
    """The (seconds, title, file name) entries of an extended M3U playlist."""
    out: list[tuple[int, str, str]] = []
    pending: tuple[int, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            seconds, _, title = line[len("#EXTINF:") :].partition(",")
            pending = (round(float(seconds)), title)
        elif line and not line.startswith("#"):
            seconds_, title_ = pending or (-1, "")
            out.append((seconds_, title_, line))
            pending = None
    return out
