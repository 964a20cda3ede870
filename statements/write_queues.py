"""The shared queues of members' anonymous writes (statements/writes.py): a SQLite spool
file for the workers of one host, or Redis for every worker and host.

Pure: no flask import.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from statements.writes import Write


class Queue(Protocol):
    """A shared, durable queue of writes keyed for coalescing."""

    def put(self, write: Write) -> None:
        """Add a write, replacing a queued one with the same key."""

    def pending(self) -> list[Write]:
        """Every queued write."""

    def drain(self, apply: Callable[[list[Write]], None], room_id: str | None = None) -> int:
        """Claim a batch, apply it (apply commits), then remove it. Returns its size.

        With a room, the batch is only that room's writes: flushing one room before it
        publishes must not commit other rooms' writes in a batch too small to hide them.
        """


class SpoolQueue:
    """A SQLite file of queued writes, shared by the workers of one host.

    Rows are keyed, WITHOUT ROWID and deleted with secure_delete, so the file holds no
    order and nothing once a batch is in; its journal is deleted after each transaction.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS writes ("
                " key TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID"
            )

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=15, isolation_level=None)
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA secure_delete=ON")
        return connection

    def put(self, write: Write) -> None:
        """Add or replace."""
        connection = self._connect()
        try:
            connection.execute(
                "INSERT INTO writes (key, body) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET body = excluded.body",
                (write.key, write.to_bytes()),
            )
        finally:
            connection.close()

    def pending(self) -> list[Write]:
        """Everything queued."""
        connection = self._connect()
        try:
            rows = connection.execute("SELECT key, body FROM writes").fetchall()
        finally:
            connection.close()
        return [Write.from_bytes(key, body) for key, body in rows]

    def drain(self, apply: Callable[[list[Write]], None], room_id: str | None = None) -> int:
        """Hold the spool's write lock while the batch is applied, then remove it."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            rows = connection.execute("SELECT key, body FROM writes").fetchall()
            batch = [Write.from_bytes(key, body) for key, body in rows]
            if room_id is not None:
                batch = [write for write in batch if write.room_id == room_id]
            if not batch:
                connection.execute("ROLLBACK")
                return 0
            apply(batch)
            connection.executemany(
                "DELETE FROM writes WHERE key = ?", [(write.key,) for write in batch]
            )
            connection.execute("COMMIT")
            return len(batch)
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

# Removes the applied batch only while its worker still holds the lease: one that
# outlived it may find in flight a later batch that another worker claimed and has not
# applied yet. What it leaves is applied again by the next holder (applying is idempotent).
_DONE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[2]) end
return 0
"""


# Moves one room's queued writes to the in-flight hash, in one step: a write queued
# meanwhile with the same key cannot be lost between reading and removing it.
_CLAIM_ROOM = """
local items = redis.call('hgetall', KEYS[1])
local moved = 0
for i = 1, #items, 2 do
  if cjson.decode(items[i + 1])['room'] == ARGV[1] then
    redis.call('hset', KEYS[2], items[i], items[i + 1])
    redis.call('hdel', KEYS[1], items[i])
    moved = moved + 1
  end
end
return moved
"""


class RedisQueue:
    """A Redis hash of queued writes, shared by every worker and host.

    A batch is renamed to an in-flight hash under a lease; if its worker dies before
    deleting it, the next one to hold the lease applies it again.
    """

    LEASE_SECONDS = 60

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.writes = f"{prefix}:mix:writes"
        self.inflight = f"{prefix}:mix:inflight"
        self.lease = f"{prefix}:mix:lease"

    def put(self, write: Write) -> None:
        """Add or replace."""
        self.client.hset(self.writes, write.key, write.to_bytes())

    def pending(self) -> list[Write]:
        """In-flight writes, then newer queued ones over them."""
        # Both hashes in one transaction: a batch claimed between two separate reads
        # would be in neither, and the member's own queued write would seem not to exist.
        pipeline = self.client.pipeline(transaction=True)
        pipeline.hgetall(self.inflight)
        pipeline.hgetall(self.writes)
        found: dict[str, Write] = {}
        for items in pipeline.execute():
            for key, body in items.items():
                text = key.decode() if isinstance(key, bytes) else str(key)
                found[text] = Write.from_bytes(text, body)
        return list(found.values())

    def drain(self, apply: Callable[[list[Write]], None], room_id: str | None = None) -> int:
        """Take the lease, claim a batch (or a dead worker's), apply it, remove it."""
        token = secrets.token_hex(16)
        if not self.client.set(self.lease, token, nx=True, ex=self.LEASE_SECONDS):
            return 0
        try:
            if not self.client.exists(self.inflight):
                if not self.client.exists(self.writes):
                    return 0
                if room_id is None:
                    self.client.rename(self.writes, self.inflight)
                elif not self.client.eval(_CLAIM_ROOM, 2, self.writes, self.inflight, room_id):
                    return 0
            items = self.client.hgetall(self.inflight)
            writes = []
            for key, body in items.items():
                text = key.decode() if isinstance(key, bytes) else str(key)
                writes.append(Write.from_bytes(text, body))
            if writes:
                apply(writes)
            self.client.eval(_DONE, 2, self.lease, self.inflight, token)
            return len(writes)
        finally:
            self.client.eval(_RELEASE, 1, self.lease, token)
