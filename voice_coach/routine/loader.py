"""Read a routine script (YAML) into a `Routine`, reporting every problem at once.

The file is parsed in exactly one place (`yamlsafe`): the safe loader for the values, and the
same safe loader's node tree for line numbers (`problems`). The strict models of
`files` check shapes; a second pass checks what spans keys ({side} needs `sides`).
Every problem becomes a `Problem` with file, line, key and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ..errors import Problem, ValidationError
from ..settings.table import BY_NAME
from .files import (
    PLACEHOLDER,
    SIDE_PLACEHOLDERS,
    BeatFile,
    DefaultsFile,
    ExerciseFile,
    RestFile,
    RoutineFile,
    owner_at,
    progression_from_file,
    ramp_problems,
    step_key_problems,
)
from .model import (
    MAX_SECONDS,
    Beat,
    BedLevels,
    Count,
    CueOptions,
    Exercise,
    Flow,
    Pace,
    Rest,
    Routine,
    Step,
    VoiceSettings,
)
from .problems import Path_, dotted, line_of, placed_bed, read_yaml, schema_problems


def built_in(name: str) -> Any:
    """The table's default of setting `name`: what a script that does not set it gets."""
    return BY_NAME[name].default


def load_routine(path: Path | str) -> Routine:
    """Read and validate one routine script; raise `ValidationError` listing all problems."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            [Problem(str(path), None, "", f"cannot read: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise ValidationError([Problem(str(path), None, "", "is not UTF-8 text")]) from None
    return parse_routine(text, source=str(path), slug=path.stem, folder=path.resolve().parent)


def parse_routine(
    text: str, source: str = "<text>", slug: str = "routine", folder: Path | None = None
) -> Routine:
    """Validate a routine script given as text; a sound file it names is relative to
    `folder` (None: the current directory)."""
    data, lines, problems = read_yaml(text, source)
    if not isinstance(data, dict):
        problems.append(
            Problem(
                source,
                1,
                "",
                "a routine script must be a mapping with at least `title` and `steps`",
            )
        )
        raise ValidationError(problems)

    routine_file: RoutineFile | None = None
    try:
        routine_file = RoutineFile.model_validate(data, context={"folder": folder})
    except PydanticValidationError as exc:
        problems += schema_problems(exc, (), source, lines, owner_at)

    steps: list[Step] = []
    raw_steps = data.get("steps")
    defaults: BaseModel = getattr(routine_file, "defaults", None) or DefaultsFile()
    if isinstance(raw_steps, list):
        for i, raw in enumerate(raw_steps):
            step, step_problems = _parse_step(raw, i, defaults, source, lines, folder)
            problems += step_problems
            if step is not None:
                steps.append(step)

    if routine_file is not None:
        for sub, msg in ramp_problems(getattr(routine_file, "progression", None)):
            path = ("progression", *sub)
            problems.append(Problem(source, line_of(lines, path), dotted(path), msg))
    if problems or routine_file is None:
        raise ValidationError(sorted(problems, key=lambda p: (p.line or 0, p.key)))

    f: Any = routine_file  # its settings' keys come from the table, unknown to mypy
    bed = placed_bed(f.bed, source, lines, ("bed",))
    level_lu, duck_db = f.bed_level, f.bed_duck
    return Routine(
        title=f.title,
        description=f.description.strip(),
        intro=tuple(piece for text in f.intro for piece in text),
        steps=tuple(steps),
        voice=VoiceSettings(
            engine=f.voice.engine,
            voice=f.voice.voice,
            rate_wpm=f.voice.rate,
            volume=f.voice.volume,
            language=f.language,
        ),
        progression=progression_from_file(f.progression),
        build_up=built_in("build_up") if f.build_up is None else f.build_up,
        language=f.language,
        phrases=tuple(f.phrases.items()),
        bed=None if bed is None or bed.kind == "off" else bed,
        bed_levels=BedLevels(
            built_in("bed_level") if level_lu is None else level_lu,
            built_in("bed_duck") if duck_db is None else duck_db,
        ),
        slug=slug,
        source=source,
    )


def _parse_step(
    raw: object,
    index: int,
    defaults: BaseModel,
    source: str,
    lines: dict[Path_, int],
    folder: Path | None,
) -> tuple[Step | None, list[Problem]]:
    base: Path_ = ("steps", index)
    line = line_of(lines, base) or 0
    if not isinstance(raw, dict):
        return None, [
            Problem(
                source,
                line,
                dotted(base),
                "each step must be a mapping: an exercise (with `name`) "
                "or a rest (`rest: SECONDS`)",
            )
        ]
    if "rest" in raw and "name" not in raw:
        try:
            rest: Any = RestFile.model_validate(raw, context={"folder": folder})
        except PydanticValidationError as exc:
            return None, schema_problems(exc, base, source, lines, lambda _: RestFile)
        bed = placed_bed(rest.bed, source, lines, (*base, "bed"))
        return Rest(rest_s=rest.rest, bed=bed, line=line), []

    def problem(path: Path_, message: str) -> Problem:
        return Problem(source, line_of(lines, path), dotted(path), message)

    problems = [problem((*base, k), msg) for k, msg in step_key_problems(set(map(str, raw)))]
    try:
        ex: Any = ExerciseFile.model_validate(raw, context={"folder": folder})
    except PydanticValidationError as exc:
        owner = _step_owner(len(base))
        return None, problems + schema_problems(exc, base, source, lines, owner)

    texts = _step_texts(ex, base)
    for path, text in texts:
        for name in PLACEHOLDER.findall(text):
            if name not in SIDE_PLACEHOLDERS:
                msg = f"unknown placeholder {{{name}}}; allowed: {{side}}, {{other}}"
            elif not ex.sides:
                msg = f"uses {{{name}}} but the step has no `sides`; add e.g. sides: [right, left]"
            else:
                continue
            problems.append(problem(path, msg))
    if ex.sides and len(set(ex.sides)) != len(ex.sides):
        problems.append(
            problem(
                (*base, "sides"),
                "lists a side twice; allowed: [left], [right], [left, right] or [right, left]",
            )
        )
    pace = _pace(ex)
    if pace is not None:
        length_s = pace.length_s
        if length_s > MAX_SECONDS:
            key = "flow" if isinstance(pace, Flow) else "count"
            problems.append(
                problem(
                    (*base, key),
                    f"lasts {length_s:g} s in all; at most {MAX_SECONDS} s (3 hours) is allowed",
                )
            )
    if problems:
        return None, problems

    def pick(key: str) -> Any:
        """The step's own value of setting `key`, else the `defaults` one, else the
        table's."""
        for value in (getattr(ex, key), getattr(defaults, key, None)):
            if value is not None:
                return value
        return built_in(key)

    cues = CueOptions(
        countdown=pick("countdown"),
        remaining_s=pick("remaining"),
        halfway=pick("halfway"),
        chimes=pick("chimes"),
    )
    return Exercise(
        name=ex.name,
        hold_s=pick("hold"),  # a pace sets its own
        setup=tuple(piece for text in ex.setup for piece in text),
        during=ex.during,
        release=ex.release or (),
        sides=tuple(ex.sides or ()),
        reps=pick("reps"),
        between=ex.between or (),
        cues=cues,
        settle_s=pick("settle"),
        recover_s=pick("recover"),
        pace=pace,
        bed=placed_bed(ex.bed, source, lines, (*base, "bed")),
        line=line,
        text_lines=tuple((text, line_of(lines, path) or line) for path, text in texts),
    ), []


def _step_owner(depth: int) -> Any:
    """Which model's keys are allowed at a path inside an exercise step."""

    def owner(path: Path_) -> type[BaseModel]:
        return BeatFile if "flow" in path[depth:] else ExerciseFile

    return owner


def _pace(ex: Any) -> Pace | None:
    """The flow or count a validated step has instead of a hold, if any."""
    if ex.flow is not None:
        beats = tuple(Beat(b.say, b.secs) for b in ex.flow)
        return Flow(beats, ex.rounds or 1)
    if ex.count is not None and ex.tempo is not None:
        return Count(ex.count, ex.tempo, ex.say)
    return None


def _step_texts(ex: Any, base: Path_) -> list[tuple[Path_, str]]:
    """Every line a step speaks as written (before {side} is filled in), with its key."""
    texts: list[tuple[Path_, str]] = [((*base, "name"), ex.name)]
    texts += [((*base, "setup", i), t) for i, text in enumerate(ex.setup) for t in text]
    texts += [((*base, "during", i), t) for i, text in enumerate(ex.during) for t in text]
    for key in ("release", "between"):
        texts += [((*base, key), t) for t in getattr(ex, key) or ()]
    texts += [((*base, "flow", i, "say"), b.say) for i, b in enumerate(ex.flow or ())]
    if ex.say is not None:
        texts.append(((*base, "say"), ex.say))
    return texts
