"""One exception tree for the whole package.

The core raises these; only the CLI turns them into a message and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass


class VoiceCoachError(Exception):
    """Base of every error voice_coach reports to a user (never with a traceback)."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, pinned to where it is."""

    source: str
    """File name (or another label such as ``--voice``) the problem was found in."""
    line: int | None
    """1-based line number, when known."""
    key: str
    """Dotted path of the key, e.g. ``steps[2].hold``."""
    message: str
    """What is wrong and what is allowed."""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ValidationError(VoiceCoachError):
    """An input (routine script, option) is invalid. Lists every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RoutineNotFoundError(VoiceCoachError):
    """A routine named on the command line is neither a file nor a bundled routine."""

    exit_code = 2


class TimelineError(VoiceCoachError):
    """A routine cannot be laid out in time (e.g. a hold shorter than its own "Hold" cue)."""

    exit_code = 2


class EngineError(VoiceCoachError):
    """A text-to-speech engine is missing, unknown or failed on a phrase."""


class ToolError(VoiceCoachError):
    """An external program (ffmpeg, espeak-ng) is missing or failed."""


class SoundFileError(VoiceCoachError):
    """A sound file in use (a bed) could not be read on: removed, cut short or
    changed while an export or a live session was playing it."""


class ExportError(VoiceCoachError):
    """Writing an export failed."""


class HistoryError(VoiceCoachError):
    """The practice history cannot be read or written (damaged, too new, or in use)."""


class ProfileError(VoiceCoachError):
    """The profile file cannot be written."""


class ServeError(VoiceCoachError):
    """The server cannot start (address in use, no LAN address)."""
