"""Where each routine was left off, so `play --resume` can continue there."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_atomically
from ..paths import state_dir


def positions_file() -> Path:
    return state_dir() / "positions.json"


def _key(routine_source: str) -> str:
    return str(Path(routine_source).resolve())


def _read() -> dict[str, int]:
    try:
        data = json.loads(positions_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no file yet, or a damaged one: nothing to resume
    return {k: v for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}


def save_position(routine_source: str, step: int) -> None:
    positions = _read()
    positions[_key(routine_source)] = step
    write_atomically(positions_file(), json.dumps(positions, indent=1).encode())


def load_position(routine_source: str) -> int | None:
    return _read().get(_key(routine_source))


def clear_position(routine_source: str) -> None:
    positions = _read()
    if positions.pop(_key(routine_source), None) is not None:
        write_atomically(positions_file(), json.dumps(positions, indent=1).encode())
