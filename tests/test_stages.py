"""Where a progression stands, from made-up histories: a table of sessions (day, finished,
pain before and after) and the stage they lead to."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from voice_coach.routine.model import Ramp
from voice_coach.settings.layers import Flare
from voice_coach.stages import Gate, Practised, stage_of

RELATIVE = Ramp(0.5, 0.1, "session", 1.0, relative=True, sessions=2)
"""The bundled routines' ramp: 50 % of each written hold, +10 % every 2 good sessions."""
ABSOLUTE = Ramp(20, 10, "session", 60)
"""20 s, +10 s after every good session, up to 60 s."""
WEEKLY = Ramp(20, 5, "week", 40)
START = date(2026, 11, 2)  # a Monday
GATE = Gate(flare_pain=7, pain_ok=2)


def days(*ratings: tuple[int | None, int | None] | None, every: int = 1) -> list[Practised]:
    """Finished sessions `every` days apart from START, with (before, after) ratings;
    None: a day without a session."""
    return [
        Practised(START + timedelta(days=i * every), True, *r)
        for i, r in enumerate(ratings)
        if r is not None
    ]


STEADY = days(*[(3, 3)] * 6)
IMPROVING = days((5, 4), (4, 4), (4, 3), (3, 2), (2, 1), (1, 1))
WORSE = days((2, 3), (3, 4), (4, 5), (5, 6))
"""Pain creeping up by one a session: never a flare, never a step up."""
FLARE = days((3, 3), (3, 3), (3, 3), (3, 3), (4, 7))
RISE = days((2, 2), (2, 2), (2, 2), (2, 4))
"""The last is 2 above the session before: a flare-up at a mild level."""
RECOVERY = [*FLARE, *days(*[None] * 7, (3, 3), (3, 2), (2, 2), (2, 2))]


@pytest.mark.parametrize(
    ("ramp", "sessions", "stage", "to_go", "flare"),
    [
        (RELATIVE, [], 1, 2, None),  # never practised
        (RELATIVE, STEADY, 4, 2, None),  # 6 good sessions: 3 steps up
        (RELATIVE, STEADY[:5], 3, 1, None),
        (RELATIVE, IMPROVING, 4, 2, None),
        (RELATIVE, WORSE, 1, 2, None),  # more pain each time: held at the first stage
        (RELATIVE, days((1, 2), (2, 2), (2, 2)), 2, 1, None),  # 2 is at most pain_ok
        (RELATIVE, FLARE, 2, 2, Flare(START + timedelta(days=4), 7)),  # 3 -> one lower
        (RELATIVE, RISE, 1, 2, Flare(START + timedelta(days=3), 4)),
        (RELATIVE, RECOVERY, 4, 2, None),  # back up from 2 after 4 good sessions
        (RELATIVE, days(*[(None, None)] * 12), 6, 0, None),  # unrated: counts; the last
        (ABSOLUTE, STEADY, 5, 0, None),  # 20 30 40 50 60: the last after 4
        (ABSOLUTE, FLARE, 4, 1, Flare(START + timedelta(days=4), 7)),
        (ABSOLUTE, days((3, 3), (3, 3), every=28), 3, 1, None),  # weeks apart: no matter
    ],
)
def test_the_stage_of_a_ramp_by_sessions(
    ramp: Ramp, sessions: list[Practised], stage: int, to_go: int, flare: Flare | None
) -> None:
    found = stage_of(ramp, sessions, GATE, START + timedelta(days=90))
    assert (found.number, found.sessions_to_go, found.flare) == (stage, to_go, flare)
    assert found.count == ramp.stages


def test_a_flare_holds_an_unfinished_session_too_and_any_order_of_sessions() -> None:
    stopped = Practised(START + timedelta(days=6), False, 3, 8)
    found = stage_of(RELATIVE, [stopped, *STEADY], GATE, START + timedelta(days=7))
    assert (found.number, found.flare) == (3, Flare(stopped.day, 8))


def test_the_flare_note_goes_after_the_next_finished_session() -> None:
    after = [*FLARE, *days(*[None] * 5, (3, 3))]
    found = stage_of(RELATIVE, after, GATE, START + timedelta(days=6))
    assert (found.number, found.sessions_to_go, found.flare) == (2, 1, None)


@pytest.mark.parametrize(
    ("sessions", "today", "stage", "steps_up", "flare"),
    [
        ([], START, 1, None, None),
        (STEADY, START + timedelta(days=6), 1, START + timedelta(weeks=1), None),
        (STEADY, START + timedelta(days=15), 3, START + timedelta(weeks=3), None),
        (STEADY, START + timedelta(weeks=30), 5, None, None),  # the last stage
        # Weeks away: the calendar goes on (a ramp by weeks counts weeks, not sessions).
        (
            days((3, 3), (3, 3), every=21),
            START + timedelta(weeks=3),
            4,
            START + timedelta(weeks=4),
            None,
        ),
        # A flare on day 15 (stage 3): one lower from that day, a week later up again.
        (
            days((3, 3), (3, 3), (3, 8), every=7),
            START + timedelta(days=15),
            2,
            START + timedelta(days=14 + 7),
            Flare(START + timedelta(days=14), 8),
        ),
        (
            [
                *days((3, 3), (3, 3), (3, 8), every=7),
                Practised(START + timedelta(days=16), True, 3, 3),
            ],
            START + timedelta(days=22),
            3,
            START + timedelta(days=28),
            None,
        ),
    ],
)
def test_the_stage_of_a_ramp_by_weeks(
    sessions: list[Practised], today: date, stage: int, steps_up: date | None, flare: Flare | None
) -> None:
    found = stage_of(WEEKLY, sessions, GATE, today)
    assert (found.number, found.steps_up_on, found.flare) == (stage, steps_up, flare)


@pytest.mark.parametrize(
    ("session", "previous", "flare"),
    [
        (Practised(START, True, 2, 6), None, None),
        (Practised(START, True, 2, 7), None, 7),
        (Practised(START, True, 7, 4), None, 7),  # before counts too
        (Practised(START, True, None, 5), 3, 5),  # 2 above the session before
        (Practised(START, True, 4, 4), 3, None),
        (Practised(START, True, None, None), 0, None),
    ],
)
def test_what_is_a_flare(session: Practised, previous: int | None, flare: int | None) -> None:
    assert GATE.flare(session, previous) == flare


def test_the_ramps_stage_counts() -> None:
    assert RELATIVE.stages == 6  # 50 60 70 80 90 100 %
    assert ABSOLUTE.stages == 5
    assert Ramp(20, 15, "week", 60).stages == 4  # 20 35 50 60
    assert Ramp(30, 5, "week", 30).stages == 1


def test_the_flares_of_a_routine_and_the_rest_days_they_suggest() -> None:
    from datetime import UTC, datetime

    from voice_coach.adherence import suggested_rest_days
    from voice_coach.history import Session
    from voice_coach.stages import flares

    assert flares(FLARE, GATE) == [Flare(START + timedelta(days=4), 7)]
    assert flares(RISE, GATE) == [Flare(START + timedelta(days=3), 4)]
    assert flares(STEADY, GATE) == []

    def session(routine: str, p: Practised) -> Session:
        start = datetime(p.day.year, p.day.month, p.day.day, 9, tzinfo=UTC)
        return Session(
            None,
            routine,
            routine,
            {},
            start,
            start,
            1,
            1,
            p.finished,
            "play",
            p.pain_before,
            p.pain_after,
        )

    # A rise of 2 counts within one routine only: "b" at 5 after "a" at 3 is no flare.
    history = [session("a", p) for p in FLARE] + [session("b", Practised(START, True, 5, 5))]
    flare_day = START + timedelta(days=4)
    assert suggested_rest_days(history, flare_day) == {
        flare_day + timedelta(days=1),
        flare_day + timedelta(days=2),
    }
    assert suggested_rest_days([session("a", p) for p in STEADY], flare_day) == frozenset()
