"""Atomic writes: a reader sees the old file or the whole new one, never a part.

Everything is written to a hidden partial file (or folder) beside its target, named
`.NAME.RANDOM.partial` (same file system, so the final rename is atomic), and
renamed into place when complete.

A writer holds an exclusive `flock` on its partial for as long as it writes. The
kernel drops the lock when the process ends, however it ends (SIGKILL included), so a
partial that can be locked has no writer left: `sweep_partials` removes exactly those.
The lock belongs to the inode: a rename keeps it, and another program writing the
file through its own descriptor (ffmpeg) does not disturb it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL}
"""What `flock` raises on a file system without locks (NFS without lockd, say)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def partial_beside(path: Path, *, folder: bool = False) -> Iterator[Path]:
    """A new, empty partial file (or folder) beside `path`, locked until the block ends,
    with the permissions a normally created one would get.

    Rename it onto `path` to finish; if it is still there when the block ends (a failure),
    it is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = _create_locked(path, folder)
    try:
        os.fchmod(fd, (0o777 if folder else 0o666) & ~_umask())
        yield partial
    finally:
        try:
            _remove_if_same(partial, fd)
        finally:
            os.close(fd)


def _create_locked(path: Path, folder: bool) -> tuple[int, Path]:
    """A new partial and a descriptor holding its lock."""
    prefix = f".{path.name}."
    while True:
        if folder:
            name = tempfile.mkdtemp(dir=path.parent, prefix=prefix, suffix=PARTIAL_SUFFIX)
            try:
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY)
            except FileNotFoundError:  # swept already; see below
                continue
        else:
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=PARTIAL_SUFFIX)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                os.close(fd)
                raise
            # No locks here: a sweeper cannot lock it either, so it is never swept.
        # A sweep may have removed the partial between its creation and the lock.
        if _same_inode(Path(name), fd):
            return fd, Path(name)
        os.close(fd)


def sweep_partials(folder: Path) -> None:
    """Remove the partials in `folder` whose writers are gone (killed, or the machine
    lost power). A partial still being written is locked by its writer and kept;
    anything not named `.NAME.RANDOM.partial` is left alone."""
    try:
        entries = list(os.scandir(folder))
    except OSError:  # missing or unreadable: nothing to sweep
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(PARTIAL_SUFFIX):
            _remove_if_abandoned(Path(entry.path))


def _remove_if_abandoned(partial: Path) -> None:
    try:
        # O_NOFOLLOW: a symlink is not ours; O_NONBLOCK: a FIFO must not hang us.
        fd = os.open(partial, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:  # gone meanwhile, a symlink, or not ours to read
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _remove_if_same(partial, fd)
    except OSError:  # locked, so its writer is alive (or no locks here, or not ours)
        pass
    finally:
        os.close(fd)


def _same_inode(path: Path, fd: int) -> bool:
    """Whether `path` still names the file that `fd` is open on."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _remove_if_same(partial: Path, fd: int) -> None:
    """Remove `partial` if it is still the file or folder `fd` is open on (after a
    rename it is not, and its name may be anyone's)."""
    if not _same_inode(partial, fd):
        return
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        shutil.rmtree(partial, ignore_errors=True)
    else:
        partial.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one."""
    with partial_beside(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
