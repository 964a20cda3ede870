"""A rate-limit storage in a small SQLite file that every worker on the host shares.

Without Redis, Flask-Limiter keeps its counts in each process's memory: with several
gunicorn workers, each worker has a budget of its own, and an attacker gets as many
guesses as there are workers (with two workers, the 10th to 12th of ten allowed went
through). This storage puts the counts in one file instead, so the budget holds across
every worker of the host; each check is one short write transaction.

What it keeps: for each limit, a keyed hash of the client address (never the address:
see statements.security.client_key, whose key lives only in memory) and the times of
the attempts within the window; rows are deleted as their window passes, and deleted
content is overwritten (secure_delete). It is not the app's database, and nothing in
it outlives the longest window (an hour by default).

Registered with the limits library under the scheme "statements-file", e.g.
"statements-file:///srv/statements/instance/throttle.sqlite3".
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.parse import urlsplit

from limits.storage import MovingWindowSupport, Storage

SCHEME = "statements-file"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hits_key ON hits (key, at)",
    "CREATE INDEX IF NOT EXISTS hits_expires ON hits (expires)",
    "CREATE TABLE IF NOT EXISTS counters"
    " (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL) WITHOUT ROWID",
)


def storage_uri(path: str) -> str:
    """The storage URI for a file path."""
    return f"{SCHEME}://{path}"


class FileStorage(Storage, MovingWindowSupport):
    """Fixed- and moving-window counts in a SQLite file shared by every local process."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - the limits library's own attribute

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: object):
        path = urlsplit(uri or "").path
        if not path:
            raise ValueError(f"{SCHEME}:// needs a file path")
        self.path = path
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        with self._transaction() as connection:
            for statement in _SCHEMA:
                connection.execute(statement)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What a failing storage raises (Flask-Limiter then lets the request through)."""
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process: a connection must not cross a fork.
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            created = not os.path.exists(self.path)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            if created:
                os.chmod(self.path, 0o600)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA secure_delete=ON")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    class _Transaction:
        def __init__(self, connection: sqlite3.Connection) -> None:
            self.connection = connection

        def __enter__(self) -> sqlite3.Connection:
            # IMMEDIATE: the write lock is taken at once, so a check and its count are
            # one step for every process.
            self.connection.execute("BEGIN IMMEDIATE")
            return self.connection

        def __exit__(self, kind: object, error: object, trace: object) -> None:
            self.connection.execute("COMMIT" if kind is None else "ROLLBACK")

    def _transaction(self) -> FileStorage._Transaction:
        return FileStorage._Transaction(self._connection())

    # --- fixed windows ------------------------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add to a counter, starting its window if it has none."""
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM counters WHERE key = ? AND expires <= ?", (key, now))
            db.execute(
                "INSERT INTO counters (key, count, expires) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET count = count + excluded.count",
                (key, amount, now + expiry),
            )
            row = db.execute("SELECT count FROM counters WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        """A counter's value in its current window."""
        row = (
            self._connection()
            .execute("SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """When a counter's window ends."""
        row = (
            self._connection()
            .execute("SELECT expires FROM counters WHERE key = ?", (key,))
            .fetchone()
        )
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        """True when the file can be used."""
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every count."""
        with self._transaction() as db:
            count = (
                db.execute("DELETE FROM hits").rowcount
                + db.execute("DELETE FROM counters").rowcount
            )
        return int(count)

    def clear(self, key: str) -> None:
        """Forget one key's counts."""
        with self._transaction() as db:
            db.execute("DELETE FROM hits WHERE key = ?", (key,))
            db.execute("DELETE FROM counters WHERE key = ?", (key,))

    # --- moving windows -----------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Record amount hits if the window has room for them; False when it has not."""
        if amount > limit:
            return False
        now = time.time()
        with self._transaction() as db:
            # Whatever has passed its window goes, for every key: nothing stays longer.
            db.execute("DELETE FROM hits WHERE expires <= ?", (now,))
            db.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            (count,) = db.execute(
                "SELECT count(*) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            if count + amount > limit:
                return False
            db.executemany(
                "INSERT INTO hits (key, at, expires) VALUES (?, ?, ?)",
                [(key, now, now + expiry)] * amount,
            )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest hit in the window and how many there are."""
        now = time.time()
        oldest, count = (
            self._connection()
            .execute(
                "SELECT min(at), count(*) FROM hits WHERE key = ? AND at > ?",
                (key, now - expiry),
            )
            .fetchone()
        )
        return (float(oldest) if oldest is not None else now), int(count)
