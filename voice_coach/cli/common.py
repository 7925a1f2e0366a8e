"""What every command shares: consoles, error reporting, and the settings options.

Errors from the core arrive as `VoiceCoachError`; here, and only here, they become
a one-line message on stderr and an exit code (2 for bad input, 1 otherwise).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ..errors import ValidationError, VoiceCoachError
from ..library import find_routine
from ..loader import load_routine
from ..model import Routine, VoiceSettings
from ..prepare import Prepared, prepare
from ..profile import load_profile
from ..settings import COMMAND_LINE, Layer, Resolved, Stage, parse_command_line, resolve

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

RoutineArg = Annotated[
    str,
    typer.Argument(
        help="A routine file, or the name of a bundled routine (see `voice-coach list`).",
        show_default=False,
    ),
]


def fail(exc: VoiceCoachError) -> typer.Exit:
    if isinstance(exc, ValidationError):
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False)
        n = len(exc.problems)
        err.print(f"{n} problem{'s' if n != 1 else ''} found; nothing was written.", markup=False)
    else:
        err.print(f"error: {exc}", markup=False)
    return typer.Exit(exc.exit_code)


@contextmanager
def reported() -> Iterator[None]:
    """Turn our errors and Ctrl+C into a message and an exit code, never a traceback."""
    try:
        yield
    except VoiceCoachError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written.")
        raise typer.Exit(130) from None


def load(name: str) -> Routine:
    return load_routine(find_routine(name))


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def clock(ms: int) -> str:
    minutes, rest = divmod(ms, 60_000)
    return f"{minutes}:{rest / 1000:04.1f}"


def length(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


# -- the settings options, shared by show, export, play, settings and log --------------


@dataclass(frozen=True)
class SettingsOptions:
    hold: list[str]
    scale: float | None
    reps: list[str]
    rest: float | None
    countdown: int | None
    no_chimes: bool
    no_during: bool
    sides: str | None
    engine: str | None
    voice: str | None
    rate: int | None
    volume: float | None
    profile: Path | None
    week: int | None
    cache_dir: Path | None


_OPTIONS: list[tuple[str, Any, Any]] = [
    (
        "hold",
        Annotated[
            Optional[list[str]],
            typer.Option(
                "--hold",
                help="Seconds for every hold, or NAME=SECONDS / NUMBER=SECONDS for one step "
                "(repeatable).",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "scale",
        Annotated[
            Optional[float],
            typer.Option(
                "--scale",
                help="Multiply every hold and rest, e.g. 1.5.",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "reps",
        Annotated[
            Optional[list[str]],
            typer.Option(
                "--reps",
                help="Reps for every step, or NAME=N for one step (repeatable).",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "rest",
        Annotated[
            Optional[float],
            typer.Option("--rest", help="Seconds for every rest.", rich_help_panel="Settings"),
        ],
        None,
    ),
    (
        "countdown",
        Annotated[
            Optional[int],
            typer.Option(
                "--countdown",
                help="Count down the last N seconds of each hold (0-10).",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "no_chimes",
        Annotated[
            bool,
            typer.Option(
                "--no-chimes",
                help="No tones at the start and end of holds.",
                rich_help_panel="Settings",
            ),
        ],
        False,
    ),
    (
        "no_during",
        Annotated[
            bool,
            typer.Option(
                "--no-during",
                help="Leave out the lines spoken during holds.",
                rich_help_panel="Settings",
            ),
        ],
        False,
    ),
    (
        "sides",
        Annotated[
            Optional[str],
            typer.Option(
                "--sides",
                help="left or right: do one-sided stretches on this side only.",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "engine",
        Annotated[
            Optional[str],
            typer.Option(
                "--engine",
                help="Speech engine: pyttsx3 (default), espeak-ng or piper; "
                "see `voice-coach voices`.",
                rich_help_panel="Voice",
            ),
        ],
        None,
    ),
    (
        "voice",
        Annotated[
            Optional[str],
            typer.Option(
                "--voice",
                help="Voice id, name or language code, e.g. en-us.",
                rich_help_panel="Voice",
            ),
        ],
        None,
    ),
    (
        "rate",
        Annotated[
            Optional[int],
            typer.Option(
                "--rate",
                min=80,
                max=450,
                help="Speaking rate in words per minute (default 160).",
                rich_help_panel="Voice",
            ),
        ],
        None,
    ),
    (
        "volume",
        Annotated[
            Optional[float],
            typer.Option(
                "--volume",
                min=0.0,
                max=1.0,
                help="Speech volume, 0.0 to 1.0.",
                rich_help_panel="Voice",
            ),
        ],
        None,
    ),
    (
        "profile",
        Annotated[
            Optional[Path],
            typer.Option(
                "--profile",
                help="Profile file (default: profile.yaml in your config directory).",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "week",
        Annotated[
            Optional[int],
            typer.Option(
                "--week",
                min=1,
                help="Use this stage of the routine's progression.",
                rich_help_panel="Settings",
            ),
        ],
        None,
    ),
    (
        "cache_dir",
        Annotated[
            Optional[Path],
            typer.Option(
                "--cache-dir",
                envvar="VOICE_COACH_CACHE",
                help="Where synthesized cues are kept (default: ./audio_cache in a checkout).",
                rich_help_panel="Voice",
            ),
        ],
        None,
    ),
]


def with_settings(fn: F) -> F:
    """Add the shared settings options to a command; it receives them as `opts`."""
    sig = inspect.signature(fn, eval_str=True)
    own = [p for name, p in sig.parameters.items() if name != "opts"]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default)
        for name, ann, default in _OPTIONS
    ]

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name, _, _ in _OPTIONS}
        values["hold"] = values["hold"] or []
        values["reps"] = values["reps"] or []
        return fn(*args, opts=SettingsOptions(**values), **kwargs)

    command.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            else p
            for p in own
        ]
        + extra
    )
    return command  # type: ignore[return-value]


@dataclass(frozen=True)
class Plan:
    """A routine with every setting layer applied."""

    original: Routine
    resolved: Resolved
    stage: Stage

    @property
    def routine(self) -> Routine:
        return self.resolved.routine


def plan(name: str, opts: SettingsOptions) -> Plan:
    routine = load(name)
    cli = parse_command_line(
        hold=opts.hold,
        scale=opts.scale,
        reps=opts.reps,
        rest=opts.rest,
        countdown=opts.countdown,
        no_chimes=opts.no_chimes,
        no_during=opts.no_during,
        sides=opts.sides,
        voice=VoiceSettings(opts.engine, opts.voice, opts.rate, opts.volume),
    )
    layers = [*load_profile(opts.profile, routine.slug), Layer(COMMAND_LINE, cli)]
    stage = find_stage(routine, layers, opts.week)
    return Plan(routine, resolve(routine, layers, stage), stage)


def find_stage(routine: Routine, layers: list[Layer], week: int | None) -> Stage:
    """The progression stage: --week, else from the history (only if a ramp exists)."""
    if week is not None:
        return Stage(week, explicit=True)
    ramps = [
        p
        for p in [routine.progression, *(lay.overrides.progression for lay in layers)]
        if p is not None and (p.hold or p.reps)
    ]
    if not ramps:
        return Stage(1)
    last = ramps[-1]
    ramp = last.hold or last.reps
    assert ramp is not None
    from ..history import History

    with History.open() as history:
        if ramp.every == "session":
            return Stage(history.finished_count(routine.slug) + 1, from_history=True)
        first = history.first_session(routine.slug)
    if first is None:
        return Stage(1, from_history=True)
    started: date = first.started_at.date()
    today = datetime.now(UTC).date()
    return Stage((today - started).days // 7 + 1, first_session=started, from_history=True)


def prepared(p: Plan, cache_dir: Path | None, progress: Progress | None = None) -> Prepared:
    callback: Callable[[int, int], None] | None = None
    if progress is not None:
        task = progress.add_task("Synthesizing cues", total=None)

        def callback(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

    result = prepare(p.routine, p.resolved.voice, cache_dir, progress=callback)
    for warning in result.timeline.warnings:
        err.print(f"warning: {warning}", markup=False)
    return result
