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
from typing import Any

from pydantic import BaseModel, Field, create_model
from pydantic import ValidationError as PydanticValidationError

from ..errors import Problem, ValidationError
from ..paths import config_dir
from ..routine.files import (
    ProgressionFile,
    VoiceFile,
    _Strict,
    progression_from_file,
    ramp_problems,
)
from ..routine.problems import Path_, dotted, line_of, placed_bed, read_yaml, schema_problems
from .layers import PER_STEP, Layer, Overrides
from .models import field_of
from .table import VOICE_SETTINGS, in_layer

PROFILE_NAME = "profile.yaml"


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
ProfileFile = create_model(
    "ProfileFile",
    __base__=_Strict,
    voice=(VoiceFile, Field(default_factory=VoiceFile)),
    defaults=(OverrideFile, Field(default_factory=OverrideFile)),
    routines=(dict[str, OverrideFile], Field(default_factory=dict)),
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
    if path in ((), ("routines",)):
        return ProfileFile
    if path[-1:] == ("voice",):
        return VoiceFile
    if "progression" in path:
        return ProgressionFile
    return OverrideFile


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
