"""Wires the mixer of anonymous writes (statements/mixer.py) into the app."""

from __future__ import annotations

from flask import Flask, current_app, g

from statements.db import Database, after_commit, checkpoint, get_session
from statements.mixer import Mixer
from statements.settings import Settings
from statements.write_queues import Queue, RedisQueue, SpoolQueue
from statements.writes import Write

SPOOL_FILE = "queued-writes.sqlite3"


class RequestWrites:
    """A request's view of the mixer: writes reach the queue only if the request commits.

    A request that fails after queueing a write must leave nothing behind (A5), so
    writes wait in the request until its transaction has committed.
    """

    def __init__(self, mixer: Mixer) -> None:
        self.mixer = mixer
        self.buffered: list[Write] = []

    def put(self, write: Write) -> None:
        """Queue a write once the request has committed."""
        if not self.buffered:
            after_commit(self._release)
        self.buffered.append(write)

    def pending(self, room_id: str) -> list[Write]:
        """Queued writes of a room, this request's own included."""
        mine = [write for write in self.buffered if write.room_id == room_id]
        keys = {write.key for write in mine}
        return [w for w in self.mixer.pending(room_id) if w.key not in keys] + mine

    def _release(self) -> None:
        for write in self.buffered:
            self.mixer.put(write)
        self.buffered = []
        if self.mixer.interval <= 0:
            self.mixer.flush()


def flush_queued_writes(room_id: str) -> None:
    """Commit every queued write of a room now, before this request reads (publishing
    needs every endorsement in). Ends the request's transaction first, so it then sees
    them; the caller opens the room again. Raises QueueBusy if they cannot all go in.

    Call it only where the request may publish: whoever can trigger a flush can commit
    one request's writes alone, which is what the batches are there to prevent.
    """
    session = get_session()
    session.rollback()
    mixer: Mixer = current_app.extensions["mixer"]
    mixer.flush_room(room_id)


def request_writes() -> RequestWrites:
    """This request's handle on the mixer."""
    if "request_writes" not in g:
        g.request_writes = RequestWrites(current_app.extensions["mixer"])
    writes: RequestWrites = g.request_writes
    return writes


def _queue(app: Flask, settings: Settings) -> Queue:
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        return RedisQueue(client, settings.rate_limit_prefix)
    return SpoolQueue(settings.instance_path / SPOOL_FILE)


def init_app(app: Flask, settings: Settings) -> None:
    """Create the mixer; start its batch thread in each worker on its first request."""
    database: Database = app.extensions["db"]
    mixer = Mixer(
        _queue(app, settings),
        # Read on every batch: tests swap the session factory after the app is built.
        sessions=lambda: database.sessionmaker,
        interval=settings.mix_interval_seconds,
        after_commit=lambda: checkpoint(database.engine),
    )
    app.extensions["mixer"] = mixer

    @app.before_request
    def _start_mixer() -> None:
        mixer.ensure_running()
