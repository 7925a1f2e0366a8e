"""apg (audio_program_generator): a text file of `phrase;seconds` lines, each phrase
spoken and followed by that many seconds of silence.

A silence long enough to do something in (`HOLD_FROM_S` or more) becomes a hold named
by its phrase, with every extra cue off (no countdown, no "seconds left", no chimes), so
that it stays the silence it was. Shorter lines are said where they stand: before the
first hold as the intro, after a hold as its release lines, the quiet after the last of
them as the hold's recover time. What voice_coach adds (the "Hold" cue, its gaps
between lines) is approximated, and said so in the script."""

from __future__ import annotations

import re

from ...errors import Problem, ValidationError
from .draft import Draft, DraftExercise, check_seconds, seconds_text, title_from_file, unbraced
from .source import Parsed

NAME = "apg"
LABEL = "apg phrase text (one phrase;seconds line per cue)"
HOLD_FROM_S = 5.0
"""A silence this long or longer is a hold; a shorter one, a pause after a line."""
MAX_RECOVER_S = 300.0
_SECONDS = re.compile(r"\s*\d+(\.\d+)?\s*")


def claims(parsed: Parsed) -> bool:
    if isinstance(parsed.data, (dict, list)) or parsed.syntax == "json":
        return False
    lines = parsed.text_lines()
    return bool(lines) and sum(";" in t for _, t in lines) * 2 >= len(lines)


def read(parsed: Parsed) -> list[Draft]:
    problems: list[Problem] = []
    notes: list[Problem] = []
    cues: list[tuple[int, str, float]] = []
    for number, raw in parsed.text_lines():
        phrase, sep, seconds = raw.rpartition(";")
        if not sep:
            notes.append(
                Problem(parsed.source, number, "", "has no ;SECONDS, so apg skips it; left out")
            )
            continue
        phrase = phrase.strip()
        if not phrase:
            problems.append(Problem(parsed.source, number, "", "has no phrase before ';'"))
            continue
        if not _SECONDS.fullmatch(seconds):
            problems.append(
                Problem(
                    parsed.source,
                    number,
                    "",
                    f"the seconds after ';' must be a number of 0 or more, got {seconds.strip()!r}",
                )
            )
            continue
        value_s = float(seconds)
        if value_s >= HOLD_FROM_S and (why := check_seconds(value_s, "the silence")):
            problems.append(Problem(parsed.source, number, "", why))
            continue
        plain, changed = unbraced(phrase)
        if changed:
            notes.append(
                Problem(parsed.source, number, "", "braces { } became ( ) (they mark placeholders)")
            )
        cues.append((number, plain, value_s))
    if not problems and not any(s >= HOLD_FROM_S for _, _, s in cues):
        problems.append(
            Problem(
                parsed.source,
                None,
                "",
                f"no line has a silence of {HOLD_FROM_S:g} s or more to hold; "
                "write one as PHRASE;SECONDS",
            )
        )
    if problems:
        raise ValidationError(problems)

    intro: list[str] = []
    steps: list[DraftExercise] = []
    after: list[tuple[int, str, float]] = []

    def close() -> None:
        """Give the hold before them the short lines that followed it."""
        if not steps or not after:
            return
        last = steps[-1]
        quiet_s = min(after[-1][2], MAX_RECOVER_S)
        for number, _, value_s in after[:-1]:
            if value_s:
                notes.append(_gap_note(parsed.source, number, value_s))
        steps[-1] = DraftExercise(
            last.name,
            last.hold_s,
            last.line,
            release=tuple(t for _, t, _ in after),
            recover_s=quiet_s,
        )
        after.clear()

    for number, phrase, value_s in cues:
        if value_s >= HOLD_FROM_S:
            close()
            steps.append(DraftExercise(phrase, value_s, number))
        elif steps:
            after.append((number, phrase, value_s))
        else:
            intro.append(phrase)
            if value_s:
                notes.append(_gap_note(parsed.source, number, value_s))
    close()
    return [
        Draft(
            title=title_from_file(parsed.source),
            steps=tuple(steps),
            source=parsed.source,
            reader=LABEL,
            intro=tuple(intro),
            notes=tuple(notes),
            defaults=(
                ("settle", 0),
                ("recover", 0),
                ("countdown", 0),
                ("remaining", []),
                ("chimes", False),
            ),
            header=(
                f"Each phrase followed by {HOLD_FROM_S:g} s or more of silence is a hold of that",
                'silence, introduced by "Hold." (voice_coach needs it to mark the start);',
                "shorter lines are said before the first hold, or as the release of the hold",
                "before them. Countdown, seconds left and chimes are off, as in apg.",
            ),
        )
    ]


def _gap_note(source: str, line: int, seconds: float) -> Problem:
    return Problem(
        source,
        line,
        "",
        f"the {seconds_text(seconds)} s after it became voice_coach's usual short gap",
    )
