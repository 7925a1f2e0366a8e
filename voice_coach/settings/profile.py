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
```

Read from `--profile FILE`, else `profile.yaml` in $VOICE_COACH_CONFIG or the user's
config directory (no file there: no profile). Validated like routine scripts; a bed's
sound file is relative to the profile's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, PlainValidator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from ..errors import Problem, ValidationError
from ..paths import config_dir
from ..routine.loader import (
    MAX_COUNTDOWN,
    MAX_REPS,
    BedDuck,
    BedLevel,
    BedValue,
    Path_,
    ProgressionFile,
    Seconds,
    VoiceFile,
    _pause_seconds,
    _seconds,
    _Strict,
    dotted,
    line_of,
    placed_bed,
    progression_from_file,
    ramp_problems,
    read_yaml,
    schema_problems,
)
from ..routine.model import Bed, VoiceSettings
from .layers import MAX_SCALE, PER_STEP, Layer, Overrides

PROFILE_NAME = "profile.yaml"
T = TypeVar("T")


def _per_step(check: Any) -> Any:
    """A value for every step, or a mapping of step name/number -> value."""

    def validate(value: object) -> object:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str | int) or isinstance(key, bool):
                    raise PydanticCustomError("step_key", "keys must be step names or numbers")
                out[str(key)] = check(item)
            return out
        return check(value)

    return validate


def _reps(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPS:
        raise PydanticCustomError(
            "reps",
            "must be a whole number from 1 to {hi}, got {got}",
            {"hi": MAX_REPS, "got": repr(value)},
        )
    return value


PerStepSeconds = Annotated[float | dict[str, float], PlainValidator(_per_step(_seconds))]
PerStepReps = Annotated[int | dict[str, int], PlainValidator(_per_step(_reps))]
PerStepPause = Annotated[float | dict[str, float], PlainValidator(_per_step(_pause_seconds))]


class OverrideFile(_Strict):
    hold: PerStepSeconds | None = None
    scale: float | None = Field(None, gt=0, le=MAX_SCALE)
    reps: PerStepReps | None = None
    rest: Seconds | None = None
    settle: PerStepPause | None = None
    recover: PerStepPause | None = None
    countdown: int | None = Field(None, ge=0, le=MAX_COUNTDOWN)
    chimes: bool | None = None
    during: bool | None = None
    sides: Literal["left", "right"] | None = None
    bed: BedValue | None = None
    """Relative to the profile's folder."""
    bed_level: BedLevel | None = None
    bed_duck: BedDuck | None = None
    listen: bool | None = None
    """`play` listens for voice commands (as with --listen)."""
    voice: VoiceFile = VoiceFile()
    progression: ProgressionFile | None = None


class ProfileFile(_Strict):
    voice: VoiceFile = VoiceFile()
    defaults: OverrideFile = OverrideFile()
    routines: dict[str, OverrideFile] = Field(default_factory=dict)


def default_profile_path() -> Path:
    return config_dir() / PROFILE_NAME


def _voice(v: VoiceFile) -> VoiceSettings:
    return VoiceSettings(engine=v.engine, voice=v.voice, rate_wpm=v.rate, volume=v.volume)


def _split_per_step(value: T | dict[str, T] | None) -> tuple[T | None, tuple[tuple[str, T], ...]]:
    """A per-step entry as (the value for every step, (step, value) for single steps)."""
    if isinstance(value, dict):
        return None, tuple(value.items())
    return value, ()


def _overrides(
    o: OverrideFile, bed: Bed | None, extra_voice: VoiceSettings = VoiceSettings()
) -> Overrides:
    """A section as a layer; `bed` is its bed saying where it was written."""
    hold_all, step_hold = _split_per_step(o.hold)
    reps_all, step_reps = _split_per_step(o.reps)
    settle_all, step_settle = _split_per_step(o.settle)
    recover_all, step_recover = _split_per_step(o.recover)
    return Overrides(
        hold_s=hold_all,
        step_hold_s=step_hold,
        scale=o.scale,
        reps=reps_all,
        step_reps=step_reps,
        rest_s=o.rest,
        settle_s=settle_all,
        step_settle_s=step_settle,
        recover_s=recover_all,
        step_recover_s=step_recover,
        countdown=o.countdown,
        chimes=o.chimes,
        during=o.during,
        sides=o.sides,
        bed=bed,
        bed_level_lu=o.bed_level,
        bed_duck_db=o.bed_duck,
        listen=o.listen,
        voice=extra_voice.merged(_voice(o.voice)),
        progression=progression_from_file(o.progression),
    )


def load_profile(path: Path | None, routine_slug: str) -> list[Layer]:
    """The profile's layers for one routine, lowest precedence first ([] if none)."""
    explicit = path is not None
    path = path or default_profile_path()
    if not path.is_file():
        if explicit:
            raise ValidationError([Problem(str(path), None, "", "profile file not found")])
        return []
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
                    "a profile must be a mapping with `voice`, `defaults`, `routines`",
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
    profile: ProfileFile | None = None
    try:
        profile = ProfileFile.model_validate(data, context={"folder": path.resolve().parent})
    except PydanticValidationError as exc:
        problems += schema_problems(exc, (), source, lines, OverrideFile)
    if profile is not None:
        sections: list[tuple[Path_, OverrideFile]] = [(("defaults",), profile.defaults)]
        sections += [(("routines", name), o) for name, o in profile.routines.items()]
        for base, section in sections:
            for sub, msg in ramp_problems(section.progression):
                key = (*base, "progression", *sub)
                problems.append(Problem(source, line_of(lines, key), dotted(key), msg))
    if problems or profile is None:
        raise ValidationError(problems)

    def bed(o: OverrideFile, base: Path_) -> Bed | None:
        return placed_bed(o.bed, source, lines, (*base, "bed"))

    defaults = _overrides(
        profile.defaults, bed(profile.defaults, ("defaults",)), _voice(profile.voice)
    )
    layers = [Layer(f"profile defaults ({source})", defaults)]
    own = profile.routines.get(routine_slug)
    if own is not None:
        own_overrides = _overrides(own, bed(own, ("routines", routine_slug)))
        layers.append(Layer(f"profile routines.{routine_slug} ({source})", own_overrides))
    return layers
