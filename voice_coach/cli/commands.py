"""The whole command line: the typer app with every command registered, one module per
group of commands, each adding its own to `app`."""

from __future__ import annotations

from . import (
    authoring,
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
from .app import app

COMMAND_MODULES = (
    authoring,
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
"""Imported for what they register on `app`."""

__all__ = ["COMMAND_MODULES", "app"]
