"""The `voice-coach` command. One module per group of commands; `common` holds the rest."""

from __future__ import annotations

import contextlib
import sys
import threading


def _start_portaudio_early() -> None:
    """`voice-coach play` needs PortAudio, whose start-up (it scans the sound devices,
    about 0.3 s) runs in C without holding the GIL. Begun here, it overlaps the other
    imports instead of following them, and the first cue is heard sooner."""

    def load() -> None:
        # A missing PortAudio is reported by the player itself, with advice.
        with contextlib.suppress(OSError):
            import sounddevice  # noqa: F401

    threading.Thread(target=load, name="voice-coach-portaudio", daemon=True).start()


if sys.argv[1:2] == ["play"]:
    _start_portaudio_early()

import typer  # noqa: E402

app = typer.Typer(
    name="voice-coach",
    help="Voice-guided stretching and exercise routines: spoken, timed cues from a YAML "
    "script, played hands-free or exported to MP3 for your phone.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# Registering commands: each module adds its own to `app`.
from . import (  # noqa: E402,F401
    export,
    export_all,
    history,
    play,
    routines,
    serve,
    settings,
    show,
    voices,
)


def main() -> None:
    app()
