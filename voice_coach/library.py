"""Where routines are found: a path, or the name of a bundled routine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import RoutineNotFoundError

SUFFIXES = (".yaml", ".yml")


def bundled_dir() -> Path:
    """The bundled scripts: inside an installed wheel, or the checkout's `scripts/`."""
    inside = Path(__file__).resolve().parent / "scripts"
    if inside.is_dir():
        return inside
    return Path(__file__).resolve().parent.parent / "scripts"


def bundled_routines() -> dict[str, Path]:
    """Name (file stem) -> path of every bundled routine."""
    folder = bundled_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix in SUFFIXES}


def find_routine(name_or_path: str) -> Path:
    """A routine file by path, or by bundled name (`sciatica-relief`)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = bundled_routines()
    stem = path.name
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    if stem in bundled and path.parent == Path("."):
        return bundled[stem]
    choices = ", ".join(bundled) or "none found"
    raise RoutineNotFoundError(
        f"no routine file or bundled routine named {name_or_path!r}; bundled routines: {choices}"
    )


@dataclass(frozen=True)
class Summary:
    """What `list` shows of a routine."""

    title: str
    steps: int


def summarize(path: Path) -> Summary | None:
    """A routine's title and number of steps, read without validating it (fast, for
    `list`); None if the file is not a routine at all. `validate` checks everything."""
    from . import yamlsafe

    try:
        data = yamlsafe.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yamlsafe.YAMLError):
        return None
    if not isinstance(data, dict):
        return None
    title, steps = data.get("title"), data.get("steps")
    if not isinstance(title, str) or not isinstance(steps, list):
        return None
    return Summary(title, len(steps))
