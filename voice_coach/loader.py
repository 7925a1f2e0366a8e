"""Read a routine script (YAML) into a `Routine`, reporting every problem at once.

The file is parsed in exactly one place (`yamlsafe`): the safe loader for the values, and the
same safe loader's node tree for line numbers. A strict schema (pydantic, unknown
keys forbidden) checks shapes; a second pass checks what spans keys ({side} needs
`sides`). Every problem becomes a `Problem` with file, line, key and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from . import yamlsafe
from .errors import Problem, ValidationError
from .model import (
    DEFAULT_RECOVER_S,
    DEFAULT_SETTLE_S,
    MAX_PAUSE_S,
    MAX_SECONDS,
    MAX_TEXT_CHARS,
    CueOptions,
    Exercise,
    Progression,
    Ramp,
    Rest,
    Routine,
    Step,
    VoiceSettings,
)
from .phrases import OVERRIDABLE, placeholders

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SIDE_PLACEHOLDERS = {"side", "other"}
MIN_PERIOD_S = 1
MAX_REPS = 50
MAX_COUNTDOWN = 10

# --- value checks (each raises a message that says what is allowed) -------------


def _seconds_from(lo: float, hi: float, hi_words: str) -> Callable[[object], float]:
    """A check for a number of seconds from `lo` to `hi` ("3 hours": `hi` in words)."""

    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PydanticCustomError(
                "seconds", "must be a number of seconds, got {got}", {"got": repr(value)}
            )
        if not lo <= value <= hi:
            raise PydanticCustomError(
                "seconds",
                "must be from {lo} to {hi} seconds ({hi_words}), got {got}",
                {"lo": lo, "hi": hi, "hi_words": hi_words, "got": value},
            )
        return float(value)

    return check


_seconds = _seconds_from(MIN_PERIOD_S, MAX_SECONDS, "3 hours")
"""A hold or rest."""
_pause_seconds = _seconds_from(0, MAX_PAUSE_S, "5 minutes")
"""A settle or recover time."""


def _text(value: object, index: int | None = None) -> str:
    ctx: dict[str, Any] = {} if index is None else {"index": index}
    if not isinstance(value, str):
        raise PydanticCustomError(
            "text", "must be text, got {got}", {**ctx, "got": type(value).__name__}
        )
    if not value.strip():
        raise PydanticCustomError("text", "must not be empty", ctx)
    if len(value) > MAX_TEXT_CHARS:
        raise PydanticCustomError(
            "text",
            "is {n} characters long; at most {limit} are allowed per line "
            "(split it into several lines)",
            {**ctx, "n": len(value), "limit": MAX_TEXT_CHARS},
        )
    return value.strip()


def _text_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (_text(value),)
    if not isinstance(value, list):
        raise PydanticCustomError(
            "text_list",
            "must be a line of text or a list of lines, got {got}",
            {"got": type(value).__name__},
        )
    return tuple(_text(item, i) for i, item in enumerate(value))


def _remaining(value: object) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise PydanticCustomError(
            "remaining",
            "must be a list of seconds before the end of a hold, e.g. [30, 10]",
        )
    return tuple(sorted({_seconds(v) for v in value}, reverse=True))


Seconds = Annotated[float, PlainValidator(_seconds)]
PauseSeconds = Annotated[float, PlainValidator(_pause_seconds)]
Text = Annotated[str, PlainValidator(_text)]
TextList = Annotated[tuple[str, ...], PlainValidator(_text_list)]
Remaining = Annotated[tuple[float, ...], PlainValidator(_remaining)]


# --- the file's shape -----------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _StepKeys(_Strict):
    """Keys an exercise may set, and `defaults` for every exercise."""

    countdown: int | None = Field(None, ge=0, le=MAX_COUNTDOWN)
    remaining: Remaining | None = None
    halfway: bool | None = None
    chimes: bool | None = None
    settle: PauseSeconds | None = None
    recover: PauseSeconds | None = None


class DefaultsFile(_StepKeys):
    hold: Seconds = 30.0


class VoiceFile(_Strict):
    engine: str | None = None
    voice: str | None = None
    rate: int | None = Field(None, ge=80, le=450)
    volume: float | None = Field(None, ge=0.0, le=1.0)


class ExerciseFile(_StepKeys):
    name: Text
    setup: TextList = ()
    hold: Seconds | None = None
    during: TextList = ()
    release: Text | None = None
    sides: list[Literal["left", "right"]] | None = Field(None, min_length=1, max_length=2)
    reps: int = Field(1, ge=1, le=MAX_REPS)
    between: Text | None = None


class RampFile(_Strict):
    start: float = Field(gt=0)
    add: float = Field(gt=0)
    every: Literal["week", "session"] = "week"
    max: float = Field(gt=0)


class ProgressionFile(_Strict):
    hold: RampFile | None = None
    reps: RampFile | None = None


def progression_from_file(p: ProgressionFile | None) -> Progression | None:
    """The domain value of a validated `progression:` mapping."""
    if p is None:
        return None

    def ramp(r: RampFile | None) -> Ramp | None:
        return Ramp(r.start, r.add, r.every, r.max) if r else None

    return Progression(hold=ramp(p.hold), reps=ramp(p.reps))


def ramp_problems(p: ProgressionFile | None) -> list[tuple[Path_, str]]:
    """Checks that span a ramp's keys: ranges that make sense for holds and reps."""
    out: list[tuple[Path_, str]] = []
    if p is None:
        return out
    for key, hi in (("hold", MAX_SECONDS), ("reps", MAX_REPS)):
        r = getattr(p, key)
        if r is None:
            continue
        if r.max < r.start:
            out.append(((key, "max"), f"must be at least `start` ({r.start:g}), got {r.max:g}"))
        if r.max > hi:
            out.append(((key, "max"), f"must be at most {hi}, got {r.max:g}"))
    return out


class RestFile(_Strict):
    rest: Seconds


def _language(value: object) -> str:
    if not isinstance(value, str) or not LANGUAGE.fullmatch(value):
        raise PydanticCustomError(
            "language",
            "must be a language code such as en, de, es, fr or pt-BR, got {got}",
            {"got": repr(value)},
        )
    return value


def _phrases(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "phrases", "must map phrase names to text, e.g. {hold: And hold it there.}"
        )
    out = {}
    for key, text in value.items():
        if key not in OVERRIDABLE:
            raise PydanticCustomError(
                "phrases",
                "unknown phrase '{key}'; allowed: {allowed}",
                {"key": key, "allowed": ", ".join(OVERRIDABLE)},
            )
        checked = _text(text)
        extra = placeholders(checked) - OVERRIDABLE[key]
        if extra:
            allowed = ", ".join("{" + p + "}" for p in sorted(OVERRIDABLE[key])) or "none"
            raise PydanticCustomError(
                "phrases",
                "{key}: unknown placeholder {bad}; allowed here: {allowed}",
                {"key": key, "bad": "{" + sorted(extra)[0] + "}", "allowed": allowed},
            )
        out[str(key)] = checked
    return out


LANGUAGE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*")
Language = Annotated[str, PlainValidator(_language)]
PhraseOverrides = Annotated[dict[str, str], PlainValidator(_phrases)]


class RoutineFile(_Strict):
    title: Text
    description: str = Field("", max_length=2000)
    intro: TextList = ()
    defaults: DefaultsFile = DefaultsFile()
    voice: VoiceFile = VoiceFile()
    progression: ProgressionFile | None = None
    language: Language | None = None
    phrases: PhraseOverrides = Field(default_factory=dict)
    steps: list[Any] = Field(min_length=1)


_ALLOWED_KEYS: dict[tuple[str | int, ...], type[BaseModel]] = {
    (): RoutineFile,
    ("defaults",): DefaultsFile,
    ("voice",): VoiceFile,
    ("progression",): ProgressionFile,
    ("progression", "hold"): RampFile,
    ("progression", "reps"): RampFile,
}


# --- line numbers ---------------------------------------------------------------

Path_ = tuple[str | int, ...]


def walk_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Iterator[Problem]:
    """Record the line of every key and item; yield a problem per duplicate key."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            sub = (*path, key)
            if key in seen:
                yield Problem("", key_node.start_mark.line + 1, dotted(sub), "duplicate key")
            seen.add(key)
            lines[sub] = key_node.start_mark.line + 1
            yield from walk_lines(value_node, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            lines[sub] = item.start_mark.line + 1
            yield from walk_lines(item, sub, lines)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


# --- turning pydantic's errors into ours ----------------------------------------


def schema_problems(
    exc: PydanticValidationError,
    base: Path_,
    source: str,
    lines: dict[Path_, int],
    model: type[BaseModel],
) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc: Path_ = (*base, *err["loc"])
        ctx = err.get("ctx") or {}
        if "index" in ctx:
            loc = (*loc, int(ctx["index"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            owner = model if base else _ALLOWED_KEYS.get(loc[:-1], model)
            allowed = ", ".join(owner.model_fields)
            msg = f"unknown key; allowed keys here: {allowed}"
        elif kind == "missing":
            msg = "is required but missing"
        elif kind == "literal_error":
            msg = f"must be one of {ctx.get('expected')}, got {err['input']!r}"
        elif kind == "too_short" and loc[-1] == "steps":
            msg = "must list at least one step"
        elif kind in (
            "int_type",
            "bool_type",
            "float_type",
            "string_type",
            "list_type",
            "dict_type",
            "model_type",
        ):
            expected = {
                "int_type": "a whole number",
                "bool_type": "true or false",
                "float_type": "a number",
                "string_type": "text",
                "list_type": "a list",
                "dict_type": "a mapping of keys",
                "model_type": "a mapping of keys",
            }[kind]
            msg = f"must be {expected}, got {err['input']!r}"
        else:
            msg = err["msg"].replace("Input should be", "must be")
            if kind in ("greater_than_equal", "less_than_equal", "too_long", "too_short"):
                msg += f", got {err['input']!r}"
        problems.append(Problem(source, line_of(lines, loc), dotted(loc), msg))
    return problems


# --- public API -----------------------------------------------------------------


def load_routine(path: Path | str) -> Routine:
    """Read and validate one routine script; raise `ValidationError` listing all problems."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            [Problem(str(path), None, "", f"cannot read: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise ValidationError([Problem(str(path), None, "", "is not UTF-8 text")]) from None
    return parse_routine(text, source=str(path), slug=path.stem)


def read_yaml(text: str, source: str) -> tuple[Any, dict[Path_, int], list[Problem]]:
    """The data (safe loader) plus the line of every key and item, and duplicate-key
    problems."""
    try:
        data = yamlsafe.load(text)
        node = yamlsafe.compose(text)
    except yamlsafe.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        hint = ""
        if "'{'" in str(exc.problem):
            hint = (
                "; text with a {placeholder} inside [ ] or { } must be quoted, "
                "or written as a block list (one '- line' per line)"
            )
        raise ValidationError(
            [Problem(source, line, "", f"not valid YAML: {exc.problem}{hint}")]
        ) from None
    except yamlsafe.YAMLError as exc:
        raise ValidationError([Problem(source, None, "", f"not valid YAML: {exc}")]) from None
    lines: dict[Path_, int] = {}
    problems = [
        Problem(source, p.line, p.key, p.message)
        for p in (walk_lines(node, (), lines) if node is not None else ())
    ]
    return data, lines, problems


def parse_routine(text: str, source: str = "<text>", slug: str = "routine") -> Routine:
    """Validate a routine script given as text."""
    data, lines, problems = read_yaml(text, source)
    if not isinstance(data, dict):
        problems.append(
            Problem(
                source,
                1,
                "",
                "a routine script must be a mapping with at least `title` and `steps`",
            )
        )
        raise ValidationError(problems)

    routine_file: RoutineFile | None = None
    try:
        routine_file = RoutineFile.model_validate(data)
    except PydanticValidationError as exc:
        problems += schema_problems(exc, (), source, lines, RoutineFile)

    steps: list[Step] = []
    raw_steps = data.get("steps")
    defaults = routine_file.defaults if routine_file else DefaultsFile()
    if isinstance(raw_steps, list):
        for i, raw in enumerate(raw_steps):
            step, step_problems = _parse_step(raw, i, defaults, source, lines)
            problems += step_problems
            if step is not None:
                steps.append(step)

    if routine_file is not None:
        for sub, msg in ramp_problems(routine_file.progression):
            path = ("progression", *sub)
            problems.append(Problem(source, line_of(lines, path), dotted(path), msg))
    if problems or routine_file is None:
        raise ValidationError(sorted(problems, key=lambda p: (p.line or 0, p.key)))

    v = routine_file.voice
    return Routine(
        title=routine_file.title,
        description=routine_file.description.strip(),
        intro=routine_file.intro,
        steps=tuple(steps),
        voice=VoiceSettings(
            engine=v.engine,
            voice=v.voice,
            rate_wpm=v.rate,
            volume=v.volume,
            language=routine_file.language,
        ),
        progression=progression_from_file(routine_file.progression),
        language=routine_file.language,
        phrases=tuple(routine_file.phrases.items()),
        slug=slug,
        source=source,
    )


def _parse_step(
    raw: object, index: int, defaults: DefaultsFile, source: str, lines: dict[Path_, int]
) -> tuple[Step | None, list[Problem]]:
    base: Path_ = ("steps", index)
    line = line_of(lines, base) or 0
    if not isinstance(raw, dict):
        return None, [
            Problem(
                source,
                line,
                dotted(base),
                "each step must be a mapping: an exercise (with `name`) "
                "or a rest (`rest: SECONDS`)",
            )
        ]
    if "rest" in raw and "name" not in raw:
        try:
            rest = RestFile.model_validate(raw)
        except PydanticValidationError as exc:
            return None, schema_problems(exc, base, source, lines, RestFile)
        return Rest(rest_s=rest.rest, line=line), []
    try:
        ex = ExerciseFile.model_validate(raw)
    except PydanticValidationError as exc:
        return None, schema_problems(exc, base, source, lines, ExerciseFile)

    problems = []
    texts: list[tuple[Path_, str]] = [((*base, "name"), ex.name)]
    texts += [((*base, "setup", i), t) for i, t in enumerate(ex.setup)]
    texts += [((*base, "during", i), t) for i, t in enumerate(ex.during)]
    texts += [((*base, key), t) for key in ("release", "between") if (t := getattr(ex, key))]
    for path, text in texts:
        for name in PLACEHOLDER.findall(text):
            if name not in SIDE_PLACEHOLDERS:
                msg = f"unknown placeholder {{{name}}}; allowed: {{side}}, {{other}}"
            elif not ex.sides:
                msg = f"uses {{{name}}} but the step has no `sides`; add e.g. sides: [right, left]"
            else:
                continue
            problems.append(Problem(source, line_of(lines, path), dotted(path), msg))
    if ex.sides and len(set(ex.sides)) != len(ex.sides):
        problems.append(
            Problem(
                source,
                line_of(lines, (*base, "sides")),
                dotted((*base, "sides")),
                "lists a side twice; allowed: [left], [right], [left, right] or [right, left]",
            )
        )
    if problems:
        return None, problems

    def pick(key: str, built_in: Any) -> Any:
        """The step's own value of `key`, else the `defaults` one, else `built_in`."""
        for value in (getattr(ex, key), getattr(defaults, key)):
            if value is not None:
                return value
        return built_in

    base_cues = CueOptions()
    cues = CueOptions(
        countdown=pick("countdown", base_cues.countdown),
        remaining_s=pick("remaining", base_cues.remaining_s),
        halfway=pick("halfway", base_cues.halfway),
        chimes=pick("chimes", base_cues.chimes),
    )
    return Exercise(
        name=ex.name,
        hold_s=ex.hold if ex.hold is not None else defaults.hold,
        setup=ex.setup,
        during=ex.during,
        release=ex.release,
        sides=tuple(ex.sides or ()),
        reps=ex.reps,
        between=ex.between,
        cues=cues,
        settle_s=pick("settle", DEFAULT_SETTLE_S),
        recover_s=pick("recover", DEFAULT_RECOVER_S),
        line=line,
    ), []
