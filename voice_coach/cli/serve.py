"""`serve`: the page for a phone (pick, tune, make, play and log a routine), the
exports and a podcast feed."""

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
        typer.Argument(
            help="The folder of exports to serve, where the page's renders go too (made if "
            "missing).",
            show_default=True,
        ),
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
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help="Replace the key that lets a browser make, save and log (phones that "
            "had the old one need the new address).",
        ),
    ] = False,
) -> None:
    """Serve the page for your phone until Ctrl+C: pick, tune, make and log a routine,
    play exports (with chapters), a podcast feed, and your plans as a calendar feed.

    Reading is open to whoever reaches the address; making, saving and logging need
    the key in the printed address (kept in your config directory).

    Example: voice-coach serve --lan
    """
    import sys

    from ..serve.http import open_server
    from ..serve.qr import qr_terminal

    with reported():
        server = open_server(directory, host, port, lan, log=note, new_key=new_key)
    try:
        url = server.url
        found = server.routine_count()
        say(f"Serving {directory} ({found} routine{'' if found == 1 else 's'}) at {server.key_url}")
        say(f"Podcast feed: {url}feed.xml")
        say(f"Calendar of your plans (subscribe on the phone): {server.calendar_url}")
        sys.stdout.write(qr_terminal(server.key_url))
        say("The address carries the key to make, save and log: keep it to yourself.")
        if server.loopback:
            say("Only this computer can open it; add --lan for your phone.")
        else:
            say("Anyone on your network can play these files while this runs.")
        say("Press Ctrl+C to stop.")
        server.serve_forever()
    except KeyboardInterrupt:
        note("stopped.")
    finally:
        server.server_close()
