"""The `voice-coach` command: parses options, calls the core, prints.

One module per group of commands, registered on the typer app in `app.py`. Nothing
heavy is imported before a command runs: each imports the parts of voice_coach it
uses, so `--help`, `version` and `list` start fast, and `play` opens its sound stream
(and plays its start tone) before numpy and the rest are loaded.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["play"]:
        # PortAudio's start-up (it scans the sound devices, ~0.1 s, in C without the
        # GIL) overlaps loading the command line instead of following it.
        from ..live.devices import load_portaudio_in_background

        load_portaudio_in_background()
    try:
        from .app import app

        app()
    except KeyboardInterrupt:
        # Ctrl+C before a command has set up its own handling (while loading).
        sys.exit(130)
