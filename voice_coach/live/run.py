"""A routine played live, start to finish: the plan, where to start (`--resume`), the
player, then what is kept afterwards (the history, the position to resume from).

What `voice-coach play` does between parsing its options and printing the outcome.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..audio.bed import check_files
from ..errors import VoiceCoachError
from ..plan import Plan, make_plan
from ..prepare import speech_cache
from ..settings.layers import checkin_when
from ..settings.words import Choices
from ..speech import fallback_note
from .checkin import CheckIns
from .devices import Speaker
from .player import PlayResult, play
from .positions import clear_position, load_position, save_position
from .remote import Controls, no_controls
from .session import Status
from .stream import SAMPLE_RATE

Notify = Callable[[str], None]
"""Takes a line for the person (what is about to happen, a warning)."""


@dataclass(frozen=True)
class Played:
    plan: Plan
    result: PlayResult
    warnings: tuple[str, ...]
    """Things the person should know afterwards (underruns, history trouble)."""

    @property
    def stopped_in_step(self) -> int:
        """Where `--resume` continues: the step playing when it stopped (at least 1)."""
        return max(1, self.result.step)


def start_step(plan: Plan, resume: bool, notify: Notify) -> int:
    """1, or with `resume` the step where this routine was left off."""
    if not resume:
        return 1
    routine = plan.routine
    saved = load_position(routine.source)
    if saved is None:
        notify("nothing to resume for this routine; starting from the beginning")
        return 1
    name = (
        getattr(routine.steps[saved - 1], "name", "a rest")
        if 0 < saved <= len(routine.steps)
        else "the start"
    )
    notify(f"resuming at step {saved}: {name}")
    return saved


def play_routine(
    name: str,
    choices: Choices,
    speaker: Speaker | VoiceCoachError,
    resume: bool = False,
    notify: Notify = lambda _line: None,
    on_status: Callable[[Status], None] | None = None,
    controls: Controls = no_controls,
    on_ready: Callable[[], None] = lambda: None,
    answerable: bool = False,
) -> Played:
    """Plan routine `name`, play it on `speaker` (or raise the error that kept it from
    opening: a bad routine is reported before a missing device), and record it with the
    pain ratings the coach asked for (the `checkin` setting), when `answerable` (keys on
    a terminal, or the voice): then the coach asks instead of reminding the listener to
    log it at the end. `on_ready` is called just before the routine starts. Every
    stream is closed on return."""
    try:
        plan = make_plan(name, choices)
        if isinstance(speaker, VoiceCoachError):
            raise speaker
        # A missing or broken bed file: said before it plays; a good one made ready.
        check_files(plan.routine, SAMPLE_RATE)
        cache = speech_cache(plan.resolved.voice, choices.cache_dir)
        voice_note = fallback_note(plan.resolved.voice)
        if voice_note:
            notify(f"note: {voice_note}")
        first = start_step(plan, resume, notify)
    except BaseException:
        if not isinstance(speaker, VoiceCoachError):
            speaker.tone.close()
        raise
    checkins = CheckIns.of(checkin_when(plan.layers)) if answerable else CheckIns()
    routine = plan.routine
    if checkins.any:
        routine = dataclasses.replace(routine, log_reminder=False)  # asked, not reminded
    on_ready()
    started = datetime.now(UTC)
    result = play(
        routine,
        cache,
        speaker.stream,
        first,
        on_status=on_status,
        controls=controls,
        tone=speaker.tone,
        checkins=checkins,
    )
    ended = datetime.now(UTC)
    steps_done = len(routine.steps) if result.finished else max(0, result.step - 1)
    warnings = [w for w in (result.underrun_note(), result.waiting_note()) if w]
    from ..practice import Answers, record_played  # the history (SQLite): needed only now

    answers = Answers(result.pain_before, result.pain_after)
    _id, trouble = record_played(plan, started, ended, steps_done, result.finished, None, answers)
    if trouble:
        warnings.append(trouble)
    if result.finished:
        clear_position(routine.source)
    else:
        save_position(routine.source, max(1, result.step))
    return Played(plan, result, tuple(warnings))
