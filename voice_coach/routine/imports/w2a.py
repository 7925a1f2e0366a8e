"""w2a ("workout to audio"): a YAML workout of `exercises`, each with a `name`, a
`duration` written like Go's (30s, 2m, 1m30s), optional `texts` said during it and
`half_time: true` for a side switch halfway; a `pause` (text and duration) before each
exercise, its own `pause_duration` where it differs; announcements before and after the
workout, with {{ .Template }} values. YAML anchors and merge keys (`<<: *squats`) are
the loader's.

Carried over as: a rest of the pause's length before each exercise; a hold of the
exercise's duration (two holds of half of it, one per side, with `half_time`); its texts
said during the hold; the countdown of five w2a gives; the side switch and the closing
announcement as the routine's own phrases; the opening one as the intro."""

from __future__ import annotations

import re
from typing import Any

from ...errors import Problem, ValidationError
from .draft import Draft, DraftExercise, DraftRest, check_seconds, title_from_file, unbraced
from .source import Parsed

NAME = "w2a"
LABEL = "w2a workout YAML (exercises with name and duration such as 30s)"

_UNITS_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION = re.compile(rf"[-+]?(?:{_PART.pattern})+")
_TEMPLATE = re.compile(r"\{\{-?\s*\.(\w+)\s*-?\}\}")
COUNTDOWN = 5
"""w2a counts "5, 4, 3, 2, 1" at the end of every pause and exercise."""


def claims(parsed: Parsed) -> bool:
    return parsed.syntax == "yaml" and isinstance(parsed.data, dict) and "exercises" in parsed.data


def duration_s(value: object) -> float:
    """A w2a duration in seconds: "30s", "2m", "1m30s", "1.5h", "-5s" (negative: the
    caller refuses it). A ValueError says what is wrong."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be a duration such as 30s, 2m or 1m30s, got {value!r}")
    text = str(value).strip()
    if text in ("0", "+0", "-0"):
        return 0.0
    if not _DURATION.fullmatch(text):
        hint = "; w2a needs a unit" if re.fullmatch(r"[-+]?\d+(\.\d+)?", text) else ""
        raise ValueError(f"must be a duration such as 30s, 2m or 1m30s, got {text!r}{hint}")
    total = sum(float(n) * _UNITS_S[unit] for n, unit in _PART.findall(text))
    return -total if text.startswith("-") else total


def _duration_words(seconds: float, i18n: dict[str, Any]) -> str:
    """A duration as w2a says it: "1 minute and 30 seconds" (its `i18n` words)."""

    def word(key: str, n: int) -> str:
        found = i18n.get(key)
        forms: dict[str, Any] = found if isinstance(found, dict) else {}
        singular = str(forms.get("singular") or key)
        plural = str(forms.get("plural") or key + "s")
        return f"{n} {singular if n == 1 else plural}"

    minutes, secs = divmod(int(seconds), 60)
    if not minutes:
        return word("second", secs)
    if not secs:
        return word("minute", minutes)
    return f"{word('minute', minutes)} {i18n.get('and') or 'and'} {word('second', secs)}"


def read(parsed: Parsed) -> list[Draft]:
    data: dict[str, Any] = parsed.data
    problems: list[Problem] = list(parsed.duplicates)
    notes: list[Problem] = []
    exercises = data.get("exercises")
    if not isinstance(exercises, list) or not exercises:
        what = "is empty" if isinstance(exercises, list) or exercises is None else "is not a list"
        raise ValidationError(
            [parsed.at(f"exercises: {what}; a workout needs at least one exercise", "exercises")]
        )
    found = data.get("i18n")
    i18n: dict[str, Any] = found if isinstance(found, dict) else {}

    def seconds(value: object, what: str, *path: str | int) -> float | None:
        try:
            value_s = duration_s(value)
        except ValueError as exc:
            problems.append(parsed.at(f"{what}: {exc}", *path))
            return None
        why = check_seconds(value_s, what)
        if why:
            problems.append(parsed.at(why, *path))
            return None
        return value_s

    def text(value: object, what: str, *path: str | int) -> str | None:
        if isinstance(value, (dict, list)) or value is None or str(value).strip() == "":
            problems.append(parsed.at(f"{what} must be text", *path))
            return None
        plain, changed = unbraced(str(value).strip())
        if changed:
            notes.append(
                parsed.at(f"{what}: braces {{ }} became ( ) (they mark placeholders)", *path)
            )
        return plain

    def section(key: str) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.append(parsed.at(f"{key} must be a mapping with text and duration", key))
            return {}
        return value

    pause, half_time = section("pause"), section("half_time")
    pause_s = (
        seconds(pause["duration"], "pause.duration", "pause", "duration")
        if "duration" in pause
        else None
    )

    steps: list[DraftExercise | DraftRest] = []
    names: list[str] = []
    total_s = 0.0
    for i, raw in enumerate(exercises):
        line = parsed.line("exercises", i)
        if not isinstance(raw, dict):
            problems.append(
                parsed.at("each exercise must be a mapping with name and duration", "exercises", i)
            )
            continue
        name = text(raw.get("name"), f"exercise {i + 1}: name", "exercises", i, "name")
        if "duration" not in raw:
            problems.append(parsed.at(f"exercise {i + 1}: duration is missing", "exercises", i))
            continue
        hold_s = seconds(raw["duration"], f"exercise {i + 1}: duration", "exercises", i, "duration")
        texts_raw = raw.get("texts", [])
        if not isinstance(texts_raw, list) or ("texts" in raw and not texts_raw):
            problems.append(
                parsed.at(
                    f"exercise {i + 1}: texts must be a list of lines, not empty",
                    "exercises",
                    i,
                    "texts",
                )
            )
            texts_raw = []
        during = [
            text(t, f"exercise {i + 1}: texts", "exercises", i, "texts", j)
            for j, t in enumerate(texts_raw)
        ]
        own_pause = raw.get("pause_duration")
        rest_s = pause_s
        if own_pause is not None:
            rest_s = seconds(
                own_pause, f"exercise {i + 1}: pause_duration", "exercises", i, "pause_duration"
            )
        if name is None or hold_s is None or None in during:
            continue
        names.append(name)
        total_s += hold_s + (rest_s or 0)
        if rest_s:
            steps.append(DraftRest(rest_s, line, comment=f"the pause before {name}"))
        two_sides = raw.get("half_time") is True
        steps.append(
            DraftExercise(
                name=name,
                hold_s=hold_s / 2 if two_sides else hold_s,
                line=line,
                during=tuple(t for t in during if t),
                sides=two_sides,
                comment=f"{hold_s:g} s in all, half on each side" if two_sides else "",
            )
        )
    if problems:
        raise ValidationError(problems)

    values = {
        "WorkoutExercisesCount": str(len(names)),
        "WorkoutDuration": _duration_words(total_s, i18n),
        "WorkoutDurationWithoutPauses": _duration_words(
            sum(s.hold_s * (2 if s.sides else 1) for s in steps if isinstance(s, DraftExercise)),
            i18n,
        ),
    }

    def rendered(key: str, *path: str) -> str | None:
        """The announcement at `path` with its {{ .Value }}s filled in."""
        path = path or (key,)
        value: Any = data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            problems.append(parsed.at(f"{'.'.join(path)} must be text", *path))
            return None
        unknown = sorted(set(_TEMPLATE.findall(str(value))) - set(values))
        if unknown:
            notes.append(
                parsed.at(
                    f"{key}: {{{{ .{unknown[0]} }}}} is said per exercise by w2a; left out here",
                    *path,
                )
            )
        filled = _TEMPLATE.sub(lambda m: values.get(m.group(1), ""), str(value)).strip()
        return text(filled, ".".join(path), *path) if filled else None

    intro = rendered("before_workout_announce")
    finish = rendered("after_workout_announce")
    phrases: list[tuple[str, str]] = []
    if any(isinstance(s, DraftExercise) and s.sides for s in steps):
        switch = rendered("half_time", "half_time", "text")
        if switch:
            phrases.append(("switch_sides", switch))
        if "duration" in half_time:
            notes.append(
                parsed.at(
                    "half_time.duration: voice_coach switches sides in its own time "
                    "(the switch line, the step's lines, a settle)",
                    "half_time",
                    "duration",
                )
            )
    if finish:
        phrases.append(("finish", finish))
    if pause.get("text") is not None:
        notes.append(
            parsed.at(
                'pause.text: voice_coach says "Rest for ..." and what comes next instead',
                "pause",
                "text",
            )
        )
    if data.get("exercise_beginning") is not None:
        notes.append(
            parsed.at(
                'exercise_beginning: voice_coach says the exercise\'s name, then "Hold"',
                "exercise_beginning",
            )
        )
    for key, why in (
        ("tts", "the voice is chosen by voice_coach's own settings (voice-coach voices)"),
        ("audio_format", "voice-coach export writes MP3"),
    ):
        if key in data:
            notes.append(parsed.at(f"{key}: {why}", key))
    if problems:
        raise ValidationError(problems)
    return [
        Draft(
            title=title_from_file(parsed.source),
            steps=tuple(steps),
            source=parsed.source,
            reader=LABEL,
            intro=(intro,) if intro else (),
            defaults=(("countdown", COUNTDOWN),),
            phrases=tuple(phrases),
            notes=tuple(notes),
            header=(
                "Each pause is a rest before its exercise; each exercise a hold of its",
                "duration (two holds of half of it, right then left, with half_time);",
                "its texts are said during it.",
            ),
        )
    ]
