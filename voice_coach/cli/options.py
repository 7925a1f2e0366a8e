"""The options every routine command takes (show, export, export-all, play, settings,
log): one per setting the command line may set, derived from the settings table
(`settings.table`), and the run's own (--profile, --week, --cache-dir). `with_settings`
adds them to a command, which receives their values as one `Choices`.

A setting's value is taken as text and checked by its setting, so the command line
refuses what a script or a profile refuses, in the same words."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer

from ..settings.table import (
    SETTINGS_PANEL,
    VOICE_PANEL,
    BedKind,
    Choice,
    Number,
    Setting,
    Switch,
    Text,
    in_layer,
)

if TYPE_CHECKING:
    from ..settings.words import Choices

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Opt:
    """One command-line option: a setting's or the run's own."""

    name: str
    """The parameter's name; the flag is --NAME with "_" as "-"."""
    kind: Any
    """The value's type; `list` for a repeatable option of texts."""
    help: str
    panel: str = SETTINGS_PANEL
    flags: tuple[str, ...] = ()
    """The flags, when not --NAME (a switch: --NAME/--no-NAME)."""
    extra: dict[str, Any] = field(default_factory=dict)
    """More `typer.Option` arguments (bounds, an environment variable)."""

    def parameter(self) -> inspect.Parameter:
        flags = self.flags or ("--" + self.name.replace("_", "-"),)
        option = typer.Option(*flags, help=self.help, rich_help_panel=self.panel, **self.extra)
        if self.kind is bool and not self.flags:
            annotation: Any = Annotated[bool, option]
            default: Any = False
        else:
            kind = list[str] if self.kind is list else self.kind
            annotation, default = Annotated[Optional[kind], option], None
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
        )


def metavar(s: Setting) -> str:
    """What --help shows a setting's option takes: SECONDS, N, LU, left|right, BED."""
    kind = s.kind
    if isinstance(kind, Number):
        word = "N" if kind.whole or not kind.unit else (kind.symbol or kind.unit).upper()
        word = "SECONDS" if kind.unit == "seconds" else word
    elif isinstance(kind, Choice):
        word = "|".join(kind.options)
    elif isinstance(kind, Text):
        word = "NAME"
    else:
        word = kind.name.upper()
    return f"[STEP=]{word}" if s.per_step else word


def setting_options(s: Setting) -> tuple[Opt, ...]:
    """The options of a setting: --NAME TEXT (repeatable, NAME=VALUE for one step, when
    per step), --NAME/--no-NAME for a switch, and --no-NAME for a bed."""
    help = s.help_text() + "."
    if isinstance(s.kind, Switch):
        return (Opt(s.name, bool, help, s.panel, (f"{s.flag}/--no-{s.flag[2:]}",)),)
    shown = {"metavar": metavar(s)}
    if s.per_step:
        help += " For one step: NAME=VALUE or NUMBER=VALUE (repeatable)."
        return (Opt(s.name, list, help, s.panel, extra=shown),)
    own = Opt(s.name, str, help, s.panel, extra=shown)
    if isinstance(s.kind, BedKind):
        off = Opt(
            "no_" + s.name, bool, f"No {s.name}, whatever the script or profile says.", s.panel
        )
        return (own, off)
    return (own,)


RUN_OPTIONS = (
    Opt("profile", Path, "Profile file (default: profile.yaml in your config directory)."),
    Opt(
        "week", int, "Use this stage of the routine's progression.", SETTINGS_PANEL, (), {"min": 1}
    ),
    Opt(
        "cache_dir",
        Path,
        "Where synthesized cues are kept (default: ./audio_cache in a checkout).",
        VOICE_PANEL,
        (),
        {"envvar": "VOICE_COACH_CACHE"},
    ),
)
"""The options of a run that are not settings: where things are, which stage."""
OPTIONS = (*(o for s in in_layer("command line") for o in setting_options(s)), *RUN_OPTIONS)


def choices_from(values: dict[str, Any]) -> Choices:
    """The options' values as `Choices`: the settings in words, in table order."""
    from ..settings.words import Choices, as_words

    words: list[tuple[str, str]] = []
    for s in in_layer("command line"):
        value = values.get(s.name)
        items = value if isinstance(value, list | tuple) else [value]
        words += [(s.name, as_words(item)) for item in items if item is not None]
        if values.get("no_" + s.name):
            words.append((s.name, "off"))
    return Choices(tuple(words), values.get("profile"), values.get("week"), values.get("cache_dir"))


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
        values = {o.name: kwargs.pop(o.name) for o in OPTIONS}
        return fn(*args, choices=choices_from(values), **kwargs)

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
