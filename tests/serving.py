"""A real `ExportServer` answering on a thread for the length of a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from voice_coach.serve.http import ExportServer


@contextmanager
def serving(server: ExportServer) -> Iterator[ExportServer]:
    """`server` answering requests until the block ends; then shut down and closed."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
