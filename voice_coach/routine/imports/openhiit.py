"""OpenHIIT: its export file, a JSON list of timers, each `{name, activeIntervals,
restarts, activities: [...], timeSettings: {getReadyTime, warmupTime, workTime,
restTime, breakTime, cooldownTime}}` (seconds; `timeSettings` sometimes itself a JSON
text).

Laid out as OpenHIIT runs it: the get-ready time as a rest, a warm-up, then
`activeIntervals` work intervals (named by `activities`, else "Work") with a rest
between them, the whole round done `restarts + 1` times with a break (or a rest)
between rounds, then a cool-down; an interval of 0 s is left out, as OpenHIIT does."""

from __future__ import annotations

import json
from typing import Any

from ...errors import Problem, ValidationError
from .draft import Draft, DraftExercise, DraftRest, DraftStep, check_seconds, unbraced
from .source import Parsed

NAME = "openhiit"
LABEL = "OpenHIIT export JSON (a list of interval timers)"
TIMES = ("getReadyTime", "warmupTime", "workTime", "restTime", "breakTime", "cooldownTime")
MAX_INTERVALS = 500
"""Most work intervals in one timer (every round counted)."""


def claims(parsed: Parsed) -> bool:
    data = parsed.data
    if parsed.syntax != "json":
        return False
    if isinstance(data, dict):
        return "timeSettings" in data
    return isinstance(data, list) and all(isinstance(t, dict) and "timeSettings" in t for t in data)


def read(parsed: Parsed) -> list[Draft]:
    timers = parsed.data if isinstance(parsed.data, list) else [parsed.data]
    base: tuple[int, ...] = ()
    if not timers:
        raise ValidationError([parsed.at("is an empty list: it holds no OpenHIIT timers")])
    drafts, problems = [], []
    for i, timer in enumerate(timers):
        base = (i,) if isinstance(parsed.data, list) else ()
        try:
            drafts.append(_timer(parsed, timer, base))
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    return drafts


def _timer(parsed: Parsed, timer: dict[str, Any], base: tuple[int, ...]) -> Draft:
    problems: list[Problem] = []
    notes: list[Problem] = []

    def at(message: str, *path: str | int) -> Problem:
        return parsed.at(message, *base, *path)

    name = timer.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(at("name must be text", "name"))
        name = ""
    label = f"timer {name.strip()!r}" if name else "timer"
    settings = timer.get("timeSettings")
    if isinstance(settings, str):
        try:
            settings = json.loads(settings)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                [at(f"{label}: timeSettings is not valid JSON: {exc.msg}", "timeSettings")]
            ) from None
    if not isinstance(settings, dict):
        raise ValidationError(
            [at(f"{label}: timeSettings must be a mapping of seconds", "timeSettings")]
        )
    times: dict[str, float] = {}
    for key in TIMES:
        value = settings.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(
                at(
                    f"{label}: {key} must be a number of seconds, got {value!r}",
                    "timeSettings",
                    key,
                )
            )
        elif value and (why := check_seconds(float(value), f"{label}: {key}")):
            problems.append(at(why, "timeSettings", key))
        else:
            times[key] = float(value)
    counts: dict[str, int] = {}
    for key, least in (("activeIntervals", 1), ("restarts", 0)):
        value = timer.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            problems.append(
                at(f"{label}: {key} must be a whole number of {least} or more, got {value!r}", key)
            )
        else:
            counts[key] = value
    activities = timer.get("activities", [])
    if not isinstance(activities, list) or not all(isinstance(a, str) for a in activities):
        problems.append(at(f"{label}: activities must be a list of names", "activities"))
        activities = []
    if problems:
        raise ValidationError(problems)
    intervals, rounds = counts["activeIntervals"], counts["restarts"] + 1
    if not times["workTime"]:
        raise ValidationError(
            [at(f"{label}: workTime is 0: there is nothing to do", "timeSettings", "workTime")]
        )
    if intervals * rounds > MAX_INTERVALS:
        raise ValidationError(
            [
                at(
                    f"{label}: {intervals * rounds} work intervals; "
                    f"at most {MAX_INTERVALS} are read",
                    "activeIntervals",
                )
            ]
        )
    if len(activities) > intervals:
        notes.append(
            at(
                f"{label}: only the first {intervals} activities are used, as in OpenHIIT",
                "activities",
            )
        )

    steps: list[DraftStep] = []

    def line(key: str) -> int | None:
        return parsed.line(*base, "timeSettings", key)

    def rest(key: str, what: str) -> None:
        if times[key]:
            steps.append(DraftRest(times[key], line(key), comment=what))

    def work(name: str, key: str, what: str = "") -> None:
        if times[key]:
            plain, changed = unbraced(name.strip() or "Work")
            if changed:
                notes.append(at(f"{label}: braces {{ }} in {name!r} became ( )", "activities"))
            steps.append(DraftExercise(plain, times[key], line(key), comment=what))

    rest("getReadyTime", "get ready")
    work("Warmup", "warmupTime", "warm-up")
    if times["warmupTime"]:
        rest("restTime", "rest")
    for r in range(rounds):
        where = f"round {r + 1} of {rounds}" if rounds > 1 else ""
        for i in range(intervals):
            work(activities[i] if i < len(activities) else "Work", "workTime", where)
            if i < intervals - 1:
                rest("restTime", "rest")
        if r < rounds - 1:
            rest("breakTime" if times["breakTime"] else "restTime", "break between rounds")
    work("Cooldown", "cooldownTime", "cool-down")
    if "soundSettings" in timer:
        notes.append(
            at(f"{label}: its sounds; voice_coach speaks its cues and chimes", "soundSettings")
        )
    return Draft(
        title=name.strip(),
        steps=tuple(steps),
        source=parsed.source,
        reader=LABEL,
        title_line=parsed.line(*base, "name"),
        notes=tuple(notes),
        header=(
            "Laid out as OpenHIIT runs it: get ready (a rest), warm-up, the work intervals",
            "with rests between them, round after round with a break between, cool-down.",
        ),
    )
