"""The controls `play` runs with, all at once: the terminal's keys, the voice (with
`--listen`) and the desktop's media keys and headset buttons (MPRIS, on Linux)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .keys import keyboard, keys_on
from .listen import Listener
from .player import status_line
from .remote import Controls, Remote, combined
from .session import Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandsFree:
    controls: Controls
    listener: Listener | None
    """The voice, when listening was asked for."""

    @property
    def can_answer(self) -> bool:
        """Whether the coach can take an answer (a pain rating): keys or the voice."""
        return keys_on() or self.listener is not None

    def status_line(self, status: Status) -> str:
        """The one-line display, with what the voice heard last."""
        note = self.listener.note() if self.listener is not None else ""
        line = status_line(status)
        return f"{line} · {note}" if note else line


def hands_free(listen: bool, notify: Callable[[str], None]) -> HandsFree:
    """Keys, the voice if `listen`, and MPRIS. `notify` takes the one line that says
    why the voice is off, if it is."""
    sources: list[Controls] = [keyboard]
    listener = Listener(notify) if listen else None
    if listener is not None:
        sources.append(listener)
    sources.append(media_keys)
    return HandsFree(combined(*sources), listener)


@contextmanager
def media_keys(remote: Remote) -> Iterator[bool]:
    """MPRIS where its D-Bus library is installed (Linux); else nothing (debug note)."""
    try:
        from . import mpris
    except ImportError as exc:
        log.debug("mpris: off (%s)", exc)
        yield False
        return
    with mpris.media_keys(remote) as on:
        yield on
