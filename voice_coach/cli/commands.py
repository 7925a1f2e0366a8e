"""The whole command line: the typer app with every command registered, one module per
group of commands, each adding its own to `app` when imported."""

from __future__ import annotations

from . import (  # noqa: F401  (imported for the commands they register)
    authoring,
    export,
    export_all,
    history,
    plan,
    play,
    routines,
    serve,
    settings,
    show,
    voices,
)
from .app import app

__all__ = ["app"]
