"""The practice history: real SQLite files in tmp_path, real processes for concurrency."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from integration.waiting import wait_until

from voice_coach.history import (
    SCHEMA_V1,
    SCHEMA_VERSION,
    History,
    HistoryError,
    Session,
    history_path,
    summary_json,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def session(
    start: str,
    minutes: float = 10,
    *,
    routine: str = "neck",
    completed: int = 5,
    total: int = 5,
    finished: bool = True,
    source: str = "play",
    settings: dict[str, object] | None = None,
) -> Session:
    """A session starting at `start` (ISO, UTC unless it has an offset)."""
    started_at = datetime.fromisoformat(start)
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    return Session(
        id=None,
        routine=routine,
        routine_title=routine.title(),
        settings={} if settings is None else settings,
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=minutes),
        steps_completed=completed,
        steps_total=total,
        finished=finished,
        source=source,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite"


@pytest.fixture
def history(path: Path) -> Iterator[History]:
    with History.open(path) as h:
        yield h


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


# --- the domain value --------------------------------------------------------------------


def test_session_is_normalised_to_utc_and_validated() -> None:
    s = session("2024-03-04T08:00:00+02:00", minutes=1.5)
    assert s.started_at == datetime(2024, 3, 4, 6, tzinfo=UTC)
    assert s.started_at.utcoffset() == timedelta(0)
    assert s.duration_s == 90.0
    with pytest.raises(ValueError, match="timezone-aware"):
        Session(None, "a", "A", {}, datetime(2024, 1, 1), datetime(2024, 1, 1), 0, 0, False)
    with pytest.raises(ValueError, match="before"):
        session("2024-03-04T08:00:00", minutes=-1)
    with pytest.raises(ValueError, match="source"):
        session("2024-03-04T08:00:00", source="radio")
    with pytest.raises(ValueError, match="6 of 5"):
        session("2024-03-04T08:00:00", completed=6, total=5)
    with pytest.raises(ValueError, match="JSON"):
        session("2024-03-04T08:00:00", settings={"when": datetime.now(UTC)})


def test_history_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_COACH_DATA", str(tmp_path / "data"))
    assert history_path() == tmp_path / "data" / "history.sqlite"
    with History.open() as h:
        h.record(session("2024-03-04T08:00:00"))
    assert user_version(tmp_path / "data" / "history.sqlite") == SCHEMA_VERSION


# --- recording and reading ---------------------------------------------------------------


def test_every_field_round_trips(history: History, path: Path) -> None:
    original = session(
        "2024-03-04T07:15:30.123456",
        minutes=12.25,
        routine="hips",
        completed=3,
        total=8,
        finished=False,
        source="log",
        settings={"pace": 1.25, "voice": "en-gb", "chime": True, "skip": [2, 5], "x": None},
    )
    row_id = history.record(original)
    assert history.sessions() == [Session(**{**original.__dict__, "id": row_id})]
    with History.open(path) as again:  # and from another connection
        (read,) = again.sessions()
    assert read.id == row_id
    assert read.settings == original.settings
    assert read.started_at == original.started_at
    assert read.started_at.tzinfo is not None
    assert (read.steps_completed, read.steps_total, read.finished, read.source) == (
        3,
        8,
        False,
        "log",
    )


def test_sessions_are_newest_first_and_filter_by_routine_and_limit(history: History) -> None:
    # Recorded out of order: order comes from started_at, not insertion.
    for start, routine in [
        ("2024-03-02T08:00:00", "neck"),
        ("2024-03-04T08:00:00", "hips"),
        ("2024-03-01T08:00:00", "neck"),
        ("2024-03-03T08:00:00", "neck"),
    ]:
        history.record(session(start, routine=routine))
    days = [s.started_at.day for s in history.sessions()]
    assert days == [4, 3, 2, 1]
    assert [s.started_at.day for s in history.sessions(routine="neck")] == [3, 2, 1]
    assert [s.started_at.day for s in history.sessions(routine="neck", limit=2)] == [3, 2]
    assert [s.started_at.day for s in history.sessions(limit=1)] == [4]
    assert history.sessions(limit=0) == []
    assert history.sessions(routine="nothing") == []
    with pytest.raises(ValueError):
        history.sessions(limit=-1)


def test_record_refuses_a_session_that_already_has_an_id(history: History) -> None:
    row_id = history.record(session("2024-03-04T08:00:00"))
    with pytest.raises(ValueError, match="already recorded"):
        history.record(history.sessions()[0])
    assert [s.id for s in history.sessions()] == [row_id]


def test_first_session_and_finished_count(history: History) -> None:
    assert history.first_session("neck") is None
    assert history.finished_count("neck") == 0
    history.record(session("2024-03-05T08:00:00", finished=False, completed=2))
    history.record(session("2024-03-02T08:00:00"))
    history.record(session("2024-03-07T08:00:00"))
    history.record(session("2024-03-01T08:00:00", routine="hips"))
    first = history.first_session("neck")
    assert first is not None
    assert first.started_at == datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert history.finished_count("neck") == 2
    assert history.finished_count("hips") == 1


# --- streaks and weekly minutes ----------------------------------------------------------

TODAY = date(2024, 3, 6)  # a Wednesday


@pytest.mark.parametrize(
    ("starts", "expected"),
    [
        pytest.param([], 0, id="empty"),
        pytest.param(["2024-03-06T07:00", "2024-03-05T07:00", "2024-03-04T21:00"], 3, id="today"),
        pytest.param(["2024-03-05T07:00", "2024-03-04T07:00"], 2, id="yesterday-still-counts"),
        pytest.param(["2024-03-04T07:00", "2024-03-03T07:00"], 0, id="two-days-ago-broken"),
        pytest.param(["2024-03-06T07:00", "2024-03-05T07:00", "2024-03-03T07:00"], 2, id="gap"),
        pytest.param(["2024-03-06T07:00", "2024-03-06T19:00", "2024-03-05T07:00"], 2, id="twice"),
        pytest.param(["2024-03-01T07:00", "2024-02-29T07:00", "2024-03-06T07:00"], 1, id="old"),
        # 01:00 at +02:00 on the 6th is 23:00 UTC on the 5th: days are UTC days.
        pytest.param(["2024-03-06T01:00+02:00", "2024-03-04T12:00"], 2, id="utc-days"),
        # Across a month end, and a session "tomorrow" (clock skew) neither counts nor breaks.
        pytest.param(["2024-03-07T07:00", "2024-03-06T07:00", "2024-03-01T07:00"], 1, id="future"),
    ],
)
def test_streak_days(history: History, starts: list[str], expected: int) -> None:
    for start in starts:
        history.record(session(start))
    assert history.streak_days(TODAY) == expected


def test_streak_crosses_a_month_and_year_end(history: History) -> None:
    for start in ["2024-01-01T07:00", "2023-12-31T07:00", "2023-12-30T07:00"]:
        history.record(session(start))
    assert history.streak_days(date(2024, 1, 1)) == 3
    assert history.streak_days(date(2024, 1, 2)) == 3


def test_a_session_without_a_completed_step_does_not_keep_a_streak(history: History) -> None:
    history.record(session("2024-03-06T07:00"))
    history.record(session("2024-03-05T07:00", completed=0, finished=False))  # gave up at once
    history.record(session("2024-03-04T07:00"))
    assert history.streak_days(TODAY) == 1
    history.record(session("2024-03-05T09:00", completed=1, finished=False))  # one step is practice
    assert history.streak_days(TODAY) == 3


def test_minutes_per_week(history: History) -> None:
    for s in [
        session("2024-02-11T23:59:00", 60),  # Sunday before the first week: outside
        session("2024-02-19T00:00:00", 15),  # first second of the first week
        session("2024-02-25T23:50:00", 20),  # Sunday night: counts for the week it started in
        session("2024-03-03T23:59:59", 5),  # last second of Sunday, week of 26 Feb
        session("2024-03-04T00:00:00", 10),  # Monday of this week
        session("2024-03-04T12:00:00", 7.5, completed=0, finished=False),  # no practice
        session("2024-03-06T18:00:00", 2.5, completed=1, finished=False),  # partial counts
        session("2024-03-10T10:00:00", 1),  # later this week (Sunday)
        session("2024-03-11T10:00:00", 99),  # next week: outside
    ]:
        history.record(s)
    assert history.minutes_per_week(4, TODAY) == [
        (date(2024, 2, 12), 0.0),
        (date(2024, 2, 19), 35.0),
        (date(2024, 2, 26), 5.0),
        (date(2024, 3, 4), 13.5),
    ]
    assert history.minutes_per_week(1, date(2024, 3, 4)) == [(date(2024, 3, 4), 13.5)]
    assert history.minutes_per_week(1, date(2024, 3, 10)) == [(date(2024, 3, 4), 13.5)]
    assert history.minutes_per_week(0, TODAY) == []
    with pytest.raises(ValueError):
        history.minutes_per_week(-1, TODAY)


def test_minutes_per_week_across_a_year_end(history: History) -> None:
    history.record(session("2024-12-29T10:00:00", 30))  # Sunday, ISO week 2024-W52
    history.record(session("2024-12-31T10:00:00", 12))  # Tuesday, ISO week 2025-W01
    history.record(session("2025-01-01T10:00:00", 8))
    assert history.minutes_per_week(3, date(2025, 1, 1)) == [
        (date(2024, 12, 16), 0.0),
        (date(2024, 12, 23), 30.0),
        (date(2024, 12, 30), 20.0),
    ]


def test_summary_json(history: History) -> None:
    for day in range(1, 26):
        history.record(session(f"2024-03-{day:02d}T07:00:00", 10.5))
    summary = summary_json(history, date(2024, 3, 25))
    assert json.loads(json.dumps(summary)) == summary
    sessions = summary["sessions"]
    assert isinstance(sessions, list)
    assert len(sessions) == 20
    assert sessions[0]["started_at"] == "2024-03-25T07:00:00+00:00"
    assert sessions[0]["ended_at"] == "2024-03-25T07:10:30+00:00"
    assert sessions[0]["duration_s"] == 630.0
    assert summary["streak_days"] == 25
    weeks = summary["minutes_per_week"]
    assert isinstance(weeks, list)
    assert weeks[-3:] == [
        {"week": "2024-03-11", "minutes": 73.5},
        {"week": "2024-03-18", "minutes": 73.5},
        {"week": "2024-03-25", "minutes": 10.5},
    ]
    assert all(w["minutes"] == 0 for w in weeks[:-5])


# --- two processes at once ---------------------------------------------------------------

WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from dataclasses import replace
from pathlib import Path
from voice_coach.history import History, Session

path, name = Path(sys.argv[1]), sys.argv[2]
(path.parent / f"ready-{name}").touch()
sys.stdin.readline()  # the test says go
start = datetime(2024, 3, 4, 7, tzinfo=UTC)
with History.open(path) as history:
    for i in range(50):
        at = start + timedelta(minutes=i)
        history.record(
            Session(None, name, name, {"i": i}, at, at + timedelta(seconds=30), 1, 1, True)
        )
"""


def test_two_processes_write_at_once(tmp_path: Path, path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]

    def ready() -> bool:
        assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
        return all((tmp_path / f"ready-{n}").exists() for n in "ab")

    try:
        # Both have imported everything before either starts, so the writes overlap
        # (including creating the file, which neither finds).
        wait_until(ready, "both writers to start", 60, 0.01)
        for w in writers:  # go: each is blocked reading its stdin
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        results = [w.communicate(timeout=60) for w in writers]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in writers] == [0, 0], results
    with History.open(path) as history:
        assert len(history.sessions()) == 100
        assert len(history.sessions(routine="a")) == len(history.sessions(routine="b")) == 50
        assert {s.settings["i"] for s in history.sessions(routine="b")} == set(range(50))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


# --- migrating from the first release's layout ------------------------------------------

V1_ROWS = [
    # id, routine, title, settings_json, started_at and ended_at (local, with offset),
    # steps_completed, finished
    (
        1,
        "neck",
        "Neck",
        '{"pace": 1.0}',
        "2024-03-01T07:30:00+01:00",
        "2024-03-01T07:42:00+01:00",
        6,
        1,
    ),
    (
        2,
        "neck",
        "Neck",
        None,
        "2024-03-02T07:30:00.250000+01:00",
        "2024-03-02T07:35:00+01:00",
        2,
        0,
    ),
    (5, "hips", "Hips", "{}", "2024-03-02T23:30:00-05:00", "2024-03-02T23:50:00-05:00", 4, 1),
]


def make_v1(path: Path, rows: list[tuple[object, ...]] = V1_ROWS) -> None:
    db = sqlite3.connect(path)
    for statement in SCHEMA_V1:
        db.execute(statement)
    db.executemany("INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?)", rows)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def raw_rows(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT * FROM sessions ORDER BY id").fetchall()
    finally:
        db.close()


def test_a_version_1_file_is_backed_up_and_migrated(path: Path) -> None:
    make_v1(path)
    with History.open(path) as history:
        sessions = history.sessions()
        assert [s.id for s in sessions] == [5, 2, 1]  # ids kept; newest first in UTC
        hips, unfinished, neck = sessions
        assert neck.started_at == datetime(2024, 3, 1, 6, 30, tzinfo=UTC)
        assert neck.duration_s == 12 * 60
        assert neck.settings == {"pace": 1.0}
        assert (neck.steps_completed, neck.steps_total, neck.finished) == (6, 6, True)
        assert unfinished.settings == {}  # NULL: the routine's own settings
        assert unfinished.started_at == datetime(2024, 3, 2, 6, 30, 0, 250000, tzinfo=UTC)
        assert (unfinished.steps_completed, unfinished.steps_total) == (2, 0)  # total unknown
        assert hips.started_at == datetime(2024, 3, 3, 4, 30, tzinfo=UTC)  # next UTC day
        assert {s.source for s in sessions} == {"play"}
        assert history.finished_count("neck") == 1
        new_id = history.record(session("2024-03-04T08:00:00", source="log"))
        assert new_id > 5
    assert user_version(path) == SCHEMA_VERSION

    (backup,) = path.parent.glob("history.sqlite.v1-backup-*")
    assert re.fullmatch(r"history\.sqlite\.v1-backup-\d{8}T\d{6}", backup.name)
    assert user_version(backup) == 1
    assert raw_rows(backup) == V1_ROWS

    with History.open(path):  # already current: no second backup
        pass
    assert len(list(path.parent.glob("history.sqlite.v1-backup-*"))) == 1


def test_a_migration_that_fails_changes_nothing(path: Path) -> None:
    rows = [*V1_ROWS, (9, "neck", "Neck", "{}", "yesterday morning", "2024-03-03T08:00", 1, 1)]
    make_v1(path, rows)
    with pytest.raises(HistoryError, match="session 9") as error:
        History.open(path)
    assert "untouched" in str(error.value)
    assert user_version(path) == 1
    assert raw_rows(path) == rows


# --- files we must not touch -------------------------------------------------------------


def test_a_newer_file_is_refused_and_left_alone(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY, whatever TEXT)")
    db.execute("CREATE TABLE goals (id INTEGER PRIMARY KEY)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="newer voice-coach") as error:
        History.open(path)
    assert "Upgrade voice-coach" in str(error.value)
    assert str(path) in str(error.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["history.sqlite"]


def rollback_journal_history(path: Path) -> None:
    """A history whose file is back in rollback-journal mode, as a new file starts."""
    History.open(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = DELETE")
    db.close()


def test_switching_to_wal_waits_for_another_writer(path: Path) -> None:
    """While another connection writes a file in rollback-journal mode (as a second
    process creating the history does), SQLite refuses the switch to WAL at once instead
    of waiting on the busy timeout: opening waits for the writer like any write."""
    rollback_journal_history(path)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    done = threading.Timer(0.3, writer.rollback)
    done.start()
    try:
        with History.open(path) as history:
            history.record(session("2024-03-04T08:00:00"))
    finally:
        done.join()
        writer.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_file_kept_busy_stays_in_its_journal_mode_and_still_opens(path: Path) -> None:
    rollback_journal_history(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sessions").fetchone()
    started = time.monotonic()
    with History.open(path, timeout_s=0.2) as history:
        waited = time.monotonic() - started
        assert history.sessions() == []
        reader.rollback()
        history.record(session("2024-03-04T08:00:00"))
        assert len(history.sessions()) == 1
    reader.close()
    assert 0.1 <= waited < 5
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # switched next time
    db.close()
    History.open(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def damaged_first_page(path: Path) -> bytes:
    """A real history whose schema page is overwritten after the 100-byte header."""
    with History.open(path) as h:
        h.record(session("2024-03-04T08:00:00"))
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = DELETE")  # fold the WAL in, so the file is all there is
    db.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = bytes(range(256)) * 15 + bytes(range(156))
    return bytes(data)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda p: os.urandom(8192), id="random-bytes"),
        pytest.param(lambda p: b"sessions:\n  - neck, 10 minutes\n" * 20, id="text"),
        pytest.param(damaged_first_page, id="damaged-page"),
    ],
)
def test_a_damaged_file_is_reported_and_left_alone(
    path: Path, content: Callable[[Path], bytes]
) -> None:
    data = content(path)
    path.write_bytes(data)
    with pytest.raises(HistoryError) as error, History.open(path) as h:
        h.sessions()
    message = str(error.value)
    assert str(path) in message
    assert "damaged" in message
    assert "left untouched" in message
    assert "move it aside" in message
    assert path.read_bytes() == data


def test_another_programs_database_is_not_taken_over(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="contacts"):
        History.open(path)
    assert path.read_bytes() == before


# --- locks -------------------------------------------------------------------------------


@pytest.fixture
def locker(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection, for holding a lock on `path`."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    yield db
    if db.in_transaction:
        db.rollback()
    db.close()


def test_a_locked_history_is_reported_and_intact_afterwards(
    path: Path, locker: sqlite3.Connection
) -> None:
    with History.open(path) as h:
        h.record(session("2024-03-04T08:00:00"))
    locker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    with (
        pytest.raises(HistoryError, match="in use by another program") as error,
        History.open(path, timeout_s=0.2) as h,
    ):
        h.record(session("2024-03-05T08:00:00"))
    assert time.monotonic() - started >= 0.2  # it waited before giving up
    assert str(path) in str(error.value)
    locker.rollback()
    with History.open(path) as h:
        assert [s.started_at.day for s in h.sessions()] == [4]
        h.record(session("2024-03-05T08:00:00"))  # and usable again
        assert len(h.sessions()) == 2


def test_a_locked_old_file_is_not_migrated(path: Path, locker: sqlite3.Connection) -> None:
    make_v1(path)
    locker.execute("BEGIN EXCLUSIVE")  # a rollback-journal file: even reading must wait
    with pytest.raises(HistoryError, match="in use by another program"):
        History.open(path, timeout_s=0.1)
    locker.rollback()
    assert user_version(path) == 1
    assert raw_rows(path) == V1_ROWS
    assert not list(path.parent.glob("*backup*"))


def test_a_writer_waits_for_a_short_lock(path: Path, locker: sqlite3.Connection) -> None:
    """The busy timeout is a wait, not an immediate failure."""
    with History.open(path) as h:
        locker.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(0.2, locker.rollback)
        timer.start()
        try:
            h.record(session("2024-03-04T08:00:00"))
        finally:
            timer.join()
        assert len(h.sessions()) == 1


# --- from version 2: pain ratings and notes -----------------------------------------------

V2_FIXTURE = Path(__file__).parent / "fixtures" / "history" / "v2.sqlite"
"""A history written by the release before pain ratings (four sessions, two routines)."""


def test_a_version_2_file_keeps_every_session_and_gains_ratings(path: Path) -> None:
    path.write_bytes(V2_FIXTURE.read_bytes())
    before = raw_rows(path)
    assert user_version(path) == 2 and len(before) == 4
    with History.open(path) as history:
        sessions = history.sessions()
        assert [s.id for s in sessions] == [4, 3, 2, 1]
        assert {(s.pain_before, s.pain_after, s.note) for s in sessions} == {(None, None, "")}
        first = sessions[-1]
        assert (first.routine, first.settings, first.duration_s) == (
            "sciatica-relief",
            {"pace": "slow"},
            14 * 60,
        )
        assert [s.source for s in sessions] == ["play", "log", "play", "play"]
        new_id = history.record(replace(session("2026-12-05T08:00:00"), pain_after=3))
        assert history.session(new_id) == replace(
            session("2026-12-05T08:00:00"), id=new_id, pain_after=3
        )
    assert user_version(path) == SCHEMA_VERSION == 3
    assert [row[:10] for row in raw_rows(path)][:4] == before  # every old column as it was
    (backup,) = path.parent.glob("history.sqlite.v2-backup-*")
    assert raw_rows(backup) == before


def test_a_version_1_file_migrates_through_to_the_ratings(path: Path) -> None:
    make_v1(path)
    with History.open(path) as history:
        assert {s.pain_after for s in history.sessions()} == {None}
        history.amend(1, pain_after=2)
        assert history.session(1).pain_after == 2  # type: ignore[union-attr]


def test_a_rating_can_be_corrected_and_a_bad_one_changes_nothing(path: Path) -> None:
    with History.open(path) as history:
        sid = history.record(replace(session("2026-12-05T08:00:00"), pain_before=4, pain_after=6))
        amended = history.amend(sid, pain_after=3, note="easier after the walk")
        assert (amended.pain_before, amended.pain_after, amended.note) == (
            4,
            3,
            "easier after the walk",
        )
        assert history.session(sid) == amended
        for bad in ({"pain_after": 11}, {"pain_before": -1}, {"note": "x" * 501}):
            with pytest.raises(ValueError):
                history.amend(sid, **bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="only pain_before, pain_after, note"):
            history.amend(sid, routine="other")
        with pytest.raises(KeyError):
            history.amend(sid + 1, pain_after=1)
        assert history.session(sid) == amended
        assert history.session(sid + 1) is None


@pytest.mark.parametrize(
    ("field_name", "value"),
    [("pain_after", 11), ("pain_before", -1), ("pain_after", 2.5), ("pain_after", True)],
)
def test_a_rating_outside_the_scale_is_refused(field_name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"{field_name} must be a whole number from 0 to 10"):
        replace(session("2026-12-05T08:00:00"), **{field_name: value})


def test_the_database_refuses_a_rating_outside_the_scale_too(path: Path) -> None:
    with History.open(path):
        pass
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO sessions (routine, routine_title, started_at, ended_at,"
            " steps_completed, finished, pain_after) VALUES ('a', 'A', 'x', 'x', 0, 0, 12)"
        )
    db.close()


def test_ratings_and_notes_are_in_the_json() -> None:
    shown = replace(session("2026-12-05T08:00:00"), pain_before=5, note="stiff").to_json()
    assert (shown["pain_before"], shown["pain_after"], shown["note"]) == (5, None, "stiff")
