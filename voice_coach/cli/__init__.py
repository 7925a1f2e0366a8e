"""The `voice-coach` command: parses options, calls the core, prints.

One module per group of commands. Importing this package is light (typer only): each
command imports the parts of voice_coach it uses when it runs, so `--help`,
`version` and `list` start fast and `play` opens its sound stream before numpy and
the rest are loaded.
"""

from __future__ import annotations

import sys

import typer

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
    try:
        app()
    except KeyboardInterrupt:
        # Ctrl+C before a command has set up its own handling (while loading).
        sys.exit(130)
