"""A signed-in member checks that their anonymous endorsement is counted in a statement.

Before publication the sign-on page checks it against the sign-on's commitments; after,
this finds the member's commitment from their sealed secret (publishing/commitments.py)
and proves it is a leaf under the root signed in the statement's bundle. Nothing is
written: the check leaves no trace of who asked. Takes a Session, no flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crypto.commitments import COMMITMENT_FIELDS
from statements.auth.service import Identity
from statements.publishing import commitments, service
from statements.writes import AnonymousWrites


@dataclass(frozen=True)
class PublishedCheck:
    """The version checked (the latest that counts anonymous endorsements) and the result;
    `inclusion` is None when this account holds no anonymous endorsement's secret."""

    view: service.PublishedView | None
    inclusion: commitments.Inclusion | None


def check_published(
    db: Session, writes: AnonymousWrites, identity: Identity, slug: str
) -> PublishedCheck:
    """Whether this member's anonymous endorsement is counted in the statement."""
    published = service.statement(db, slug)
    # A retraction counts nobody: the version checked is the last one that counted.
    counted = [
        view for view in service.versions(db, slug) if view.statement.keys() >= COMMITMENT_FIELDS
    ]
    view = counted[-1] if counted else None
    if published.room_id is None:
        return PublishedCheck(view, None)
    mine = commitments.own_commitment(db, writes, identity.keys.author_secret, published.room_id)
    if mine is None or view is None:
        return PublishedCheck(view, None)
    return PublishedCheck(view, commitments.check(view.statement, mine))
