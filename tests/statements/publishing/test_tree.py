"""Log proofs from stored complete subtrees: the same bytes as from every leaf, read in a
bounded number of queries; existing logs are backfilled by the migration."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from crypto import merkle
from statements.db import make_engine, upgrade
from statements.models import LogNode
from statements.publishing import log, tree
from tests.statements.publishing.test_history_size import queries
from tests.support import counting, published_statement


def _leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {n}".encode()) for n in range(count)]


def _stored(hashes: list[bytes]) -> dict[tree.Node, bytes]:
    """The nodes appends would store, built one append at a time."""
    nodes: dict[tree.Node, bytes] = {}
    for position, leaf in enumerate(hashes):
        left = {key: nodes[key] for key in tree.siblings_for(position)}
        for node in tree.completed_by(position, leaf, left):
            nodes[(node.level, node.position)] = node.hash
    return nodes


class _Fake:
    """Just enough of a Session for tree's reads: one dictionary of nodes."""

    def __init__(self, nodes: dict[tree.Node, bytes]) -> None:
        self.nodes = nodes


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_proofs_from_stored_nodes_equal_proofs_from_every_leaf(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 300), label="size")
    hashes = _leaves(size)
    nodes = _stored(hashes)
    assert tree.root_of(nodes, 0, size) == merkle.root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    tree_size = data.draw(st.integers(index + 1, size), label="tree_size")
    first = data.draw(st.integers(1, tree_size), label="first")
    fake = _Fake(nodes)
    wanted: list[set[tree.Node]] = []

    def read(db: _Fake, keys: object) -> dict[tree.Node, bytes]:
        wanted.append(set(keys))  # type: ignore[call-overload]
        return {key: db.nodes[key] for key in set(keys)}  # type: ignore[call-overload]

    original = tree.read_nodes
    tree.read_nodes = read  # type: ignore[assignment]
    try:
        inclusion = tree.inclusion_proof(fake, index, tree_size)  # type: ignore[arg-type]
        consistency = tree.consistency_proof(fake, first, tree_size)  # type: ignore[arg-type]
    finally:
        tree.read_nodes = original  # type: ignore[assignment]
    assert inclusion == merkle.inclusion_proof(hashes[:tree_size], index)
    assert consistency == merkle.consistency_proof(hashes[:tree_size], first, tree_size)
    # Each proof reads a number of nodes that grows with the log's height, not its size.
    height = size.bit_length()
    assert all(len(keys) <= 2 * height + 2 for keys in wanted)


def test_proofs_read_two_statements_whatever_the_log_size(app: Flask, session: Session) -> None:
    """The endpoints' queries: the log's size, then the nodes, never the leaves."""
    coordinator, _ = published_statement(app, session, slug="first-one")
    for n in range(4):
        published_statement(app, session, slug=f"statement-{n}", members=1, coordinator=coordinator)
    session.commit()
    size = log.size(session)
    assert size == 5
    hashes = log.leaf_hashes(session)
    for index in range(size):
        for tree_size in range(index + 1, size + 1):
            assert log.inclusion(session, index, tree_size) == merkle.inclusion_proof(
                hashes[:tree_size], index
            )
    for first in range(1, size + 1):
        for second in range(first, size + 1):
            assert log.consistency(session, first, second) == merkle.consistency_proof(
                hashes[:second], first, second
            )
    reader = app.test_client()
    reader.get("/")  # the first request of an app also checks the schema once
    for path in ("/log/proof/inclusion?index=1&size=5", "/log/proof/consistency?first=2&second=5"):
        with counting(app) as statements:
            answer = reader.get(path)
        assert answer.status_code == 200
        read = queries(statements)
        assert len(read) == 2, read
        assert "count" in read[0].lower()
        assert "log_nodes" in read[1]


def test_stored_nodes_are_append_only(app: Flask, session: Session) -> None:
    published_statement(app, session)
    session.commit()
    assert session.scalar(select(LogNode.hash).where(LogNode.level == 0)) is not None
    for statement in ("UPDATE log_nodes SET hash = hash", "DELETE FROM log_nodes"):
        with pytest.raises((IntegrityError, DBAPIError)):
            session.execute(text(statement))
        session.rollback()


def test_the_migration_backfills_an_existing_log(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0010_staff_recovery_and_audit")
    hashes = _leaves(11)
    with engine.begin() as connection:
        for position, value in enumerate(hashes):
            connection.execute(
                text(
                    "INSERT INTO log_entries (position, kind, leaf, leaf_hash)"
                    " VALUES (:p, 'statement', :leaf, :hash)"
                ),
                {"p": position, "leaf": f"leaf {position}".encode(), "hash": value},
            )
    upgrade(engine)
    with Session(engine) as db:
        stored = {(row.level, row.position): row.hash for row in db.scalars(select(LogNode)).all()}
        assert stored == _stored(hashes)
        assert tree.root(db, 11) == merkle.root_from_leaf_hashes(hashes)
        assert tree.inclusion_proof(db, 3, 9) == merkle.inclusion_proof(hashes[:9], 3)
        assert tree.consistency_proof(db, 5, 11) == merkle.consistency_proof(hashes, 5, 11)
        assert tree.root(db, 0) == hashlib.sha256(b"").digest()
    engine.dispose()
