"""Writers in other processes holding a partial (`atomic.partial_beside`), for tests of
what a sweep removes: one still running, and one killed with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_WRITER = """
import sys
from pathlib import Path
from voice_coach.atomic import partial_beside

with partial_beside(Path(sys.argv[1]), folder=sys.argv[2] == "folder") as partial:
    print(partial, flush=True)
    sys.stdin.read()  # write until the test closes our stdin
"""


def _start(target: Path, folder: bool) -> tuple[subprocess.Popen[str], Path]:
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target), "folder" if folder else "file"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    partial = Path(child.stdout.readline().strip())
    assert partial.name.startswith(f".{target.name}.") and partial.exists()
    return child, partial


@contextmanager
def live_writer(target: Path, folder: bool = False) -> Iterator[Path]:
    """A process writing `target` through a partial: the partial, while it runs. It ends
    normally with the block, removing its partial as an interrupted writer does."""
    child, partial = _start(target, folder)
    assert child.stdin is not None
    try:
        yield partial
    finally:
        child.stdin.close()
        assert child.wait(timeout=30) == 0


def killed_writer(target: Path, folder: bool = False) -> Path:
    """The partial that a process writing `target` left when it was killed (SIGKILL)."""
    child, partial = _start(target, folder)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert partial.exists(), "a killed writer cannot clean up"
    return partial
