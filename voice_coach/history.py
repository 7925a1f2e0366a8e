"""The record of practice sessions, kept in one SQLite file per user.

Several voice-coach processes may share the file (a live session recording while
another command reads the streak), so it runs in WAL mode, waits for a busy lock
instead of failing at once, and writes only in explicit `BEGIN IMMEDIATE`
transactions. A file this version does not understand (damaged, or written by a
newer voice-coach) is reported and left exactly as it is: the history is the user's
record of months of practice, so nothing here ever deletes or recreates it.

All times are UTC. Timestamps are stored as fixed-width ISO 8601 text
(``2024-03-01T06:30:00.000000+00:00``), so text order is time order and the first
ten characters are the UTC calendar date.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from .atomic import partial_beside
from .errors import HistoryError
from .paths import data_dir

FILE_NAME = "history.sqlite"
DEFAULT_TIMEOUT_S = 10.0
"""How long to wait for another process's write lock before giving up."""
SOURCES = ("play", "log")
"""How a session got into the history: played live, or logged by hand afterwards."""
SUMMARY_SESSIONS = 20
SUMMARY_WEEKS = 12
AMENDABLE = ("pain_before", "pain_after", "note")
"""What may be corrected after a session is recorded: the person's own answers."""

SCHEMA_VERSION = 3
"""Stored in ``PRAGMA user_version``. Bump it, and add a migration, when the layout changes."""

SCHEMA_V1 = (
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        routine TEXT NOT NULL,
        routine_title TEXT NOT NULL,
        settings_json TEXT,             -- NULL when played with the routine's own settings
        started_at TEXT NOT NULL,       -- datetime.isoformat() in local time, with its offset
        ended_at TEXT NOT NULL,
        steps_completed INTEGER NOT NULL,
        finished INTEGER NOT NULL       -- 0 or 1
    )""",
    "CREATE INDEX sessions_routine ON sessions (routine)",
)
"""The first release's layout (user_version 1), kept to document what `_migrate_1_to_2` reads.

It did not know how many steps a routine had, only recorded played sessions, and
wrote local times whose text order is not time order.
"""

SCHEMA_V2 = (
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        routine TEXT NOT NULL,
        routine_title TEXT NOT NULL,
        settings TEXT NOT NULL DEFAULT '{}',                -- a JSON object
        started_at TEXT NOT NULL,                           -- UTC, fixed width (see above)
        ended_at TEXT NOT NULL,
        steps_completed INTEGER NOT NULL CHECK (steps_completed >= 0),
        steps_total INTEGER NOT NULL DEFAULT 0 CHECK (steps_total >= 0),  -- 0: not known
        finished INTEGER NOT NULL CHECK (finished IN (0, 1)),
        source TEXT NOT NULL DEFAULT 'play' CHECK (source IN ('play', 'log'))
    )""",
    "CREATE INDEX sessions_started ON sessions (started_at)",
    "CREATE INDEX sessions_routine_started ON sessions (routine, started_at)",
)
"""The second layout (user_version 2), kept to document what `_migrate_2_to_3` extends."""

PAIN_MIN, PAIN_MAX = 0, 10
"""A pain rating is a 0-10 numeric rating scale, as physiotherapy uses."""
NOTE_MAX_CHARS = 500

_V3_COLUMNS = (
    f"pain_before INTEGER CHECK (pain_before BETWEEN {PAIN_MIN} AND {PAIN_MAX})",  # NULL: not asked
    f"pain_after INTEGER CHECK (pain_after BETWEEN {PAIN_MIN} AND {PAIN_MAX})",
    f"note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= {NOTE_MAX_CHARS})",
)
"""What version 3 adds: how the back felt before and after, and the person's own note."""

SCHEMA_V3 = (
    SCHEMA_V2[0].removesuffix("\n    )")
    + "".join(f",\n        {c}" for c in _V3_COLUMNS)
    + "\n    )",
    *SCHEMA_V2[1:],
)
"""The current layout (user_version 3)."""

_COLUMNS_V2 = (
    "id, routine, routine_title, settings, started_at, ended_at,"
    " steps_completed, steps_total, finished, source"
)
_COLUMNS = _COLUMNS_V2 + ", pain_before, pain_after, note"
_PRACTISED = "(steps_completed > 0 OR finished)"
"""SQL for a session that counts as practice in streaks and weekly minutes."""


def history_path() -> Path:
    """$VOICE_COACH_DATA/history.sqlite, else the file in the user's data directory."""
    return data_dir() / FILE_NAME


@dataclass(frozen=True)
class Session:
    """One practice session, played live or logged afterwards."""

    id: int | None
    """Row id in the history; None until recorded."""
    routine: str
    """Routine key: the bundled routine's name, or the routine file's stem."""
    routine_title: str
    settings: dict[str, object] = field(hash=False)
    """The settings used (pace, voice, ...), JSON-able so scripts can read them back."""
    started_at: datetime
    """Timezone-aware; stored and returned in UTC."""
    ended_at: datetime
    steps_completed: int
    steps_total: int
    """Steps in the routine; 0 when not known (sessions recorded by the first release)."""
    finished: bool
    source: str = "play"
    """One of `SOURCES`."""
    pain_before: int | None = None
    """Pain on the 0-10 scale just before the session; None when not asked or not answered."""
    pain_after: int | None = None
    """Pain on the 0-10 scale just after it; None when not asked or not answered."""
    note: str = ""
    """The person's own words about the session, at most `NOTE_MAX_CHARS` characters."""

    def __post_init__(self) -> None:
        for name in ("started_at", "ended_at"):
            moment: datetime = getattr(self, name)
            if moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
            # Normalised here so that equality and storage never depend on the caller's zone.
            object.__setattr__(self, name, moment.astimezone(UTC))
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.steps_completed < 0 or self.steps_total < 0:
            raise ValueError("step counts cannot be negative")
        if self.steps_total and self.steps_completed > self.steps_total:
            raise ValueError(f"{self.steps_completed} of {self.steps_total} steps completed")
        try:
            json.dumps(self.settings)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"settings must be JSON-able: {exc}") from exc
        for name in ("pain_before", "pain_after"):
            pain = getattr(self, name)
            if pain is not None and (
                isinstance(pain, bool)
                or not isinstance(pain, int)
                or not PAIN_MIN <= pain <= PAIN_MAX
            ):
                raise ValueError(
                    f"{name} must be a whole number from {PAIN_MIN} to {PAIN_MAX}, got {pain!r}"
                )
        if len(self.note) > NOTE_MAX_CHARS:
            raise ValueError(
                f"note must be at most {NOTE_MAX_CHARS} characters, got {len(self.note)}"
            )

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, object]:
        """A JSON-able dict for scripts, with ISO 8601 timestamps."""
        return {
            "id": self.id,
            "routine": self.routine,
            "routine_title": self.routine_title,
            "settings": self.settings,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "duration_s": self.duration_s,
            "steps_completed": self.steps_completed,
            "steps_total": self.steps_total,
            "finished": self.finished,
            "source": self.source,
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "note": self.note,
        }


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds a lock this one needs."""
    # Extended code -> primary code. Errors raised by Python's sqlite3 itself have none.
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _history_error(path: Path, exc: sqlite3.Error, timeout_s: float) -> HistoryError:
    """Say in a user's words what an sqlite3 error means for the history file."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if _is_busy(exc):
        return HistoryError(
            f"{path}: the practice history is in use by another program (still locked after"
            f" {timeout_s:g} s). Let it finish, or close it, and try again."
        )
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return _damaged(path, str(exc))
    if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM):
        return HistoryError(f"{path}: cannot open the practice history for writing ({exc}).")
    if code == sqlite3.SQLITE_FULL:
        return HistoryError(f"{path}: the disk is full, so the practice history cannot be written.")
    return HistoryError(f"{path}: the practice history failed: {exc}")


def _damaged(path: Path, what: str) -> HistoryError:
    return HistoryError(
        f"{path} is damaged or is not a voice-coach history ({what}). It was left untouched;"
        " move it aside (rename it) to start a new history, and keep it if you want to"
        " try to recover it."
    )


class History:
    """An open practice history. Use `History.open`, as a context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path, timeout_s: float) -> None:
        self._connection = connection
        self.path = path
        self.timeout_s = timeout_s

    @classmethod
    def open(cls, path: Path | None = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> History:
        """Open (creating or migrating if needed) the history at `path`, else `history_path()`.

        `timeout_s` is how long each statement waits for another process's lock.
        """
        path = history_path() if path is None else path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"{path.parent}: cannot create the folder: {exc.strerror}") from exc
        try:
            # isolation_level=None: no implicit transactions; every write says BEGIN itself.
            connection = sqlite3.connect(path, timeout=timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise _history_error(path, exc, timeout_s) from exc
        history = cls(connection, path, timeout_s)
        try:
            history._prepare()
        except BaseException:
            connection.close()
            raise
        return history

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> History:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- opening -------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Bring the file to the current schema, reading first and writing only if needed,
        so that a file we cannot use is never modified."""
        with self._errors():
            version = self._checked_version()
            if version != SCHEMA_VERSION:
                with self._transaction():
                    # Another process may have created or migrated it while we waited.
                    version = self._checked_version()
                    if version == 0:
                        for statement in SCHEMA_V3:
                            self._connection.execute(statement)
                    elif version < SCHEMA_VERSION:
                        self._back_up(version)
                        for step in range(version, SCHEMA_VERSION):
                            self._MIGRATIONS[step](self)
                    # Part of the transaction: a failed migration leaves the old version.
                    self._connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._use_wal()

    def _use_wal(self) -> None:
        """Switch the file to WAL, which is persistent, so this happens once per file.

        It cannot happen inside a transaction, so it comes once the schema is there.
        While another connection writes the file in rollback-journal mode, SQLite refuses
        the switch at once (waiting could deadlock) instead of waiting on the busy
        timeout: of two processes opening a new history at the same moment, one failed
        with "database is locked" about one time in ten. So it is retried here until the
        timeout. A file that stays busy, or a file system without WAL, keeps its rollback
        journal, which works as well (writers still queue on the busy timeout); a later
        open switches it.
        """
        db = self._connection
        deadline = time.monotonic() + self.timeout_s
        pause_s = 0.005
        while True:
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            if time.monotonic() + pause_s > deadline:
                return
            time.sleep(pause_s)
            pause_s = min(2 * pause_s, 0.1)

    def _checked_version(self) -> int:
        """The schema version, after checking this is a history we can use."""
        db = self._connection
        # Both reads must see one state of the file, not one from either side of another
        # process creating the schema; inside the caller's write transaction they do.
        snapshot = not db.in_transaction
        if snapshot:
            db.execute("BEGIN")
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            # Reading the schema also parses the first page, where damage shows up first.
            tables = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            if snapshot and db.in_transaction:
                db.rollback()  # only read
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path} was written by a newer voice-coach (history format {version};"
                f" this one knows up to {SCHEMA_VERSION}). Upgrade voice-coach to use it;"
                " the file was left untouched."
            )
        if version == 0 and tables:
            raise _damaged(self.path, f"it holds other tables: {', '.join(sorted(tables))}")
        if version > 0 and "sessions" not in tables:
            raise _damaged(self.path, "it has no sessions table")
        return version

    def _back_up(self, version: int) -> None:
        """Copy the whole database next to it before migrating, so nothing can be lost.

        Called holding the write lock, so nothing changes between the copy and the
        migration. SQLite's backup API rather than a file copy, as it includes anything
        still in a WAL; it reads through a second connection because SQLite refuses to
        back up from one that is writing. The copy gets its final name once complete.
        """
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        backup = self.path.with_name(f"{self.path.name}.v{version}-backup-{stamp}")
        n = 1
        while backup.exists():
            n += 1
            backup = self.path.with_name(f"{self.path.name}.v{version}-backup-{stamp}-{n}")
        try:
            with partial_beside(backup) as tmp:
                source = sqlite3.connect(self.path, timeout=self.timeout_s)
                target = sqlite3.connect(tmp)
                try:
                    source.backup(target)
                finally:
                    target.close()
                    source.close()
                os.replace(tmp, backup)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(
                f"{backup}: cannot back up the history before upgrading it ({exc});"
                " the history was left untouched."
            ) from exc

    def _migrate_1_to_2(self) -> None:
        """Rebuild the table in the version-2 layout, inside the caller's transaction.

        Timestamps become UTC (so text order is time order), missing settings become {},
        a finished session's step total is its completed steps (the only total v1 knew),
        an unfinished one's is 0 (not known), and every old session came from `play`.
        """
        db = self._connection
        db.execute("ALTER TABLE sessions RENAME TO sessions_v1")
        for statement in SCHEMA_V2:
            db.execute(statement)
        rows = db.execute(
            "SELECT id, routine, routine_title, settings_json, started_at, ended_at,"
            " steps_completed, finished FROM sessions_v1 ORDER BY id"
        ).fetchall()
        converted = []
        for row_id, routine, title, settings, started, ended, completed, finished in rows:
            try:
                settings_obj = json.loads(settings) if settings is not None else {}
                if not isinstance(settings_obj, dict):
                    raise ValueError("settings are not a JSON object")
                converted.append(
                    (
                        row_id,
                        routine,
                        title,
                        json.dumps(settings_obj, sort_keys=True),
                        _utc_text(_parse_time(started)),
                        _utc_text(_parse_time(ended)),
                        completed,
                        completed if finished else 0,
                        1 if finished else 0,
                        "play",
                    )
                )
            except (TypeError, ValueError) as exc:
                raise HistoryError(
                    f"{self.path}: session {row_id} cannot be converted to the new history"
                    f" format ({exc}). The history was left untouched (a backup is beside it)."
                ) from exc
        db.executemany(
            f"INSERT INTO sessions ({_COLUMNS_V2}) VALUES (?,?,?,?,?,?,?,?,?,?)", converted
        )
        db.execute("DROP TABLE sessions_v1")

    def _migrate_2_to_3(self) -> None:
        """Add the pain ratings and the note, inside the caller's transaction.

        Every existing session keeps its row; its ratings are not known (NULL) and its
        note is empty.
        """
        for column in _V3_COLUMNS:
            self._connection.execute(f"ALTER TABLE sessions ADD COLUMN {column}")

    _MIGRATIONS: ClassVar[Mapping[int, Callable[[History], None]]] = {
        1: _migrate_1_to_2,
        2: _migrate_2_to_3,
    }
    """From version n to n + 1, each run inside the one transaction of `_prepare`."""

    # --- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn any sqlite3 error into a HistoryError the CLI can print."""
        try:
            yield
        except sqlite3.Error as exc:
            raise _history_error(self.path, exc, self.timeout_s) from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. IMMEDIATE takes the write lock up front, so two writers
        queue on the busy timeout instead of one failing when it upgrades a read lock."""
        with self._errors():
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
                self._connection.execute("COMMIT")
            except BaseException:
                if self._connection.in_transaction:
                    self._connection.rollback()
                raise

    def _select(self, sql: str, params: tuple[object, ...] = ()) -> list[Session]:
        with self._errors():
            rows = self._connection.execute(sql, params).fetchall()
        return [self._session(row) for row in rows]

    def _session(self, row: tuple[Any, ...]) -> Session:
        (
            row_id,
            routine,
            title,
            settings,
            started,
            ended,
            completed,
            total,
            finished,
            source,
            pain_before,
            pain_after,
            note,
        ) = row
        try:
            settings_obj = json.loads(settings)
            if not isinstance(settings_obj, dict):
                raise ValueError("settings are not a JSON object")
            return Session(
                id=int(row_id),
                routine=routine,
                routine_title=title,
                settings=settings_obj,
                started_at=_parse_time(started),
                ended_at=_parse_time(ended),
                steps_completed=int(completed),
                steps_total=int(total),
                finished=bool(finished),
                source=source,
                pain_before=None if pain_before is None else int(pain_before),
                pain_after=None if pain_after is None else int(pain_after),
                note=note,
            )
        except (TypeError, ValueError) as exc:
            raise _damaged(self.path, f"session {row_id} cannot be read: {exc}") from exc

    # --- the API ---------------------------------------------------------------------------

    def record(self, session: Session) -> int:
        """Add `session` (which must not have an id yet) and return its new row id."""
        if session.id is not None:
            raise ValueError(f"session {session.id} is already recorded")
        with self._transaction() as db:
            cursor = db.execute(
                f"INSERT INTO sessions ({_COLUMNS}) VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    session.routine,
                    session.routine_title,
                    json.dumps(session.settings, sort_keys=True),
                    _utc_text(session.started_at),
                    _utc_text(session.ended_at),
                    session.steps_completed,
                    session.steps_total,
                    int(session.finished),
                    session.source,
                    session.pain_before,
                    session.pain_after,
                    session.note,
                ),
            )
        assert cursor.lastrowid is not None  # always set after an INSERT
        return cursor.lastrowid

    def session(self, session_id: int) -> Session | None:
        """The session recorded as `session_id`, or None if there is none."""
        found = self._select(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
        return found[0] if found else None

    def amend(self, session_id: int, **changes: int | str | None) -> Session:
        """Correct a recorded session's `pain_before`, `pain_after` or `note`; returns it.

        The changed session is checked like a new one, so a bad value changes nothing.
        Raises KeyError if there is no such session.
        """
        unknown = set(changes) - set(AMENDABLE)
        if unknown:
            raise ValueError(
                f"cannot change {', '.join(sorted(unknown))}; only {', '.join(AMENDABLE)}"
            )
        with self._transaction() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
            found = row.fetchone()
            if found is None:
                raise KeyError(session_id)
            amended = replace(self._session(found), **changes)  # type: ignore[arg-type]
            db.execute(
                "UPDATE sessions SET pain_before = ?, pain_after = ?, note = ? WHERE id = ?",
                (amended.pain_before, amended.pain_after, amended.note, session_id),
            )
        return amended

    def sessions(self, routine: str | None = None, limit: int | None = None) -> list[Session]:
        """Recorded sessions, newest first, optionally of one routine and at most `limit`."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit cannot be negative, got {limit}")
        where = "" if routine is None else "WHERE routine = ?"
        params: tuple[object, ...] = () if routine is None else (routine,)
        return self._select(
            f"SELECT {_COLUMNS} FROM sessions {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*params, -1 if limit is None else limit),  # LIMIT -1: no limit
        )

    def first_session(self, routine: str) -> Session | None:
        """The oldest session of `routine` (e.g. for "practising since ...")."""
        found = self._select(
            f"SELECT {_COLUMNS} FROM sessions WHERE routine = ? ORDER BY started_at, id LIMIT 1",
            (routine,),
        )
        return found[0] if found else None

    def finished_count(self, routine: str) -> int:
        with self._errors():
            row = self._connection.execute(
                "SELECT count(*) FROM sessions WHERE routine = ? AND finished", (routine,)
            ).fetchone()
        return int(row[0])

    def streak_days(self, today: date) -> int:
        """Consecutive UTC days with practice, ending today or, if nothing yet today,
        yesterday (a streak is not broken until the day is over).

        A session counts as practice if it finished or completed at least one step, so
        starting a routine and stopping at once does not keep a streak alive.
        """
        tomorrow = today + timedelta(days=1)
        with self._errors():
            rows = self._connection.execute(
                f"SELECT DISTINCT substr(started_at, 1, 10) FROM sessions"
                f" WHERE {_PRACTISED} AND started_at < ?",
                (tomorrow.isoformat(),),
            ).fetchall()
        days = {date.fromisoformat(row[0]) for row in rows}
        day = today if today in days else today - timedelta(days=1)
        streak = 0
        while day in days:
            streak += 1
            day -= timedelta(days=1)
        return streak

    def minutes_per_week(self, weeks: int, today: date) -> list[tuple[date, float]]:
        """Minutes practised in each of the last `weeks` ISO weeks, the one holding `today`
        last, as (Monday, minutes), oldest first; weeks without practice give 0.

        Counts the same sessions as `streak_days`, each in the week of its UTC start.
        """
        if weeks < 0:
            raise ValueError(f"weeks cannot be negative, got {weeks}")
        if weeks == 0:
            return []
        first_monday = _monday(today) - timedelta(weeks=weeks - 1)
        after_last = _monday(today) + timedelta(weeks=1)
        with self._errors():
            rows = self._connection.execute(
                f"SELECT started_at, ended_at FROM sessions"
                f" WHERE {_PRACTISED} AND started_at >= ? AND started_at < ?",
                (first_monday.isoformat(), after_last.isoformat()),
            ).fetchall()
        seconds = [0.0] * weeks
        for started_text, ended_text in rows:
            started, ended = _parse_time(started_text), _parse_time(ended_text)
            seconds[(started.date() - first_monday).days // 7] += (ended - started).total_seconds()
        return [(first_monday + timedelta(weeks=i), s / 60) for i, s in enumerate(seconds)]


def summary_json(history: History, today: date) -> dict[str, object]:
    """What `voice-coach history --json` prints: recent sessions, streak, weekly minutes."""
    return {
        "sessions": [s.to_json() for s in history.sessions(limit=SUMMARY_SESSIONS)],
        "streak_days": history.streak_days(today),
        "minutes_per_week": [
            {"week": monday.isoformat(), "minutes": round(minutes, 2)}
            for monday, minutes in history.minutes_per_week(SUMMARY_WEEKS, today)
        ],
    }
