"""Writing one routine's section of the profile: what `voice-coach settings ROUTINE
--save` and the page's "Save as my settings" share.

The options are given in the command line's words (a `Choices`) and merged into the
section `routines: {NAME: ...}`: a setting given replaces the same setting there, a
value for one step replaces that step's value, and everything else is kept. The rest
of the file stays as it was written, comments included: only the text of that one
entry is replaced (or added). The new file is checked with the profile's own rules
before it replaces the old one, atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ..atomic import partial_beside
from ..errors import Problem, ProfileError, RoutineNotFoundError, ValidationError
from ..plan import load
from ..routine import yamlsafe
from ..routine.library import all_routines
from ..routine.model import Bed, Exercise, Routine
from ..schedule import Schedule, ScheduleValueError, days_text, parse_days, parse_times
from .layers import COMMAND_LINE, Layer, Overrides, match_step, resolve
from .profile import default_profile_path, load_profile, load_schedules
from .table import in_layer
from .words import Choices

SECTION_INDENT = 2
"""Indent of a new `routines:` entry, and of the lines inside it."""


@dataclass(frozen=True)
class Saved:
    path: Path
    """The profile file written."""
    section: dict[str, Any]
    """The routine's section as written."""


def save_routine_settings(name: str, choices: Choices) -> Saved:
    """Merge `choices` into the profile's section for the routine `name` (a file or a
    bundled routine), in `choices.profile` or the default profile; return what was
    written. Bad values, unknown steps and a profile that is already broken are a
    `ValidationError`, and nothing is written."""
    if choices.week is not None:
        raise ValidationError(
            [Problem("--week", None, "", "is not a setting kept in a profile; leave it out")]
        )
    routine = load(name)
    path = choices.profile or default_profile_path()
    if path.is_symlink():  # a profile kept elsewhere (dotfiles): write where it lives
        path = path.resolve()
    given = choices.overrides()
    old_layers = load_profile(path, routine.slug) if path.is_file() else []
    # The section will hold the old values and the given ones on top: exactly what
    # these layers describe, so they are checked together (unknown steps, a scale
    # that makes a hold too long).
    resolve(routine, [*old_layers, Layer(COMMAND_LINE, given)])
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    data = yamlsafe.load(text) if text.strip() else None
    routines = data.get("routines") if isinstance(data, dict) else None
    old = routines.get(routine.slug) if isinstance(routines, dict) else None
    section = merged_section(old if isinstance(old, dict) else {}, given, routine)
    _write_checked(path, with_section(text, routine.slug, section), routine.slug)
    return Saved(path, section)


def merged_section(old: Mapping[str, Any], given: Overrides, routine: Routine) -> dict[str, Any]:
    """The section `old` (as read from YAML) with every setting `given` sets replaced,
    the voice's settings in its `voice:` mapping."""
    section = dict(old)
    for s in in_layer("profile"):
        if s.per_step:
            value = _per_step(
                s.name, section.get(s.name), given.get(s.name), given.single(s.name), routine
            )
        else:
            value = given.get(s.name)
            value = None if value is None else _as_written(value)
        if value is None:
            continue
        if s.group:
            mapping = section.get(s.group)
            section[s.group] = {**(mapping if isinstance(mapping, dict) else {}), s.name: value}
        else:
            section[s.name] = value
    return section


def _per_step(
    option: str,
    old: Any,
    every: float | None,
    single: tuple[tuple[str, Any], ...],
    routine: Routine,
) -> Any:
    """A per-step setting after `every` and `single` are applied to `old` (None, a
    value for every step, or {step: value}); None when nothing changes it.

    A value for every step alone replaces whatever was there. With values for single
    steps, the result is a mapping: the steps named by what `old` or `every` said for
    every step, then the single ones on top, each step named once."""
    if not single:
        return None if every is None else _plain(every)
    # A flow or a count has no hold: a hold for every step leaves them out.
    numbers = [
        n
        for n, s in enumerate(routine.steps, start=1)
        if isinstance(s, Exercise) and (option != "hold" or s.pace is None)
    ]
    by_step: dict[int | str, Any] = {}
    base = every if every is not None else old
    if isinstance(base, dict):
        for key, value in base.items():
            by_step[match_step(routine, str(key)) or str(key)] = value
    elif base is not None:
        by_step = dict.fromkeys(numbers, base)
    for selector, value in single:
        by_step[match_step(routine, selector) or selector] = value
    return {_step_key(routine, key): _plain(value) for key, value in by_step.items()}


def _step_key(routine: Routine, step: int | str) -> int | str:
    """How a step is named in the file: its name when no other exercise has it (names
    survive steps added to the script), else its number."""
    if isinstance(step, str):
        return step
    exercise = routine.steps[step - 1]
    assert isinstance(exercise, Exercise)
    name = exercise.name.strip()
    same = [s for s in routine.exercises if s.name.strip().lower() == name.lower()]
    return exercise.name if len(same) == 1 and not name.isdigit() else step


def _as_written(value: Any) -> Any:
    """How a profile writes a setting's value: whole numbers as integers, a bed as a
    word, {pace: N}, or a file by its absolute path (so that it means the same file
    wherever the profile is)."""
    if not isinstance(value, Bed):
        return _plain(value)
    bed = value
    if bed.kind == "pace":
        return {"pace": _plain(bed.pace_spm)}
    if bed.kind == "file":
        return {"file": bed.path}
    return bed.kind


def _plain(value: Any) -> Any:
    """Whole numbers as integers (`45`, not `45.0`), everything else as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# -- the text of the file ----------------------------------------------------------------


def _dump(data: Any) -> str:
    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000
    )


def _indented(text: str, spaces: int) -> str:
    """`text` with every line but the first indented by `spaces` (the first follows
    text already on its line)."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join([lines[0], *(" " * spaces + line for line in lines[1:])])


def _end(node: yaml.Node) -> int:
    """Where the text of `node` ends. A block collection's own end mark lies at the
    next token (past comments and blank lines), so it ends where its last value does."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _end(node.value[-1])
    return int(node.end_mark.index)


def _line_end(text: str, index: int) -> int:
    """The end of the line `index` is on (a comment after the value goes with it)."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline


def with_section(text: str, slug: str, section: dict[str, Any], top: str = "routines") -> str:
    """The profile `text` with `routines: {slug: section}` (or `top:`'s) written into
    it, the rest kept as it is."""
    entry = _dump({slug: section})
    root = yamlsafe.compose(text) if text.strip() else None
    if root is None:  # empty, or comments only
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return prefix + f"{top}:\n" + _indent_all(entry, SECTION_INDENT)
    assert isinstance(root, yaml.MappingNode)  # load_profile has checked the shape
    if root.flow_style:  # {voice: ..., routines: ...} on one line: written anew
        data = yamlsafe.load(text)
        data.setdefault(top, {})
        data[top] = {**(data[top] or {}), slug: section}
        return _dump(data)
    found = [(k, v) for k, v in root.value if k.value == top]
    if not found:
        prefix = text if text.endswith("\n") else text + "\n"
        return prefix + f"{top}:\n" + _indent_all(entry, SECTION_INDENT)
    key, routines = found[0]
    if not isinstance(routines, yaml.MappingNode) or routines.flow_style or not routines.value:
        # `routines:` empty or written inline: the whole mapping, written as a block.
        existing = yamlsafe.load(text).get(top) or {}
        block = _dump({**existing, slug: section})
        column = key.start_mark.column + SECTION_INDENT
        start, end = routines.start_mark.index, _end(routines)
        return (
            text[:start].rstrip(" ") + "\n" + _indent_all(block, column).rstrip("\n") + text[end:]
        )
    column = routines.value[0][0].start_mark.column
    for entry_key, value in routines.value:
        if entry_key.value == slug:
            start, end = entry_key.start_mark.index, _line_end(text, _end(value))
            return text[:start] + _indented(entry, column) + text[end:]
    end = _line_end(text, _end(routines))
    return text[:end] + "\n" + _indent_all(entry, column).rstrip("\n") + text[end:]


def without_entry(text: str, slug: str, top: str) -> str:
    """The profile `text` without the entry `slug` of its mapping `top:` (the mapping
    left empty when it was the last one), the rest kept as it is."""
    root = yamlsafe.compose(text) if text.strip() else None
    if not isinstance(root, yaml.MappingNode):
        return text
    found = [v for k, v in root.value if k.value == top]
    if not found or not isinstance(found[0], yaml.MappingNode):
        return text
    mapping = found[0]
    keys = [k.value for k, _ in mapping.value]
    if slug not in keys:
        return text
    if root.flow_style or mapping.flow_style or len(keys) == 1:
        data = yamlsafe.load(text)
        rest = {k: v for k, v in data[top].items() if k != slug}
        if root.flow_style:
            return _dump(
                {**data, top: rest} if rest else {k: v for k, v in data.items() if k != top}
            )
        if not rest:  # the last one: the whole `top:` goes
            top_key = next(k for k, v in root.value if v is mapping)
            start = text.rfind("\n", 0, top_key.start_mark.index) + 1
            return text[:start] + text[_line_end(text, _end(mapping)) + 1 :]
        # Written inline, it stays inline.
        flow = yaml.safe_dump(rest, default_flow_style=True, allow_unicode=True, width=1000)
        start, end = mapping.start_mark.index, _end(mapping)
        return text[:start] + flow.strip() + text[end:]
    entry_key, value = mapping.value[keys.index(slug)]
    start = text.rfind("\n", 0, entry_key.start_mark.index) + 1
    end = _line_end(text, _end(value))
    return text[:start] + text[end + 1 :]


def _indent_all(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line if line.strip() else line for line in text.splitlines(True))


def _write_checked(path: Path, text: str, slug: str) -> None:
    """Write `text` to `path` atomically, after checking it reads back as a profile;
    the file keeps its permissions."""
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        with partial_beside(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
            load_profile(tmp, slug)  # our own text: a failure here is a bug, not a write
            if mode is not None:
                os.chmod(tmp, mode)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except OSError as exc:
        raise ProfileError(f"cannot write {path}: {exc.strerror or exc}") from None


# -- plans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedSchedule:
    path: Path
    """The profile file written."""
    schedule: Schedule | None
    """The routine's plan as written; None when it was cleared."""


def save_schedule(
    name: str,
    at: Sequence[str],
    days: str | Sequence[str] | None,
    times_per_week: int | None,
    today: date,
    profile: Path | None = None,
) -> SavedSchedule:
    """Write the plan of the routine `name` (one of yours or a bundled one, by name)
    into the profile's `plans:`: a session at each time of `at` (HH:MM) on `days`
    (default every day) or on any `times_per_week` days. A plan made anew counts from
    `today`; one changed keeps its first day. Bad values and an unknown routine are
    refused, naming them, and nothing is written."""
    slug = _plannable(name)
    problems: list[Problem] = []
    try:
        times = parse_times(at)
    except ScheduleValueError as exc:
        problems.append(Problem("--at", None, "", str(exc)))
    if days is not None and times_per_week is not None:
        problems.append(Problem("--days", None, "", "give --days or --times-per-week, not both"))
    elif days is not None:
        try:
            weekdays = parse_days(days)
        except ScheduleValueError as exc:
            problems.append(Problem("--days", None, "", str(exc)))
    if times_per_week is not None and not 1 <= times_per_week <= 7:
        problems.append(
            Problem("--times-per-week", None, "", f"must be 1 to 7, got {times_per_week}")
        )
    if problems:
        raise ValidationError(problems)
    path, text = _profile_text(profile)
    old = load_schedules(path).get(slug) if path.is_file() else None
    entry: dict[str, Any] = {"at": [t.strftime("%H:%M") for t in times]}
    if times_per_week is not None:
        entry["times_per_week"] = times_per_week
    else:
        entry["days"] = days_text(weekdays) if days is not None else "every day"
    entry["since"] = old.since if old is not None and old.since is not None else today
    _write_checked(path, with_section(text, slug, entry, top="plans"), slug)
    return SavedSchedule(path, load_schedules(path)[slug])


def clear_schedule(name: str, profile: Path | None = None) -> SavedSchedule:
    """Remove the plan of the routine `name` from the profile; a routine with no plan
    is an error naming the plans there are."""
    path, text = _profile_text(profile)
    plans = load_schedules(path) if path.is_file() else {}
    slug = name
    if slug not in plans:
        have = ", ".join(plans) or "none"
        raise ValidationError([Problem(name, None, "", f"has no plan to clear; plans: {have}")])
    _write_checked(path, without_entry(text, slug, "plans"), slug)
    return SavedSchedule(path, None)


def _plannable(name: str) -> str:
    """The name of the routine `name` if a plan can be kept for it: one that can be
    played by name (a plan names it, and `play` finds it by that name)."""
    names = [found.name for found in all_routines()]
    if name not in names:
        raise RoutineNotFoundError(
            f"no routine named {name!r} to plan; routines: {', '.join(names) or 'none'}"
            " (a file of your own goes in your routines folder first)"
        )
    return name


def _profile_text(profile: Path | None) -> tuple[Path, str]:
    path = profile or default_profile_path()
    if path.is_symlink():
        path = path.resolve()
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return path, text
