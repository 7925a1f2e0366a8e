"""A personal profile: default voice and settings, and settings per routine.

```yaml
voice: {rate: 150}
defaults: {countdown: 5, scale: 1.2, settle: 5, bed: rain, bed_level: -24}
routines:
  sciatica-relief:
    hold: {Seated hamstring stretch: 45, 1: 50}
    settle: {1: 10}
    progression: {hold: {start: 20, add: 5, every: week, max: 60}}
  walking:
    bed: off                      # or {pace: 100}, or music/walk.mp3 (next to this file)
plans:                            # when each routine is practised (`voice-coach plan`)
  sciatica-relief: {at: ['08:00', '18:00'], days: mon-fri, since: 2026-12-01}
  walking: {at: ['07:30'], times_per_week: 3}
```

Read from `--profile FILE`, else `profile.yaml` in $VOICE_COACH_CONFIG or the user's
config directory (no file there: no profile). Validated like routine scripts; a bed's
sound file is relative to the profile's folder.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainValidator, create_model, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from ..errors import Problem, ValidationError
from ..paths import PROFILE_NAME, config_dir
from ..routine.files import (
    ProgressionFile,
    VoiceFile,
    _Strict,
    progression_from_file,
    ramp_problems,
)
from ..routine.problems import Path_, dotted, line_of, placed_bed, read_yaml, schema_problems
from ..schedule import Schedule, ScheduleValueError, parse_days, parse_times
from .layers import PER_STEP, Layer, Overrides
from .models import field_of
from .table import VOICE_SETTINGS, in_layer


def _section_fields() -> dict[str, Any]:
    """The keys of a profile section: every setting a profile may set (the voice's in
    `voice:`), per step where the setting allows it, and a progression."""
    fields: dict[str, Any] = {
        s.name: field_of(s, per_step=s.per_step) for s in in_layer("profile") if not s.group
    }
    fields["voice"] = (VoiceFile, Field(default_factory=VoiceFile))
    fields["progression"] = (ProgressionFile | None, None)
    return fields


OverrideFile = create_model(
    "OverrideFile",
    __base__=_Strict,
    __doc__="Settings for every routine (`defaults:`) or for one (`routines: {NAME: ...}`).",
    **_section_fields(),
)


def _times(value: object) -> tuple[time, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise PydanticCustomError("times", "must be a list of times, HH:MM")
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            # YAML 1.1 reads 18:00 unquoted as a base-60 number.
            hours, minutes = divmod(item, 60)
            raise PydanticCustomError(
                "times",
                "write each time in quotes, '{hhmm}': YAML reads it unquoted as the number {n}",
                {"hhmm": f"{hours:02d}:{minutes:02d}", "n": item},
            )
    try:
        return parse_times(value)
    except ScheduleValueError as exc:
        raise PydanticCustomError("times", "{why}", {"why": str(exc)}) from None


def _days(value: object) -> tuple[int, ...]:
    if not isinstance(value, str | list):
        raise PydanticCustomError("days", "must be text (mon-fri) or a list of days")
    try:
        return parse_days(value)
    except ScheduleValueError as exc:
        raise PydanticCustomError("days", "{why}", {"why": str(exc)}) from None


def _per_week(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
        raise PydanticCustomError("days", "must be a whole number of days from 1 to 7")
    return value


class ScheduleFile(_Strict):
    """When one routine is practised (`plans: {NAME: ...}`): at these times of day, on
    these days or on any N days a week."""

    at: Annotated[tuple[time, ...], PlainValidator(_times)]
    """Times of day, 'HH:MM' in quotes, one session at each (at most 12)."""
    days: Annotated[tuple[int, ...] | None, PlainValidator(_days)] = None
    """every day (the default), weekdays, weekends, mon-fri, [mon, wed, fri]."""
    times_per_week: Annotated[int | None, PlainValidator(_per_week)] = None
    """Instead of days: any this many days a week."""
    since: date | None = None
    """The day the plan was made: nothing before it counts as missed."""

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleFile:
        if self.days is not None and self.times_per_week is not None:
            raise PydanticCustomError("days", "give days or times_per_week, not both")
        return self

    def schedule(self, routine: str) -> Schedule:
        per_week = self.times_per_week
        days = None if per_week else (self.days or tuple(range(7)))
        return Schedule(routine, self.at, days, per_week, self.since)


ProfileFile = create_model(
    "ProfileFile",
    __base__=_Strict,
    voice=(VoiceFile, Field(default_factory=VoiceFile)),
    defaults=(OverrideFile, Field(default_factory=OverrideFile)),
    routines=(dict[str, OverrideFile], Field(default_factory=dict)),
    plans=(dict[str, ScheduleFile], Field(default_factory=dict)),
)


def default_profile_path() -> Path:
    return config_dir() / PROFILE_NAME


def _overrides(section: Any, bed: Any, under: Overrides = Overrides()) -> Overrides:
    """A validated section as a layer, on top of `under` (the profile's own `voice:`);
    `bed` is its bed saying where it was written."""
    values = dict(under.values)
    steps: list[tuple[str, str, Any]] = []
    for s in in_layer("profile"):
        value = getattr(section.voice if s.group == "voice" else section, s.name)
        if s.name == "bed":
            value = bed
        if value is None:
            continue
        if s.per_step and isinstance(value, dict):
            steps += [(s.name, str(k), v) for k, v in value.items()]
        else:
            values[s.name] = value
    return Overrides(
        tuple(values.items()), tuple(steps), progression_from_file(section.progression)
    )


def _owner(path: Path_) -> type[BaseModel]:
    """The model whose keys a profile allows at `path`."""
    if path in ((), ("routines",), ("plans",)):
        return ProfileFile
    if path[:1] == ("plans",):
        return ScheduleFile
    if path[-1:] == ("voice",):
        return VoiceFile
    if "progression" in path:
        return ProgressionFile
    return OverrideFile


def load_profile(path: Path | None, routine_slug: str) -> list[Layer]:
    """The profile's layers for one routine, lowest precedence first ([] if none)."""
    read = _read_profile(path)
    if read is None:
        return []
    profile, source, lines = read

    def bed(o: Any, base: Path_) -> Any:
        return placed_bed(o.bed, source, lines, (*base, "bed"))

    voice = ((s.name, getattr(profile.voice, s.name)) for s in VOICE_SETTINGS)
    top_voice = Overrides(tuple((name, v) for name, v in voice if v is not None))
    defaults = _overrides(profile.defaults, bed(profile.defaults, ("defaults",)), top_voice)
    layers = [Layer(f"profile defaults ({source})", defaults)]
    own = profile.routines.get(routine_slug)
    if own is not None:
        own_overrides = _overrides(own, bed(own, ("routines", routine_slug)))
        layers.append(Layer(f"profile routines.{routine_slug} ({source})", own_overrides))
    return layers


def load_schedules(path: Path | None) -> dict[str, Schedule]:
    """Every routine's plan in the profile (`plans:`), by routine name ({} if none)."""
    read = _read_profile(path)
    if read is None:
        return {}
    return {name: s.schedule(name) for name, s in read[0].plans.items()}


def _read_profile(path: Path | None) -> tuple[Any, str, dict[Path_, int]] | None:
    """The profile at `path` (None: the default one) checked whole: the model, its
    file name and the line of every key; None when there is no profile."""
    explicit = path is not None
    path = path or default_profile_path()
    if not path.is_file():
        if explicit:
            raise ValidationError([Problem(str(path), None, "", "profile file not found")])
        return None
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError([Problem(source, None, "", f"cannot read: {exc}")]) from None
    data, lines, problems = read_yaml(text, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError(
            [
                *problems,
                Problem(
                    source,
                    1,
                    "",
                    "a profile must be a mapping with `voice`, `defaults`, `routines`, `plans`",
                ),
            ]
        )
    raw_defaults = data.get("defaults")
    for name in PER_STEP:
        if isinstance(raw_defaults, dict) and isinstance(raw_defaults.get(name), dict):
            where: Path_ = ("defaults", name)
            problems.append(
                Problem(
                    source,
                    line_of(lines, where),
                    dotted(where),
                    "per-step values belong in `routines: {NAME: ...}`; here give one number "
                    "for every step",
                )
            )
    profile: Any = None
    try:
        profile = ProfileFile.model_validate(data, context={"folder": path.resolve().parent})
    except PydanticValidationError as exc:
        problems += schema_problems(exc, (), source, lines, _owner)
    if profile is not None:
        sections: list[tuple[Path_, Any]] = [(("defaults",), profile.defaults)]
        sections += [(("routines", name), o) for name, o in profile.routines.items()]
        for base, section in sections:
            for sub, msg in ramp_problems(section.progression):
                key = (*base, "progression", *sub)
                problems.append(Problem(source, line_of(lines, key), dotted(key), msg))
    if problems or profile is None:
        raise ValidationError(problems)
    return profile, source, lines
