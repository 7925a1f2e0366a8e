"""The settings options every routine command takes (show, export, export-all, play,
settings, log), declared once as a table; `with_settings` adds them to a command,
which receives their values as one `Choices`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer

if TYPE_CHECKING:
    from ..settings.layers import Choices  # noqa: F401  (named in the commands' signatures)

F = TypeVar("F", bound=Callable[..., Any])
SETTINGS, VOICE, BED = "Settings", "Voice", "Sound bed"


@dataclass(frozen=True)
class Opt:
    name: str
    """The `Choices` field it sets; the flag is --NAME with "_" as "-"."""
    kind: Any
    """The value's type; `list` for a repeatable option of texts."""
    help: str
    panel: str = SETTINGS
    extra: dict[str, Any] = field(default_factory=dict)
    """More `typer.Option` arguments (bounds, an environment variable)."""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parameter(self) -> inspect.Parameter:
        option = typer.Option(self.flag, help=self.help, rich_help_panel=self.panel, **self.extra)
        if self.kind is bool:
            annotation: Any = Annotated[bool, option]
            default: Any = False
        else:
            kind = list[str] if self.kind is list else self.kind
            annotation, default = Annotated[Optional[kind], option], None
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
        )


OPTIONS = (
    Opt(
        "hold",
        list,
        "Seconds for every hold, or NAME=SECONDS / NUMBER=SECONDS for one step (repeatable).",
    ),
    Opt(
        "scale",
        float,
        "Multiply every hold and rest, flow beat and count tempo, e.g. 1.5 "
        "(not --settle or --recover).",
    ),
    Opt("reps", list, "Reps for every step, or NAME=N for one step (repeatable)."),
    Opt("rest", float, "Seconds for every rest."),
    Opt(
        "settle",
        list,
        "Seconds to get into position before each hold (default 2.5, 0-300), or "
        "NAME=SECONDS / NUMBER=SECONDS for one step (repeatable). About you, not the "
        "exercise: --scale leaves it alone.",
    ),
    Opt(
        "recover",
        list,
        "Seconds of quiet after each release (default 3, 0-300), or NAME=SECONDS / "
        "NUMBER=SECONDS for one step (repeatable). About you, not the exercise: --scale "
        "leaves it alone.",
    ),
    Opt("countdown", int, "Count down the last N seconds of each hold (0-10)."),
    Opt("no_chimes", bool, "No tones at the start and end of holds."),
    Opt("no_during", bool, "Leave out the lines spoken during holds."),
    Opt("sides", str, "left or right: do one-sided stretches on this side only."),
    Opt(
        "bed",
        str,
        "A sound bed under the whole routine, ducked under every cue: rain, drone, "
        "pace:110 (a click at 40-200 steps per minute) or a sound file. Replaces the "
        "script's, the beds of its steps too.",
        BED,
    ),
    Opt("no_bed", bool, "No sound bed, whatever the script or profile says.", BED),
    Opt(
        "bed_level",
        float,
        "The bed's level in LU relative to the speech, -40 to 0 (default -20).",
        BED,
    ),
    Opt("bed_duck", float, "dB the bed drops under every cue, 0 to 40 (default 12).", BED),
    Opt(
        "engine",
        str,
        "Speech engine: piper, pyttsx3 or espeak-ng (default: piper where it has a voice for "
        "the language, else pyttsx3; see `voice-coach voices`).",
        VOICE,
    ),
    Opt("voice", str, "Voice id, name or language code, e.g. en-us.", VOICE),
    Opt(
        "rate",
        int,
        "Speaking rate in words per minute (default 160).",
        VOICE,
        {"min": 80, "max": 450},
    ),
    Opt("volume", float, "Speech volume, 0.0 to 1.0.", VOICE, {"min": 0.0, "max": 1.0}),
    Opt("profile", Path, "Profile file (default: profile.yaml in your config directory)."),
    Opt("week", int, "Use this stage of the routine's progression.", SETTINGS, {"min": 1}),
    Opt(
        "cache_dir",
        Path,
        "Where synthesized cues are kept (default: ./audio_cache in a checkout).",
        VOICE,
        {"envvar": "VOICE_COACH_CACHE"},
    ),
)


def with_settings(fn: F) -> F:
    """Add the settings options to a command; it receives them as `choices`."""
    sig = inspect.signature(fn)
    own = [
        p.replace(
            annotation=_evaluated(p.annotation, fn),
            kind=inspect.Parameter.KEYWORD_ONLY
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            else p.kind,
        )
        for name, p in sig.parameters.items()
        if name != "choices"
    ]
    parameters = [*own, *(o.parameter() for o in OPTIONS)]

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        from ..settings.layers import Choices

        values = {o.name: kwargs.pop(o.name) for o in OPTIONS}
        for o in OPTIONS:
            if o.kind is list:
                values[o.name] = tuple(values[o.name] or ())
        return fn(*args, choices=Choices(**values), **kwargs)

    command.__signature__ = sig.replace(parameters=parameters)  # type: ignore[attr-defined]
    # What typer reads through typing.get_type_hints: evaluated, and without `choices`
    # (the commands name `Choices` only for type checkers, so the settings module is
    # not imported until a command runs).
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command  # type: ignore[return-value]


def _evaluated(annotation: Any, fn: Callable[..., Any]) -> Any:
    """An annotation written as text (postponed evaluation), evaluated where `fn` was
    written."""
    return eval(annotation, fn.__globals__) if isinstance(annotation, str) else annotation
