"""The `voice-coach` command: parses options, calls the core, prints.

One module per group of commands, registered on the typer app of `app.py` by `commands.py`. Nothing
heavy is imported before a command runs: each imports the parts of voice_coach it
uses, so `--help`, `version` and `list` start fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..errors import VoiceCoachError
    from ..live.devices import Speaker


def main() -> None:
    opened = open_for_play(sys.argv[1:])
    try:
        from .commands import app

        app(obj=opened)
    except KeyboardInterrupt:
        # Ctrl+C before a command has set up its own handling (while loading).
        sys.exit(130)
    finally:
        if opened is not None and not isinstance(opened, Exception):
            opened.tone.close()  # the command did not take it (it failed early)


def open_for_play(args: list[str]) -> Speaker | VoiceCoachError | None:
    """For `voice-coach play` on the default device: the start tone, played before
    the command line and the rest of the program load (about 0.1 s), so that it sounds
    at once. `play` receives the device as its typer context object; a failure to open
    it is reported by `play` once the routine is known to be valid."""
    if args[:1] != ["play"] or any(a == "--help" or a.startswith("--device") for a in args):
        return None
    from ..errors import VoiceCoachError
    from ..live.devices import start_tone

    try:
        return start_tone(None)
    except VoiceCoachError as exc:
        return exc
