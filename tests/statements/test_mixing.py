"""Members' anonymous writes go through the mixer: queued, then committed in batches.

What must hold: a member's request writes nothing of its own to the database (not its
session row, not what it submitted); the member sees their own queued writes at once;
a batch commits them whole, in a transaction of its own; a worker killed mid-batch
loses nothing; a queued write that was superseded is not applied.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.mixer import MIN_BATCH, Mixer, rewrite_anonymous_tables
from statements.mixing import request_writes
from statements.models import CommitmentSecret, Contribution, Endorsement, LoginSession, Support
from statements.settings import Settings
from statements.write_apply import apply_batch, apply_write
from statements.write_queues import RedisQueue, SpoolQueue
from statements.writes import (
    CONTRIBUTION_DELETE,
    CONTRIBUTION_EDIT,
    CONTRIBUTION_PUT,
    SUPPORT_PUT,
    Write,
    contribution_key,
    support_key,
)
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.support import (
    app_today,
    csrf_token,
    fresh_schema,
    join_room,
    login_member,
    make_member,
    make_room,
    make_staff,
    open_signon,
)
from tests.support import staff_identity as make_staff_identity

ROOT = Path(__file__).resolve().parents[2]


def make_staff_identity_in(db: Session, app: Flask) -> auth.Identity:
    """An enrolled coordinator made in a session of the test's own."""
    staff = make_staff(app, db)
    config: auth.AuthConfig = app.extensions["auth"]
    clock = app.extensions["clock"]
    account, keys = auth.login_staff(
        db, config, staff.username, staff.passphrase, staff.code(clock()), clock()
    )
    clock.advance(seconds=30)
    return auth.Identity(account, keys, b"", b"")


def _member(app: Flask, session: Session, coordinator: auth.Identity, room_id: str) -> str:
    account, codename = make_member(app, session)
    _, keys = auth.login_member(session, app.extensions["auth"], codename)
    join_room(session, coordinator, room_id, auth.Identity(account, keys, b"", b""))
    session.commit()
    return codename


def _signed_in(app: Flask, codename: str) -> FlaskClient:
    client = app.test_client()
    assert login_member(client, codename).status_code == 302
    return client


def _contribute(client: FlaskClient, room_id: str, words: str) -> None:
    response = client.post(
        f"/rooms/{room_id}/contribute",
        data={
            "csrf_token": csrf_token(client, f"/rooms/{room_id}/contribute"),
            "kind": "comment",
            "text": words,
            "submit": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_contribution_waits_in_the_queue_and_its_author_sees_it_at_once(
    batching: Flask, session: Session
) -> None:
    coordinator = make_staff_identity(batching, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author = _signed_in(batching, _member(batching, session, coordinator, room_id))
    other = _signed_in(batching, _member(batching, session, coordinator, room_id))
    sessions_before = session.execute(
        select(LoginSession.id_hash, LoginSession.sealed, LoginSession.expires_at)
    ).all()

    _contribute(author, room_id, "Name the bilateral agreements explicitly")

    # Nothing of it is in the database yet, and the request wrote nothing else either.
    assert _count(session, Contribution) == 0
    assert (
        session.execute(
            select(LoginSession.id_hash, LoginSession.sealed, LoginSession.expires_at)
        ).all()
        == sessions_before
    )
    mine = author.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "Name the bilateral agreements explicitly" in mine
    assert "Name the bilateral" not in other.get(f"/rooms/{room_id}/contributions").get_data(
        as_text=True
    )

    assert batching.extensions["mixer"].flush() == 1
    assert _count(session, Contribution) == 1
    assert "Name the bilateral agreements explicitly" in other.get(
        f"/rooms/{room_id}/contributions"
    ).get_data(as_text=True)
    # Applied once: a second flush finds nothing.
    assert batching.extensions["mixer"].flush() == 0


def test_a_queued_edit_and_withdrawal_replace_what_was_queued(
    batching: Flask, session: Session
) -> None:
    coordinator = make_staff_identity(batching, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author = _signed_in(batching, _member(batching, session, coordinator, room_id))
    _contribute(author, room_id, "First wording of the comment")
    _contribute(author, room_id, "A comment to be withdrawn")
    page = author.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    ids = re.findall(r"/contributions/([0-9a-f]{32})/edit", page)
    assert len(set(ids)) == 2
    pages = {
        cid: author.get(f"/rooms/{room_id}/contributions/{cid}/edit").get_data(as_text=True)
        for cid in set(ids)
    }
    edited = next(cid for cid, text in pages.items() if "First wording" in text)
    withdrawn = next(cid for cid in pages if cid != edited)
    response = author.post(
        f"/rooms/{room_id}/contributions/{edited}/edit",
        data={
            "csrf_token": csrf_token(author, f"/rooms/{room_id}/contributions/{edited}/edit"),
            "text": "Second wording of the comment",
            "submit": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = author.post(
        f"/rooms/{room_id}/contributions/{withdrawn}/withdraw",
        data={"csrf_token": csrf_token(author, f"/rooms/{room_id}/mine")},
    )
    assert response.status_code == 302
    mine = author.get(f"/rooms/{room_id}/mine").get_data(as_text=True)
    assert "Second wording" in mine
    assert "First wording" not in mine
    assert "to be withdrawn" not in mine

    batching.extensions["mixer"].flush()
    assert _count(session, Contribution) == 1
    row = session.scalars(select(Contribution)).one()
    assert row.id == edited


def test_an_endorsement_is_queued_and_publishing_takes_it_in(
    batching: Flask, session: Session
) -> None:
    coordinator = make_staff_identity(batching, session)
    room_id = make_room(session, coordinator)
    codename = _member(batching, session, coordinator, room_id)
    open_signon(session, coordinator, room_id)
    session.commit()
    member = _signed_in(batching, codename)
    response = member.post(
        f"/rooms/{room_id}/sign-on",
        data={
            "csrf_token": csrf_token(member, f"/rooms/{room_id}/sign-on"),
            "kind": "anonymous",
            "name": "",
            "country": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _count(session, Endorsement) == 0
    page = member.get(f"/rooms/{room_id}/sign-on").get_data(as_text=True)
    assert "Your organisation signs <strong>anonymously</strong>" in page
    # Queued, and already checked against the commitments counted (its own among them).
    assert "Checked: your endorsement is counted" in page
    assert _count(session, CommitmentSecret) == 0
    # The mixer's own batches take it in: the endorsement and its sealed secret.
    assert batching.extensions["mixer"].flush() == 2
    assert _count(session, Endorsement) == 1
    assert _count(session, CommitmentSecret) == 1
    page = member.get(f"/rooms/{room_id}/sign-on").get_data(as_text=True)
    assert "Checked: your endorsement is counted" in page


def test_a_failed_request_queues_nothing(batching: Flask, session: Session) -> None:
    coordinator = make_staff_identity(batching, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author = _signed_in(batching, _member(batching, session, coordinator, room_id))
    # Refused (no text): nothing may reach the queue.
    response = author.post(
        f"/rooms/{room_id}/contribute",
        data={
            "csrf_token": csrf_token(author, f"/rooms/{room_id}/contribute"),
            "kind": "comment",
            "text": "",
            "submit": "1",
        },
    )
    assert response.status_code == 400
    assert batching.extensions["mixer"].flush() == 0


@pytest.mark.parametrize(("status", "queued"), [(200, 1), (302, 1), (400, 0), (500, 0)])
def test_a_write_reaches_the_queue_only_if_its_request_commits(
    batching: Flask, status: int, queued: int
) -> None:
    mixer: Mixer = batching.extensions["mixer"]
    with batching.test_request_context("/"):
        batching.preprocess_request()
        request_writes().put(_write(1))
        # The request's own view of the queue includes it already.
        assert [w.key for w in request_writes().pending("r")] == [_write(1).key]
        batching.process_response(Response(status=status))
    assert len(mixer.pending("r")) == queued


def _write(n: int) -> Write:
    return Write(
        key=support_key(f"{n:032x}", bytes([n]) * 32),
        room_id="r",
        action=SUPPORT_PUT,
        row={"contribution_id": f"{n:032x}", "tag": bytes([n]) * 32, "on": date(2026, 1, n + 1)},
    )


def test_writes_survive_the_queue_unchanged() -> None:
    write = _write(3)
    assert Write.from_bytes(write.key, write.to_bytes()) == write


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SpoolQueue | RedisQueue]:
    """The queue the app would use: Redis when configured, else the spool file."""
    if TEST_REDIS_URL:
        import redis

        client = redis.Redis.from_url(TEST_REDIS_URL)
        prefix = f"test-{os.urandom(6).hex()}"
        yield RedisQueue(client, prefix)
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)
        return
    yield SpoolQueue(tmp_path / "queue.sqlite3")


def test_a_later_write_with_the_same_key_replaces_the_queued_one(
    queue: SpoolQueue | RedisQueue,
) -> None:
    first, second = _write(1), _write(2)
    queue.put(first)
    queue.put(second)
    queue.put(replace(first, row={**first.row, "tag": b"\x09" * 32}))
    pending = {w.key: w for w in queue.pending()}
    assert set(pending) == {first.key, second.key}
    assert pending[first.key].row["tag"] == b"\x09" * 32


def test_a_batch_that_fails_stays_queued(queue: SpoolQueue | RedisQueue) -> None:
    for n in range(3):
        queue.put(_write(n))

    def broken(_writes: list[Write]) -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        queue.drain(broken)
    if isinstance(queue, RedisQueue):
        # The lease is released; the claimed batch waits in flight for the next drain.
        queue.client.delete(queue.lease)
    seen: list[Write] = []
    assert queue.drain(seen.extend) == 3
    assert sorted(w.key for w in seen) == sorted(_write(n).key for n in range(3))
    assert queue.drain(seen.extend) == 0


def test_draining_one_room_leaves_every_other_rooms_writes_queued(
    queue: SpoolQueue | RedisQueue,
) -> None:
    """Publishing flushes its own room. It used to commit the whole queue, so another
    room's lone queued write went in at a moment anyone could tie to the publication,
    in a batch too small to hide whose it was."""
    ours = [_write(1), _write(2)]
    theirs = replace(_write(3), room_id="s")
    for write in [*ours, theirs]:
        queue.put(write)

    seen: list[Write] = []
    assert queue.drain(seen.extend, "r") == 2
    assert sorted(w.key for w in seen) == sorted(w.key for w in ours)
    assert queue.pending() == [theirs]
    assert queue.drain(seen.extend, "r") == 0
    assert queue.drain(seen.extend) == 1
    assert seen[-1] == theirs


def test_a_batch_is_applied_in_random_order(app: Flask, session: Session) -> None:
    coordinator = make_staff_identity(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    flushed: list[str] = []

    def record(db: Session, _context: object, _instances: object) -> None:
        flushed.extend(obj.id for obj in db.new if isinstance(obj, Contribution))

    orders = set()
    for attempt in range(8):
        batch = [_contribution_write(room_id, f"{attempt:02x}{n:030x}") for n in range(6)]
        flushed.clear()
        event.listen(session, "before_flush", record)
        try:
            apply_batch(session, batch, app.extensions["mixer"].rng)
        finally:
            event.remove(session, "before_flush", record)
        assert sorted(flushed) == sorted(w.row["id"] for w in batch)
        orders.add(tuple(cid[2:] for cid in flushed))
    session.rollback()
    # Six writes in one fixed order eight times would be one order: shuffled, nearly 8.
    assert len(orders) >= 4


# --- a worker killed in the middle of a batch -----------------------------------------


def _contribution_write(room_id: str, cid: str) -> Write:
    return Write(
        key=contribution_key(cid),
        room_id=room_id,
        action=CONTRIBUTION_PUT,
        row={
            "id": cid,
            "room_id": room_id,
            "anchor": None,
            "kind": "comment",
            "author_tag": b"\x01" * 32,
            "key_version": 1,
            "content": b"sealed",
            "created_on": app_today(),
        },
    )


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from sqlalchemy.orm import Session, sessionmaker
    from statements.db import make_engine
    from statements.mixer import Mixer
    from statements.write_queues import SpoolQueue

    url, spool, ready, stage = sys.argv[1:5]
    engine = make_engine(url)
    factory = sessionmaker(bind=engine)
    mixer = Mixer(SpoolQueue(Path(spool)), sessions=lambda: factory, interval=0)

    def stop_here():
        Path(ready).write_text("stopped")
        time.sleep(600)

    if stage == "before-commit":
        event.listen(Session, "before_commit", lambda session: stop_here())
    else:
        mixer.after_commit = stop_here
    mixer.flush()
    """
)


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="a real process on a SQLite file")
@pytest.mark.parametrize("stage", ["before-commit", "after-commit"])
def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    app: Flask, session: Session, settings: Settings, tmp_path: Path, stage: str
) -> None:
    coordinator = make_staff_identity(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    spool = tmp_path / "spool.sqlite3"
    queue = SpoolQueue(spool)
    ids = [f"{n:032x}" for n in range(1, 6)]
    for cid in ids:
        queue.put(_contribution_write(room_id, cid))
    ready = tmp_path / "ready"
    child = subprocess.Popen(  # a worker process, killed as the OOM killer would
        [sys.executable, "-c", _CHILD, settings.database_url, str(spool), str(ready), stage],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        for _ in range(600):
            if ready.exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert ready.exists(), "the worker never reached the point to be killed at"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    committed = _count(session, Contribution)
    assert committed == (0 if stage == "before-commit" else 5)
    # The next batch applies what the dead worker left, exactly once.
    mixer = Mixer(queue, sessions=lambda: app.extensions["db"].sessionmaker, interval=0)
    assert mixer.flush() == 5
    assert _count(session, Contribution) == 5
    assert mixer.flush() == 0
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()


def test_supports_coalesce_and_reach_the_database_once(batching: Flask, session: Session) -> None:
    coordinator = make_staff_identity(batching, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author = _signed_in(batching, _member(batching, session, coordinator, room_id))
    supporter = _signed_in(batching, _member(batching, session, coordinator, room_id))
    _contribute(author, room_id, "A proposal worth supporting")
    batching.extensions["mixer"].flush()
    cid = session.scalars(select(Contribution.id)).one()
    for supported in ("1", "0", "1"):
        response = supporter.post(
            f"/rooms/{room_id}/contributions/{cid}/support",
            data={
                "csrf_token": csrf_token(supporter, f"/rooms/{room_id}/contributions"),
                "supported": supported,
            },
        )
        assert response.status_code == 302
    assert _count(session, Support) == 0
    # The member sees their own +1 while it waits.
    page = supporter.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    assert re.search(r'name="supported" value="0"', page)
    assert batching.extensions["mixer"].flush() == 1
    assert _count(session, Support) == 1


# --- erasing batch boundaries at rest ------------------------------------------------------


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="transaction ids are PostgreSQL's")
def test_rewriting_leaves_one_transaction_id_and_key_order(app: Flask) -> None:
    assert TEST_DATABASE_URL
    with fresh_schema(TEST_DATABASE_URL) as engine:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory() as db:
            coordinator = make_staff_identity_in(db, app)
            room_id = make_room(db, coordinator)
            db.commit()
            access = drafting.open_room(db, room_id, coordinator)
            for n in range(6):
                # One transaction each, as six batches would be.
                drafting.submit_contribution(db, access, "comment", None, f"Point {n}", app_today())
                db.commit()

        def xmins() -> list[tuple[str, str]]:
            with engine.connect() as connection:
                return [
                    (str(xmin), str(cid))
                    for xmin, cid in connection.execute(
                        text("SELECT xmin, id FROM contributions ORDER BY ctid")
                    )
                ]

        assert len({xmin for xmin, _ in xmins()}) == 6
        rewrite_anonymous_tables(engine)
        after = xmins()
        assert len({xmin for xmin, _ in after}) == 1
        assert [cid for _, cid in after] == sorted(cid for _, cid in after)


def test_rewriting_keeps_every_row_on_sqlite(app: Flask, session: Session) -> None:
    coordinator = make_staff_identity(app, session)
    room_id = make_room(session, coordinator)
    access = drafting.open_room(session, room_id, coordinator)
    for n in range(3):
        drafting.submit_contribution(session, access, "comment", None, f"Point {n}", app_today())
    session.commit()
    if TEST_DATABASE_URL:
        pytest.skip("on PostgreSQL the test above rewrites a schema of its own")
    result = app.test_cli_runner().invoke(args=["rewrite-anonymous"])
    assert result.exit_code == 0, result.output
    assert _count(session, Contribution) == 3


def test_the_batch_thread_commits_what_is_queued_by_itself(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    coordinator = make_staff_identity(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    if TEST_DATABASE_URL:
        pytest.skip("the thread commits on its own connection, outside the test's transaction")
    mixer = Mixer(
        SpoolQueue(tmp_path / "spool.sqlite3"),
        sessions=lambda: app.extensions["db"].sessionmaker,
        interval=0.02,
    )
    for n in range(MIN_BATCH):
        mixer.put(_contribution_write(room_id, f"{n:032x}"))
    mixer.ensure_running()
    for _ in range(500):
        if not mixer.queue.pending():
            break
        time.sleep(0.02)
    assert mixer.queue.pending() == []
    assert _count(session, Contribution) == MIN_BATCH


def test_an_edit_never_brings_back_a_contribution_withdrawn_before_it(
    app: Flask, session: Session
) -> None:
    coordinator = make_staff_identity(app, session)
    room_id = make_room(session, coordinator)
    write = _contribution_write(room_id, "ab" * 16)
    apply_write(session, write)
    edit = replace(write, action=CONTRIBUTION_EDIT, row={**write.row, "content": b"new"})
    apply_write(session, edit)
    assert session.get(Contribution, write.row["id"]).content == b"new"  # type: ignore[union-attr]
    # Withdrawn in one batch; an edit from another tab arrives in the next.
    apply_write(
        session,
        Write(
            write.key,
            room_id,
            CONTRIBUTION_DELETE,
            {"id": write.row["id"], "author_tag": write.row["author_tag"]},
        ),
    )
    apply_write(session, edit)
    assert _count(session, Contribution) == 0


@pytest.mark.skipif(not TEST_REDIS_URL, reason="Redis's own encoding")
def test_redis_keeps_queued_writes_in_no_order_of_arrival(queue: SpoolQueue | RedisQueue) -> None:
    """A small Redis hash is a listpack, which keeps fields in the order they came; even
    the smallest write (a +1) is over the listpack's limits, so Redis hashes them."""
    assert isinstance(queue, RedisQueue)
    queue.put(_write(1))
    assert queue.client.object("encoding", queue.writes) == b"hashtable"
