"""Sign-on: members endorse the frozen text, publicly or counted anonymously; a
coordinator adds endorsements received elsewhere and reviews what members typed.

Takes a Session, never commits, never imports flask. Endorsements carry author tags, never
an account id; a member's own is written through the anonymous mixer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import commitments as commitment_fields
from crypto.errors import CryptoError
from statements.control.pending import publication_held
from statements.drafting.access import ENDORSEMENT_TAG, RoomAccess, lock_room
from statements.models import (
    Endorsement,
    EndorsementKind,
    RoomState,
    random_id,
)
from statements.publishing import commitments
from statements.publishing.errors import (
    EndorsementNotFound,
    InvalidInput,
    SignOnClosed,
    UnreviewedEndorsements,
)
from statements.text.clean import clean_line
from statements.writes import (
    ENDORSEMENT_DELETE,
    ENDORSEMENT_PUT,
    Write,
    endorsement_key,
    endorsement_withdrawal,
)

MAX_ORGANISATION = 200
MAX_COUNTRY = 80

_ENDORSEMENT_RECORD = "endorsement"
# A public endorsement's standing, sealed with its name: made through an organisation
# invitation, or typed by a member and then confirmed by a coordinator. Without one, a
# member's public endorsement is self-declared, and publication waits for a coordinator.
STANDING_INVITATION = "invitation"
STANDING_REVIEWED = "reviewed"


@dataclass(frozen=True)
class Signatory:
    """An organisation that signs publicly; `received` when a coordinator added it."""

    name: str
    country: str
    received: bool = False
    endorsement_id: str = ""
    # Made through an organisation invitation: the name as the coordinator entered it.
    confirmed: bool = False
    # Typed freely by a member and not yet confirmed by a coordinator.
    self_declared: bool = False


@dataclass(frozen=True)
class SignOn:
    """The sign-on as one member sees it."""

    public: list[Signatory]
    anonymous: int
    mine: Signatory | None
    mine_anonymous: bool
    open: bool
    # Every anonymous endorsement's commitment, sorted; the member's own, if anonymous.
    commitments: tuple[bytes, ...] = ()
    mine_commitment: bytes | None = None

    def commitment_fields(self) -> dict[str, Any]:
        """The signed commitments group of a statement published from this sign-on; none
        when nobody endorsed anonymously, so such a statement keeps bundle format 1."""
        return commitment_fields.make_fields(self.commitments) if self.commitments else {}


def signon_open(access: RoomAccess, today: date) -> bool:
    """Members may endorse and withdraw while the room is in sign-on, until its deadline."""
    return access.room.state == RoomState.SIGN_ON and today <= access.room.signon_deadline


def _require_open(db: Session, access: RoomAccess, today: date) -> None:
    # The room row is locked first, so an endorsement cannot slip in while the room is
    # being published (on PostgreSQL; SQLite runs one writer at a time).
    access.room = lock_room(db, access.room.id)
    if not signon_open(access, today) or _held(db, access):
        raise SignOnClosed


def require_signon(db: Session, access: RoomAccess) -> None:
    access.require_coordinator()
    access.room = lock_room(db, access.room.id)
    if access.room.state != RoomState.SIGN_ON or _held(db, access):
        raise SignOnClosed


def _held(db: Session, access: RoomAccess) -> bool:
    # A publication waiting for a second person holds the sign-on as it was proposed:
    # what the approver is shown is what is signed (statements/control/).
    return publication_held(db, access.room.id, datetime.now(UTC))


def signatory_payload(name: str, country: str) -> dict[str, str]:
    return {
        "name": clean_line(name, "name", MAX_ORGANISATION),
        "country": clean_line(country, "country", MAX_COUNTRY, required=False),
    }


def seal_signatory(access: RoomAccess, row: Endorsement, payload: dict[str, str]) -> None:
    row.key_version = access.room.key_version
    row.content = access.keyring.seal(_ENDORSEMENT_RECORD, row.id, row.key_version, payload)


def _own_endorsement(db: Session, access: RoomAccess) -> Endorsement | None:
    """This member's endorsement in the room, as queued if it is, else as stored."""
    tag = access.tag(ENDORSEMENT_TAG, access.room.id)
    key = endorsement_key(access.room.id, tag)
    for write in access.anonymous(db).pending(access.room.id):
        if write.key == key:
            if write.action == ENDORSEMENT_DELETE:
                return None
            return Endorsement(room_id=access.room.id, **write.row)
    return db.scalar(
        select(Endorsement).where(Endorsement.room_id == access.room.id, Endorsement.tag == tag)
    )


def endorse(
    db: Session,
    access: RoomAccess,
    kind: str,
    name: str,
    country: str,
    today: date,
    *,
    invited: dict[str, str] | None = None,
) -> None:
    """Sign on for an organisation, publicly or anonymously; again replaces the first.

    Like a contribution, it goes through the member's anonymous channel (queued and
    committed in a batch, in a request): see statements/writes.py. `invited`: the
    organisation an invitation names (statements/publishing/organisations.py), signed
    publicly as the coordinator entered it; otherwise a public name is self-declared
    until a coordinator confirms it.
    """
    _require_open(db, access, today)
    if kind not in (EndorsementKind.PUBLIC, EndorsementKind.ANONYMOUS):
        raise InvalidInput("kind", "unknown")
    payload: dict[str, str] | None
    secret = None
    if invited is not None:
        kind = EndorsementKind.PUBLIC
        payload = {**invited, "standing": STANDING_INVITATION}
    else:
        payload = signatory_payload(name, country) if kind == EndorsementKind.PUBLIC else None
    tag = access.tag(ENDORSEMENT_TAG, access.room.id)
    existing = _own_endorsement(db, access)
    # The same id while it lasts: the sealed name is bound to it.
    row = Endorsement(
        id=existing.id if existing is not None else random_id(), room_id=access.room.id, tag=tag
    )
    row.kind = kind
    author_secret = access.identity.keys.author_secret
    row.commitment = None
    if kind == EndorsementKind.ANONYMOUS:
        kept = commitments.own_commitment(db, access.anonymous(db), author_secret, access.room.id)
        if existing is not None and existing.commitment is not None and kept == existing.commitment:
            row.commitment = kept
        else:
            # A fresh random secret: the commitment links to nothing the member did before.
            secret = commitment_fields.new_secret()
            row.commitment = commitment_fields.commitment(secret)
    if payload is None:
        row.key_version = None
        row.content = None
    else:
        seal_signatory(access, row, payload)
    access.anonymous(db).put(
        Write(
            key=endorsement_key(access.room.id, tag),
            room_id=access.room.id,
            action=ENDORSEMENT_PUT,
            row={
                "id": row.id,
                "tag": tag,
                "kind": row.kind,
                "key_version": row.key_version,
                "content": row.content,
                "commitment": row.commitment,
            },
        )
    )
    if secret is not None:
        access.anonymous(db).put(commitments.secret_write(author_secret, access.room.id, secret))
    elif row.commitment is None:
        access.anonymous(db).put(commitments.secret_deletion(author_secret, access.room.id))


def withdraw_endorsement(db: Session, access: RoomAccess, today: date) -> None:
    """Take this member's endorsement back, until the deadline."""
    _require_open(db, access, today)
    if _own_endorsement(db, access) is None:
        raise EndorsementNotFound
    tag = access.tag(ENDORSEMENT_TAG, access.room.id)
    access.anonymous(db).put(endorsement_withdrawal(access.room.id, tag))
    access.anonymous(db).put(
        commitments.secret_deletion(access.identity.keys.author_secret, access.room.id)
    )


def add_received(db: Session, access: RoomAccess, name: str, country: str) -> None:
    """A coordinator adds a public endorsement received by letter, email or in person."""
    # After the members' deadline too: letters arrive late, and the coordinators answer
    # for what they add. Only until publication.
    require_signon(db, access)
    row = Endorsement(id=random_id(), room_id=access.room.id, tag=None)
    row.kind = EndorsementKind.RECEIVED
    seal_signatory(access, row, signatory_payload(name, country))
    db.add(row)
    db.flush()


def remove_public_endorsement(db: Session, access: RoomAccess, endorsement_id: str) -> None:
    """A coordinator takes a public endorsement off the list (not who made it: they never know)."""
    require_signon(db, access)
    row = db.get(Endorsement, endorsement_id) if len(endorsement_id) <= 32 else None
    if row is None or row.room_id != access.room.id or row.kind == EndorsementKind.ANONYMOUS:
        raise EndorsementNotFound
    db.delete(row)
    db.flush()


def read_signatory(access: RoomAccess, row: Endorsement) -> Signatory:
    if row.content is None or row.key_version is None:
        raise CryptoError("a public endorsement without its ciphertext")
    data = access.keyring.open(_ENDORSEMENT_RECORD, row.id, row.key_version, row.content)
    standing = data.get("standing")
    return Signatory(
        name=str(data["name"]),
        country=str(data.get("country", "")),
        received=row.kind == EndorsementKind.RECEIVED,
        endorsement_id=row.id,
        confirmed=standing == STANDING_INVITATION,
        self_declared=row.kind == EndorsementKind.PUBLIC and standing is None,
    )


def sort_signatories(signatories: Sequence[Signatory]) -> list[Signatory]:
    # Alphabetical: the order endorsements arrived in is nobody's business.
    return sorted(signatories, key=lambda s: (s.name.casefold(), s.country.casefold(), s.name))


def sign_on(db: Session, access: RoomAccess, today: date) -> SignOn:
    """The public list, the anonymous count, and this member's own endorsement.

    The member's own endorsement counts at once, even while it waits in the queue.
    """
    tag = access.tag(ENDORSEMENT_TAG, access.room.id)
    own = _own_endorsement(db, access)
    rows = [
        row
        for row in db.scalars(select(Endorsement).where(Endorsement.room_id == access.room.id))
        if row.tag != tag
    ]
    if own is not None:
        rows.append(own)
    public = [read_signatory(access, row) for row in rows if row.kind != EndorsementKind.ANONYMOUS]
    mine = None
    if own is not None and own.kind == EndorsementKind.PUBLIC:
        mine = next(s for s in public if s.endorsement_id == own.id)
    anonymous = sorted(
        row.commitment
        for row in rows
        if row.kind == EndorsementKind.ANONYMOUS and row.commitment is not None
    )
    mine_anonymous = own is not None and own.kind == EndorsementKind.ANONYMOUS
    return SignOn(
        public=sort_signatories(public),
        anonymous=len(anonymous),
        mine=mine,
        mine_anonymous=mine_anonymous,
        open=signon_open(access, today),
        commitments=tuple(anonymous),
        mine_commitment=own.commitment if own is not None and mine_anonymous else None,
    )


def require_reviewed(signon: SignOn) -> None:
    """Publication waits while a member's self-declared public endorsement is unreviewed."""
    waiting = sum(1 for signatory in signon.public if signatory.self_declared)
    if waiting:
        raise UnreviewedEndorsements(waiting)
