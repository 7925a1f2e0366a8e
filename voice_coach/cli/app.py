"""The typer application that every command module registers its commands on
(`commands` imports them all)."""

from __future__ import annotations

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
