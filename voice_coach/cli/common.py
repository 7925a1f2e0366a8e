"""What every command shares: printing, error reporting, the progress bar, tables.

Errors from the core arrive as `VoiceCoachError`; here, and only here, they become
a one-line message on stderr and an exit code (2 for bad input, 1 otherwise).
Nothing heavy is imported at module level: rich only when a progress bar is drawn.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, cast

import typer

from ..errors import ValidationError, VoiceCoachError

if TYPE_CHECKING:
    from rich.progress import Progress

RoutineArg = Annotated[
    str,
    typer.Argument(
        help="A routine file, or the name of a bundled routine (see `voice-coach list`).",
        show_default=False,
    ),
]


def say(line: str = "") -> None:
    """A line of the command's output (stdout)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def note(line: str) -> None:
    """A line for the person at the terminal (stderr): progress, where a file went."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def warn(line: str) -> None:
    note(f"warning: {line}")


def fail(exc: VoiceCoachError) -> typer.Exit:
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            note(f"error: {problem}")
        n = len(exc.problems)
        note(f"{n} problem{'s' if n != 1 else ''} found; nothing was written.")
    else:
        note(f"error: {exc}")
    return typer.Exit(exc.exit_code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn our errors and Ctrl+C into a message and an exit code, never a traceback."""
    try:
        yield
    except VoiceCoachError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        note("interrupted; nothing was written.")
        raise typer.Exit(130) from None


def progress_bar(auto_refresh: bool = True) -> Progress:
    """A transient progress bar on stderr, drawn only on a terminal (elsewhere rich is
    not even loaded). Without `auto_refresh` it starts no thread (safe before worker
    processes are forked)."""
    if not sys.stderr.isatty():
        return cast("Progress", _NoBar())
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=auto_refresh,
        disable=not console.is_terminal,
    )


class _NoBar:
    """What the commands use of a rich `Progress`, doing nothing."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def add_task(self, *_: object, **__: object) -> int:
        return 0

    def update(self, *_: object, **__: object) -> None:
        pass


def progress_callback(bar: Progress, description: str) -> Callable[[int, int], None]:
    """A (done, total) callback that moves a new task of `bar`."""
    task = bar.add_task(description, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    return update


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns aligned on stdout, a header row first, no borders."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        say("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def status_width() -> int:
    """How wide a one-line status display may be on stderr's terminal."""
    import shutil

    return max(10, shutil.get_terminal_size((80, 24)).columns - 1)
