"""User settings on top of a routine script: hold times, reps, cues, voice.

Settings come in layers, lowest precedence first: the routine script, the profile's
defaults, the profile's section for this routine, the command line. `resolve` merges
them into the routine actually played (a pure function) and remembers where every
effective value came from, for `voice-coach settings` and for file names and tags.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from ..errors import Problem, ValidationError
from ..routine.model import (
    MAX_PAUSE_S,
    MAX_SECONDS,
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
    Side,
    Step,
    VoiceSettings,
)

ROUTINE_SCRIPT = "routine script"
COMMAND_LINE = "command line"
MAX_SCALE = 10.0
BED_LEVEL_RANGE_LU = (-40, 0)
"""A bed's level relative to the speech: from far under it to as loud as it."""
BED_DUCK_RANGE_DB = (0, 40)
"""How far a bed drops under the cues (0: not at all)."""
PER_STEP = {"hold": "hold_s", "reps": "reps", "settle": "settle_s", "recover": "recover_s"}
"""Settings a layer may give for every exercise or for single ones (NAME=VALUE): option
name -> the `Exercise` field it sets, which is also the `Overrides` field for every
exercise ("step_" + it for single ones)."""


@dataclass(frozen=True)
class Overrides:
    """One layer of changes to a routine. None/empty means "not set here"."""

    hold_s: float | None = None
    """Every hold, in seconds."""
    step_hold_s: tuple[tuple[str, float], ...] = ()
    """(step name or number, seconds) for single steps."""
    scale: float | None = None
    """Multiplies every hold and rest, a flow's beats and a count's tempo (after the values
    above); never settle or recover."""
    reps: int | None = None
    step_reps: tuple[tuple[str, int], ...] = ()
    rest_s: float | None = None
    """Every rest step, in seconds."""
    settle_s: float | None = None
    """Seconds to get into position before every hold (see `Exercise.settle_s`)."""
    step_settle_s: tuple[tuple[str, float], ...] = ()
    recover_s: float | None = None
    """Seconds of quiet after every release (see `Exercise.recover_s`)."""
    step_recover_s: tuple[tuple[str, float], ...] = ()
    countdown: int | None = None
    chimes: bool | None = None
    during: bool | None = None
    """False: leave out the `during` lines."""
    sides: Side | None = None
    """Do one-sided steps on this side only."""
    bed: Bed | None = None
    """The bed under the whole routine, replacing the script's everywhere, the beds its
    steps set included (Bed("off"): no bed anywhere)."""
    bed_level_lu: float | None = None
    """The bed's level relative to the speech (see `BedLevels.level_lu`)."""
    bed_duck_db: float | None = None
    """How far the bed drops under every cue (see `BedLevels.duck_db`)."""
    listen: bool | None = None
    """`play` listens for voice commands; only `play` reads it (its --listen/--no-listen
    win), so it names no file and changes no timeline."""
    voice: VoiceSettings = VoiceSettings()
    progression: Progression | None = None


@dataclass(frozen=True)
class Layer:
    source: str
    """Where these settings were written, e.g. "command line" or a profile path."""
    overrides: Overrides


@dataclass(frozen=True)
class Stage:
    """Where a progression stands."""

    number: int
    """1-based stage: a week or a finished session."""
    explicit: bool = False
    """Chosen with --week rather than derived from the history."""
    first_session: date | None = None
    """The first recorded session of this routine, which week stages count from."""
    from_history: bool = False
    """Derived from the history (which a new session can change)."""

    @property
    def next_on(self) -> date | None:
        """When counted in weeks from the first session: the day the next stage begins."""
        if self.explicit or self.first_session is None:
            return None
        return self.first_session + timedelta(weeks=self.number)


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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


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


def progression_note(ramp_name: str, ramp: Ramp, stage: Stage, source: str) -> str:
    unit = ramp.every
    value = ramp.at(stage.number)
    unit_text = "s" if ramp_name == "hold" else " reps"
    head = (
        f"progression ({source}): {ramp_name} {_num(ramp.start)}→{_num(ramp.max)}"
        f"{unit_text}, +{_num(ramp.add)} every {unit}; {unit} {stage.number}: "
        f"{_num(value)}{unit_text}"
    )
    if value >= ramp.max:
        return head + " (the maximum)"
    nxt = _num(ramp.at(stage.number + 1))
    if unit == "session":
        return head + f"; {nxt}{unit_text} after your next finished session"
    when = stage.next_on
    if when is None:
        return head + f"; {nxt}{unit_text} in week {stage.number + 1}"
    return head + f"; {nxt}{unit_text} from {when.isoformat()}"


def resolve(routine: Routine, layers: Sequence[Layer], stage: Stage = Stage(1)) -> Resolved:
    """Apply `layers` (lowest precedence first) to `routine`; report every problem at once."""
    _check_selectors(routine, layers)
    steps, step_settings = _resolve_steps(routine, layers, stage)
    bedded, bed_settings = _with_bed(dataclasses.replace(routine, steps=steps), layers)
    voice, voice_sources = _merged_voice(routine, layers)
    ramps = _ramps(routine, layers)
    ramp_labels, ramp_words = _describe_ramps(ramps, stage)
    described = _describe(merged_overrides(layers), routine)
    return Resolved(
        routine=bedded,
        settings=(*_global_settings(layers), *bed_settings, *step_settings),
        label="-".join([*ramp_labels, *(part for part, _ in described)]),
        summary=", ".join([*ramp_words, *(words for _, words in described)]),
        progression_note="\n".join(
            progression_note(key, ramp, stage, source) for key, (ramp, source) in ramps.items()
        ),
        voice=voice,
        voice_sources=voice_sources,
    )


def _check_selectors(routine: Routine, layers: Sequence[Layer]) -> None:
    """Raise unless every single-step selector of every layer names an exercise of `routine`
    that the setting applies to (a hold time not to a flow or a count)."""
    problems: list[Problem] = []
    for layer in layers:
        for option, attr in PER_STEP.items():
            for selector, _ in getattr(layer.overrides, "step_" + attr):
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


def _top(layers: Sequence[Layer], attr: str) -> tuple[Any, str]:
    """The highest layer's value of `attr` and its source; (None, routine script) if unset."""
    value: Any = None
    source = ROUTINE_SCRIPT
    for layer in layers:
        v = getattr(layer.overrides, attr)
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
    """(file-name parts, words) naming the stage of every ramp; equal parts only once."""
    labels = [
        f"{'week' if r.every == 'week' else 'session'}{stage.number}" for r, _ in ramps.values()
    ]
    words = [f"{r.every} {stage.number} of the {key} progression" for key, (r, _) in ramps.items()]
    return list(dict.fromkeys(labels)), words


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
    rest_s, source = _top(layers, "rest_s")
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
        SettingValue(f"step {n} reps", str(reps), reps_from),
        SettingValue(f"step {n} settle", f"{_num(settle_s)} s", settle_from),
        SettingValue(f"step {n} recover", f"{_num(recover_s)} s", recover_from),
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
    attr = PER_STEP[option]
    value, value_from = getattr(step, attr), ROUTINE_SCRIPT
    for source, o in _with_script(routine, layers):
        # Within a layer: its progression, then its every-step value, then single steps.
        ramp = getattr(o.progression, option, None) if o.progression else None
        if ramp is not None:
            value = round(ramp.at(stage.number)) if option == "reps" else ramp.at(stage.number)
            value_from = f"{source} progression, {ramp.every} {stage.number}"
        if getattr(o, attr) is not None:
            value, value_from = getattr(o, attr), source
        for selector, single in getattr(o, "step_" + attr):
            if match_step(routine, selector) == n:
                value, value_from = single, source
    return value, value_from


def _cues(cues: CueOptions, layers: Sequence[Layer]) -> CueOptions:
    """`cues` with any layer's countdown, chimes and during switch applied."""
    for attr in ("countdown", "chimes", "during"):
        value, _ = _top(layers, attr)
        if value is not None:
            cues = dataclasses.replace(cues, **{attr: value})
    return cues


def _global_settings(layers: Sequence[Layer]) -> list[SettingValue]:
    """The routine-wide settings and their sources, listed before the steps'."""
    out: list[SettingValue] = []
    scale, scale_source = _top(layers, "scale")
    if scale is not None:
        out.append(SettingValue("scale", f"x{_num(scale)}", scale_source))
    for attr, name, fmt, unset in (
        ("sides", "sides", str, "as written"),
        ("during", "during lines", _onoff, "on"),
        ("chimes", "chimes", _onoff, "per step"),
        ("countdown", "countdown", str, "per step"),
    ):
        value, source = _top(layers, attr)
        if value is None:
            out.append(SettingValue(name, unset, ROUTINE_SCRIPT))
        else:
            out.append(SettingValue(name, fmt(value), source))
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
    level, level_from = _top(layers, "bed_level_lu")
    duck, duck_from = _top(layers, "bed_duck_db")
    levels = BedLevels(
        routine.bed_levels.level_lu if level is None else level,
        routine.bed_levels.duck_db if duck is None else duck,
    )
    return dataclasses.replace(routine, bed_levels=levels), [
        *rows,
        SettingValue("bed level", f"{_num(levels.level_lu)} LU", level_from),
        SettingValue("bed duck", f"{_num(levels.duck_db)} dB", duck_from),
    ]


def _bed_words(bed: Bed | None) -> str:
    """A bed for `voice-coach settings`: its label, a file by its whole path."""
    if bed is None or bed.kind == "off":
        return "none" if bed is None else "off"
    return f"file {bed.path}" if bed.kind == "file" else bed.label()


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


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def merged_overrides(layers: Sequence[Layer]) -> Overrides:
    """`layers` (lowest precedence first) as one: each setting from the last layer that
    sets it; per-step settings and the voice gathered across them."""
    out = Overrides()
    for layer in layers:
        o = layer.overrides
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(Overrides):
            v = getattr(o, f.name)
            if f.name.startswith("step_"):
                if v:
                    changes[f.name] = tuple(getattr(out, f.name)) + tuple(v)
            elif f.name == "voice":
                changes["voice"] = out.voice.merged(v)
            elif v is not None:
                changes[f.name] = v
        out = dataclasses.replace(out, **changes)
    return out


def _describe(o: Overrides, routine: Routine) -> list[tuple[str, str]]:
    """(file-name part, words) for every setting in `o`."""
    out = _describe_seconds(o, "hold", routine)
    if o.scale is not None:
        out.append((f"scale{_num(o.scale)}", f"holds and rests x{_num(o.scale)}"))
    if o.reps is not None:
        out.append((f"reps{o.reps}", f"{o.reps} reps"))
    for selector, count in o.step_reps:
        n = match_step(routine, selector)
        out.append((f"reps{n}x{count}", f"step {n} {count} reps"))
    if o.rest_s is not None:
        out.append((f"rest{_num(o.rest_s)}", f"rests {_num(o.rest_s)} s"))
    out += _describe_seconds(o, "settle", routine) + _describe_seconds(o, "recover", routine)
    if o.countdown is not None:
        out.append((f"countdown{o.countdown}", f"countdown {o.countdown}"))
    if o.chimes is False:
        out.append(("nochimes", "no chimes"))
    if o.during is False:
        out.append(("noduring", "no during lines"))
    if o.sides is not None:
        out.append((o.sides, f"{o.sides} side only"))
    if o.bed is not None:
        off = o.bed.kind == "off"
        out.append(
            ("nobed", "no bed") if off else (f"bed-{_slug(o.bed.label())}", f"bed {o.bed.label()}")
        )
    if o.bed_level_lu is not None:
        out.append((f"bedlevel{_num(o.bed_level_lu)}", f"bed level {_num(o.bed_level_lu)} LU"))
    if o.bed_duck_db is not None:
        out.append((f"bedduck{_num(o.bed_duck_db)}", f"bed duck {_num(o.bed_duck_db)} dB"))
    v = o.voice
    if v.engine:
        out.append((_slug(v.engine), f"engine {v.engine}"))
    if v.voice:
        out.append((f"voice-{_slug(v.voice)}", f"voice {v.voice}"))
    if v.rate_wpm:
        out.append((f"rate{v.rate_wpm}", f"rate {v.rate_wpm} wpm"))
    if v.volume is not None:
        out.append((f"volume{_num(v.volume)}", f"volume {_num(v.volume)}"))
    return out


def _describe_seconds(o: Overrides, option: str, routine: Routine) -> list[tuple[str, str]]:
    """(file-name part, words) for a `PER_STEP` option in seconds, every step and single."""
    attr = PER_STEP[option]
    every = getattr(o, attr)
    out = [] if every is None else [(f"{option}{_num(every)}", f"{option} {_num(every)} s")]
    for selector, seconds in getattr(o, "step_" + attr):
        n = match_step(routine, selector)
        out.append((f"{option}{n}x{_num(seconds)}", f"step {n} {option} {_num(seconds)} s"))
    return out


# -- the command line's words ----------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """What a person chose for one run, in the command line's words: the values of the
    settings options every routine command takes (`--hold 45`, `--reps NAME=2`, ...)."""

    hold: tuple[str, ...] = ()
    """"SECONDS" for every hold, or "NAME=SECONDS" / "NUMBER=SECONDS" for one step."""
    scale: float | None = None
    reps: tuple[str, ...] = ()
    """"N" for every step, or "NAME=N" for one."""
    rest: float | None = None
    """Seconds of every rest."""
    settle: tuple[str, ...] = ()
    """Seconds to get into position before each hold, like `hold`: every step or one."""
    recover: tuple[str, ...] = ()
    """Seconds of quiet after each release, like `hold`: every step or one."""
    countdown: int | None = None
    no_chimes: bool = False
    no_during: bool = False
    sides: str | None = None
    bed: str | None = None
    """A bed under the whole routine, in `parse_bed`'s words: rain, drone, pace:110, a
    sound file."""
    no_bed: bool = False
    bed_level: float | None = None
    """LU relative to the speech."""
    bed_duck: float | None = None
    """dB the bed drops under every cue."""
    engine: str | None = None
    voice: str | None = None
    rate: int | None = None
    """Words per minute."""
    volume: float | None = None
    profile: Path | None = None
    """The profile file; None: the one in the config directory."""
    week: int | None = None
    """Play this stage of a progression instead of the one the history gives."""
    cache_dir: Path | None = None
    """Where synthesized cues are kept; None: the default cache."""

    def overrides(self) -> Overrides:
        """These choices as a settings layer; every bad value reported at once."""
        return parse_command_line(
            hold=self.hold,
            scale=self.scale,
            reps=self.reps,
            rest=self.rest,
            settle=self.settle,
            recover=self.recover,
            countdown=self.countdown,
            no_chimes=self.no_chimes,
            no_during=self.no_during,
            sides=self.sides,
            bed=self.bed,
            no_bed=self.no_bed,
            bed_level=self.bed_level,
            bed_duck=self.bed_duck,
            voice=VoiceSettings(self.engine, self.voice, self.rate, self.volume),
        )


T = TypeVar("T")


def _seconds(text: str, lo: float = 1, hi: float = MAX_SECONDS, hi_words: str = "3 hours") -> float:
    """`text` as a number of seconds from `lo` to `hi`; a ValueError says what is allowed."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not lo <= value <= hi:
        raise ValueError(f"must be from {lo:g} to {hi:g} seconds ({hi_words}), got {text}")
    return value


def _pause_seconds(text: str) -> float:
    """A settle or recover time."""
    return _seconds(text, 0, MAX_PAUSE_S, "5 minutes")


def _reps(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 50:
        raise ValueError(f"must be a whole number from 1 to 50, got {text!r}")
    return int(text)


_BED_WORDS = {"rain": Bed("rain"), "drone": Bed("drone"), "off": Bed("off")}
_PACE_TEXT = re.compile(r"pace(?:\s*:\s*|\s+)(?P<spm>.*)|pace", re.DOTALL)
_SPM_TEXT = re.compile(r"\d+(?:\.\d+)?")
BED_CHOICES = "rain, drone, off, pace:STEPS_PER_MINUTE (e.g. pace:110) or a sound file"


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


def _split(text: str) -> tuple[str | None, str]:
    """ "NAME=VALUE" -> (NAME, VALUE); "VALUE" -> (None, VALUE)."""
    if "=" in text:
        name, value = text.rsplit("=", 1)
        return name.strip(), value.strip()
    return None, text.strip()


def _every_and_single(
    texts: Sequence[str], flag: str, parse: Callable[[str], T]
) -> tuple[T | None, tuple[tuple[str, T], ...], list[Problem]]:
    """A repeatable `PER_STEP` option's values: for every step ("VALUE", the last one
    wins), for single steps ("NAME=VALUE"), and a problem per bad value."""
    every: T | None = None
    single: list[tuple[str, T]] = []
    problems: list[Problem] = []
    for text in texts:
        name, value = _split(text)
        try:
            parsed = parse(value)
        except ValueError as exc:
            problems.append(Problem(f"{flag} {text!r}", None, "", str(exc)))
            continue
        if name:
            single.append((name, parsed))
        else:
            every = parsed
    return every, tuple(single), problems


def parse_command_line(
    hold: Sequence[str] = (),
    scale: float | None = None,
    reps: Sequence[str] = (),
    rest: float | None = None,
    settle: Sequence[str] = (),
    recover: Sequence[str] = (),
    countdown: int | None = None,
    no_chimes: bool = False,
    no_during: bool = False,
    sides: str | None = None,
    bed: str | None = None,
    no_bed: bool = False,
    bed_level: float | None = None,
    bed_duck: float | None = None,
    voice: VoiceSettings = VoiceSettings(),
) -> Overrides:
    """The command line's options as a layer; every bad value reported at once."""
    hold_all, step_hold, problems = _every_and_single(hold, "--hold", _seconds)
    reps_all, step_reps, reps_problems = _every_and_single(reps, "--reps", _reps)
    settle_all, step_settle, settle_problems = _every_and_single(settle, "--settle", _pause_seconds)
    recover_all, step_recover, recover_problems = _every_and_single(
        recover, "--recover", _pause_seconds
    )
    problems += reps_problems + settle_problems + recover_problems
    if scale is not None and not 0 < scale <= MAX_SCALE:
        problems.append(
            Problem(
                "--scale", None, "", f"must be more than 0 and at most {MAX_SCALE:g}, got {scale:g}"
            )
        )
    if rest is not None:
        try:
            _seconds(f"{rest:g}")
        except ValueError as exc:
            problems.append(Problem("--rest", None, "", str(exc)))
    if countdown is not None and not 0 <= countdown <= 10:
        problems.append(
            Problem(
                "--countdown", None, "", f"must be a whole number from 0 to 10, got {countdown}"
            )
        )
    side: Side | None = None
    if sides is not None:
        if sides not in ("left", "right"):
            problems.append(Problem("--sides", None, "", f"must be left or right, got {sides!r}"))
        else:
            side = "left" if sides == "left" else "right"
    bed_value, bed_problems = _bed_options(bed, no_bed, bed_level, bed_duck)
    problems += bed_problems
    if problems:
        raise ValidationError(problems)
    return Overrides(
        hold_s=hold_all,
        step_hold_s=step_hold,
        scale=scale,
        reps=reps_all,
        step_reps=step_reps,
        rest_s=rest,
        settle_s=settle_all,
        step_settle_s=step_settle,
        recover_s=recover_all,
        step_recover_s=step_recover,
        countdown=countdown,
        chimes=False if no_chimes else None,
        during=False if no_during else None,
        sides=side,
        bed=bed_value,
        bed_level_lu=bed_level,
        bed_duck_db=bed_duck,
        voice=voice,
    )


def _bed_options(
    bed: str | None, no_bed: bool, level_lu: float | None, duck_db: float | None
) -> tuple[Bed | None, list[Problem]]:
    """--bed / --no-bed as a bed (None: neither given), and a problem per bad value."""
    problems: list[Problem] = []
    value: Bed | None = Bed("off", where="--no-bed") if no_bed else None
    if bed is not None:
        try:
            value = parse_bed(bed, "--bed")
        except ValueError as exc:
            problems.append(Problem("--bed", None, "", str(exc)))
        if no_bed:
            message = "cannot go with --bed; give one or the other"
            problems.append(Problem("--no-bed", None, "", message))
    for flag, number, (lo, hi), unit in (
        ("--bed-level", level_lu, BED_LEVEL_RANGE_LU, "LU"),
        ("--bed-duck", duck_db, BED_DUCK_RANGE_DB, "dB"),
    ):
        if number is not None and not lo <= number <= hi:
            problems.append(
                Problem(flag, None, "", f"must be from {lo:g} to {hi:g} {unit}, got {number:g}")
            )
    return value, problems
