"""Where a progression stands: a pure function of its ramp, the sessions so far, how
they went, and the day. The history is read by the caller (`plan.practice_so_far`).

The rules follow the advice the bundled routines come from: start gently and build up
gradually; after a flare-up, ease off, then start again sooner rather than later.

- A ramp by sessions (`every: session`) moves to its next stage after `sessions`
  finished sessions at this stage without more pain: the rating after the session no
  higher than before it (or than after the session before, when it was not asked
  before), or at most `pain_ok`. A session without ratings counts as one without more
  pain: nothing says otherwise. A session with more pain holds the stage.
- A ramp by weeks moves on with the calendar from the first session.
- A flare-up, a rating (before or after, finished or not) at or above `flare_pain`, or
  2 or more above the last rating of the session before, holds either kind: the next
  session runs one stage lower, and it takes `sessions` good sessions (or a week) from
  there to step up again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .routine.model import Ramp
from .settings.layers import Flare, Stage

FLARE_RISE = 2
"""A rating this much above the session before is a flare-up too, whatever its level."""


@dataclass(frozen=True)
class Practised:
    """One recorded session of a routine, as far as its progression needs it."""

    day: date
    """The day it started (UTC)."""
    finished: bool
    pain_before: int | None = None
    """0-10, None when not asked or not answered."""
    pain_after: int | None = None

    @property
    def last_rating(self) -> int | None:
        """How the back felt when it ended: the rating after, else before."""
        return self.pain_before if self.pain_after is None else self.pain_after

    @property
    def peak(self) -> int | None:
        """Its highest rating."""
        known = [p for p in (self.pain_before, self.pain_after) if p is not None]
        return max(known) if known else None


@dataclass(frozen=True)
class Gate:
    """The pain ratings that hold a progression back (settings `flare_pain`, `pain_ok`)."""

    flare_pain: int = 7
    pain_ok: int = 2

    def flare(self, session: Practised, previous: int | None) -> int | None:
        """The rating that makes `session` a flare-up, given the last rating of the
        session before (`previous`); None when it is not one."""
        peak = session.peak
        if peak is None:
            return None
        if peak >= self.flare_pain or (previous is not None and peak >= previous + FLARE_RISE):
            return peak
        return None

    def without_more_pain(self, session: Practised, previous: int | None) -> bool:
        """Whether `session` (not a flare-up) counts toward the next stage."""
        after = session.pain_after
        before = session.pain_before if session.pain_before is not None else previous
        return after is None or before is None or after <= before or after <= self.pain_ok


def flares(sessions: Sequence[Practised], gate: Gate) -> list[Flare]:
    """Every flare-up in the sessions of one routine (in any order), oldest first."""
    found = []
    previous: int | None = None
    for session in sorted(sessions, key=lambda s: s.day):
        pain = gate.flare(session, previous)
        if pain is not None:
            found.append(Flare(session.day, pain))
        previous = session.last_rating if session.last_rating is not None else previous
    return found


def stage_of(ramp: Ramp, sessions: Sequence[Practised], gate: Gate, today: date) -> Stage:
    """The stage of `ramp` on `today`, after `sessions` (in any order) went as they did."""
    ordered = sorted(sessions, key=lambda s: s.day)
    if ramp.every == "session":
        return _by_sessions(ramp, ordered, gate)
    return _by_weeks(ramp, ordered, gate, today)


def _by_sessions(ramp: Ramp, sessions: Sequence[Practised], gate: Gate) -> Stage:
    last = ramp.stages
    stage, good = 1, 0
    flare: Flare | None = None
    previous: int | None = None
    for session in sessions:
        pain = gate.flare(session, previous)
        if pain is not None:
            stage, good, flare = max(1, stage - 1), 0, Flare(session.day, pain)
        elif session.finished:
            flare = None  # the session after the flare-up is done: the note has had its say
            if gate.without_more_pain(session, previous) and stage < last:
                good += 1
                if good >= ramp.sessions:
                    stage, good = stage + 1, 0
        previous = session.last_rating if session.last_rating is not None else previous
    return Stage(
        stage,
        first_session=sessions[0].day if sessions else None,
        from_history=True,
        count=last,
        sessions_to_go=0 if stage >= last else ramp.sessions - good,
        flare=flare,
    )


def _by_weeks(ramp: Ramp, sessions: Sequence[Practised], gate: Gate, today: date) -> Stage:
    last = ramp.stages
    if not sessions:
        return Stage(1, from_history=True, count=last)
    # Stages count in weeks from an anchor: the first session at stage 1, then each
    # flare-up's day at one stage below the stage it came in.
    anchor_day, anchor_stage = sessions[0].day, 1
    flare: Flare | None = None
    previous: int | None = None

    def on(day: date) -> int:
        return min(last, anchor_stage + max(0, (day - anchor_day).days) // 7)

    for session in sessions:
        pain = gate.flare(session, previous)
        if pain is not None:
            anchor_stage, anchor_day = max(1, on(session.day) - 1), session.day
            flare = Flare(session.day, pain)
        elif session.finished and flare is not None and session.day > flare.day:
            flare = None
        previous = session.last_rating if session.last_rating is not None else previous
    stage = on(today)
    steps_up = anchor_day + timedelta(weeks=stage - anchor_stage + 1) if stage < last else None
    return Stage(
        stage,
        first_session=sessions[0].day,
        from_history=True,
        count=last,
        steps_up_on=steps_up,
        flare=flare,
    )
