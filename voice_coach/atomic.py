"""Atomic writes: a reader sees the old file or the whole new one, never a part.

Everything is written to a hidden temporary file beside its target (same file
system, so the final rename is atomic) and renamed into place when complete.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_temp_beside(path: Path, suffix: str = ".partial") -> Path:
    """An empty temporary file in `path`'s folder (same file system, so renames are
    atomic), with the permissions a normally created file would get."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return Path(tmp)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one."""
    tmp = new_temp_beside(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
