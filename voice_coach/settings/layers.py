"""User settings on top of a routine script: hold times, reps, cues, voice.

Settings come in layers, lowest precedence first: the routine script, the profile's
defaults, the profile's section for this routine, the command line. `resolve` merges
them into the routine actually played (a pure function) and remembers where every
effective value came from, for `voice-coach settings` and for file names and tags.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import Problem, ValidationError
from ..phrases import phrases_for
from ..routine.model import (
    MAX_SECONDS,
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
from .table import SETTINGS, setting

ROUTINE_SCRIPT = "routine script"
COMMAND_LINE = "command line"
PER_STEP = tuple(s.name for s in SETTINGS if s.per_step)
"""Settings a layer may give for every exercise or for single ones (NAME=VALUE)."""
_EXERCISE_FIELD = {"hold": "hold_s", "reps": "reps", "settle": "settle_s", "recover": "recover_s"}
"""The `Exercise` field each per-step setting sets."""
_CUE_SETTINGS = ("countdown", "chimes", "during")
"""Settings that are `CueOptions` fields of the same name."""


@dataclass(frozen=True)
class Overrides:
    """One layer of changes to a routine, by setting name (`table.SETTINGS`); a setting
    a layer does not set is absent. Made from a profile section (`settings.profile`) or
    from the command line's or the API's words (`settings.words`), each value checked
    by its setting."""

    values: tuple[tuple[str, Any], ...] = ()
    """(setting, value) for the whole routine: every step, every rest."""
    steps: tuple[tuple[str, str, Any], ...] = ()
    """(per-step setting, step name or number, value) for single steps, in order."""
    progression: Progression | None = None

    @classmethod
    def of(cls, progression: Progression | None = None, **values: Any) -> Overrides:
        """A layer from keyword arguments named after settings, shaped as a profile
        section writes them: a value for the whole routine, or for a per-step setting
        a mapping of step name or number to value (None: not set)."""
        whole: list[tuple[str, Any]] = []
        steps: list[tuple[str, str, Any]] = []
        for name, value in values.items():
            if setting(name).per_step and isinstance(value, dict):
                steps += [(name, str(k), v) for k, v in value.items()]
            elif value is not None:
                whole.append((name, value))
        return cls(tuple(whole), tuple(steps), progression)

    def get(self, name: str) -> Any:
        """This layer's value of setting `name` for the whole routine; None if unset."""
        return next((v for k, v in reversed(self.values) if k == name), None)

    def single(self, name: str) -> tuple[tuple[str, Any], ...]:
        """(step name or number, value) of per-step setting `name` for single steps."""
        return tuple((sel, v) for k, sel, v in self.steps if k == name)

    @property
    def voice(self) -> VoiceSettings:
        """The voice settings this layer sets."""
        return VoiceSettings(
            engine=self.get("engine"),
            voice=self.get("voice"),
            rate_wpm=self.get("rate"),
            volume=self.get("volume"),
        )


@dataclass(frozen=True)
class Layer:
    source: str
    """Where these settings were written, e.g. "command line" or a profile path."""
    overrides: Overrides


@dataclass(frozen=True)
class Flare:
    """A session whose pain rating held a progression back."""

    day: date
    """The day of the session (UTC)."""
    pain: int
    """Its highest rating, 0-10."""


@dataclass(frozen=True)
class Stage:
    """Where a progression stands, and why."""

    number: int
    """1-based stage: a week or a finished session."""
    explicit: bool = False
    """Chosen with --stage (or --week) rather than derived from the history."""
    first_session: date | None = None
    """The first recorded session of this routine, which week stages count from."""
    from_history: bool = False
    """Derived from the history (which a new session can change)."""
    count: int = 0
    """How many stages the ramp in effect has; 0: no progression applies."""
    sessions_to_go: int = 0
    """With a ramp by sessions: finished sessions without more pain still to do at this
    stage before the next (0 at the last stage)."""
    steps_up_on: date | None = None
    """With a ramp by weeks: the day the next stage begins (None at the last stage)."""
    flare: Flare | None = None
    """The flare-up this session is held back after (the next session after it only)."""
    off: bool = False
    """A progression is written, but `build_up` is off: the routine as written."""

    @property
    def next_on(self) -> date | None:
        """When counted in weeks: the day the next stage begins."""
        return None if self.explicit else self.steps_up_on


@dataclass(frozen=True)
class SettingValue:
    name: str
    value: str
    source: str


@dataclass(frozen=True)
class Resolved:
    routine: Routine
    """The routine with every layer applied: what show/export/play use."""
    settings: tuple[SettingValue, ...]
    label: str
    """File-name suffix naming every setting not from the script ("" if none)."""
    summary: str
    """The same, for people: "hold 45 s, scale x1.5"."""
    progression_note: str = ""
    """Which stage a progression is at and when it next steps up ("" if none)."""
    voice: VoiceSettings = VoiceSettings()
    voice_sources: dict[str, str] = field(default_factory=dict)
    changes: str = ""
    """What differs from the script, single steps by name, for titles: "Knee hug hold
    60 s, no chimes" ("" if nothing)."""

    def listing(self) -> tuple[SettingValue, ...]:
        """Every effective setting and where it came from, the voice first (what
        `voice-coach settings` shows)."""
        from ..speech import default_engine
        from ..speech.contract import DEFAULT_RATE_WPM

        v = self.voice
        voice = [
            ("engine", v.engine or default_engine(v.language).name, "engine"),
            ("voice", v.voice or "engine default", "voice"),
            ("rate", f"{v.rate_wpm or DEFAULT_RATE_WPM} wpm", "rate_wpm"),
            ("volume", "1" if v.volume is None else f"{v.volume:g}", "volume"),
        ]
        return (
            *(
                SettingValue(name, value, self.voice_sources.get(key, "built-in default"))
                for name, value, key in voice
            ),
            *self.settings,
        )


def _num(value: float) -> str:
    return f"{value:g}"


def match_step(routine: Routine, selector: str) -> int | None:
    """1-based number of the exercise a selector names (name, any case, or number)."""
    sel = selector.strip()
    if sel.isdigit():
        n = int(sel)
        ok = 1 <= n <= len(routine.steps) and isinstance(routine.steps[n - 1], Exercise)
        return n if ok else None
    for n, step in enumerate(routine.steps, start=1):
        if isinstance(step, Exercise) and step.name.strip().lower() == sel.lower():
            return n
    return None


def step_listing(routine: Routine) -> str:
    return "; ".join(
        f"{n} {s.name}" for n, s in enumerate(routine.steps, start=1) if isinstance(s, Exercise)
    )


def build_up(routine: Routine, layers: Sequence[Layer]) -> tuple[bool, str]:
    """Whether a progression applies (setting `build_up`: the highest layer's, else the
    script's) and where that was said."""
    on, source = _top(layers, "build_up")
    if on is None:
        return routine.build_up, ROUTINE_SCRIPT if not routine.build_up else "built-in default"
    return on, source


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def progression_note(ramp_name: str, ramp: Ramp, stage: Stage) -> str:
    """Where a ramp stands and why: "stage 3 of 6: holds at 70 %; steps up after 2 more
    sessions without more pain"."""
    what, unit = ("holds", "" if ramp.relative else " s") if ramp_name == "hold" else ("reps", "")
    last = ramp.stages
    n = min(stage.number, last)
    pinned = ", pinned" if stage.explicit else ""
    parts = [f"stage {n} of {last}{pinned}: {what} at {ramp.words(ramp.at(n))}{unit}"]
    if stage.flare is not None:
        parts.append(f"held back after a flare on {_day(stage.flare.day)}, pain {stage.flare.pain}")
    if n >= last:
        parts.append("the last stage" + (", as written" if ramp.relative and ramp.max == 1 else ""))
    elif stage.explicit:
        pass
    elif ramp.every == "session":
        k = stage.sessions_to_go or ramp.sessions
        more = "more session" if k == 1 else "more sessions"
        parts.append(f"steps up after {k} {more} without more pain")
    elif stage.next_on is not None:
        nxt = f"{ramp.words(ramp.at(n + 1))}{unit}"
        parts.append(f"steps up to {nxt} on {stage.next_on.isoformat()}")
    else:
        parts.append("steps up a stage every week from your first session")
    return "; ".join(parts)


TURN_ON_HINT = "; turn it on with --build-up"
"""How `off_note` ends: words for the command line, which the page (a switch beside
the note) leaves out."""


def off_note(ramps: dict[str, tuple[Ramp, str]]) -> str:
    """What a progression that is off would do, and how to turn it on."""
    words = []
    for key, (ramp, _) in ramps.items():
        unit = "" if ramp.relative else (" s" if key == "hold" else "")
        what = "holds" if key == "hold" else "reps"
        words.append(
            f"{what} from {ramp.words(ramp.start)}{unit} to {ramp.words(ramp.max)}{unit} "
            f"in {ramp.stages} stages"
        )
    return (
        f"progression off (the routine as written): it would build up {', '.join(words)}, "
        f"held back after a flare-up{TURN_ON_HINT}"
    )


def resolve(routine: Routine, layers: Sequence[Layer], stage: Stage = Stage(1)) -> Resolved:
    """Apply `layers` (lowest precedence first) to `routine` at progression `stage`;
    report every problem at once. A progression applies unless `build_up` is off (and
    no stage is pinned)."""
    _check_selectors(routine, layers)
    on, on_from = build_up(routine, layers)
    written = _ramps(routine, layers)
    if not (on or stage.explicit):
        # Without their progressions, so that no ramp reaches the steps.
        routine = dataclasses.replace(routine, progression=None)
        layers = [
            Layer(lay.source, dataclasses.replace(lay.overrides, progression=None))
            for lay in layers
        ]
    steps, step_settings = _resolve_steps(routine, layers, stage)
    if stage.flare is not None:
        # The advice after a flare-up, in the routine's language, before its own intro.
        words, _ = phrases_for(routine.language, dict(routine.phrases))
        advice = words.flare_text(stage.flare.pain)
        routine = dataclasses.replace(routine, intro=(*advice, *routine.intro))
    bedded, bed_settings = _with_bed(dataclasses.replace(routine, steps=steps), layers)
    voice, voice_sources = _merged_voice(routine, layers)
    ramps = _ramps(routine, layers)
    ramp_labels, ramp_words = _describe_ramps(ramps, stage)
    described = _describe(merged_overrides(layers), routine)
    notes = [progression_note(key, ramp, stage) for key, (ramp, _) in ramps.items()]
    if written and not ramps:
        notes = [off_note(written)]
    progression_rows = [SettingValue("build_up", setting("build_up").show(on), on_from)]
    if ramps:
        ramp, ramp_from = next(iter(ramps.values()))
        pinned, pinned_from = _top(layers, "stage")
        stage_from = (
            (pinned_from if pinned is not None else "--week")
            if stage.explicit
            else f"your sessions, by the {ramp_from} progression"
        )
        shown = f"{min(stage.number, ramp.stages)} of {ramp.stages}"
        progression_rows.append(SettingValue("stage", shown, stage_from))
    reminded = dataclasses.replace(bedded, log_reminder=checkin_when(layers) != "off")
    return Resolved(
        routine=reminded,
        settings=(*_global_settings(layers), *progression_rows, *bed_settings, *step_settings),
        label="-".join([*ramp_labels, *(part for part, _, _ in described)]),
        summary=", ".join([*ramp_words, *(words for _, words, _ in described)]),
        progression_note="\n".join(notes),
        voice=voice,
        voice_sources=voice_sources,
        changes=", ".join(named for _, _, named in described),
    )


def _check_selectors(routine: Routine, layers: Sequence[Layer]) -> None:
    """Raise unless every single-step selector of every layer names an exercise of `routine`
    that the setting applies to (a hold time not to a flow or a count)."""
    problems: list[Problem] = []
    for layer in layers:
        for option in PER_STEP:
            for selector, _ in layer.overrides.single(option):
                key = f"--{option} {selector}=" if layer.source == COMMAND_LINE else option
                n = match_step(routine, selector)
                if n is None:
                    message = (
                        f"no exercise {selector!r} in {routine.title!r}; its exercises: "
                        f"{step_listing(routine)}"
                    )
                else:
                    step = routine.steps[n - 1]
                    if option != "hold" or not isinstance(step, Exercise) or step.pace is None:
                        continue
                    message = (
                        f"step {n} ({step.name}) is a {_pace_kind(step.pace)}, timed by its "
                        "own beats, not a hold: change it with --scale, or --reps"
                    )
                problems.append(Problem(layer.source, None, key, message))
    if problems:
        raise ValidationError(problems)


def _pace_kind(pace: Pace) -> str:
    return "flow" if isinstance(pace, Flow) else "count"


def _top(layers: Sequence[Layer], name: str) -> tuple[Any, str]:
    """The highest layer's value of setting `name` and its source; (None, routine script)
    if unset."""
    value: Any = None
    source = ROUTINE_SCRIPT
    for layer in layers:
        v = layer.overrides.get(name)
        if v is not None:
            value, source = v, layer.source
    return value, source


def _with_script(routine: Routine, layers: Sequence[Layer]) -> list[tuple[str, Overrides]]:
    """(source, overrides), lowest first: the routine's own progression, then `layers`."""
    return [(ROUTINE_SCRIPT, Overrides(progression=routine.progression))] + [
        (layer.source, layer.overrides) for layer in layers
    ]


def _ramps(routine: Routine, layers: Sequence[Layer]) -> dict[str, tuple[Ramp, str]]:
    """The ramp in effect for "hold" and "reps" (a higher layer's wins) and its source."""
    ramps: dict[str, tuple[Ramp, str]] = {}
    for source, o in _with_script(routine, layers):
        for key in ("hold", "reps"):
            ramp = getattr(o.progression, key) if o.progression else None
            if ramp is not None:
                ramps[key] = (ramp, source)
    return ramps


def _describe_ramps(
    ramps: dict[str, tuple[Ramp, str]], stage: Stage
) -> tuple[list[str], list[str]]:
    """(file-name parts, words) naming the stage of every ramp; equal parts only once.
    A ramp by weeks names the week ("week3"), one by sessions the stage ("stage3"), and
    a stage held back after a flare-up says so ("stage2-flare")."""
    labels, words = [], []
    for ramp, _ in ramps.values():
        n = min(stage.number, ramp.stages)
        flare = "-flare" if stage.flare is not None else ""
        labels.append(f"{'week' if ramp.every == 'week' else 'stage'}{n}{flare}")
        words.append(f"stage {n} of {ramp.stages}" + (" after a flare-up" if flare else ""))
    return list(dict.fromkeys(labels)), list(dict.fromkeys(words))


def _scaled(seconds: float, source: str, layers: Sequence[Layer]) -> tuple[float, str]:
    """`seconds` times any layer's scale, and a source that names the scale too."""
    scale, scale_source = _top(layers, "scale")
    if scale is None:
        return seconds, source
    return seconds * scale, f"{source}, x{_num(scale)} ({scale_source})"


def _resolve_steps(
    routine: Routine, layers: Sequence[Layer], stage: Stage
) -> tuple[tuple[Step, ...], list[SettingValue]]:
    """Every step with the layers applied, and its settings; every hold too long at once."""
    steps: list[Step] = []
    settings: list[SettingValue] = []
    problems: list[Problem] = []
    for n, step in enumerate(routine.steps, start=1):
        if isinstance(step, Rest):
            rest, rest_setting = _resolve_rest(n, step, layers)
            steps.append(rest)
            settings.append(rest_setting)
            continue
        try:
            exercise, exercise_settings = _resolve_exercise(n, step, routine, layers, stage)
        except ValidationError as exc:
            problems += exc.problems
            continue
        steps.append(exercise)
        settings += exercise_settings
    if problems:
        raise ValidationError(problems)
    return tuple(steps), settings


def _resolve_rest(n: int, step: Rest, layers: Sequence[Layer]) -> tuple[Rest, SettingValue]:
    """Rest step `n` with the layers' rest and scale applied, and its setting."""
    rest_s, source = _top(layers, "rest")
    if rest_s is None:
        rest_s, source = step.rest_s, ROUTINE_SCRIPT
    rest_s, source = _scaled(rest_s, source, layers)
    setting = SettingValue(f"step {n} rest", f"{_num(rest_s)} s", source)
    return dataclasses.replace(step, rest_s=rest_s), setting


def _resolve_exercise(
    n: int, step: Exercise, routine: Routine, layers: Sequence[Layer], stage: Stage
) -> tuple[Exercise, list[SettingValue]]:
    """Exercise step `n` with the layers applied, and its settings; a hold too long raises."""
    pace: Pace | None = None
    if step.pace is None:
        hold_s, hold_from = _scaled(*_step_value(n, step, "hold", routine, layers, stage), layers)
        length = SettingValue(f"step {n} hold", f"{_num(hold_s)} s ({step.name})", hold_from)
    else:
        pace, length = _resolve_pace(n, step, step.pace, layers)
        hold_s = pace.length_s
    reps, reps_from = _step_value(n, step, "reps", routine, layers, stage)
    settle_s, settle_from = _step_value(n, step, "settle", routine, layers, stage)
    recover_s, recover_from = _step_value(n, step, "recover", routine, layers, stage)
    if hold_s > MAX_SECONDS:
        what = "hold" if pace is None else _pace_kind(pace)
        raise ValidationError(
            [
                Problem(
                    length.source,
                    None,
                    "hold" if pace is None else "scale",
                    f"makes step {n}'s {what} {_num(hold_s)} s; at most "
                    f"{MAX_SECONDS} s (3 hours) is allowed",
                )
            ]
        )
    side, _ = _top(layers, "sides")
    exercise = dataclasses.replace(
        step,
        hold_s=hold_s,
        reps=reps,
        cues=_cues(step.cues, layers),
        sides=(side,) if side is not None and step.sides else step.sides,
        settle_s=settle_s,
        recover_s=recover_s,
        pace=pace,
    )
    return exercise, [
        length,
        SettingValue(f"step {n} reps", setting("reps").show(reps), reps_from),
        SettingValue(f"step {n} settle", setting("settle").show(settle_s), settle_from),
        SettingValue(f"step {n} recover", setting("recover").show(recover_s), recover_from),
    ]


def _resolve_pace(
    n: int, step: Exercise, pace: Pace, layers: Sequence[Layer]
) -> tuple[Pace, SettingValue]:
    """A flow's beats or a count's tempo with any layer's scale applied, and its setting.
    (Hold times do not reach a flow or count; `_check_selectors` refuses them by name.)"""
    scale, _ = _top(layers, "scale")
    _, source = _scaled(0, ROUTINE_SCRIPT, layers)
    factor = 1.0 if scale is None else scale
    if isinstance(pace, Flow):
        beats = tuple(Beat(b.say, b.beat_s * factor) for b in pace.beats)
        flow = Flow(beats, pace.rounds)
        secs = " + ".join(_num(b.beat_s) for b in beats)
        words = f"{flow.rounds} rounds of {secs} s ({step.name})"
        return flow, SettingValue(f"step {n} flow", words, source)
    count = Count(pace.count, pace.tempo_s * factor, pace.say)
    words = f"count of {count.count}, one every {_num(count.tempo_s)} s ({step.name})"
    return count, SettingValue(f"step {n} count", words, source)


def _step_value(
    n: int, step: Exercise, option: str, routine: Routine, layers: Sequence[Layer], stage: Stage
) -> tuple[Any, str]:
    """Exercise `n`'s value of a `PER_STEP` option (before any scaling) and its source."""
    value, value_from = getattr(step, _EXERCISE_FIELD[option]), ROUTINE_SCRIPT
    for source, o in _with_script(routine, layers):
        # Within a layer: its progression, then its every-step value, then single steps.
        ramp = getattr(o.progression, option, None) if o.progression else None
        if ramp is not None:
            value = ramp.applied(getattr(step, _EXERCISE_FIELD[option]), stage.number)
            if option == "reps" or ramp.relative:
                # A share of a written hold in whole seconds, of reps in whole reps.
                value = max(1, math.floor(value + 0.5))
            value_from = f"{source} progression, stage {min(stage.number, ramp.stages)}"
        if o.get(option) is not None:
            value, value_from = o.get(option), source
        for selector, single in o.single(option):
            if match_step(routine, selector) == n:
                value, value_from = single, source
    return value, value_from


def _cues(cues: CueOptions, layers: Sequence[Layer]) -> CueOptions:
    """`cues` with any layer's countdown, chimes and during switch applied."""
    for name in _CUE_SETTINGS:
        value, _ = _top(layers, name)
        if value is not None:
            cues = dataclasses.replace(cues, **{name: value})
    return cues


_OWN_ROWS = frozenset({"rest", "bed", "bed_level", "bed_duck", "build_up", "stage"})
"""Settings listed by the code that applies them: per rest step, the beds, the
progression's switch and stage."""


def _global_settings(layers: Sequence[Layer]) -> list[SettingValue]:
    """The routine-wide settings (the table's, less the voice, those set per step and
    those listed with their effect) and their sources, listed before the steps'."""
    out: list[SettingValue] = []
    for s in SETTINGS:
        if not s.layers or s.per_step or s.group or s.name in _OWN_ROWS:
            continue
        value, source = _top(layers, s.name)
        if value is not None:
            out.append(SettingValue(s.name, s.show(value), source))
        elif s.script & {"step", "defaults"}:
            out.append(SettingValue(s.name, "per step", ROUTINE_SCRIPT))
        elif s.default is not None:
            out.append(SettingValue(s.name, s.show(s.default), "built-in default"))
        else:
            out.append(SettingValue(s.name, "as written", ROUTINE_SCRIPT))
    return out


def _with_bed(routine: Routine, layers: Sequence[Layer]) -> tuple[Routine, list[SettingValue]]:
    """`routine` with the layers' bed and bed levels applied, and their settings. A bed
    from a layer replaces the script's everywhere: the beds its steps set go too."""
    bed, bed_from = _top(layers, "bed")
    if bed is None:
        rows = _script_beds(routine)
    else:
        rows = [SettingValue("bed", _bed_words(bed), bed_from)]
        routine = dataclasses.replace(
            routine,
            bed=None if bed.kind == "off" else bed,
            steps=tuple(dataclasses.replace(step, bed=None) for step in routine.steps),
        )
    level, level_from = _top(layers, "bed_level")
    duck, duck_from = _top(layers, "bed_duck")
    levels = BedLevels(
        routine.bed_levels.level_lu if level is None else level,
        routine.bed_levels.duck_db if duck is None else duck,
    )
    return dataclasses.replace(routine, bed_levels=levels), [
        *rows,
        SettingValue("bed level", setting("bed_level").show(levels.level_lu), level_from),
        SettingValue("bed duck", setting("bed_duck").show(levels.duck_db), duck_from),
    ]


def _bed_words(bed: Bed | None) -> str:
    """A bed for `voice-coach settings`: as the table shows one (a file by its whole
    path), "none" for no bed at all."""
    return "none" if bed is None else setting("bed").show(bed)


def _script_beds(routine: Routine) -> list[SettingValue]:
    """The script's bed, then a row per step that changes it."""
    steps = [
        SettingValue(
            f"step {n} bed",
            f"{_bed_words(step.bed)} ({step.name if isinstance(step, Exercise) else 'rest'})",
            ROUTINE_SCRIPT,
        )
        for n, step in enumerate(routine.steps, start=1)
        if step.bed is not None
    ]
    whole = _bed_words(routine.bed)
    if steps:
        whole = "as written per step" if routine.bed is None else f"{whole}, as written per step"
    return [SettingValue("bed", whole, ROUTINE_SCRIPT), *steps]


def _merged_voice(
    routine: Routine, layers: Sequence[Layer]
) -> tuple[VoiceSettings, dict[str, str]]:
    """The routine's voice with every layer's applied, and where each set field came from."""
    voice = routine.voice
    for layer in layers:
        voice = voice.merged(layer.overrides.voice)
    sources: dict[str, str] = {}
    for source, v in [(ROUTINE_SCRIPT, routine.voice)] + [
        (layer.source, layer.overrides.voice) for layer in layers
    ]:
        for f in dataclasses.fields(VoiceSettings):
            if getattr(v, f.name) is not None:
                sources[f.name] = source
    return voice, sources


def checkin_when(layers: Sequence[Layer]) -> str:
    """When `play` asks for a pain rating, by the `checkin` setting: "after", "before",
    "both" or "off" (the highest layer's, else the table's default)."""
    value, _ = _top(layers, "checkin")
    return str(setting("checkin").default if value is None else value)


def merged_overrides(layers: Sequence[Layer]) -> Overrides:
    """`layers` (lowest precedence first) as one: each setting from the last layer that
    sets it; per-step values gathered across them, in order."""
    values: dict[str, Any] = {}
    steps: list[tuple[str, str, Any]] = []
    progression: Progression | None = None
    for layer in layers:
        o = layer.overrides
        values.update(o.values)
        steps += o.steps
        progression = o.progression or progression
    return Overrides(tuple(values.items()), tuple(steps), progression)


def _describe(o: Overrides, routine: Routine) -> list[tuple[str, str, str]]:
    """(file-name part, words, words naming the step) for every setting in `o` that
    shapes what is heard, in table order: the value for every step, then each single
    step's ("step 7 hold 60 s", and "Knee hug hold 60 s" for titles)."""
    out: list[tuple[str, str, str]] = []
    for s in SETTINGS:
        if not s.shapes_audio:
            continue
        every = o.get(s.name)
        if every is not None and s.file_part(every):
            out.append((s.file_part(every), s.summary(every), s.summary(every)))
        for selector, value in o.single(s.name):
            n = match_step(routine, selector)
            step = routine.steps[n - 1] if n is not None else None
            name = step.name if isinstance(step, Exercise) else f"step {n}"
            words = s.summary(value)
            out.append((s.file_part(value, step=n), f"step {n} {words}", f"{name} {words}"))
    return out
