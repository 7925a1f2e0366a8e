"""Every setting, declared once: its name, kind of value (with unit and bounds), built-in
default, whether it can be set per step, where it may be set, and its help.

Everything else is derived from `SETTINGS`: the keys a routine script and a profile
take (`routine.files`, `settings.profile`), the command line's options
(`cli/options.py`), the words the command line and the API are read from
(`settings.words`), the `settings` listing, `GET /api/settings` and the page's tune
form. A value is checked by its setting's `check` wherever it comes from, so a value
refused in a script is refused on the command line and by the API with the same words.

Adding a setting is one entry here plus the code that gives it its effect (in
`settings.layers`, where the layers are applied to a routine).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeAlias

from ..routine.model import (
    DEFAULT_BED_DUCK_DB,
    DEFAULT_BED_LEVEL_LU,
    DEFAULT_RECOVER_S,
    DEFAULT_SETTLE_S,
    MAX_PAUSE_S,
    MAX_SECONDS,
    PACE_RANGE_SPM,
    Bed,
)

Place: TypeAlias = Literal["routine", "defaults", "step", "rest", "voice"]
"""Where in a routine script a setting may be written: at the top, in `defaults:`, in an
exercise step, in a rest step, in `voice:`."""
Layer: TypeAlias = Literal["profile", "command line", "page"]
"""Who may set it on top of the script: a profile (its defaults and its section for the
routine), the command line's options, the page and its API."""
EVERY_LAYER: frozenset[Layer] = frozenset({"profile", "command line", "page"})

SETTINGS_PANEL, VOICE_PANEL, BED_PANEL = "Settings", "Voice", "Sound bed"
PROGRESSION_PANEL = "Progression"


# -- kinds of values: how each is checked, read from words, described -----------------


@dataclass(frozen=True)
class Number:
    """A number of `unit`s from `low` to `high`."""

    unit: str
    """In words, plural: "seconds", "LU", "dB", "words per minute"; "" for a bare number."""
    low: float
    high: float
    whole: bool = False
    """Only whole numbers (reps, a countdown)."""
    low_open: bool = False
    """`low` itself is not allowed ("more than 0")."""
    high_words: str = ""
    """`high` in words, said after it: "3 hours"."""
    symbol: str = ""
    """Written after a value for people: "s", "LU", "wpm"; "" for none."""
    name: str = "number"

    def check(self, value: object, folder: Path | None = None) -> float | int:
        """`value` as this number; a ValueError says what is allowed."""
        unit = f" of {self.unit}" if self.unit else ""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            what = "a whole number" if self.whole else f"a number{unit}"
            raise ValueError(f"must be {what}, got {value!r}")
        if self.whole and value != int(value):
            raise ValueError(f"must be {self.bounds()}, got {value:g}")
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            raise ValueError(f"must be {self.bounds()}, got {value:g}")
        return int(value) if self.whole else float(value)

    def bounds(self) -> str:
        """ "from 1 to 10800 seconds (3 hours)", "more than 0 and at most 10"."""
        unit = f" {self.unit}" if self.unit else ""
        note = f" ({self.high_words})" if self.high_words else ""
        if self.low_open:
            return f"more than {self.low:g} and at most {self.high:g}{unit}{note}"
        if self.whole:
            return f"a whole number from {self.low:g} to {self.high:g}{unit}{note}"
        return f"from {self.low:g} to {self.high:g}{unit}{note}"

    def from_words(self, text: str) -> object:
        """A command line's or query string's text as the value to check: a number
        where it reads as one, else the text (which `check` then refuses)."""
        try:
            number = float(text.strip())
        except ValueError:
            return text
        return int(number) if text.strip().lstrip("+-").isdigit() else number

    def show(self, value: Any) -> str:
        return f"{value:g}" + (f" {self.symbol}" if self.symbol else "")

    def json_schema(self) -> dict[str, Any]:
        low = "exclusiveMinimum" if self.low_open else "minimum"
        return {"type": "integer" if self.whole else "number", low: self.low, "maximum": self.high}

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "whole" if self.whole else "number",
            "unit": self.symbol,
            "min": self.low,
            "min_open": self.low_open,
            "max": self.high,
            "bounds": self.bounds(),
        }


TRUE_WORDS = frozenset({"true", "on", "yes", "1"})
FALSE_WORDS = frozenset({"false", "off", "no", "0"})


@dataclass(frozen=True)
class Switch:
    """On or off."""

    name: str = "switch"

    def check(self, value: object, folder: Path | None = None) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {value!r}")
        return value

    def from_words(self, text: str) -> object:
        word = text.strip().lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else text

    def show(self, value: Any) -> str:
        return "on" if value else "off"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def describe(self) -> dict[str, Any]:
        return {"kind": "switch"}


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    options: tuple[str, ...]
    name: str = "choice"

    def check(self, value: object, folder: Path | None = None) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise ValueError(f"must be {' or '.join(self.options)}, got {value!r}")
        return value

    def from_words(self, text: str) -> object:
        return text.strip()

    def show(self, value: Any) -> str:
        return str(value)

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.options)}

    def describe(self) -> dict[str, Any]:
        return {"kind": "choice", "choices": list(self.options)}


@dataclass(frozen=True)
class Text:
    """A name, such as an engine's or a voice's."""

    max_chars: int = 200
    name: str = "text"

    def check(self, value: object, folder: Path | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"must be a name, got {value!r}")
        if len(value) > self.max_chars:
            raise ValueError(f"is {len(value)} characters long; at most {self.max_chars} allowed")
        return value.strip()

    def from_words(self, text: str) -> object:
        return text

    def show(self, value: Any) -> str:
        return str(value)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": self.max_chars, "pattern": "\\S"}

    def describe(self) -> dict[str, Any]:
        return {"kind": "text"}


@dataclass(frozen=True)
class Seconds:
    """Seconds before the end of a hold, as a list: [30, 10]."""

    name: str = "remaining"

    def check(self, value: object, folder: Path | None = None) -> tuple[float, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of seconds before the end of a hold, e.g. [30, 10]")
        return tuple(sorted({HOLD_SECONDS.check(v) for v in value}, reverse=True))

    def from_words(self, text: str) -> object:
        return [HOLD_SECONDS.from_words(t) for t in text.split(",") if t.strip()]

    def show(self, value: Any) -> str:
        return ", ".join(f"{v:g}" for v in value) + " s"

    def json_schema(self) -> dict[str, Any]:
        return {"type": "array", "items": HOLD_SECONDS.json_schema()}

    def describe(self) -> dict[str, Any]:
        return {"kind": "list", "unit": "s"}


BED_CHOICES = "rain, drone, off, pace:STEPS_PER_MINUTE (e.g. pace:110) or a sound file"
_BED_WORDS = {"rain": Bed("rain"), "drone": Bed("drone"), "off": Bed("off")}
_PACE_TEXT = re.compile(r"pace(?:\s*:\s*|\s+)(?P<spm>.*)|pace", re.DOTALL)
_SPM_TEXT = re.compile(r"\d+(?:\.\d+)?")
_PACE_LIKE = r"^\s*pace(\s*:|\s|$)"
"""Text that asks for a pace click, well written or not."""
_PACE_OK = r"^\s*pace(\s*:\s*|\s+)((4\d|[5-9]\d|1\d\d)(\.\d+)?|200(\.0+)?)\s*$"
"""A pace click in words at 40 to 200 steps per minute (`PACE_RANGE_SPM`)."""
_PATH_SCHEMA = {"type": "string", "minLength": 1, "pattern": "\\S"}


def parse_bed(text: str, where: str, folder: Path | None = None) -> Bed:
    """A bed in words: `rain`, `drone`, `off`, `pace:110` or `pace 110` (steps per
    minute), else the path of a sound file, relative to `folder` (None: the current
    directory), `~` expanded. `where` names where it was asked for, for messages. A
    ValueError says what is wrong and what is allowed; whether the file exists and
    decodes is checked before anything is made (`audio.bed.probe_file`)."""
    words = text.strip()
    if words in _BED_WORDS:
        return dataclasses.replace(_BED_WORDS[words], where=where)
    pace = _PACE_TEXT.fullmatch(words)
    if pace is None:
        return file_bed(words, where, folder)
    spm = (pace.group("spm") or "").strip()
    return pace_bed(float(spm) if _SPM_TEXT.fullmatch(spm) else spm, where)


def pace_bed(spm: object, where: str) -> Bed:
    """A pace click at `spm` steps per minute; a ValueError says what is allowed."""
    lo, hi = PACE_RANGE_SPM
    if isinstance(spm, bool) or not isinstance(spm, int | float):
        raise ValueError(
            f"pace must be a number of steps per minute, {lo} to {hi}, e.g. pace:110; got {spm!r}"
        )
    if not lo <= spm <= hi:
        raise ValueError(f"pace must be {lo} to {hi} steps per minute, got {spm:g}")
    return Bed("pace", pace_spm=float(spm), where=where)


def file_bed(path: str, where: str, folder: Path | None = None) -> Bed:
    """A sound file as a bed, its path made absolute (relative to `folder`, else the
    current directory; `~` expanded); a ValueError when the path is empty."""
    if not path.strip():
        raise ValueError(f"a sound file's path must not be empty; a bed is {BED_CHOICES}")
    try:
        given = Path(path.strip()).expanduser()
    except RuntimeError as exc:  # ~name of no such user
        raise ValueError(f"cannot find the file {path!r}: {exc}") from None
    where_from = (folder or Path.cwd()).absolute()
    return Bed("file", path=str(given if given.is_absolute() else where_from / given), where=where)


@dataclass(frozen=True)
class BedKind:
    """A sound bed: a generated ambience, a pace click, a sound file, or off."""

    name: str = "bed"

    def check(self, value: object, folder: Path | None = None) -> Bed:
        """A bed as written: a word or a path (`parse_bed`), `{pace: SPM}` or `{file:
        PATH}`, or a `Bed`; a relative path is relative to `folder`. Its `where` is left
        to the caller, who knows the line."""
        if isinstance(value, Bed):
            return value
        if value is False:  # YAML 1.1 reads a bare `off` (or `no`) as false
            return Bed("off")
        if isinstance(value, str):
            return parse_bed(value, "", folder)
        if isinstance(value, dict) and list(value) == ["pace"]:
            return pace_bed(value["pace"], "")
        if isinstance(value, dict) and list(value) == ["file"]:
            path = value["file"]
            if not isinstance(path, str):
                raise ValueError(f"file must be the path of a sound file, got {path!r}")
            return file_bed(path, "", folder)
        lo, hi = PACE_RANGE_SPM
        raise ValueError(
            f"must be rain, drone, off, {{pace: STEPS_PER_MINUTE}} ({lo} to {hi}), "
            f"{{file: PATH}} or the path of a sound file; got {value!r}"
        )

    def from_words(self, text: str) -> object:
        return text

    def show(self, value: Any) -> str:
        bed: Bed = value
        if bed.kind == "off":
            return "off"
        return f"file {bed.path}" if bed.kind == "file" else bed.label()

    def json_schema(self) -> dict[str, Any]:
        lo, hi = PACE_RANGE_SPM
        return {
            "anyOf": [
                {"enum": ["rain", "drone", "off", False]},
                {"type": "string", "pattern": _PACE_OK},
                {**_PATH_SCHEMA, "not": {"pattern": _PACE_LIKE}},
                {
                    "type": "object",
                    "properties": {
                        "pace": {
                            "type": "number",
                            "minimum": lo,
                            "maximum": hi,
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

    def describe(self) -> dict[str, Any]:
        lo, hi = PACE_RANGE_SPM
        return {"kind": "bed", "choices": ["rain", "drone", "off"], "pace_spm": [lo, hi]}


Kind: TypeAlias = Number | Switch | Choice | Text | Seconds | BedKind

HOLD_SECONDS = Number("seconds", 1, MAX_SECONDS, high_words="3 hours", symbol="s")
"""A hold or a rest."""
PAUSE_SECONDS = Number("seconds", 0, MAX_PAUSE_S, high_words="5 minutes", symbol="s")
"""A settle or recover time."""
MAX_REPS = 50
MAX_COUNTDOWN = 10
MAX_SCALE = 10.0
MAX_STAGES = 100
"""Most stages --stage may pin (a ramp has as many as it takes to reach its max)."""
PAIN_SCALE = Number("", 0, 10, whole=True)
"""A rating on the 0-10 numeric pain scale."""


# -- the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting, everything about it in one place."""

    name: str
    """Its key in scripts and profiles and its name in the API; the command line's
    --NAME (with "-" for "_")."""
    kind: Kind
    help: str
    """One sentence for people; the default and bounds are added where it is shown."""
    default: Any = None
    """The built-in value when nothing sets it; None: as the routine is written."""
    per_step: bool = False
    """It may be set for single steps too: NAME=VALUE on the command line, a mapping of
    step name or number to value in a profile, the step's own key in a script."""
    script: frozenset[Place] = frozenset()
    """Where a routine script may write it (nowhere: only on top of a script)."""
    required: frozenset[Place] = frozenset()
    """Where a script must write it (a rest step's `rest`)."""
    layers: frozenset[Layer] = EVERY_LAYER
    """Who may set it on top of the script."""
    shapes_audio: bool = True
    """It changes what is spoken or heard, so it names an export (in its file name and
    tags); False for what only the player reads."""
    panel: str = SETTINGS_PANEL
    """Its group in `--help` and on the page."""
    group: str = ""
    """The mapping it sits in, in scripts and profiles ("voice": `voice: {rate: 150}`)."""
    label: str = ""
    """Its part of an export's file name, "{value}" standing for the value; "" for
    NAME and the value ("hold45"). A switch off, or no bed, reads "no" NAME
    ("nochimes", "nobed")."""
    words: str = ""
    """How a summary says it, "{value}" for the bare value ("rests {value} s"); "" for
    NAME and the value with its unit ("hold 45 s"). A switch off: these words, or
    "no" NAME."""
    examples: tuple[Any, ...] = ()
    """For the JSON Schema editors show."""

    @property
    def flag(self) -> str:
        """The command line's option: --bed-level."""
        return "--" + self.name.replace("_", "-")

    def check(self, value: object, folder: Path | None = None) -> Any:
        """`value` as this setting takes it; a ValueError says what is allowed. A sound
        file's path is relative to `folder` (None: the current directory)."""
        return self.kind.check(value, folder)

    def from_words(self, text: str) -> object:
        """A command line's text as the value to `check`."""
        return self.kind.from_words(text)

    def help_text(self) -> str:
        """The help with the bounds and the default, for --help and the schema."""
        extra = []
        if isinstance(self.kind, Number):
            extra.append(self.kind.bounds())
        if isinstance(self.kind, Choice):
            extra.append(" or ".join(self.kind.options))
        if self.default is not None:
            extra.append(f"default {self.show(self.default)}")
        return self.help + (f" ({'; '.join(extra)})" if extra else "")

    def show(self, value: Any) -> str:
        """`value` for people: "45 s", "on", "rain"."""
        return self.kind.show(value)

    def file_part(self, value: Any, step: int | None = None) -> str:
        """This setting's part of a file name: "hold45", "nochimes", "bed-rain"; for a
        single step's value, with its number: "hold3x45"."""
        compact = self.name.replace("_", "")
        if step is not None:
            return f"{compact}{step}x{value:g}"
        if isinstance(self.kind, Switch) or (isinstance(value, Bed) and value.kind == "off"):
            return "" if value is True else "no" + compact
        if isinstance(value, Bed):
            value = value.label()
        text = f"{value:g}" if isinstance(value, int | float) else _slug(str(value))
        return (self.label or compact + "{value}").format(value=text)

    def summary(self, value: Any) -> str:
        """This setting in a summary: "hold 45 s", "no chimes"."""
        spaced = self.name.replace("_", " ")
        if isinstance(self.kind, Switch) or (isinstance(value, Bed) and value.kind == "off"):
            return "" if value is True else (self.words or f"no {spaced}")
        if isinstance(value, Bed):
            return f"{spaced} {value.label()}"
        if not self.words:
            return f"{spaced} {self.show(value)}"
        bare = f"{value:g}" if isinstance(self.kind, Number) else self.show(value)
        return self.words.format(value=bare)

    def describe(self) -> dict[str, Any]:
        """For `GET /api/settings`: everything the page needs to build a field."""
        return {
            "name": self.name,
            **self.kind.describe(),
            "default": _plain(self.default),
            "per_step": self.per_step,
            "script": sorted(self.script),
            "layers": sorted(self.layers),
            "panel": self.panel,
            "group": self.group,
            "help": self.help,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _plain(value: Any) -> Any:
    if isinstance(value, Bed):
        return value.label()
    if isinstance(value, tuple):
        return list(value)
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "hold",
        HOLD_SECONDS,
        "Seconds of each hold, from the onset of 'Hold' to the release; not a flow or a count",
        default=30,
        per_step=True,
        script=frozenset({"defaults", "step"}),
        examples=(45,),
    ),
    Setting(
        "scale",
        Number("", 0, MAX_SCALE, low_open=True, symbol=""),
        "Multiplies every hold and rest, flow beat and count tempo, e.g. 1.5 (not settle "
        "or recover: they are about you, not the exercise)",
        words="holds and rests x{value}",
        examples=(1.5,),
    ),
    Setting(
        "reps",
        Number("", 1, MAX_REPS, whole=True),
        "Holds (or flows, or counts) per side",
        default=1,
        per_step=True,
        script=frozenset({"step"}),
        words="{value} reps",
        examples=(3,),
    ),
    Setting(
        "rest",
        HOLD_SECONDS,
        "Seconds of every rest",
        script=frozenset({"rest"}),
        required=frozenset({"rest"}),
        words="rests {value} s",
        examples=(20,),
    ),
    Setting(
        "settle",
        PAUSE_SECONDS,
        "Seconds of quiet to get into position, from the last line to 'Hold' (or the first "
        "beat); about you, not the exercise: scale leaves it alone",
        default=DEFAULT_SETTLE_S,
        per_step=True,
        script=frozenset({"defaults", "step"}),
        examples=(5,),
    ),
    Setting(
        "recover",
        PAUSE_SECONDS,
        "Seconds of quiet after each release, before the next line; about you, not the "
        "exercise: scale leaves it alone",
        default=DEFAULT_RECOVER_S,
        per_step=True,
        script=frozenset({"defaults", "step"}),
        examples=(5,),
    ),
    Setting(
        "countdown",
        Number("", 0, MAX_COUNTDOWN, whole=True),
        'How many of "Three, two, one" end each hold or flow (0: none)',
        default=3,
        script=frozenset({"defaults", "step"}),
        examples=(5,),
    ),
    Setting(
        "remaining",
        Seconds(),
        'Seconds before the end of each hold at which "N seconds left" is said',
        default=(10,),
        script=frozenset({"defaults", "step"}),
        layers=frozenset(),
        examples=([30, 10],),
    ),
    Setting(
        "halfway",
        Switch(),
        'Say "Halfway there" in the middle of each hold',
        default=False,
        script=frozenset({"defaults", "step"}),
        layers=frozenset(),
        examples=(True,),
    ),
    Setting(
        "chimes",
        Switch(),
        "Short tones at the start and end of each hold, flow or count",
        default=True,
        script=frozenset({"defaults", "step"}),
        examples=(False,),
    ),
    Setting(
        "during",
        Switch(),
        "Speak the lines written for inside the holds",
        default=True,
        words="no during lines",
    ),
    Setting(
        "sides",
        Choice(("left", "right")),
        "Do one-sided stretches on this side only",
        label="{value}",
        words="{value} side only",
    ),
    Setting(
        "bed",
        BedKind(),
        "A sound bed under the whole routine, ducked under every cue: rain or drone (made "
        "with no file), pace:STEPS_PER_MINUTE (a click, 40 to 200) or a sound file; off: "
        "none. On top of a script it replaces the script's, the beds of its steps too",
        script=frozenset({"routine", "step", "rest"}),
        panel=BED_PANEL,
        label="bed-{value}",
        examples=("rain", {"pace": 110}, {"file": "music/calm.mp3"}),
    ),
    Setting(
        "bed_level",
        Number("LU", -40, 0, symbol="LU"),
        "The bed's level relative to the speech (0: as loud as it)",
        default=DEFAULT_BED_LEVEL_LU,
        script=frozenset({"routine"}),
        panel=BED_PANEL,
        examples=(-24,),
    ),
    Setting(
        "bed_duck",
        Number("dB", 0, 40, symbol="dB"),
        "How far the bed drops under every cue and chime",
        default=DEFAULT_BED_DUCK_DB,
        script=frozenset({"routine"}),
        panel=BED_PANEL,
        examples=(18,),
    ),
    Setting(
        "build_up",
        Switch(),
        "Follow the routine's progression: start lower and step up after sessions "
        "without more pain, one stage back after a flare-up; off: the routine as written "
        "(the bundled stretch routines ship with it off)",
        default=True,
        script=frozenset({"routine"}),
        shapes_audio=False,
        panel=PROGRESSION_PANEL,
        examples=(False,),
    ),
    Setting(
        "stage",
        Number("", 1, MAX_STAGES, whole=True),
        "Play this stage of the progression, not the one your sessions give",
        shapes_audio=False,
        panel=PROGRESSION_PANEL,
        examples=(3,),
    ),
    Setting(
        "flare_pain",
        dataclasses.replace(PAIN_SCALE, low=1),
        "A pain rating (0-10) at or above this is a flare-up, as is one 2 or more above "
        "the session before: the progression holds, the next session runs a stage lower, "
        "and plans suggest a day or two of rest",
        default=7,
        shapes_audio=False,
        panel=PROGRESSION_PANEL,
        examples=(6,),
    ),
    Setting(
        "pain_ok",
        PAIN_SCALE,
        "Pain after a session at or below this (0-10) does not hold the progression even "
        "if it was lower before (above it, only pain no higher than before moves it on)",
        default=2,
        shapes_audio=False,
        panel=PROGRESSION_PANEL,
        examples=(3,),
    ),
    Setting(
        "listen",
        Switch(),
        "`play` listens for voice commands (as with play --listen)",
        default=False,
        layers=frozenset({"profile"}),
        shapes_audio=False,
    ),
    Setting(
        "engine",
        Text(),
        "Speech engine: piper, pyttsx3 or espeak-ng (`voice-coach voices` lists them)",
        script=frozenset({"voice"}),
        panel=VOICE_PANEL,
        group="voice",
        label="{value}",
        examples=("piper",),
    ),
    Setting(
        "voice",
        Text(),
        "A voice of the engine, by id, name or language code",
        script=frozenset({"voice"}),
        panel=VOICE_PANEL,
        group="voice",
        label="voice-{value}",
        examples=("en-us",),
    ),
    Setting(
        "rate",
        Number("words per minute", 80, 450, whole=True, symbol="wpm"),
        "Speaking rate",
        script=frozenset({"voice"}),
        panel=VOICE_PANEL,
        group="voice",
        examples=(150,),
    ),
    Setting(
        "volume",
        Number("", 0, 1),
        "Speech volume",
        script=frozenset({"voice"}),
        panel=VOICE_PANEL,
        group="voice",
        examples=(0.9,),
    ),
    Setting(
        "checkin",
        Choice(("after", "before", "both", "off")),
        "When `play` asks how your pain is, from 0 to 10 (after the last step, before the "
        "first, both, or off); an export ends by reminding you to log it, unless off",
        default="after",
        label="checkin-{value}",
        words="pain check-in {value}",
        examples=("both",),
    ),
)
"""Every setting, in the order they are listed and shown."""

BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}
VOICE_SETTINGS = tuple(s for s in SETTINGS if s.group == "voice")


def setting(name: str) -> Setting:
    """The setting called `name`; a KeyError lists the names there are."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no setting {name!r}; settings: {', '.join(BY_NAME)}") from None


def in_layer(layer: Layer) -> tuple[Setting, ...]:
    """The settings `layer` may set, in table order."""
    return tuple(s for s in SETTINGS if layer in s.layers)


def in_script(place: Place) -> tuple[Setting, ...]:
    """The settings a routine script may write at `place`, in table order."""
    return tuple(s for s in SETTINGS if place in s.script)


def described() -> list[dict[str, Any]]:
    """The whole table as plain data (`GET /api/settings`)."""
    return [s.describe() for s in SETTINGS]
