"""Attacks on the mixer of anonymous writes (statements/mixer.py, statements/mixing.py).

Each test is one way to defeat the batching or to lose, repeat or misplace a member's
write: a member forcing batches of one at will, a publication that signs before every
queued endorsement is in, and a slow worker on Redis that throws away another worker's
batch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.auth import service as auth
from statements.mixer import Mixer
from statements.models import Contribution, PublishedStatement
from statements.write_queues import RedisQueue, SpoolQueue
from statements.writes import QueueBusy, Write
from tests.conftest import TEST_REDIS_URL
from tests.statements.test_mixing import (
    _contribute,
    _count,
    _member,
    _signed_in,
    _write,
)
from tests.support import (
    csrf_token,
    join_room,
    login_staff,
    make_member,
    make_room,
    make_staff,
    open_signon,
)
from tests.support import staff_identity as make_staff_identity

# --- a member must not be able to force a batch -----------------------------------------


def test_a_member_cannot_force_a_batch_by_opening_the_publish_page(
    batching: Flask, session: Session
) -> None:
    """Batches come at random times so that none holds one request alone. The publish
    page flushed the queue before it checked anything: any signed-in account could
    commit the queue at will, e.g. right after each request of someone they watch, and
    leave batches of one whose transaction ids and -wal order follow request order."""
    coordinator = make_staff_identity(batching, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author = _signed_in(batching, _member(batching, session, coordinator, room_id))
    watcher = _signed_in(batching, _member(batching, session, coordinator, room_id))
    _contribute(author, room_id, "A sentence that must wait for company")
    mixer: Mixer = batching.extensions["mixer"]

    assert watcher.get(f"/rooms/{room_id}/publish").status_code == 403
    token = csrf_token(watcher, f"/rooms/{room_id}/contributions")
    response = watcher.post(
        f"/rooms/{room_id}/publish", data={"csrf_token": token, "slug": "x-y-z", "confirm": "y"}
    )
    assert response.status_code == 403
    # A room that does not exist, or that they are not in, as well.
    assert watcher.get(f"/rooms/{'f' * 32}/publish").status_code == 404

    assert _count(session, Contribution) == 0
    assert len(mixer.pending(room_id)) == 1
    # The coordinator only opening the page (not publishing) does not flush either.
    assert mixer.flush() == 1


def test_publishing_signs_the_endorsements_still_queued(batching: Flask, session: Session) -> None:
    """The flush moved behind the coordinator's check must still run before signing."""
    staff = make_staff(batching, session)
    config: auth.AuthConfig = batching.extensions["auth"]
    clock = batching.extensions["clock"]
    account, keys = auth.login_staff(
        session, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    coordinator = auth.Identity(account, keys, b"", b"")
    room_id = make_room(session, coordinator)
    codenames = []
    for _ in range(2):
        member_account, codename = make_member(batching, session)
        _, member_keys = auth.login_member(session, config, codename)
        join_room(
            session, coordinator, room_id, auth.Identity(member_account, member_keys, b"", b"")
        )
        codenames.append(codename)
    open_signon(session, coordinator, room_id)
    session.commit()
    signon = f"/rooms/{room_id}/sign-on"
    for codename, data in zip(
        codenames,
        [
            # Anonymous: a public name a member types waits for a coordinator's review.
            {"kind": "anonymous", "name": "", "country": ""},
            {"kind": "anonymous", "name": "", "country": ""},
        ],
        strict=True,
    ):
        member = _signed_in(batching, codename)
        response = member.post(signon, data={"csrf_token": csrf_token(member, signon), **data})
        assert response.status_code == 302
    mixer: Mixer = batching.extensions["mixer"]
    assert len(mixer.pending(room_id)) == 2

    client = batching.test_client()
    assert login_staff(client, batching, staff).status_code == 302
    response = client.post(
        f"/rooms/{room_id}/publish",
        data={
            "csrf_token": csrf_token(client, f"/rooms/{room_id}/publish"),
            "slug": "right-to-work",
            "confirm": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    published = session.scalars(select(PublishedStatement)).one()
    assert published.signatory_count == 2
    assert mixer.pending(room_id) == []


# --- Redis: the publish flush, and a slow worker ------------------------------------------


@pytest.fixture
def redis_queue() -> Iterator[RedisQueue]:
    """A Redis queue under a prefix of its own (Redis only: the spool file has no lease)."""
    if not TEST_REDIS_URL:
        pytest.skip("the lease and the in-flight batch are Redis's")
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    prefix = f"test-{os.urandom(6).hex()}"
    yield RedisQueue(client, prefix)
    for key in client.keys(f"{prefix}:*"):
        client.delete(key)


def _mixer(app: Flask, queue: RedisQueue | SpoolQueue) -> Mixer:
    return Mixer(queue, sessions=lambda: app.extensions["db"].sessionmaker, interval=3600)


def test_flushing_a_room_takes_in_a_dead_workers_batch_and_what_came_after(
    app: Flask, redis_queue: RedisQueue
) -> None:
    """Publishing flushes the queue so every endorsement is signed. On Redis a drain
    that found a dead worker's in-flight batch applied only that, leaving newer writes
    (the endorsements made since) queued: they missed the signed bundle and were then
    dropped, as the room was no longer in sign-on."""
    old, new = _write(1), _write(2)
    redis_queue.put(old)
    redis_queue.client.rename(redis_queue.writes, redis_queue.inflight)  # a dead worker's
    redis_queue.put(new)

    assert _mixer(app, redis_queue).flush_room("r", timeout=5) == 2
    assert redis_queue.pending() == []


def test_flushing_a_room_waits_for_another_workers_batch(
    app: Flask, redis_queue: RedisQueue
) -> None:
    """While another worker's batch thread held the lease, the publish flush returned at
    once having applied nothing, and the statement was signed without what was queued."""
    redis_queue.put(_write(1))
    redis_queue.client.set(redis_queue.lease, "another-worker", ex=1)

    started = time.monotonic()
    assert _mixer(app, redis_queue).flush_room("r", timeout=5) == 1
    assert time.monotonic() - started >= 0.5
    assert redis_queue.pending() == []


def test_flushing_everything_waits_for_another_workers_batch(
    app: Flask, redis_queue: RedisQueue
) -> None:
    """flush-writes (before a backup, and the nightly rewrite) returned at once, having
    applied nothing, while another worker's batch thread held the lease: the backup then
    missed what was queued."""
    redis_queue.put(_write(1))
    redis_queue.put(replace(_write(2), room_id="another-room"))
    redis_queue.client.set(redis_queue.lease, "another-worker", ex=1)

    started = time.monotonic()
    assert _mixer(app, redis_queue).flush_all(timeout=5) == 2
    assert time.monotonic() - started >= 0.5
    assert redis_queue.pending() == []


def test_flushing_everything_says_so_when_it_cannot(app: Flask, redis_queue: RedisQueue) -> None:
    redis_queue.put(_write(1))
    redis_queue.client.set(redis_queue.lease, "another-worker", ex=30)
    with pytest.raises(QueueBusy):
        _mixer(app, redis_queue).flush_all(timeout=0.3)
    assert len(redis_queue.pending()) == 1


def test_flushing_a_room_says_so_when_it_cannot(app: Flask, redis_queue: RedisQueue) -> None:
    """If the lease stays taken, the flush refuses rather than let publishing go on."""
    redis_queue.put(_write(1))
    redis_queue.client.set(redis_queue.lease, "another-worker", ex=30)
    with pytest.raises(QueueBusy):
        _mixer(app, redis_queue).flush_room("r", timeout=0.3)
    assert len(redis_queue.pending()) == 1


def test_a_worker_that_outlived_its_lease_does_not_delete_another_workers_batch(
    redis_queue: RedisQueue,
) -> None:
    """Worker A's batch takes longer than the lease. B takes the lease, re-applies A's
    batch and removes it; C takes the next one (a member's newer write) and fails before
    its commit, leaving it in flight to be retried. When A finally finishes, it deleted
    whatever was in flight: C's batch, never applied, was lost."""
    newer = _write(2)
    redis_queue.put(_write(1))
    seen: list[str] = []

    def crash(_writes: list[Write]) -> None:
        raise RuntimeError("worker C's database went away")

    def slow(writes: list[Write]) -> None:
        seen.extend(w.key for w in writes)
        redis_queue.client.delete(redis_queue.lease)  # A's lease runs out
        assert redis_queue.drain(lambda ws: seen.extend(w.key for w in ws)) == 1  # B
        redis_queue.put(newer)
        with pytest.raises(RuntimeError):
            redis_queue.drain(crash)  # C

    assert redis_queue.drain(slow) == 1
    assert [w.key for w in redis_queue.pending()] == [newer.key]
    applied: list[Write] = []
    assert redis_queue.drain(applied.extend) == 1
    assert applied == [newer]


class _BatchClaimedMidRead:
    """A Redis client on which another worker claims the queued batch between the two
    reads of pending(): after the in-flight hash is read and before the queued one."""

    def __init__(self, queue: RedisQueue) -> None:
        self.real = queue.client
        self.queue = queue

    def hgetall(self, name: str) -> object:
        found = self.real.hgetall(name)
        if name == self.queue.inflight and self.real.exists(self.queue.writes):
            self.real.rename(self.queue.writes, self.queue.inflight)
        return found

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_a_member_sees_their_queued_write_while_another_worker_claims_it(
    redis_queue: RedisQueue,
) -> None:
    """pending() read the in-flight and the queued hash one after the other: a batch
    claimed in between was in neither, so the member's own queued +1 vanished from
    their view, and un-supporting then looked like a no-op and was never queued."""
    write = _write(1)
    redis_queue.put(write)
    redis_queue.client = _BatchClaimedMidRead(redis_queue)
    assert [w.key for w in redis_queue.pending()] == [write.key]
