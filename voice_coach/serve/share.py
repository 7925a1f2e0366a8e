"""Sharing a routine from the page, and adding one to it.

- The share view of a routine: the addresses of its page, its script, its card and an
  MP3 of it (the newest exported file named after it, if any), each with a QR code.
- "Add a routine": a file the phone sends (one of our scripts, or any format `import`
  reads) read through the same importers, validated with `validate`'s messages (by
  line, under the file's own name: never a path of this machine), and written into the
  routines folder only when it is valid. Too large a body is refused before it is
  read; one that is not UTF-8, or YAML whose aliases would expand too far, before it
  is parsed (`routine.imports.source`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from ..errors import Problem, ValidationError
from ..export.card import CARD_CSS
from ..routine.imports import Planned, plan_imports, write_planned
from ..routine.imports.source import MAX_SOURCE_BYTES
from .qr import qr_svg
from .scan import scan

MAX_UPLOAD_BYTES = MAX_SOURCE_BYTES
UPLOAD_NAME = re.compile(r"[^A-Za-z0-9._ ()+-]+")


def qr_data_uri(text: str) -> str:
    """`text` as a QR code, an SVG in a data: URI for an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text).encode()).decode()


def mp3_of(root: Path, slug: str) -> str | None:
    """The path (under `root`, '/'-separated) of the newest MP3 exported of routine
    `slug`: named `SLUG.mp3` or `SLUG-SETTINGS.mp3`, in any folder."""
    found = [
        listed.item
        for group in scan(root)
        for listed in group.entries
        if PurePosixPath(listed.item.path).suffix.lower() == ".mp3"
        and _named_after(PurePosixPath(listed.item.path).stem, slug)
    ]
    return max(found, key=lambda item: item.modified).path if found else None


def _named_after(stem: str, slug: str) -> bool:
    return stem == slug or stem.startswith(slug + "-")


def share_json(name: str, title: str, slug: str, base_url: str, root: Path) -> dict[str, Any]:
    """What the share view shows of routine `name`: each address and its QR code."""
    base = base_url.rstrip("/")
    api = f"{base}/api/routines/{quote(name, safe='')}"
    mp3 = mp3_of(root, slug)
    links = {
        "page": f"{base}/",
        "script": f"{api}/script",
        "card": f"{api}/card",
        "mp3": f"{base}/{quote(mp3)}" if mp3 else None,
    }
    return {
        "routine": name,
        "title": title,
        "links": links,
        "qr": {kind: qr_data_uri(url) for kind, url in links.items() if url and kind != "card"},
    }


@dataclass(frozen=True)
class Added:
    """A routine written from an upload."""

    name: str
    title: str
    notes: tuple[Problem, ...]
    """What could not be carried over from another tool's format."""


def upload_name(text: str | None) -> str:
    """The uploaded file's name as messages may show it: its last part, tame characters."""
    last = (text or "").replace("\\", "/").rsplit("/", 1)[-1]
    return UPLOAD_NAME.sub("_", last).strip(" .")[:80] or "upload"


def add_routine(data: bytes, filename: str, folder: Path, name: str | None = None) -> list[Added]:
    """Read an uploaded file and write the routines in it into `folder`: all of them, or
    (on any problem) none. A `ValidationError`'s problems name the file by `filename`
    only, and no message carries a path of this machine."""
    source = upload_name(filename)
    try:
        planned = plan_imports([(source, data)], folder, name)
        _no_sound_files(planned, folder)
    except ValidationError as exc:
        raise ValidationError([_without_paths(p, folder) for p in exc.problems]) from None
    write_planned(planned)
    return [
        Added(p.name, p.script.title, tuple(_without_paths(n, folder) for n in p.script.notes))
        for p in planned
    ]


def _no_sound_files(planned: list[Planned], folder: Path) -> None:
    """Refuse a routine that names a sound file as a bed: from the page, it would make
    this machine read a file of the sender's choosing."""
    from ..routine.loader import parse_routine

    problems = []
    for item in planned:
        routine = parse_routine(item.script.text, item.script.source, item.name, folder)
        for bed in routine.bed_files():
            line = bed.where.rsplit(":", 1)[-1]
            problems.append(
                Problem(
                    item.script.source,
                    int(line) if line.isdigit() else None,
                    "bed",
                    "a routine added from the page may not name a sound file; use rain, drone, "
                    "pace:N or off, or add it on the computer with voice-coach import",
                )
            )
    if problems:
        raise ValidationError(problems)


def _without_paths(problem: Problem, folder: Path) -> Problem:
    """`problem` with the routines folder (and the home folder) left out of its words."""
    message = problem.message
    for path in (str(folder.resolve()), str(folder)):
        message = message.replace(path + "/", "").replace(path, "the routines folder")
    home = str(Path.home())
    if home not in ("", "/"):
        message = message.replace(home, "~")
    return Problem(problem.source, problem.line, problem.key, message)


CARD_POLICY = (
    "default-src 'none'; "
    f"style-src 'sha256-{base64.b64encode(hashlib.sha256(CARD_CSS.encode()).digest()).decode()}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
"""The printed card runs nothing: its own style and its QR codes are all it loads."""


def problems_json(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as the page lists them beside the form."""
    return [{"line": p.line, "message": p.message, "text": str(p)} for p in problems]
