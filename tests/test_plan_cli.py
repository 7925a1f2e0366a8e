"""`plan`, `today`, the plans in `history`, and `play` with no routine, through the
command line; the plans kept in the profile."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voice_coach.cli.commands import app
from voice_coach.errors import ValidationError
from voice_coach.history import History, Session
from voice_coach.routine import yamlsafe
from voice_coach.settings.profile import load_profile, load_schedules

runner = CliRunner()
HAND_WRITTEN = """\
# mine
voice: {rate: 150}
routines:
  walking:
    reps: 2   # longer
"""


@pytest.fixture
def profile(private_user_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TZ", "UTC")
    path = private_user_dirs / "config" / "profile.yaml"
    path.parent.mkdir(parents=True)
    return path


def vc(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_a_plan_is_written_listed_changed_and_cleared(profile: Path) -> None:
    profile.write_text(HAND_WRITTEN)
    r = vc("plan", "sciatica-relief", "--at", "18:00", "--at", "08:00", "--days", "mon-fri")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert "planned sciatica-relief: weekdays at 08:00, 18:00" in r.stdout  # type: ignore[attr-defined]
    text = profile.read_text()
    assert text.startswith(HAND_WRITTEN)  # the rest kept, comments included
    plan = yamlsafe.load(text)["plans"]["sciatica-relief"]
    assert plan["at"] == ["08:00", "18:00"] and plan["days"] == "weekdays"
    first_day = plan["since"]
    assert vc("plan", "walking", "--at", "07:30", "--times-per-week", "3").exit_code == 0  # type: ignore[attr-defined]
    listed = vc("plan").stdout  # type: ignore[attr-defined]
    assert "sciatica-relief  weekdays at 08:00, 18:00" in listed
    assert "walking          3 days a week at 07:30" in listed
    # Changed: the plan keeps the day it was first made.
    assert vc("plan", "sciatica-relief", "--at", "09:00", "--days", "sat,sun").exit_code == 0  # type: ignore[attr-defined]
    schedules = load_schedules(profile)
    assert schedules["sciatica-relief"].describe() == "weekends at 09:00"
    assert schedules["sciatica-relief"].since == first_day
    assert load_profile(profile, "walking")  # the settings still read
    assert vc("plan", "sciatica-relief", "--clear").exit_code == 0  # type: ignore[attr-defined]
    assert list(load_schedules(profile)) == ["walking"]
    assert vc("plan", "walking", "--clear").exit_code == 0  # type: ignore[attr-defined]
    assert load_schedules(profile) == {}
    assert profile.read_text().startswith(HAND_WRITTEN)
    r = vc("plan", "walking", "--clear")
    assert r.exit_code == 2 and "has no plan to clear" in r.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--at", "08:00"], "no routine named 'nope' to plan"),
        (["walking", "--at", "8 am"], "--at: '8 am' is not a time; write HH:MM"),
        (["walking", "--at", "08:00", "--days", "mon-funday"], "'mon-funday' is not a day"),
        (["walking", *[f"--at={h:02d}:00" for h in range(13)]], "13 sessions a day; at most 12"),
        (["walking"], "give at least one time of day"),
        (["walking", "--at", "08:00", "--times-per-week", "8"], "must be 1 to 7, got 8"),
        (["walking", "--at", "8:00", "--days", "mon", "--times-per-week", "2"], "not both"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_nothing_written(
    profile: Path, args: list[str], message: str
) -> None:
    profile.write_text(HAND_WRITTEN)
    r = vc("plan", *args)
    assert r.exit_code == 2  # type: ignore[attr-defined]
    errors = [line for line in r.output.splitlines() if line.startswith("error:")]  # type: ignore[attr-defined]
    assert len(errors) == 1 and message in errors[0]
    assert profile.read_text() == HAND_WRITTEN
    assert list(profile.parent.iterdir()) == [profile]


def test_a_hand_written_plan_is_checked_with_line_numbers(profile: Path) -> None:
    profile.write_text(
        "plans:\n"
        "  walking: {at: [07:30, 18:00]}\n"
        "  sciatica-relief:\n"
        "    at: ['08:00']\n"
        "    days: mon-fry\n"
        "    often: 2\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_schedules(profile)
    text = str(caught.value)
    assert f"{profile}:2: plans.walking.at: write each time in quotes, '18:00'" in text
    assert f"{profile}:5: plans.sciatica-relief.days: 'mon-fry' is not a day" in text
    assert f"{profile}:6: plans.sciatica-relief.often: unknown key" in text
    r = vc("today")
    assert r.exit_code == 2 and "plans.walking.at" in r.output  # type: ignore[attr-defined]


def played(routine: str, started: datetime, minutes: float = 9, steps: int = 7) -> Session:
    return Session(
        None,
        routine,
        routine,
        {},
        started,
        started + timedelta(minutes=minutes),
        steps,
        steps,
        True,
    )


def just_before_now() -> str:
    """A time of day already passed today (UTC), so a plan at it is due now."""
    now = datetime.now(UTC)
    return max(now - timedelta(minutes=10), now.replace(hour=0, minute=0)).strftime("%H:%M")


def test_today_and_history_show_the_plan_kept(profile: Path) -> None:
    at = just_before_now()
    assert vc("plan", "walking", "--at", at).exit_code == 0  # type: ignore[attr-defined]
    r = vc("today")
    assert f"{at}  walking  no" in r.stdout and "due now: walking" in r.stdout  # type: ignore[attr-defined]
    assert "walking: 0 of " in r.stdout  # type: ignore[attr-defined]
    with History.open() as history:
        history.record(played("walking", datetime.now(UTC) - timedelta(minutes=1)))
    r = vc("today")
    assert f"{at}  walking  yes" in r.stdout and "due now" not in r.stdout  # type: ignore[attr-defined]
    assert "next: walking" in r.stdout  # type: ignore[attr-defined]
    r = vc("history")
    assert "plan walking (every day at " in r.stdout  # type: ignore[attr-defined]
    assert "streak: 1 planned day" in r.stdout  # type: ignore[attr-defined]


def test_play_with_no_routine_lists_those_due_and_exits_2_without_a_terminal(
    profile: Path,
) -> None:
    at = just_before_now()
    r = vc("play")
    assert r.exit_code == 2 and "none is due now" in r.output  # type: ignore[attr-defined]
    for routine in ("walking", "sciatica-relief"):
        assert vc("plan", routine, "--at", at).exit_code == 0  # type: ignore[attr-defined]
    r = vc("play")
    assert r.exit_code == 2  # type: ignore[attr-defined]
    assert "several routines are due now; name one: " in r.output  # type: ignore[attr-defined]
    assert "walking" in r.output and "sciatica-relief" in r.output  # type: ignore[attr-defined]
    with History.open() as history:
        history.record(played("walking", datetime.now(UTC) - timedelta(minutes=1)))
    # One left due: it is the one chosen (the run then fails for want of a sound device,
    # or plays: either way it names it).
    from voice_coach.cli.plan import due_routine

    assert due_routine(None, ask=False) == "sciatica-relief"


@pytest.mark.parametrize(
    ("text", "left"),
    [
        (
            "# top\nplans:\n  walking:   # mine\n    at: ['07:00']\n"
            "routines:\n  walking: {reps: 2}\n",
            "# top\nroutines:\n  walking: {reps: 2}\n",
        ),
        (
            "voice: {rate: 150}\nplans:\n  walking: {at: ['07:00']}  # am\n  x: {at: ['09:00']}\n",
            "voice: {rate: 150}\nplans:\n  x: {at: ['09:00']}\n",
        ),
        (
            "plans: {walking: {at: ['07:00']}, x: {at: ['09:00']}}\n",
            "plans: {x: {at: ['09:00']}}\n",
        ),
        ("plans: {walking: {at: ['07:00']}}\n", ""),
    ],
)
def test_clearing_a_plan_keeps_the_rest_of_the_file(profile: Path, text: str, left: str) -> None:
    from voice_coach.settings.profile_edit import without_entry

    assert without_entry(text, "walking", "plans") == left
    profile.write_text(text)
    assert vc("plan", "walking", "--clear").exit_code == 0  # type: ignore[attr-defined]
    assert "walking" not in load_schedules(profile)


def test_several_due_asks_which_at_a_terminal(
    profile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from voice_coach.cli.plan import due_routine

    at = just_before_now()
    for routine in ("walking", "sciatica-relief"):
        assert vc("plan", routine, "--at", at).exit_code == 0  # type: ignore[attr-defined]
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n"))
    assert due_routine(None, ask=True) == "walking"  # listed by time, then name
    monkeypatch.setattr("sys.stdin", io.StringIO("7\n"))
    with pytest.raises(ValidationError, match="name one: sciatica-relief, walking"):
        due_routine(None, ask=True)


def test_rest_days_are_the_seam_for_a_flare_up(profile: Path) -> None:
    """What the pain check-ins' flare rule hands in: rest days, neither planned nor
    missed, and said in `today`."""
    from voice_coach.adherence import status_of
    from voice_coach.schedule import Schedule

    now = datetime(2026, 12, 2, 12, tzinfo=UTC)  # a Wednesday
    plan = Schedule("walking", (now.time().replace(hour=8),), tuple(range(7)))
    sessions = [played("walking", now - timedelta(days=n, hours=4)) for n in (1, 3, 4, 5)]
    plain = status_of([plan], sessions, now)
    rested = status_of([plan], sessions, now, rest_days=frozenset({now.date(), date(2026, 11, 30)}))
    assert (plain.adherence[0].streak, rested.adherence[0].streak) == (1, 4)
    assert plain.adherence[0].this_week.planned == 7 and rested.adherence[0].this_week.planned == 5
    assert plain.today.due_now == ("walking",) and rested.today.due_now == ()
    assert rested.today.resting == ("walking",)


@pytest.mark.parametrize(
    ("section", "rests"),
    [
        pytest.param("", False, id="default-7"),
        pytest.param("routines:\n  walking:\n    flare_pain: 5\n", True, id="walking-5"),
        pytest.param("routines:\n  sciatica-relief:\n    flare_pain: 5\n", False, id="other-5"),
        pytest.param("defaults:\n  flare_pain: 5\n", True, id="defaults-5"),
    ],
)
def test_rest_days_follow_each_routines_own_flare_pain(
    profile: Path, section: str, rests: bool
) -> None:
    """A pain of 5 after walking is a flare-up where the profile sets walking's
    `flare_pain` at 5 or below, as its progression holds back; the body then rests a
    day or two from every plan."""
    from voice_coach.adherence import practice_status

    profile.write_text(section + "plans:\n  walking: {at: ['08:00'], days: daily}\n")
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    with History.open() as history:
        history.record(replace(played("walking", now - timedelta(days=1, hours=3)), pain_after=5))
        status = practice_status(None, now, history)
    expected = {now.date(), now.date() + timedelta(days=1)} if rests else set()
    assert status.rest_days == expected
    assert status.today.resting == (("walking",) if rests else ())


@pytest.mark.parametrize(
    ("tz", "key"),
    [("Europe/Berlin", "Europe/Berlin"), (":America/New_York", "America/New_York")],
)
def test_the_time_zone_is_the_persons(monkeypatch: pytest.MonkeyPatch, tz: str, key: str) -> None:
    from voice_coach.adherence import local_zone

    monkeypatch.setenv("TZ", tz)
    assert local_zone().key == key
    monkeypatch.setenv("TZ", "Not/AZone")
    assert local_zone().key  # the system's, else UTC: never an error
