"""Organisation invitations, and coordinators' review of members' self-declared names.

A coordinator makes a link naming an organisation (and its country, if given) for its
representative. A public endorsement made through it carries the name as the coordinator
entered it, confirmed by invitation. A name a member types is self-declared: coordinators
confirm it or remove it, and publication waits until none is left unreviewed.

Takes a Session, never commits, never imports flask. The link's secret is stored only as
its SHA-256 and the organisation's name only under the room key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from statements.drafting.access import RoomAccess
from statements.models import Endorsement, EndorsementKind, OrganisationInvitation, random_id
from statements.publishing import endorsements
from statements.publishing.errors import EndorsementNotFound, InvitationRevoked

_RECORD = "organisation-invitation"
_TOKEN_BYTES = 24
_MAX_TOKEN = 64


@dataclass(frozen=True)
class Invited:
    """The organisation an invitation names."""

    invitation_id: str
    name: str
    country: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def invite(db: Session, access: RoomAccess, name: str, country: str) -> str:
    """Make an invitation for one organisation's representative; the link's secret."""
    endorsements.require_signon(db, access)
    payload = endorsements.signatory_payload(name, country)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    row = OrganisationInvitation(
        id=random_id(),
        room_id=access.room.id,
        token_hash=_hash(token),
        key_version=access.room.key_version,
        revoked=False,
    )
    row.content = access.keyring.seal(_RECORD, row.id, row.key_version, payload)
    db.add(row)
    db.flush()
    return token


def invited(db: Session, access: RoomAccess, token: str) -> Invited:
    """The organisation a link in this room names, or EndorsementNotFound."""
    if not 0 < len(token) <= _MAX_TOKEN:
        raise EndorsementNotFound
    row = db.scalar(
        select(OrganisationInvitation).where(OrganisationInvitation.token_hash == _hash(token))
    )
    if row is None or row.room_id != access.room.id:
        raise EndorsementNotFound
    if row.revoked:
        # Said plainly: the representative should know to ask for a new link.
        raise InvitationRevoked
    data = access.keyring.open(_RECORD, row.id, row.key_version, row.content)
    return Invited(row.id, str(data["name"]), str(data.get("country", "")))


@dataclass(frozen=True)
class Link:
    """An invitation link as its coordinators see it: whom it names, and whether it works."""

    invitation_id: str
    name: str
    country: str
    revoked: bool


def links(db: Session, access: RoomAccess) -> list[Link]:
    """The room's invitation links, by organisation name (coordinators only)."""
    access.require_coordinator()
    found = []
    for row in db.scalars(
        select(OrganisationInvitation).where(OrganisationInvitation.room_id == access.room.id)
    ):
        data = access.keyring.open(_RECORD, row.id, row.key_version, row.content)
        found.append(Link(row.id, str(data["name"]), str(data.get("country", "")), row.revoked))
    return sorted(found, key=lambda link: (link.name.casefold(), link.country, link.invitation_id))


def revoke(db: Session, access: RoomAccess, invitation_id: str) -> None:
    """A coordinator revokes a link: from now on it says so, and endorses nothing.

    An endorsement already made through it stays on the list; a coordinator removes it
    there if it should go too.
    """
    access.require_coordinator()
    row = db.get(OrganisationInvitation, invitation_id) if 0 < len(invitation_id) <= 32 else None
    if row is None or row.room_id != access.room.id:
        raise EndorsementNotFound
    row.revoked = True
    db.flush()


def endorse_invited(db: Session, access: RoomAccess, token: str, today: date) -> Invited:
    """Sign publicly for the organisation the link names, as the coordinator entered it."""
    found = invited(db, access, token)
    endorsements.endorse(
        db,
        access,
        EndorsementKind.PUBLIC,
        "",
        "",
        today,
        invited={"name": found.name, "country": found.country},
    )
    return found


def confirm(db: Session, access: RoomAccess, endorsement_id: str) -> None:
    """A coordinator confirms a member's self-declared public endorsement."""
    endorsements.require_signon(db, access)
    row = db.get(Endorsement, endorsement_id) if 0 < len(endorsement_id) <= 32 else None
    if row is None or row.room_id != access.room.id or row.kind != EndorsementKind.PUBLIC:
        raise EndorsementNotFound
    signatory = endorsements.read_signatory(access, row)
    payload = {
        "name": signatory.name,
        "country": signatory.country,
        "standing": endorsements.STANDING_INVITATION
        if signatory.confirmed
        else endorsements.STANDING_REVIEWED,
    }
    endorsements.seal_signatory(access, row, payload)
    db.flush()
