"""One-key controls from the terminal: which key does what, and a thread that reads
them without Enter while playback runs."""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .checkin import Keys
from .session import Command

if TYPE_CHECKING:
    from .remote import Remote

KEYS: dict[bytes, Command] = {
    b" ": Command.PAUSE,
    b"n": Command.NEXT,
    b"\x1b[C": Command.NEXT,
    b"b": Command.BACK,
    b"\x1b[D": Command.BACK,
    b"+": Command.LONGER,
    b"=": Command.LONGER,
    b"-": Command.SHORTER,
    b"q": Command.QUIT,
}
KEY_HELP = "space pause/resume · n/→ next · b/← back · +/- hold ±5 s · q quit"


def parse_keys(data: bytes) -> list[Command]:
    """Commands in a burst of key bytes (arrow keys arrive as escape sequences)."""
    out = []
    i = 0
    while i < len(data):
        for length in (3, 1):
            command = KEYS.get(data[i : i + length])
            if command is not None:
                out.append(command)
                i += length
                break
        else:
            i += 1
    return out


def keys_on() -> bool:
    """Whether `keyboard` reads keys: stdin is a terminal."""
    return sys.stdin.isatty()


@contextmanager
def keyboard(remote: Remote) -> Iterator[bool]:
    """Read single keys from a terminal stdin in a thread; yields whether it does. While
    the coach asks for a pain rating, the keys are its answer (`Remote.desk`).

    With stdin not a terminal (a pipe, CI), controls are off and playback runs through.
    """
    if not keys_on():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(fd, 32)
            except OSError:
                data = b""
            if not data:
                return  # the terminal went away: no more keys, playback goes on
            if remote.desk.hand_in(Keys(data)):
                continue
            for command in parse_keys(data):
                remote(command)

    tty.setcbreak(fd)  # one key at a time, no echo; Ctrl+C still interrupts
    remote.desk.can_take("keys")
    thread = threading.Thread(target=loop, name="voice-coach-keys", daemon=True)
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join(timeout=1)
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)  # gone with its terminal
