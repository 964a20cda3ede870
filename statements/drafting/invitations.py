"""Invitations: links that carry a room's keys under their own secret, and joining by one.

An invitation that ends (used up, withdrawn, expired, outdated by a new key) loses its
wrapped keys at once, and is answered exactly as a link that never existed.
"""

from __future__ import annotations

import binascii
import json
import secrets
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import unwrap_with_link_secret, wrap_with_link_secret
from statements.auth.service import Identity
from statements.drafting.access import Keyring, RoomAccess, grant_keys, lock_room
from statements.drafting.errors import InvalidInput, InvitationInvalid
from statements.encoding import b64url, unb64url
from statements.models import Invitation, Room, RoomMember, RoomRole, random_id

INVITATION = "invitation"
MAX_INVITATION_USES = 500


def create_invitation(
    db: Session, access: RoomAccess, uses: int, expires_on: date, today: date
) -> tuple[Invitation, str]:
    """An invitation carrying the room's keys under a fresh link secret; returns its token."""
    access.require_coordinator()
    if not 1 <= uses <= MAX_INVITATION_USES:
        raise InvalidInput("uses", "range")
    if not today <= expires_on <= today + timedelta(days=366):
        raise InvalidInput("expires_on", "range")
    secret = secrets.token_bytes(32)
    invitation = Invitation(
        id=random_id(), room_id=access.room.id, uses_left=uses, expires_on=expires_on
    )
    keyring = {str(version): b64url(key) for version, key in access.keyring.keys.items()}
    invitation.wrapped_keys = wrap_with_link_secret(
        secret, json.dumps(keyring).encode(), purpose=INVITATION, owner=invitation.id
    )
    db.add(invitation)
    db.flush()
    return invitation, f"{invitation.id}.{b64url(secret)}"


def _invitation(db: Session, token: str, today: date) -> tuple[Invitation, Room, Keyring]:
    try:
        invitation_id, secret_text = token.split(".")
        secret = unb64url(secret_text)
    except (ValueError, binascii.Error):
        raise InvitationInvalid("unknown") from None
    if len(invitation_id) != 32 or len(secret) != 32:
        raise InvitationInvalid("unknown")
    invitation = db.get(Invitation, invitation_id)
    if invitation is None:
        raise InvitationInvalid("unknown")
    # Expiry is checked on every use: an expired invitation's keys go at once, in the
    # caller's transaction (the purge, run apart before each request, commits its own).
    if invitation.expires_on < today and invitation.wrapped_keys is not None:
        invitation.wrapped_keys = None
        db.flush()
    # Used up, withdrawn, expired, outdated by a new key, or in a sealed room: the
    # wrapped keys are gone, so the secret cannot be checked. The pages answer all of
    # these exactly as they answer an unknown link.
    if invitation.wrapped_keys is None or invitation.revoked or invitation.uses_left <= 0:
        raise InvitationInvalid("closed")
    # The secret is checked before anything else is said about the invitation.
    try:
        stored = json.loads(
            unwrap_with_link_secret(
                secret, invitation.wrapped_keys, purpose=INVITATION, owner=invitation.id
            )
        )
    except CryptoError:
        raise InvitationInvalid("unknown") from None
    room = db.get(Room, invitation.room_id)
    if room is None or room.sealed:
        raise InvitationInvalid("closed")
    keyring = Keyring(room.id, {int(version): unb64url(key) for version, key in stored.items()})
    return invitation, room, keyring


def invitation_room_title(db: Session, token: str, today: date) -> str:
    """The working title of the room an invitation leads to."""
    _invitation_row, room, keyring = _invitation(db, token, today)
    return str(keyring.open("room", room.id, 1, room.details)["title"])


def accept_invitation(db: Session, token: str, identity: Identity, today: date) -> Room:
    """Join the room an invitation leads to; the link's keys are sealed to this account."""
    invitation, room, keyring = _invitation(db, token, today)
    # The room row is locked first, as sealing and key rotation lock it: a join cannot
    # interleave with them and leave a key behind a seal or miss a new key version.
    room = lock_room(db, room.id)
    if room.sealed:
        raise InvitationInvalid("closed")
    if db.get(RoomMember, (room.id, identity.account.id)) is not None:
        return room
    # Compare-and-swap, so two people racing for the last use cannot both join, and a
    # revocation or rotation that committed meanwhile wins.
    result = db.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.uses_left == invitation.uses_left,
            Invitation.revoked.is_(False),
            Invitation.wrapped_keys.is_not(None),
        )
        .values(uses_left=Invitation.uses_left - 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise InvitationInvalid("closed")
    db.refresh(invitation)
    if invitation.uses_left <= 0:
        invitation.wrapped_keys = None
    db.add(RoomMember(room_id=room.id, account_id=identity.account.id, role=RoomRole.MEMBER))
    grant_keys(db, room.id, keyring, identity.account)
    db.flush()
    return room


def purge_expired_invitations(db: Session, today: date) -> int:
    """Destroy the wrapped keys of every invitation past its last day; returns how many."""
    result = db.execute(
        update(Invitation)
        .where(Invitation.expires_on < today, Invitation.wrapped_keys.is_not(None))
        .values(wrapped_keys=None)
        .execution_options(synchronize_session=False)
    )
    db.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def invitations(db: Session, access: RoomAccess) -> list[Invitation]:
    """The room's invitations, for its coordinators."""
    access.require_coordinator()
    return list(
        db.scalars(
            select(Invitation)
            .where(Invitation.room_id == access.room.id)
            .order_by(Invitation.expires_on.desc(), Invitation.id)
        )
    )


def revoke_invitation(db: Session, access: RoomAccess, invitation_id: str) -> None:
    """Stop an invitation working; its wrapped keys are destroyed."""
    access.require_coordinator()
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.room_id != access.room.id:
        raise InvitationInvalid("unknown")
    invitation.revoked = True
    invitation.wrapped_keys = None
    db.flush()
