"""The shape of a routine script: strict models (pydantic, unknown keys forbidden) with
a description and an example on every key, which are also the JSON Schema editors show
(`voice-coach schema`). The keys that are settings (hold, reps, settle, bed, the voice,
...) come from the settings table (`settings.table`), with its checks and messages; the
rest (names, texts, flows, counts) are declared here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from ..phrases import ENGLISH, OVERRIDABLE, placeholders
from ..settings.models import script_fields
from ..settings.table import MAX_REPS, Number
from .model import (
    MAX_COUNT,
    MAX_INSTRUCTION_CHARS,
    MAX_SECONDS,
    MAX_SHARE,
    MAX_TEXT_CHARS,
    Progression,
    Ramp,
)
from .problems import Path_
from .textsplit import UnbreakableText, split_for_speech

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SIDE_PLACEHOLDERS = {"side", "other"}
MIN_PERIOD_S = 1
MAX_BEAT_S = 300
"""Longest beat of a flow, or tempo of a count: five minutes."""
MAX_BEATS = 20
"""Most lines in one round of a flow."""
MAX_ROUNDS = 100
MAX_SESSIONS_A_STAGE = 20
"""Most sessions a stage of a progression may take."""

# --- value checks (each raises a message that says what is allowed) -------------


def _number_from(lo: float, hi: float, unit: str, hi_words: str = "") -> Callable[[object], float]:
    """A check for a number of `unit` from `lo` to `hi` ("3 hours": `hi` in words)."""
    number = Number(unit, lo, hi, high_words=hi_words)

    def check(value: object) -> float:
        try:
            return float(number.check(value))
        except ValueError as exc:
            raise PydanticCustomError("number", "{why}", {"why": str(exc)}) from None

    return check


_beat_seconds = _number_from(MIN_PERIOD_S, MAX_BEAT_S, "seconds", "5 minutes")
"""A beat of a flow, or the tempo of a count."""


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


# --- the file's shape -----------------------------------------------------------
# Every key has a description and an example: they are the JSON Schema editors show
# (`voice-coach schema`), from the same models that check the files.


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


DefaultsFile = create_model(
    "DefaultsFile",
    __base__=_Strict,
    __doc__="Settings for every exercise that does not set its own.",
    **script_fields("defaults"),
)
VoiceFile = create_model(
    "VoiceFile",
    __base__=_Strict,
    __doc__="How the cues are spoken (`voice-coach voices` lists engines and voices).",
    **script_fields("voice"),
)


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


class _ExerciseKeys(_Strict):
    """An exercise's own keys, besides its settings."""

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
    between: Instruction | None = Field(
        None,
        description="Spoken between reps. Default 'Once more.'",
        examples=["Each time, reach a little further."],
    )


ExerciseFile = create_model(
    "ExerciseFile",
    __base__=_ExerciseKeys,
    __doc__="An exercise: spoken set-up, then a hold (or a flow, or a count), then a release.",
    **script_fields("step"),
)


class Share(float):
    """A ramp's value written as a percentage of each step's own: 0.5 for "50%"."""


_SHARE_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%\s*")


def _ramp_value(value: object) -> float:
    """A ramp's start, add or max: a number (seconds or reps), or a share such as 50%."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    share = _SHARE_TEXT.fullmatch(value) if isinstance(value, str) else None
    if share is not None and float(share.group(1)) > 0:
        return Share(float(share.group(1)) / 100)
    raise PydanticCustomError(
        "ramp",
        "must be a number more than 0 (seconds, or reps) or a share of each step's "
        "written value such as 50%, got {got}",
        {"got": repr(value)},
    )


RampValue = Annotated[
    float,
    PlainValidator(_ramp_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": "^\\s*\\d+(\\.\\d+)?\\s*%\\s*$"},
            ]
        }
    ),
]


class RampFile(_Strict):
    """A value that grows by stages: start, start + add, ... up to max. In seconds (or
    reps), or as shares of each step's written hold (or reps): 50%, 10%, 100%."""

    start: RampValue = Field(description="The value at the first stage.", examples=[20, "50%"])
    add: RampValue = Field(description="Added at every next stage.", examples=[5, "10%"])
    every: Literal["week", "session"] = Field(
        "week",
        description="What moves a stage on: a week since the first session, or finished "
        "sessions without more pain (`sessions` of them).",
        examples=["session"],
    )
    max: RampValue = Field(description="The value never grows past this.", examples=[60, "100%"])
    sessions: int = Field(
        1,
        ge=1,
        le=MAX_SESSIONS_A_STAGE,
        description="With `every: session`: finished sessions without more pain a stage "
        "takes before the next.",
        examples=[2],
    )


class ProgressionFile(_Strict):
    """Start gently, build up: holds and reps that grow with your practice."""

    hold: RampFile | None = Field(
        None,
        description="Seconds of every hold (or shares of each step's own), by stage.",
        examples=[
            {"start": 20, "add": 5, "every": "week", "max": 60},
            {"start": "50%", "add": "10%", "every": "session", "sessions": 2, "max": "100%"},
        ],
    )
    reps: RampFile | None = Field(
        None,
        description="Reps of every exercise (or shares of each step's own), by stage.",
        examples=[{"start": 1, "add": 1, "every": "session", "max": 3}],
    )


def _relative(r: RampFile) -> bool:
    return all(isinstance(v, Share) for v in (r.start, r.add, r.max))


def progression_from_file(p: ProgressionFile | None) -> Progression | None:
    """The domain value of a validated `progression:` mapping."""
    if p is None:
        return None

    def ramp(r: RampFile | None) -> Ramp | None:
        if r is None:
            return None
        return Ramp(float(r.start), float(r.add), r.every, float(r.max), _relative(r), r.sessions)

    return Progression(hold=ramp(p.hold), reps=ramp(p.reps))


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def ramp_problems(p: ProgressionFile | None) -> list[tuple[Path_, str]]:
    """Checks that span a ramp's keys: all shares or all numbers, in order, in range."""
    out: list[tuple[Path_, str]] = []
    if p is None:
        return out
    for key, hi in (("hold", MAX_SECONDS), ("reps", MAX_REPS)):
        r = getattr(p, key)
        if r is None:
            continue
        shares = [isinstance(v, Share) for v in (r.start, r.add, r.max)]
        if any(shares) and not all(shares):
            out.append(
                (
                    (key,),
                    "start, add and max must all be shares (such as 50%, 10%, 100%) or all "
                    "numbers, not some of each",
                )
            )
            continue
        show = _pct if all(shares) else (lambda v: f"{v:g}")
        if r.max < r.start:
            out.append(
                ((key, "max"), f"must be at least `start` ({show(r.start)}), got {show(r.max)}")
            )
        top, top_words = (MAX_SHARE, _pct(MAX_SHARE)) if all(shares) else (hi, str(hi))
        for name in ("start", "max"):
            if getattr(r, name) > top:
                value = show(getattr(r, name))
                out.append(((key, name), f"must be at most {top_words}, got {value}"))
    return out


RestFile = create_model(
    "RestFile",
    __base__=_Strict,
    __doc__='A rest between exercises: "Rest for 20 seconds." and a preview of what is next.',
    **script_fields("rest"),
)


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


class _RoutineKeys(_Strict):
    """A routine script's own keys, besides its settings."""

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
    steps: Steps = Field(
        description="Exercises (with `name`) and rests (`rest: SECONDS`), in order.",
        examples=[[{"name": "Knee hug", "hold": 45}, {"rest": 20}]],
        json_schema_extra={"minItems": 1},
    )


RoutineFile = create_model(
    "RoutineFile",
    __base__=_RoutineKeys,
    __doc__="A voice_coach routine script: spoken, timed cues for stretching and exercise.",
    defaults=(
        DefaultsFile,
        Field(
            default_factory=DefaultsFile,
            description="Hold time and cues for the exercises that do not set their own.",
            examples=[{"hold": 30, "countdown": 3, "remaining": [10]}],
        ),
    ),
    voice=(
        VoiceFile,
        Field(
            default_factory=VoiceFile,
            description="How the cues are spoken.",
            examples=[{"engine": "piper", "rate": 150}],
        ),
    ),
    **script_fields("routine"),
)

_OWNERS: dict[Path_, type[BaseModel]] = {
    (): RoutineFile,
    ("defaults",): DefaultsFile,
    ("voice",): VoiceFile,
    ("progression",): ProgressionFile,
    ("progression", "hold"): RampFile,
    ("progression", "reps"): RampFile,
}


def owner_at(path: Path_) -> type[BaseModel]:
    """The model whose keys a routine script allows at `path`, outside its steps."""
    return _OWNERS.get(path, RoutineFile)
