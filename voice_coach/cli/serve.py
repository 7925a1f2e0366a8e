"""`serve`: the exports to a phone, as a page and a podcast feed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .common import note, reported, say


@app.command()
def serve(
    directory: Annotated[
        Path,
        typer.Argument(help="The folder of exports to serve.", show_default=True),
    ] = Path("exports"),
    host: Annotated[
        Optional[str],
        typer.Option("--host", help="Address to listen on (default 127.0.0.1: this computer)."),
    ] = None,
    port: Annotated[
        Optional[int],
        typer.Option(
            "--port", min=0, max=65535, help="Port to listen on (default 8765; 0: any free)."
        ),
    ] = None,
    lan: Annotated[
        bool,
        typer.Option("--lan", help="Listen on this computer's LAN address, for your phone."),
    ] = False,
) -> None:
    """Serve exported routines read-only: a page to play them (with chapters) and a
    podcast feed, until Ctrl+C.

    Example: voice-coach serve --lan
    """
    import sys

    from ..serve.http import open_server
    from ..serve.qr import qr_terminal

    with reported():
        server = open_server(directory, host, port, lan, log=note)
    try:
        url = server.url
        found = server.routine_count()
        say(f"Serving {directory} ({found} routine{'' if found == 1 else 's'}) at {url}")
        say(f"Podcast feed: {url}feed.xml")
        sys.stdout.write(qr_terminal(url))
        if server.loopback:
            say("Only this computer can open it; add --lan for your phone.")
        else:
            say("Anyone on your network can open these files while this runs.")
        say("Press Ctrl+C to stop.")
        server.serve_forever()
    except KeyboardInterrupt:
        note("stopped.")
    finally:
        server.server_close()
