"""Embargoes through the services: the commitment each enters the log as, its withdrawal
when called off or moved, a key rotation before the release, and what the release needs."""

from __future__ import annotations

import base64
import copy
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from crypto import reveal
from crypto.bundle_checks import log_leaf, verify_bundle
from crypto.bundle_reading import parse_keys
from crypto.merkle import root_from_leaf_hashes
from crypto.signing import open_note, parse_checkpoint
from statements.drafting import service as drafting
from statements.mixer import rewrite_anonymous_tables
from statements.models import Embargo, EmbargoWithdrawal, LogCheckpoint, LogEntry
from statements.publishing import embargo, forwarded, log, scheduled, signing_keys
from statements.publishing import service as publishing
from statements.publishing.errors import InvalidInput
from statements.publishing.public import key_records
from tests.conftest import TEST_DATABASE_URL
from tests.seizure import ensure_pageinspect
from tests.support import (
    app_now,
    app_today,
    fresh_schema,
    published_statement,
    scheduled_statement,
    staff_identity,
)


def _valid(session: Session, slug: str) -> bool:
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    return verify_bundle(publishing.latest(session, slug).bundle, keys).valid


def test_release_times_are_checked_in_their_zone() -> None:
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    at, zone = embargo.release_time(datetime(2027, 3, 2, 9, 0), "Asia/Kabul", now)
    assert zone == "Asia/Kabul"
    assert at == datetime(2027, 3, 2, 4, 30, tzinfo=UTC)  # Kabul is UTC+4:30
    for local, zone_name, field, reason in (
        (datetime(2027, 3, 2, 9, 0), "Asia/Nowhere", "zone", "unknown"),
        (datetime(2027, 3, 2, 9, 0), "", "zone", "unknown"),
        (datetime(2027, 3, 2, 9, 0), "/etc/passwd", "zone", "unknown"),
        (datetime(2027, 3, 1, 8, 0), "UTC", "release_at", "past"),
        (datetime(2027, 3, 28, 2, 30), "Europe/Berlin", "release_at", "skipped"),
        (datetime(2028, 6, 1, 9, 0), "UTC", "release_at", "far"),
    ):
        with pytest.raises(InvalidInput) as refused:
            embargo.release_time(local, zone_name, now)
        assert (refused.value.field, refused.value.reason) == (field, reason)


def _leaves(session: Session) -> list[LogEntry]:
    return list(session.scalars(select(LogEntry).order_by(LogEntry.position)))


def _every_checkpoint_is_of_the_log(session: Session) -> None:
    """No signed checkpoint of a size the log reached with another root: no fork."""
    hashes = [entry.leaf_hash for entry in _leaves(session)]
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    for row in session.scalars(select(LogCheckpoint)):
        body = next(
            opened
            for key in keys
            if (opened := open_note(row.signed_note, key.note_verifier_key)) is not None
        )
        _origin, size, root = parse_checkpoint(body)
        assert size == row.tree_size <= len(hashes)
        assert root == root_from_leaf_hashes(hashes[:size])


def test_scheduling_commits_to_the_statement_and_the_log_says_nothing_of_it(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "committing")
    now = app_now()
    scheduled_statement(app, session, coordinator, "committed-statement", now + timedelta(hours=1))
    row = session.scalars(select(Embargo)).one()
    (entry,) = _leaves(session)
    assert (entry.position, entry.kind) == (row.commitment_position, "commitment")
    value = reveal.committed(entry.leaf)
    assert value is not None
    # Nothing of the statement: not its address, title, words or date.
    statement = json.loads(row.statement)
    for part in ("committed-statement", statement["body_markdown"][:20], statement["title"]):
        assert part.encode() not in entry.leaf
    assert statement["published_on"].encode() not in entry.leaf
    # The bundle opens it: its salt and the statement give the commitment.
    bundle = json.loads(row.bundle or b"{}")
    salt = base64.b64decode(bundle["log"]["commitment_salt"])
    assert reveal.commitment(salt, row.statement) == value
    assert reveal.commitment(bytes(32), row.statement) != value
    _every_checkpoint_is_of_the_log(session)


def test_the_release_adds_nothing_to_the_log_and_the_bundle_verifies(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "releasing")
    now = app_now()
    scheduled_statement(app, session, coordinator, "released-later", now + timedelta(hours=1))
    # Published at once after it was scheduled: later in the log, earlier on the site.
    published_statement(app, session, slug="at-once", coordinator=coordinator)
    assert log.size(session) == 2
    assert embargo.release_due(session, now + timedelta(hours=2)).released == ["released-later"]
    assert log.size(session) == 2
    assert _valid(session, "released-later")
    assert _valid(session, "at-once")
    version = publishing.latest(session, "released-later")
    assert version.row.log_position == 0
    # The log's entry is the commitment, and the site's own check says so.
    assert log_leaf(version.bundle) == log.entry(session, 0)
    _every_checkpoint_is_of_the_log(session)


def test_a_changed_or_missing_salt_fails_the_log_check(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session, "tampering")
    now = app_now()
    scheduled_statement(app, session, coordinator, "tamper-target", now + timedelta(hours=1))
    embargo.release_due(session, now + timedelta(hours=2))
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    bundle = copy.deepcopy(publishing.latest(session, "tamper-target").bundle)
    assert verify_bundle(bundle, keys).valid
    salted = copy.deepcopy(bundle)
    salted["log"]["commitment_salt"] = base64.b64encode(bytes(32)).decode()
    checks = {check.name: check for check in verify_bundle(salted, keys).checks}
    assert not checks["log_inclusion"].ok
    unsalted = copy.deepcopy(bundle)
    del unsalted["log"]["commitment_salt"]
    checks = {check.name: check for check in verify_bundle(unsalted, keys).checks}
    assert not checks["log_inclusion"].ok


def test_a_key_rotation_before_the_release_signs_it_again_with_the_new_key(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "rotating")
    now = app_now()
    scheduled_statement(app, session, coordinator, "after-rotation", now + timedelta(hours=1))
    before = json.loads(session.scalars(select(Embargo)).one().bundle or b"{}")
    new_record = signing_keys.rotate_signing_key(session, coordinator, app_today(), approved=True)
    row = session.scalars(select(Embargo)).one()
    after = json.loads(row.bundle or b"{}")
    assert row.commitment_position == 0  # its commitment stays where it was
    assert after["signature"]["key_id"] == new_record.key_id != before["signature"]["key_id"]
    assert after["log"]["tree_size"] == 2  # proven up to the checkpoint the new key signed
    assert after["log"]["commitment_salt"] == before["log"]["commitment_salt"]
    assert embargo.release_due(session, now + timedelta(hours=2)).released == ["after-rotation"]
    assert _valid(session, "after-rotation")
    assert log.size(session) == 2
    _every_checkpoint_is_of_the_log(session)


def test_moving_or_cancelling_withdraws_the_commitment_in_the_log(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "withdrawing")
    now = app_now()
    first = scheduled_statement(
        app, session, coordinator, "moved-embargo", now + timedelta(hours=1)
    )
    second = scheduled_statement(
        app, session, coordinator, "cancelled-embargo", now + timedelta(hours=2)
    )
    access = drafting.open_room(session, first, coordinator)
    embargo.change(session, access, now + timedelta(hours=3), "UTC", app_today())
    embargo.cancel(session, drafting.open_room(session, second, coordinator), app_today())
    kinds = [(entry.kind, entry.leaf) for entry in _leaves(session)]
    assert [kind for kind, _leaf in kinds] == [
        "commitment",  # moved-embargo, first time
        "commitment",  # cancelled-embargo
        "withdrawal",  # moved-embargo's first commitment
        "commitment",  # moved-embargo, new time
        "withdrawal",  # cancelled-embargo's
    ]
    committed = [reveal.committed(leaf) for _kind, leaf in kinds]
    assert kinds[2][1] == reveal.withdrawal_leaf(committed[0] or "")
    assert kinds[4][1] == reveal.withdrawal_leaf(committed[1] or "")
    row = session.scalars(select(Embargo)).one()
    assert row.commitment_position == 3
    assert embargo.release_due(session, now + timedelta(hours=4)).released == ["moved-embargo"]
    assert _valid(session, "moved-embargo")
    _every_checkpoint_is_of_the_log(session)


def test_a_withdrawal_without_the_key_waits_for_the_next_entry(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "keyless-cancel")
    now = app_now()
    first = scheduled_statement(
        app, session, coordinator, "keyless-first", now + timedelta(hours=1)
    )
    row = embargo.of_room(session, first)
    assert row is not None
    assert row.commitment_position == 0
    assert log.commitment_state(session, 0, log.entry(session, 0)) == log.WAITING
    # As cancel() does for a coordinator not holding the key.
    session.delete(row)
    scheduled.withdraw(session, 0, None, "")
    scheduled.withdraw(session, 0, None, "")  # twice is once
    assert log.size(session) == 1
    # Withdrawn already for the site's own check, before the log says so.
    assert log.commitment_state(session, 0, log.entry(session, 0)) == log.WITHDRAWN
    scheduled_statement(app, session, coordinator, "keyless-second", now + timedelta(hours=2))
    assert [entry.kind for entry in _leaves(session)] == ["commitment", "withdrawal", "commitment"]
    assert session.scalars(select(EmbargoWithdrawal)).all() == []
    assert embargo.release_due(session, now + timedelta(hours=3)).released == ["keyless-second"]
    assert _valid(session, "keyless-second")
    assert log.commitment_state(session, 0, log.entry(session, 0)) == log.WITHDRAWN
    assert log.commitment_state(session, 2, log.entry(session, 2)) == log.RELEASED
    assert log.commitment_state(session, 1, log.entry(session, 1)) is None  # a withdrawal


def test_an_embargo_scheduled_before_commitments_waits_until_set_again(
    app: Flask, session: Session
) -> None:
    coordinator = staff_identity(app, session, "older-embargo")
    now = app_now()
    room_id = scheduled_statement(
        app, session, coordinator, "older-embargo", now + timedelta(hours=1)
    )
    row = session.scalars(select(Embargo)).one()
    # As the migration leaves one scheduled by the version before.
    row.bundle, row.commitment_position = None, None
    session.flush()
    later = now + timedelta(hours=3)
    assert embargo.release_due(session, later) == embargo.Released([], ["older-embargo"])
    access = drafting.open_room(session, room_id, coordinator)
    embargo.change(session, access, now + timedelta(hours=2), "UTC", app_today())
    assert embargo.release_due(session, later).released == ["older-embargo"]
    assert _valid(session, "older-embargo")


def _wait_for_no_snapshot(engine: Engine) -> None:
    """Until no other transaction on the server holds a snapshot or a transaction id.

    CLUSTER rightly keeps a row version some transaction might still see, and a snapshot
    taken here lists every transaction still running on the server, whatever its
    database: one left open anywhere (another test run, autovacuum's ANALYZE) keeps the
    deleted row in the new file too. The nightly run has none; this test waits for that.
    """
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        " AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)"
    )
    for _ in range(1200):
        with engine.connect() as connection:
            if not connection.execute(query).scalar():
                return
        time.sleep(0.05)


@contextmanager
def own_database(url: str) -> Iterator[str]:
    """A new PostgreSQL database on the test server, dropped afterwards."""
    name = f"own_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="dead row versions are PostgreSQL's")
def test_a_cancelled_embargo_leaves_nothing_after_the_nightly_rewrite(app: Flask) -> None:
    """What a copy of PostgreSQL's files holds after a cancellation, and after a request
    that signed a checkpoint and then failed; and after the nightly rewrite."""
    assert TEST_DATABASE_URL
    # A database of its own: CLUSTER keeps the row versions another transaction of the
    # same database might still see (the other tests' open ones), as it should.
    with own_database(TEST_DATABASE_URL) as url, fresh_schema(url) as engine:
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory() as db:
            coordinator = staff_identity(app, db, "rewriting")
            room_id = scheduled_statement(
                app, db, coordinator, "called-off", app_now() + timedelta(hours=1)
            )
            db.commit()
            embargo.cancel(db, drafting.open_room(db, room_id, coordinator), app_today())
            db.commit()
            # A request that fails after the signature: its checkpoint is of a size the
            # log then reaches with another root.
            scheduled_statement(app, db, coordinator, "failed", app_now() + timedelta(hours=1))
            failed = db.scalars(
                select(LogCheckpoint.signed_note).order_by(LogCheckpoint.tree_size.desc())
            ).first()
            db.rollback()
            assert failed is not None
            signature = failed.rsplit(" ", 1)[1].strip().encode()
            published_statement(app, db, slug="next-one", coordinator=coordinator)
            db.commit()

        def held() -> dict[str, bool]:
            with engine.connect() as connection:
                schema = str(connection.execute(text("SELECT current_schema()")).scalar())
                pages = {
                    table: _raw_pages(connection, schema, table)
                    for table in ("embargoes", "log_checkpoints")
                }
                connection.rollback()
            return {
                "embargo": b"called-off" in pages["embargoes"],
                "checkpoint": signature in pages["log_checkpoints"],
            }

        # Still in the tables' files: what this guards against.
        assert held() == {"embargo": True, "checkpoint": True}
        _wait_for_no_snapshot(engine)
        rewrite_anonymous_tables(engine)
        assert held() == {"embargo": False, "checkpoint": False}


def _raw_pages(connection: Connection, schema: str, table: str) -> bytes:
    """Every byte of a table's pages, live rows and dead (and its TOAST table's)."""
    functions = ensure_pageinspect(connection, schema)
    assert functions is not None, "pageinspect is needed to read the table's pages"
    found = b""
    relations = [f"{schema}.{table}"]
    toast = connection.execute(
        text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = CAST(:t AS regclass)"),
        {"t": relations[0]},
    ).scalar()
    if toast and toast != "-":
        relations.append(str(toast))
    for relation in relations:
        blocks = connection.execute(
            text(
                "SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"
            ),
            {"t": relation},
        ).scalar_one()
        for block in range(int(blocks)):
            found += bytes(
                connection.execute(
                    text(f"SELECT {functions}.get_raw_page(:t, CAST(:b AS integer))"),
                    {"t": relation, "b": block},
                ).scalar_one()
            )
    return found


def test_a_released_statement_is_found_by_its_text_after_later_publications(
    app: Flask, session: Session
) -> None:
    """Its log place comes before statements published while it waited: the index of
    forwarded texts still takes it in when it is released."""
    coordinator = staff_identity(app, session, "forwarded-index")
    now = app_now()
    scheduled_statement(app, session, coordinator, "waited-statement", now + timedelta(hours=1))
    published_statement(app, session, slug="meanwhile", coordinator=coordinator)
    index = forwarded.TextIndex()
    index.refresh(session)
    assert [entry.slug for entry in index.entries()] == ["meanwhile"]
    embargo.release_due(session, now + timedelta(hours=2))
    index.refresh(session)
    assert sorted(entry.slug for entry in index.entries()) == ["meanwhile", "waited-statement"]
