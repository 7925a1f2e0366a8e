"""Read a routine script (YAML) into a `Routine`, reporting every problem at once.

The file is parsed in exactly one place (`yamlsafe`): the safe loader for the values, and the
same safe loader's node tree for line numbers. A strict schema (pydantic, unknown
keys forbidden) checks shapes; a second pass checks what spans keys ({side} needs
`sides`). Every problem becomes a `Problem` with file, line, key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from ..errors import Problem, ValidationError
from ..phrases import ENGLISH, OVERRIDABLE, placeholders
from ..settings.layers import BED_DUCK_RANGE_DB, BED_LEVEL_RANGE_LU, file_bed, pace_bed, parse_bed
from . import yamlsafe
from .model import (
    DEFAULT_BED_DUCK_DB,
    DEFAULT_BED_LEVEL_LU,
    DEFAULT_RECOVER_S,
    DEFAULT_SETTLE_S,
    MAX_COUNT,
    MAX_INSTRUCTION_CHARS,
    MAX_PAUSE_S,
    MAX_SECONDS,
    MAX_TEXT_CHARS,
    PACE_RANGE_SPM,
    Beat,
    Bed,
    BedLevels,
    Count,
    CueOptions,
    Exercise,
    Flow,
    Pace,
    Progression,
    Ramp,
    Rest,
    Routine,
    Step,
    VoiceSettings,
)
from .textsplit import UnbreakableText, split_for_speech

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SIDE_PLACEHOLDERS = {"side", "other"}
MIN_PERIOD_S = 1
MAX_BEAT_S = 300
"""Longest beat of a flow, or tempo of a count: five minutes."""
MAX_REPS = 50
MAX_COUNTDOWN = 10
MAX_BEATS = 20
"""Most lines in one round of a flow."""
MAX_ROUNDS = 100

# --- value checks (each raises a message that says what is allowed) -------------


def _number_from(lo: float, hi: float, unit: str, hi_words: str = "") -> Callable[[object], float]:
    """A check for a number of `unit` from `lo` to `hi` ("3 hours": `hi` in words)."""
    note = f" ({hi_words})" if hi_words else ""

    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PydanticCustomError(
                "number",
                "must be a number of {unit}, got {got}",
                {"unit": unit, "got": repr(value)},
            )
        if not lo <= value <= hi:
            raise PydanticCustomError(
                "number",
                "must be from {lo} to {hi} {unit}{note}, got {got}",
                {"lo": lo, "hi": hi, "unit": unit, "note": note, "got": value},
            )
        return float(value)

    return check


_seconds = _number_from(MIN_PERIOD_S, MAX_SECONDS, "seconds", "3 hours")
"""A hold or rest."""
_pause_seconds = _number_from(0, MAX_PAUSE_S, "seconds", "5 minutes")
"""A settle or recover time."""
_beat_seconds = _number_from(MIN_PERIOD_S, MAX_BEAT_S, "seconds", "5 minutes")
"""A beat of a flow, or the tempo of a count."""
_bed_level = _number_from(*BED_LEVEL_RANGE_LU, "LU")
_bed_duck = _number_from(*BED_DUCK_RANGE_DB, "dB")


def _bed(value: object, info: ValidationInfo) -> Bed:
    """A bed as a script or profile writes it: a word or a path (`settings.parse_bed`),
    `{pace: SPM}` or `{file: PATH}`; a relative path is relative to the folder in the
    validation context (the script's or the profile's). `where` is left to the caller,
    who knows the line."""
    folder = (info.context or {}).get("folder")
    if value is False:  # YAML 1.1 reads a bare `off` (or `no`) as false
        return Bed("off")
    try:
        if isinstance(value, str):
            return parse_bed(value, "", folder)
        if isinstance(value, dict) and list(value) == ["pace"]:
            return pace_bed(value["pace"], "")
        if isinstance(value, dict) and list(value) == ["file"]:
            path = value["file"]
            if not isinstance(path, str):
                raise ValueError(f"file must be the path of a sound file, got {path!r}")
            return file_bed(path, "", folder)
    except ValueError as exc:
        raise PydanticCustomError("bed", "{why}", {"why": str(exc)}) from None
    lo, hi = PACE_RANGE_SPM
    allowed = (
        f"rain, drone, off, {{pace: STEPS_PER_MINUTE}} ({lo} to {hi}), {{file: PATH}} or the "
        "path of a sound file"
    )
    raise PydanticCustomError("bed", "{why}", {"why": f"must be {allowed}; got {value!r}"})


def _string(value: object, limit: int, ctx: dict[str, Any]) -> str:
    """`value` as non-empty text of at most `limit` characters."""
    if not isinstance(value, str):
        raise PydanticCustomError(
            "text", "must be text, got {got}", {**ctx, "got": type(value).__name__}
        )
    if not value.strip():
        raise PydanticCustomError("text", "must not be empty", ctx)
    if len(value) > limit:
        raise PydanticCustomError(
            "text",
            "is {n} characters long; at most {limit} are allowed here",
            {**ctx, "n": len(value), "limit": limit},
        )
    return value


def _text(value: object, index: int | None = None) -> str:
    """One spoken line, said as it is (a name, a flow line)."""
    ctx: dict[str, Any] = {} if index is None else {"index": index}
    return _string(value, MAX_TEXT_CHARS, ctx).strip()


def _instruction(value: object, index: int | None = None) -> tuple[str, ...]:
    """An instruction of any reasonable length, as the lines it is spoken in."""
    ctx: dict[str, Any] = {} if index is None else {"index": index}
    try:
        pieces = split_for_speech(_string(value, MAX_INSTRUCTION_CHARS, ctx))
    except UnbreakableText as exc:
        raise PydanticCustomError(
            "text",
            "has {n} characters with no sentence end or clause break ({start}...); at most "
            "{limit} are allowed without one: end a sentence with . ! or ?, or break it "
            "with a comma, ; or :",
            {**ctx, "n": len(exc.run), "start": repr(exc.run[:40]), "limit": MAX_TEXT_CHARS},
        ) from None
    if not pieces:
        raise PydanticCustomError("text", "must not be empty", ctx)
    return pieces


def _instructions(value: object) -> tuple[tuple[str, ...], ...]:
    if isinstance(value, str):
        return (_instruction(value),)
    if not isinstance(value, list):
        raise PydanticCustomError(
            "text_list",
            "must be a line of text or a list of lines, got {got}",
            {"got": type(value).__name__},
        )
    return tuple(_instruction(item, i) for i, item in enumerate(value))


def _remaining(value: object) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise PydanticCustomError(
            "remaining",
            "must be a list of seconds before the end of a hold, e.g. [30, 10]",
        )
    return tuple(sorted({_seconds(v) for v in value}, reverse=True))


def _steps(value: object) -> list[Any]:
    """The steps as a list; each is checked on its own (`parse_step`), for its messages."""
    if not isinstance(value, list):
        raise PydanticCustomError(
            "steps", "must be a list of steps, got {got}", {"got": type(value).__name__}
        )
    if not value:
        raise PydanticCustomError("steps", "must list at least one step")
    return value


def _number_schema(lo: float, hi: float) -> WithJsonSchema:
    return WithJsonSchema({"type": "number", "minimum": lo, "maximum": hi})


def _text_schema(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": "\\S"}


_INSTRUCTION_SCHEMA = _text_schema(MAX_INSTRUCTION_CHARS)
Seconds = Annotated[float, PlainValidator(_seconds), _number_schema(MIN_PERIOD_S, MAX_SECONDS)]
PauseSeconds = Annotated[float, PlainValidator(_pause_seconds), _number_schema(0, MAX_PAUSE_S)]
BeatSeconds = Annotated[
    float, PlainValidator(_beat_seconds), _number_schema(MIN_PERIOD_S, MAX_BEAT_S)
]
Text = Annotated[str, PlainValidator(_text), WithJsonSchema(_text_schema(MAX_TEXT_CHARS))]
Instruction = Annotated[
    tuple[str, ...], PlainValidator(_instruction), WithJsonSchema(_INSTRUCTION_SCHEMA)
]
"""One text, split into the lines it is spoken in."""
Instructions = Annotated[
    tuple[tuple[str, ...], ...],
    PlainValidator(_instructions),
    WithJsonSchema(
        {"anyOf": [_INSTRUCTION_SCHEMA, {"type": "array", "items": _INSTRUCTION_SCHEMA}]}
    ),
]
"""A text or a list of texts, each split into the lines it is spoken in."""
_PACE_LIKE = r"^\s*pace(\s*:|\s|$)"
"""Text that asks for a pace click (`settings.parse_bed`), well written or not."""
_PACE_OK = r"^\s*pace(\s*:\s*|\s+)((4\d|[5-9]\d|1\d\d)(\.\d+)?|200(\.0+)?)\s*$"
"""A pace click in words at 40 to 200 steps per minute (`PACE_RANGE_SPM`)."""
_PATH_SCHEMA = {"type": "string", "minLength": 1, "pattern": "\\S"}
BedValue = Annotated[
    Bed,
    PlainValidator(_bed),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": ["rain", "drone", "off", False]},
                {"type": "string", "pattern": _PACE_OK},
                {**_PATH_SCHEMA, "not": {"pattern": _PACE_LIKE}},
                {
                    "type": "object",
                    "properties": {
                        "pace": {
                            "type": "number",
                            "minimum": PACE_RANGE_SPM[0],
                            "maximum": PACE_RANGE_SPM[1],
                            "description": "Steps per minute.",
                        }
                    },
                    "required": ["pace"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {"file": {**_PATH_SCHEMA, "description": "A sound file."}},
                    "required": ["file"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
"""rain, drone, off, a pace click or a sound file (see `_bed`)."""
BedLevel = Annotated[float, PlainValidator(_bed_level), _number_schema(*BED_LEVEL_RANGE_LU)]
BedDuck = Annotated[float, PlainValidator(_bed_duck), _number_schema(*BED_DUCK_RANGE_DB)]
Remaining = Annotated[
    tuple[float, ...],
    PlainValidator(_remaining),
    WithJsonSchema(
        {"type": "array", "items": {"type": "number", "minimum": 1, "maximum": MAX_SECONDS}}
    ),
]


# --- the file's shape -----------------------------------------------------------
# Every key has a description and an example: they are the JSON Schema editors show
# (`voice-coach schema`), from the same models that check the files.


_STEP_BED = (
    "The sound bed under this step, instead of the routine's `bed` (same values); off: none here."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _StepKeys(_Strict):
    """Keys an exercise may set, and `defaults` for every exercise."""

    countdown: int | None = Field(
        None,
        ge=0,
        le=MAX_COUNTDOWN,
        description='How many of "Three, two, one" end each hold or flow (0: none). Default 3.',
        examples=[5],
    )
    remaining: Remaining | None = Field(
        None,
        description='Seconds before the end of each hold at which "N seconds left" is said. '
        "Default [10].",
        examples=[[30, 10]],
    )
    halfway: bool | None = Field(
        None, description='Say "Halfway there" in the middle of each hold.', examples=[True]
    )
    chimes: bool | None = Field(
        None,
        description="Short tones at the start and end of each hold, flow or count. Default true.",
        examples=[False],
    )
    settle: PauseSeconds | None = Field(
        None,
        description='Seconds of quiet to get into position, from the last line to "Hold" '
        "(or the first beat). Default 2.5.",
        examples=[5],
    )
    recover: PauseSeconds | None = Field(
        None,
        description="Seconds of quiet after each release, before the next line. Default 3.",
        examples=[5],
    )


class DefaultsFile(_StepKeys):
    """Settings for every exercise that does not set its own."""

    hold: Seconds = Field(
        30.0, description="Seconds of each hold, for exercises without their own.", examples=[45]
    )


class VoiceFile(_Strict):
    """How the cues are spoken (`voice-coach voices` lists engines and voices)."""

    engine: str | None = Field(
        None, description="Speech engine: piper, pyttsx3 or espeak-ng.", examples=["piper"]
    )
    voice: str | None = Field(
        None, description="A voice of the engine, by id or name.", examples=["en-us"]
    )
    rate: int | None = Field(
        None, ge=80, le=450, description="Speaking rate in words per minute.", examples=[150]
    )
    volume: float | None = Field(None, ge=0.0, le=1.0, description="0 to 1.", examples=[0.9])


class BeatFile(_Strict):
    """One line of a flow and the time it has."""

    say: Text = Field(
        description="The line, spoken at the start of its beat; it must fit in `secs`.",
        examples=["Breathe in, let your belly sink, lift your chest."],
    )
    secs: BeatSeconds = Field(
        description="Seconds from this line to the next one (a breath in, a breath out).",
        examples=[4],
    )


# What a step does is one of these keys (none: a hold of `defaults.hold`); a key of one
# kind does not go with another. The loader's checks and the JSON Schema both come from
# these two tables.
REQUIRES: dict[str, tuple[str, str]] = {
    "rounds": ("flow", "`rounds` counts the rounds of a `flow`, and this step has none"),
    "say": ("count", "`say` is spoken before each number of a `count`, and this step has none"),
    "tempo": ("count", "`tempo` paces a `count`, and this step has none"),
    "count": ("tempo", "a `count` needs `tempo`, the seconds per rep, e.g. tempo: 3"),
}
"""key -> (the key it needs, the message when that is missing)."""
EXCLUDES: dict[str, tuple[tuple[str, ...], str]] = {
    "hold": (("flow", "count"), "a step has one of `hold`, `flow` or `count`, not both"),
    "flow": (("count",), "a step has one of `hold`, `flow` or `count`, not both"),
    "during": (("flow", "count"), "`during` lines go inside a hold, not a flow or a count"),
    "remaining": (("flow", "count"), "`remaining` marks a hold, not a flow or a count"),
    "halfway": (("flow", "count"), "`halfway` marks a hold, not a flow or a count"),
    "countdown": (("count",), "a `count` counts its reps aloud; `countdown` is for holds"),
}
"""key -> (keys it does not go with, the message when both are there)."""


def step_key_problems(keys: set[str]) -> list[tuple[str, str]]:
    """(key, message) for every rule of `REQUIRES` and `EXCLUDES` that `keys` break."""
    out = [(k, msg) for k, (need, msg) in REQUIRES.items() if k in keys and need not in keys]
    for key, (others, msg) in EXCLUDES.items():
        out += [(key, f"{msg}: this one has `{key}` and `{o}`") for o in others if {key, o} <= keys]
    return out


def _step_rules_schema() -> dict[str, Any]:
    return {
        "dependentRequired": {k: [need] for k, (need, _) in REQUIRES.items()},
        "allOf": [
            # errorMessage: the loader's words, for editors that show it (YAML language server).
            {"not": {"required": [key, other]}, "errorMessage": f"{msg}: `{key}` and `{other}`"}
            for key, (others, msg) in EXCLUDES.items()
            for other in others
        ],
    }


class ExerciseFile(_StepKeys):
    """An exercise: spoken set-up, then a hold (or a flow, or a count), then a release."""

    model_config = ConfigDict(**_Strict.model_config, json_schema_extra=_step_rules_schema())

    name: Text = Field(
        description="The exercise's name: spoken first, and its chapter title.",
        examples=["Piriformis stretch"],
    )
    setup: Instructions = Field(
        (),
        description="How to get into position, spoken before the (first) hold of each side. "
        "A text or a list; long texts are split into sentences.",
        examples=[["Lie on your back.", "Cross your {side} ankle over your {other} knee."]],
    )
    hold: Seconds | None = Field(
        None,
        description="Seconds of each hold, from the onset of 'Hold' to the release. "
        "Default: defaults.hold. Not with `flow` or `count`.",
        examples=[30],
    )
    during: Instructions = Field(
        (),
        description="Spoken inside each hold, spread over it; dropped with a warning "
        "where they do not fit.",
        examples=[["Breathe slowly.", "Don't force it."]],
    )
    flow: list[BeatFile] | None = Field(
        None,
        min_length=1,
        max_length=MAX_BEATS,
        description="Lines paced by the breath, instead of a hold: each line starts exactly "
        "`secs` after the one before, round after round.",
        examples=[
            [
                {"say": "Breathe in, lift your chest.", "secs": 4},
                {"say": "Breathe out, round your back.", "secs": 4},
            ]
        ],
    )
    rounds: int | None = Field(
        None, ge=1, le=MAX_ROUNDS, description="Rounds of the `flow`. Default 1.", examples=[6]
    )
    count: int | None = Field(
        None,
        ge=1,
        le=MAX_COUNT,
        description='Reps counted aloud, "One" to this number, instead of a hold; needs `tempo`.',
        examples=[10],
    )
    tempo: BeatSeconds | None = Field(
        None, description="Seconds per counted rep, from one number to the next.", examples=[3]
    )
    say: Text | None = Field(
        None,
        description="A short line spoken before each number of a `count`, if it fits.",
        examples=["Lift your hips."],
    )
    release: Instruction | None = Field(
        None,
        description="Spoken exactly when each hold ends. Default 'And release.'",
        examples=["Gently lower your legs."],
    )
    sides: list[Literal["left", "right"]] | None = Field(
        None,
        min_length=1,
        max_length=2,
        description="One round per side, in this order, with 'Switch sides.' between; "
        "lets texts use {side} and {other}.",
        examples=[["right", "left"]],
        json_schema_extra={"uniqueItems": True},
    )
    reps: int = Field(
        1, ge=1, le=MAX_REPS, description="Holds (or flows, or counts) per side.", examples=[3]
    )
    between: Instruction | None = Field(
        None,
        description="Spoken between reps. Default 'Once more.'",
        examples=["Each time, reach a little further."],
    )
    bed: BedValue | None = Field(
        None,
        description=_STEP_BED,
        examples=[{"pace": 115}, "off"],
    )


class RampFile(_Strict):
    """A value that grows by stages: start, start + add, ... up to max."""

    start: float = Field(gt=0, description="The value at the first stage.", examples=[20])
    add: float = Field(gt=0, description="Added at every next stage.", examples=[5])
    every: Literal["week", "session"] = Field(
        "week",
        description="What a stage is: a week since the first session, or a finished session.",
        examples=["session"],
    )
    max: float = Field(gt=0, description="The value never grows past this.", examples=[60])


class ProgressionFile(_Strict):
    """Start gently, build up: holds and reps that grow with your practice."""

    hold: RampFile | None = Field(
        None,
        description="Seconds of every hold, by stage.",
        examples=[{"start": 20, "add": 5, "every": "week", "max": 60}],
    )
    reps: RampFile | None = Field(
        None,
        description="Reps of every exercise, by stage.",
        examples=[{"start": 1, "add": 1, "every": "session", "max": 3}],
    )


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
    """A rest between exercises: "Rest for 20 seconds." and a preview of what is next."""

    rest: Seconds = Field(description="Seconds of rest.", examples=[20])
    bed: BedValue | None = Field(None, description=_STEP_BED, examples=["off"])


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
Language = Annotated[
    str,
    PlainValidator(_language),
    WithJsonSchema({"type": "string", "pattern": f"^{LANGUAGE.pattern}$"}),
]
PhraseOverrides = Annotated[
    dict[str, str],
    PlainValidator(_phrases),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                key: {
                    **_text_schema(MAX_TEXT_CHARS),
                    "description": f"Instead of {getattr(ENGLISH, key)!r}; placeholders: "
                    + (", ".join("{" + p + "}" for p in sorted(names)) or "none"),
                    "examples": [getattr(ENGLISH, key)],
                }
                for key, names in OVERRIDABLE.items()
            },
            "additionalProperties": False,
        }
    ),
]
Steps = Annotated[
    list[Any],
    PlainValidator(_steps, json_schema_input_type=list[ExerciseFile | RestFile]),
]


class RoutineFile(_Strict):
    """A voice_coach routine script: spoken, timed cues for stretching and exercise."""

    title: Text = Field(
        description="Spoken first; the export's title.", examples=["Sciatica relief"]
    )
    description: str = Field(
        "",
        max_length=2000,
        description="For people reading the list of routines; not spoken.",
        examples=["Gentle stretches for the lower back."],
    )
    intro: Instructions = Field(
        (),
        description="Spoken after the title, before the first step (a safety note, say).",
        examples=[["Check with your doctor before you begin."]],
    )
    defaults: DefaultsFile = Field(
        DefaultsFile(),
        description="Hold time and cues for the exercises that do not set their own.",
        examples=[{"hold": 30, "countdown": 3, "remaining": [10]}],
    )
    voice: VoiceFile = Field(
        VoiceFile(),
        description="How the cues are spoken.",
        examples=[{"engine": "piper", "rate": 150}],
    )
    progression: ProgressionFile | None = Field(
        None,
        description="Holds and reps that build up week by week, or session by session.",
        examples=[{"hold": {"start": 20, "add": 5, "every": "week", "max": 60}}],
    )
    language: Language | None = Field(
        None,
        description="Language of the texts: picks the cue words and a voice.",
        examples=["de"],
    )
    phrases: PhraseOverrides = Field(
        default_factory=dict,
        description="Your own words for the fixed cues.",
        examples=[{"hold": "And hold it there."}],
    )
    bed: BedValue | None = Field(
        None,
        description="A sound bed under the cues, ducked under each one: rain or drone (made "
        "with no file), {pace: STEPS_PER_MINUTE} (a click, 40 to 200), {file: PATH} or "
        "the path of a sound file (relative to this script's folder); off: no bed. "
        "Steps may change it with their own `bed`.",
        examples=["rain", {"pace": 110}, {"file": "music/calm.mp3"}],
    )
    bed_level: BedLevel = Field(
        DEFAULT_BED_LEVEL_LU,
        description="The bed's level in LU relative to the speech, -40 to 0 (as loud as the "
        "speech). Default -20.",
        examples=[-24],
    )
    bed_duck: BedDuck = Field(
        DEFAULT_BED_DUCK_DB,
        description="dB the bed drops under every cue and chime, 0 to 40. Default 12.",
        examples=[18],
    )
    steps: Steps = Field(
        description="Exercises (with `name`) and rests (`rest: SECONDS`), in order.",
        examples=[[{"name": "Knee hug", "hold": 45}, {"rest": 20}]],
        json_schema_extra={"minItems": 1},
    )


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
            owner = _ALLOWED_KEYS.get(loc[:-1], model) if not base else model
            if base and "flow" in loc[len(base) : -1]:
                owner = BeatFile
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
    return parse_routine(text, source=str(path), slug=path.stem, folder=path.resolve().parent)


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


def parse_routine(
    text: str, source: str = "<text>", slug: str = "routine", folder: Path | None = None
) -> Routine:
    """Validate a routine script given as text; a sound file it names is relative to
    `folder` (None: the current directory)."""
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
        routine_file = RoutineFile.model_validate(data, context={"folder": folder})
    except PydanticValidationError as exc:
        problems += schema_problems(exc, (), source, lines, RoutineFile)

    steps: list[Step] = []
    raw_steps = data.get("steps")
    defaults = routine_file.defaults if routine_file else DefaultsFile()
    if isinstance(raw_steps, list):
        for i, raw in enumerate(raw_steps):
            step, step_problems = _parse_step(raw, i, defaults, source, lines, folder)
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
    bed = placed_bed(routine_file.bed, source, lines, ("bed",))
    return Routine(
        title=routine_file.title,
        description=routine_file.description.strip(),
        intro=tuple(piece for text in routine_file.intro for piece in text),
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
        bed=None if bed is None or bed.kind == "off" else bed,
        bed_levels=BedLevels(routine_file.bed_level, routine_file.bed_duck),
        slug=slug,
        source=source,
    )


def placed_bed(bed: Bed | None, source: str, lines: dict[Path_, int], path: Path_) -> Bed | None:
    """`bed` (as validated) saying where it was written: `source`, the line of `path`."""
    if bed is None:
        return None
    line = line_of(lines, path)
    return dataclasses.replace(bed, where=f"{source}:{line}" if line else source)


def _parse_step(
    raw: object,
    index: int,
    defaults: DefaultsFile,
    source: str,
    lines: dict[Path_, int],
    folder: Path | None,
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
            rest = RestFile.model_validate(raw, context={"folder": folder})
        except PydanticValidationError as exc:
            return None, schema_problems(exc, base, source, lines, RestFile)
        bed = placed_bed(rest.bed, source, lines, (*base, "bed"))
        return Rest(rest_s=rest.rest, bed=bed, line=line), []

    def problem(path: Path_, message: str) -> Problem:
        return Problem(source, line_of(lines, path), dotted(path), message)

    problems = [problem((*base, k), msg) for k, msg in step_key_problems(set(map(str, raw)))]
    try:
        ex = ExerciseFile.model_validate(raw, context={"folder": folder})
    except PydanticValidationError as exc:
        return None, problems + schema_problems(exc, base, source, lines, ExerciseFile)

    texts = _step_texts(ex, base)
    for path, text in texts:
        for name in PLACEHOLDER.findall(text):
            if name not in SIDE_PLACEHOLDERS:
                msg = f"unknown placeholder {{{name}}}; allowed: {{side}}, {{other}}"
            elif not ex.sides:
                msg = f"uses {{{name}}} but the step has no `sides`; add e.g. sides: [right, left]"
            else:
                continue
            problems.append(problem(path, msg))
    if ex.sides and len(set(ex.sides)) != len(ex.sides):
        problems.append(
            problem(
                (*base, "sides"),
                "lists a side twice; allowed: [left], [right], [left, right] or [right, left]",
            )
        )
    pace = _pace(ex)
    if pace is not None:
        length_s = pace.length_s
        if length_s > MAX_SECONDS:
            key = "flow" if isinstance(pace, Flow) else "count"
            problems.append(
                problem(
                    (*base, key),
                    f"lasts {length_s:g} s in all; at most {MAX_SECONDS} s (3 hours) is allowed",
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
        hold_s=ex.hold if ex.hold is not None else defaults.hold,  # a pace sets its own
        setup=tuple(piece for text in ex.setup for piece in text),
        during=ex.during,
        release=ex.release or (),
        sides=tuple(ex.sides or ()),
        reps=ex.reps,
        between=ex.between or (),
        cues=cues,
        settle_s=pick("settle", DEFAULT_SETTLE_S),
        recover_s=pick("recover", DEFAULT_RECOVER_S),
        pace=pace,
        bed=placed_bed(ex.bed, source, lines, (*base, "bed")),
        line=line,
        text_lines=tuple((text, line_of(lines, path) or line) for path, text in texts),
    ), []


def _pace(ex: ExerciseFile) -> Pace | None:
    """The flow or count a validated step has instead of a hold, if any."""
    if ex.flow is not None:
        beats = tuple(Beat(b.say, b.secs) for b in ex.flow)
        return Flow(beats, ex.rounds or 1)
    if ex.count is not None and ex.tempo is not None:
        return Count(ex.count, ex.tempo, ex.say)
    return None


def _step_texts(ex: ExerciseFile, base: Path_) -> list[tuple[Path_, str]]:
    """Every line a step speaks as written (before {side} is filled in), with its key."""
    texts: list[tuple[Path_, str]] = [((*base, "name"), ex.name)]
    texts += [((*base, "setup", i), t) for i, text in enumerate(ex.setup) for t in text]
    texts += [((*base, "during", i), t) for i, text in enumerate(ex.during) for t in text]
    for key in ("release", "between"):
        texts += [((*base, key), t) for t in getattr(ex, key) or ()]
    texts += [((*base, "flow", i, "say"), b.say) for i, b in enumerate(ex.flow or ())]
    if ex.say is not None:
        texts.append(((*base, "say"), ex.say))
    return texts
