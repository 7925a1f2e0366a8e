"""The `voice-coach` command's entry point: what runs before the program is loaded.

For `play`, sound starts before the heavy imports: a current quick-start record plays
at once (`quickstart.begin`); without one, PortAudio's start-up (it scans the sound
devices, about 0.1-0.3 s, in C without holding the GIL) is begun in a thread so that it
overlaps the imports instead of following them.
"""

from __future__ import annotations

import contextlib
import sys
import threading


def _start_portaudio_early() -> None:
    def load() -> None:
        # A missing PortAudio is reported by the player itself, with advice.
        with contextlib.suppress(ImportError, OSError):
            import sounddevice  # noqa: F401

    threading.Thread(target=load, name="voice-coach-portaudio", daemon=True).start()


def main() -> None:
    playing = sys.argv[1:2] == ["play"]
    if playing:
        from . import quickstart

        if not quickstart.begin(sys.argv[2:]):
            _start_portaudio_early()
    try:
        from .cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        # Ctrl+C while the program is still loading (later it is handled by the command).
        sys.exit(130)
    finally:
        if playing:
            quickstart.discard()
