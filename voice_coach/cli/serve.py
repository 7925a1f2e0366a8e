"""`serve`: the exports to a phone, as a page and a podcast feed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import Problem, ServeError, ValidationError
from . import app
from .common import err, out, reported


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
    # Imported here: the server's modules are not needed by any other command.
    from ..serve import DEFAULT_PORT, ExportServer, count_entries, lan_address, qr_terminal
    from ..serve import scan as scan_exports

    port = DEFAULT_PORT if port is None else port
    with reported():
        if lan and host:
            raise ValidationError([Problem("--lan", None, "", "give --lan or --host, not both")])
        if not directory.is_dir():
            raise ValidationError(
                [
                    Problem(
                        str(directory),
                        None,
                        "",
                        "no such folder; export a routine first (voice-coach export NAME)",
                    )
                ]
            )
        if lan:
            host = lan_address()
            if host is None:
                raise ServeError(
                    "this computer has no LAN address (is it on a network?); "
                    "give one with --host ADDRESS"
                )
        server = ExportServer(
            directory, (host or "127.0.0.1", port), log=lambda line: err.print(line, markup=False)
        )
    try:
        url = server.url
        found = count_entries(scan_exports(directory))
        routines = f"{found} routine{'' if found == 1 else 's'}"
        out.print(f"Serving {directory} ({routines}) at {url}", markup=False)
        out.print(f"Podcast feed: {url}feed.xml", markup=False)
        out.file.write(qr_terminal(url))
        if server.loopback:
            out.print("Only this computer can open it; add --lan for your phone.")
        else:
            out.print("Anyone on your network can open these files while this runs.")
        out.print("Press Ctrl+C to stop.")
        out.file.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        err.print("stopped.")
    finally:
        server.server_close()
