"""The routine as the rest of voice_coach sees it: validated, with defaults resolved.

These are plain frozen values; `loader` is the only place that builds them from a file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Side: TypeAlias = Literal["left", "right"]
OTHER_SIDE: dict[str, Side] = {"left": "right", "right": "left"}

MAX_SECONDS = 3 * 60 * 60
"""Longest hold or rest a script may ask for: three hours."""
MAX_TEXT_CHARS = 300
"""Longest single spoken line (a name, a flow line, a piece of a split instruction);
longer ones are hard to follow by ear."""
MAX_INSTRUCTION_CHARS = 5000
"""Longest instruction text (setup, during, release, ...): it is split into lines for
the ear (`textsplit`)."""
DEFAULT_SETTLE_S = 2.5
"""Time to get into position, from the last line before a hold to "Hold"."""
DEFAULT_RECOVER_S = 3.0
"""Quiet after a release, before the next line."""
MAX_PAUSE_S = 5 * 60
"""Longest settle or recover time: five minutes."""
MAX_COUNT = 100
"""Most reps a count counts aloud (live + included)."""
GENERATED_BEDS = ("rain", "drone")
"""Ambiences made with no file."""
PACE_RANGE_SPM = (40, 200)
"""The pace a click bed may take, in steps per minute."""
DEFAULT_BED_LEVEL_LU = -20.0
DEFAULT_BED_DUCK_DB = 12.0


@dataclass(frozen=True)
class CueOptions:
    """Which optional cues are spoken inside a hold."""

    countdown: int = 3
    """How many of "Three, Two, One" end each hold (0 = none)."""
    remaining_s: tuple[float, ...] = (10,)
    """Seconds before the end of a hold at which "Ten seconds left" etc. is said."""
    halfway: bool = False
    """Say "Halfway there" in the middle of each hold."""
    chimes: bool = True
    """Play short tones at the start and end of each hold."""
    during: bool = True
    """Speak the step's `during` lines inside the hold."""


@dataclass(frozen=True)
class Beat:
    """One line of a flow and the time it has."""

    say: str
    beat_s: float
    """Seconds from this line's onset to the next line's (or the release's)."""


@dataclass(frozen=True)
class Flow:
    """Lines paced by the breath, spoken in rounds: "Breathe in, ...", "Breathe out, ..."."""

    beats: tuple[Beat, ...]
    rounds: int = 1

    @property
    def round_s(self) -> float:
        return sum(b.beat_s for b in self.beats)

    @property
    def length_s(self) -> float:
        """From the first line to the release."""
        return self.rounds * self.round_s


@dataclass(frozen=True)
class Count:
    """Reps counted aloud at a tempo: "One" ... "Ten"."""

    count: int
    tempo_s: float
    """Seconds from one number to the next (and from the last to the release)."""
    say: str | None = None
    """Spoken before each number, if it fits in the time before it."""

    @property
    def length_s(self) -> float:
        """From the first number to the release."""
        return self.count * self.tempo_s


Pace: TypeAlias = Flow | Count
"""What an exercise does instead of a still hold."""


@dataclass(frozen=True)
class Bed:
    """A sound bed under the cues: a generated ambience, a pace click, a sound file, or
    "off" (none, for a step that wants silence under it)."""

    kind: Literal["rain", "drone", "pace", "file", "off"]
    pace_spm: float | None = None
    """Steps per minute, for a pace click."""
    path: str | None = None
    """For a file: where it is (a routine's relative path already made absolute)."""
    where: str = field(default="", compare=False)
    """Where it was asked for (file:line, --bed, a profile), for messages."""

    def label(self) -> str:
        """For the cover, tags and `show`: "rain", "pace 110", "file calm.mp3"."""
        if self.kind == "pace":
            return f"pace {self.pace_spm:g}"
        if self.kind == "file":
            return f"file {(self.path or '').rsplit('/', 1)[-1]}"
        return self.kind


@dataclass(frozen=True)
class BedLevels:
    """How loud a bed is, in silences and under the cues."""

    level_lu: float = DEFAULT_BED_LEVEL_LU
    """LU relative to the speech (which is at -16 LUFS); negative: under it."""
    duck_db: float = DEFAULT_BED_DUCK_DB
    """dB the bed drops under every cue and chime."""


@dataclass(frozen=True)
class Exercise:
    """A step with a timed hold (or a flow, or a count), possibly repeated and done on
    each side."""

    name: str
    hold_s: float
    """Length of each hold, from the onset of "Hold" to the onset of the release cue. With
    a `pace`, the time it takes (rounds x a round, count x tempo), set from it."""
    setup: tuple[str, ...] = ()
    """Spoken in order before the (first) hold of each side; may contain {side}/{other}."""
    during: tuple[tuple[str, ...], ...] = ()
    """Spoken inside each hold, spread over it: each written line as the lines it is
    said in (one after another)."""
    release: tuple[str, ...] = ()
    """Spoken when each hold ends, the first line exactly then; () for the default phrase."""
    sides: tuple[Side, ...] = ()
    """One round per side, in this order; empty for a two-sided exercise."""
    reps: int = 1
    """Holds per side."""
    between: tuple[str, ...] = ()
    """Spoken between reps; () for the default phrase."""
    cues: CueOptions = CueOptions()
    settle_s: float = DEFAULT_SETTLE_S
    """Silence from the last line before each hold to "Hold", to get into position."""
    recover_s: float = DEFAULT_RECOVER_S
    """Silence after each release, before the next line."""
    pace: Pace | None = None
    """A flow or a count in place of the still hold."""
    bed: Bed | None = None
    """The bed under this step when it is not the routine's (Bed("off"): none)."""
    line: int = 0
    """Line of the step in its script, for messages."""
    text_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    """(line as written, before {side} is filled in; its line in the script), for messages."""

    def __post_init__(self) -> None:
        if self.pace is not None:
            # Derived, so that it cannot disagree with the pace: whatever reads hold
            # lengths (the history, the page) sees the time a flow or count takes.
            object.__setattr__(self, "hold_s", self.pace.length_s)

    def line_of(self, text: str) -> int:
        """The script line `text` (one of this step's, as written) stands on."""
        return next((n for t, n in self.text_lines if t == text), self.line)


@dataclass(frozen=True)
class Rest:
    """A pause between exercises."""

    rest_s: float
    bed: Bed | None = None
    """The bed under this rest when it is not the routine's (Bed("off"): none)."""
    line: int = 0


Step: TypeAlias = Exercise | Rest


@dataclass(frozen=True)
class VoiceSettings:
    """How cues are spoken. None means: the engine's own default."""

    engine: str | None = None
    voice: str | None = None
    rate_wpm: int | None = None
    """Speaking rate in words per minute."""
    volume: float | None = None
    """0.0 to 1.0."""
    language: str | None = None
    """BCP 47 code such as "de"; picks a voice when `voice` is not set."""

    def merged(self, override: VoiceSettings) -> VoiceSettings:
        """These settings with every field that `override` sets replaced."""
        changes = {
            f.name: getattr(override, f.name)
            for f in dataclasses.fields(override)
            if getattr(override, f.name) is not None
        }
        return dataclasses.replace(self, **changes)


MAX_SHARE = 3.0
"""The largest share of a step's written hold or reps a relative ramp may reach: 300 %."""


@dataclass(frozen=True)
class Ramp:
    """A value that grows by stages: start, start + add, ... up to max."""

    start: float
    add: float
    every: Literal["week", "session"]
    """What moves a stage on: a calendar week, or finished sessions without more pain."""
    max: float
    relative: bool = False
    """`start`, `add` and `max` are shares of each step's written hold or reps (0.5: half
    of it), not seconds or reps."""
    sessions: int = 1
    """With `every: session`: finished sessions without more pain a stage takes."""

    def at(self, stage: int) -> float:
        """The value (or share) at 1-based `stage`."""
        return min(self.max, self.start + self.add * (max(1, stage) - 1))

    @property
    def stages(self) -> int:
        """How many stages it has: the last is the first at `max`."""
        # A hair under, so that 0.5 + 5 x 0.1 (float) counts as reaching 1.0.
        return 1 + max(0, math.ceil((self.max - self.start) / self.add - 1e-9))

    def applied(self, written: float, stage: int) -> float:
        """A step's value at `stage`, its script saying `written`."""
        if not self.relative:
            return self.at(stage)
        # In whole hundredths of a percent: 45 s at 0.5 + 2 x 0.1 is 31.5 s, not 31.4999.
        return written * round(self.at(stage) * 10_000) / 10_000

    def words(self, value: float) -> str:
        """A value of this ramp for people: "70 %", "45 s" (a hold's), "3" (reps')."""
        return f"{value * 100:.0f} %" if self.relative else f"{value:g}"


@dataclass(frozen=True)
class Progression:
    """How holds and reps build up over time ("start gently, build gradually")."""

    hold: Ramp | None = None
    """Seconds of every hold, by stage."""
    reps: Ramp | None = None
    """Reps of every exercise, by stage."""


@dataclass(frozen=True)
class Routine:
    """A routine as the rest of voice_coach sees it: validated, every default filled in.

    Made only by `routine.loader` from a script, then changed only by `settings.resolve`
    (a new value with the person's settings applied): what `show`, `export` and `play`
    lay out (`timeline.build_timeline`) is always a `Routine`. Equal routines play the
    same; `source` and the steps' `line` say where it was written, for messages."""

    title: str
    """Spoken first; the export's title."""
    steps: tuple[Step, ...]
    """Exercises and rests, in order; at least one."""
    description: str = ""
    """For people reading the list of routines; not spoken."""
    intro: tuple[str, ...] = ()
    """Spoken after the title, before the first step (e.g. a safety note)."""
    voice: VoiceSettings = VoiceSettings()
    progression: Progression | None = None
    language: str | None = None
    """Language of the routine's text, e.g. "de"; picks the cue words and a voice."""
    phrases: tuple[tuple[str, str], ...] = ()
    """The routine's own versions of fixed cue words: (phrase name, text)."""
    bed: Bed | None = None
    """The sound bed under the whole routine (steps may change it); None: no bed."""
    bed_levels: BedLevels = BedLevels()
    build_up: bool = True
    """Whether its `progression` applies (a script may ship one turned off)."""
    log_reminder: bool = False
    """End by reminding the listener to log how their pain is (the `checkin` setting,
    for recordings: `play` asks instead, when it can take the answer)."""
    slug: str = "routine"
    """Short name used for file names: the script's file stem."""
    source: str = "<memory>"
    """Where the routine was read from, for messages."""

    @property
    def exercises(self) -> tuple[Exercise, ...]:
        return tuple(s for s in self.steps if isinstance(s, Exercise))

    def bed_files(self) -> tuple[Bed, ...]:
        """The beds of sound files the routine names (at the top or in a step), once each."""
        beds = (self.bed, *(s.bed for s in self.steps))
        return tuple(dict.fromkeys(b for b in beds if b is not None and b.kind == "file"))

    def bed_label(self) -> str:
        """The beds under this routine, in order, for the cover, tags and `show`:
        "rain", "pace 90, pace 115"; "" when there is none."""
        beds = [self.bed, *(s.bed if s.bed is not None else self.bed for s in self.steps)]
        labels = [b.label() for b in beds if b is not None and b.kind != "off"]
        return ", ".join(dict.fromkeys(labels))
