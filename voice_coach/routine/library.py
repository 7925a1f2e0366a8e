"""Where routines are found: a path, or the name of a routine of yours (the routines
folder, `paths.routines_dir`) or a bundled one. Yours come first: one with a bundled
routine's name is played instead of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import RoutineNotFoundError
from ..paths import routines_dir

SUFFIXES = (".yaml", ".yml")


def bundled_dir() -> Path:
    """The bundled scripts: inside an installed wheel, or the checkout's `scripts/`."""
    package = Path(__file__).resolve().parent.parent
    inside = package / "scripts"
    if inside.is_dir():
        return inside
    return package.parent / "scripts"


def _scripts(folder: Path) -> dict[str, Path]:
    """Name (file stem) -> path of every routine script in `folder`."""
    try:
        files = sorted(folder.iterdir())
    except OSError:  # no such folder (yet), or not readable
        return {}
    return {p.stem: p for p in files if p.suffix in SUFFIXES and p.is_file()}


def bundled_routines() -> dict[str, Path]:
    """Name (file stem) -> path of every bundled routine."""
    return _scripts(bundled_dir())


def user_routines() -> dict[str, Path]:
    """Name (file stem) -> path of every routine in your routines folder."""
    return _scripts(routines_dir())


@dataclass(frozen=True)
class Found:
    """A routine that can be named, and where it comes from."""

    name: str
    path: Path
    origin: Literal["yours", "bundled"]
    replaces_bundled: bool = False
    """One of yours with a bundled routine's name: it is played instead of that one."""


def all_routines() -> list[Found]:
    """Every routine that can be played by name, yours and bundled, by name."""
    bundled, yours = bundled_routines(), user_routines()
    found = [Found(n, p, "yours", n in bundled) for n, p in yours.items()]
    found += [Found(n, p, "bundled") for n, p in bundled.items() if n not in yours]
    return sorted(found, key=lambda f: f.name)


def find_routine(name_or_path: str) -> Path:
    """A routine file by path, or by name: one of yours, else a bundled one."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = path.name
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    if path.parent == Path("."):
        for found in all_routines():
            if found.name == stem:
                return found.path
    yours = ", ".join(user_routines()) or f"none yet in {routines_dir()}"
    raise RoutineNotFoundError(
        f"no routine file or routine named {name_or_path!r}; "
        f"bundled: {', '.join(bundled_routines()) or 'none found'}; yours: {yours}"
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
