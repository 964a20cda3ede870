"""The mixer: members' anonymous writes committed in shuffled batches at random times,
and the nightly rewrite that erases what the batches left (why: statements/writes.py).

Pure: no flask import; the app wires it in statements/mixing.py.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from statements.write_apply import apply_batch
from statements.write_queues import Queue
from statements.writes import ACTIONS, QueueBusy, Write

log = logging.getLogger(__name__)

# The batch thread waits for this many writes, for at most this many rounds.
MIN_BATCH = 3
MAX_ROUNDS_WAITING = 4


class Mixer:
    """Queues members' anonymous writes and commits them in shuffled batches.

    With an interval, a daemon thread in each process drains the queue at random times
    (exponentially distributed, so the next batch cannot be predicted from the last);
    with 0, the app drains it after each request that queued something (tests only).
    """

    def __init__(
        self,
        queue: Queue,
        sessions: Callable[[], sessionmaker[Session]],
        interval: float,
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.queue = queue
        self.sessions = sessions
        self.interval = interval
        self.after_commit = after_commit
        self.rng = random.SystemRandom()
        # False where batches come only from flush() (the command line, tests).
        self.autostart = True
        self._lock = threading.Lock()
        self._thread_pid: int | None = None

    def put(self, write: Write) -> None:
        """Queue a write."""
        if write.action not in ACTIONS:
            raise ValueError("unknown write")
        self.queue.put(write)

    def pending(self, room_id: str) -> list[Write]:
        """Queued writes of one room."""
        return [write for write in self.queue.pending() if write.room_id == room_id]

    def _apply(self, writes: list[Write]) -> None:
        db = self.sessions()()
        try:
            apply_batch(db, writes, self.rng)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()
        self.after_commit()

    def flush(self, room_id: str | None = None) -> int:
        """Commit what is queued now (of one room, if given), as one shuffled batch;
        returns how many writes."""
        with self._lock:
            return self.queue.drain(self._apply, room_id)

    def flush_room(self, room_id: str, timeout: float = 20.0) -> int:
        """Commit every queued write of a room, waiting for another worker's batch.

        Publishing signs what the database holds: an endorsement still queued would be
        left out, then dropped. flush() alone may apply nothing (another worker holds
        the batch) or only a dead worker's batch. Raises QueueBusy if time runs out.
        """
        return self.flush_all(timeout, room_id)

    def flush_all(self, timeout: float = 60.0, room_id: str | None = None) -> int:
        """Commit every queued write (of one room, if given), waiting for another
        worker's batch; raises QueueBusy if time runs out. For the commands that must
        find everything in the database: a backup, the nightly rewrite, flush-writes.
        """
        deadline = time.monotonic() + timeout

        def waiting() -> bool:
            found = self.queue.pending()
            return any(write.room_id == room_id for write in found) if room_id else bool(found)

        applied = 0
        while waiting():
            drained = self.flush(room_id)
            applied += drained
            if waiting() and time.monotonic() >= deadline:
                raise QueueBusy
            if not drained:
                time.sleep(0.05)
        return applied

    def next_delay(self) -> float:
        """Seconds until the next batch: random, with the configured mean."""
        return min(self.rng.expovariate(1 / self.interval), 4 * self.interval)

    def ensure_running(self) -> None:
        """Start this process's batch thread, once per process (workers are forked)."""
        import os

        if not self.autostart or self.interval <= 0 or self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
            threading.Thread(target=self._run, name="mixer", daemon=True).start()

    def _run(self) -> None:
        waited = 0
        while True:
            time.sleep(self.next_delay())
            # A batch of one, right after someone joined, would point at them: a small
            # batch waits for company, a few rounds at most.
            if len(self.queue.pending()) < MIN_BATCH and waited < MAX_ROUNDS_WAITING:
                waited += 1
                continue
            waited = 0
            try:
                self.flush()
            except Exception as exc:
                # The batch stays queued and is tried again; say only what kind of error.
                log.error(
                    "a batch of queued writes failed (%s); it will be retried", type(exc).__name__
                )


# --- rewriting what the batches left ------------------------------------------------------

ANONYMOUS_TABLES = {
    "contributions": "id",
    "supports": "tag",
    "flags": "tag",
    "endorsements": "id",
    "objections": "tag",
    "consent_answers": "tag",
    # discussion
    "replies": "id",
    "reply_flags": "tag",
    "author_answers": "message_id",
    # the multilingual room
    "language_choices": "tag",
    # members' news
    "news_markers": "tag",
    "member_feeds": "owner_tag",
    # anonymous endorsements each signer can check
    "commitment_secrets": "tag",
}


# Tables whose dead rows must not outlive the night in PostgreSQL's files: a cancelled or
# moved embargo's statement and signed bundle; and a log entry and checkpoint a request
# wrote and signed before it failed (rolled back), whose size the log then reached with
# another root.
ERASED_TABLES = ("embargoes", "log_entries", "log_checkpoints")


def rewrite_anonymous_tables(engine: Engine) -> None:
    """Erase the batch boundaries the members' tables still carry.

    Each batch leaves its rows one transaction id (PostgreSQL's xmin) and, on disk, a
    place after the batch before. Rewriting every row in one transaction gives them all
    the same transaction id; CLUSTER then writes each table anew in the order of its
    random primary key, so neither transaction ids nor row order say which rows came in
    which batch. The tables in ERASED_TABLES are written anew too, which leaves their
    deleted rows behind in the old file, unlinked. On SQLite, VACUUM rebuilds the file
    likewise (the tables have no rowid and are stored in key order). Run it from cron,
    e.g. nightly; it locks these tables while it runs.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table, column in ANONYMOUS_TABLES.items():
                connection.exec_driver_sql(f"UPDATE {table} SET {column} = {column}")  # noqa: S608
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in (*ANONYMOUS_TABLES, *ERASED_TABLES):
                connection.exec_driver_sql(f"CLUSTER {table} USING pk_{table}")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
