"""Where voice_coach keeps files, and how it writes them (atomically).

Imports only the standard library and platformdirs: the quick start
(`voice_coach.quickstart`) uses it before anything heavy is loaded.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from platformdirs import user_cache_dir

CACHE_ENV_VAR = "VOICE_COACH_CACHE"


def project_root() -> Path | None:
    """The checkout this package runs from, if it runs from one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "scripts").is_dir() else None


def default_cache_dir() -> Path:
    """$VOICE_COACH_CACHE, else the checkout's audio_cache/, else the user cache dir."""
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR])
    root = project_root()
    if root is not None:
        return root / "audio_cache"
    return Path(user_cache_dir("voice-coach")) / "audio"


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
