"""just_another_workout_timer (JAWT): a workout file `{title, sets: [{repetitions,
name, exercises: [{name, duration}]}], version}` (file version 1 or 2), or a backup
file `{workouts: [...]}` holding several workouts.

Carried over as: an exercise per exercise (its seconds the hold), a rest per exercise
named as a rest ("Rest", "Pause", "Break", ...); a set done more than once is written
out round after round (a set of one exercise as that exercise's reps)."""

from __future__ import annotations

from typing import Any

from ...errors import Problem, ValidationError
from .draft import Draft, DraftExercise, DraftRest, DraftStep, check_seconds, unbraced
from .source import Parsed

NAME = "jawt"
LABEL = "just_another_workout_timer JSON (a workout, or a backup of several)"
VERSIONS = (1, 2)
"""File versions read (`version`; none written means 1)."""
REST_NAMES = frozenset(
    {
        "rest",
        "pause",
        "break",
        "recovery",
        "recover",
        "relax",
        "repos",
        "descanso",
        "riposo",
        "przerwa",
        "отдых",
    }
)
"""Exercise names that are rests, in the languages the app speaks (any case)."""


def claims(parsed: Parsed) -> bool:
    data = parsed.data
    return (
        parsed.syntax == "json"
        and isinstance(data, dict)
        and ("sets" in data or "workouts" in data)
    )


def read(parsed: Parsed) -> list[Draft]:
    data: dict[str, Any] = parsed.data
    if "workouts" in data:
        workouts = data["workouts"]
        if not isinstance(workouts, list) or not workouts:
            raise ValidationError([parsed.at("workouts: the backup holds no workouts", "workouts")])
        drafts, problems = [], []
        for i, workout in enumerate(workouts):
            try:
                drafts.append(_workout(parsed, workout, ("workouts", i)))
            except ValidationError as exc:
                problems += exc.problems
        if problems:
            raise ValidationError(problems)
        return drafts
    return [_workout(parsed, data, ())]


def _workout(parsed: Parsed, workout: object, base: tuple[str | int, ...]) -> Draft:
    problems: list[Problem] = []
    notes: list[Problem] = []

    def at(message: str, *path: str | int) -> Problem:
        return parsed.at(message, *base, *path)

    if not isinstance(workout, dict):
        raise ValidationError([at("a workout must be a mapping with title and sets")])
    version = workout.get("version", 1)
    if version not in VERSIONS:
        raise ValidationError(
            [
                at(
                    f"file version {version!r} is not one this reads "
                    f"({', '.join(map(str, VERSIONS))})",
                    "version",
                )
            ]
        )
    title = workout.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(at("title must be text", "title"))
        title = ""
    sets = workout.get("sets")
    if not isinstance(sets, list) or not sets:
        raise ValidationError(
            [at("sets: the list is empty; a workout needs at least one set", "sets")]
        )

    steps: list[DraftStep] = []
    for s, raw_set in enumerate(sets):
        if not isinstance(raw_set, dict):
            problems.append(
                at(f"set {s + 1} must be a mapping with repetitions and exercises", "sets", s)
            )
            continue
        reps = raw_set.get("repetitions", 1)
        if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
            problems.append(
                at(
                    f"set {s + 1}: repetitions must be a whole number of 1 or more, got {reps!r}",
                    "sets",
                    s,
                    "repetitions",
                )
            )
            continue
        exercises = raw_set.get("exercises")
        if not isinstance(exercises, list) or not exercises:
            problems.append(
                at(
                    f"set {s + 1}: exercises: the list is empty; a set needs at least one exercise",
                    "sets",
                    s,
                    "exercises",
                )
            )
            continue
        set_name = raw_set.get("name") if isinstance(raw_set.get("name"), str) else ""
        label = f"set {set_name!r}" if set_name else f"set {s + 1}"
        one_round: list[DraftStep] = []
        for e, raw in enumerate(exercises):
            path = ("sets", s, "exercises", e)
            if not isinstance(raw, dict):
                problems.append(
                    at(f"{label}, exercise {e + 1} must be a mapping with name and duration", *path)
                )
                continue
            name, duration = raw.get("name"), raw.get("duration", 30)
            if not isinstance(name, str) or not name.strip():
                problems.append(at(f"{label}, exercise {e + 1}: name must be text", *path, "name"))
                continue
            if isinstance(duration, bool) or not isinstance(duration, (int, float)):
                problems.append(
                    at(
                        f"{label}, {name!r}: duration must be a number of seconds, "
                        f"got {duration!r}",
                        *path,
                        "duration",
                    )
                )
                continue
            if why := check_seconds(float(duration), f"{label}, {name!r}: duration"):
                problems.append(at(why, *path, "duration"))
                continue
            line = parsed.line(*base, *path)
            if name.strip().lower() in REST_NAMES:
                one_round.append(
                    DraftRest(float(duration), line, comment=f"{name.strip()}, in {label}")
                )
                continue
            plain, changed = unbraced(name.strip())
            if changed:
                notes.append(
                    at("braces { } in the name became ( ) (they mark placeholders)", *path, "name")
                )
            one_round.append(DraftExercise(plain, float(duration), line, comment=label))
        if len(one_round) == 1 and isinstance(one_round[0], DraftExercise) and reps > 1:
            only = one_round[0]
            steps.append(
                DraftExercise(
                    only.name, only.hold_s, only.line, reps=reps, comment=f"{label}, {reps} times"
                )
            )
            continue
        for r in range(reps):
            for step in one_round:
                comment = f"{step.comment}, round {r + 1} of {reps}" if reps > 1 else step.comment
                steps.append(_with_comment(step, comment))
    if problems:
        raise ValidationError(problems)
    if not any(isinstance(step, DraftExercise) for step in steps):
        raise ValidationError([at("has only rests; a routine needs at least one exercise", "sets")])
    return Draft(
        title=title.strip(),
        steps=tuple(steps),
        source=parsed.source,
        reader=LABEL,
        title_line=parsed.line(*base, "title"),
        notes=tuple(notes),
        header=(
            "Each exercise is a hold of its seconds; one named as a rest is a rest.",
            "A set repeated is written out round after round.",
        ),
    )


def _with_comment(step: DraftStep, comment: str) -> DraftStep:
    if isinstance(step, DraftRest):
        return DraftRest(step.rest_s, step.line, comment)
    return DraftExercise(step.name, step.hold_s, step.line, reps=step.reps, comment=comment)
