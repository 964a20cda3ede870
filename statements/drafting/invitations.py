"""Invitations: links that carry a room's keys under their own secret, and joining by one.

An invitation has a keypair of its own: the room's key versions are sealed to its public
key, and its private key is wrapped under the link's secret. So a key rotation can give
an open invitation the new key without knowing the link, and only the link opens it.
An invitation that ends (used up, withdrawn, expired, in a sealed room) loses its
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
from crypto.keys import (
    generate_keypair,
    unwrap_secret,
    unwrap_with_link_secret,
    wrap_secret,
    wrap_with_link_secret,
)
from statements.auth.service import Identity
from statements.drafting.access import (
    Keyring,
    RoomAccess,
    grant_keys,
    lock_room,
    open_invitation_keys,
    seal_for_invitation,
)
from statements.drafting.errors import InvalidInput, InvitationInvalid
from statements.encoding import b64url, unb64url
from statements.models import Invitation, Room, RoomMember, RoomRole, random_id
from statements.text.clean import clean_line

INVITATION = "invitation"
# The link, sealed under the creating login session's key until it is shown once.
LINK_ONCE = "invitation-link-once"
MAX_INVITATION_USES = 500
MAX_LABEL = 120
LABEL = "invitation_label"


def create_invitation(
    db: Session, access: RoomAccess, uses: int, expires_on: date, today: date, label: str = ""
) -> tuple[Invitation, str]:
    """An invitation carrying the room's keys under a fresh link secret; returns its token.

    The label ("for the Chin women's group") is for the coordinators only, sealed under
    the room key. The token is also kept, sealed under the coordinator's login session
    key, until shown_link has shown it once: the page after a redirect can show the link
    without it ever being in a URL, and a copy of the server cannot read it.
    """
    access.require_coordinator()
    if not 1 <= uses <= MAX_INVITATION_USES:
        raise InvalidInput("uses", "range")
    if not today <= expires_on <= today + timedelta(days=366):
        raise InvalidInput("expires_on", "range")
    label = clean_line(label, "label", MAX_LABEL, required=False)
    secret = secrets.token_bytes(32)
    keypair = generate_keypair()
    invitation = Invitation(
        id=random_id(),
        room_id=access.room.id,
        uses_left=uses,
        expires_on=expires_on,
        public_key=keypair.public_key,
    )
    invitation.wrapped_keys = wrap_with_link_secret(
        secret, keypair.private_key, purpose=INVITATION, owner=invitation.id
    )
    seal_for_invitation(invitation, access.keyring.keys)
    if label:
        version = access.room.key_version
        invitation.label = access.keyring.seal(LABEL, invitation.id, version, {"label": label})
        invitation.label_key_version = version
    token = f"{invitation.id}.{b64url(secret)}"
    if access.identity.session_key:
        invitation.link_once = wrap_secret(
            access.identity.session_key, token.encode(), purpose=LINK_ONCE, owner=invitation.id
        )
    db.add(invitation)
    db.flush()
    return invitation, token


def shown_link(db: Session, access: RoomAccess, invitation_id: str) -> str | None:
    """The token of an invitation this login session just created, once; then never again.

    None for another session's invitation, one already shown, or one that has ended.
    """
    access.require_coordinator()
    invitation = db.get(Invitation, invitation_id) if len(invitation_id) == 32 else None
    if invitation is None or invitation.room_id != access.room.id:
        return None
    if invitation.link_once is None or not access.identity.session_key:
        return None
    try:
        token = unwrap_secret(
            access.identity.session_key,
            invitation.link_once,
            purpose=LINK_ONCE,
            owner=invitation.id,
        ).decode()
    except CryptoError:
        return None
    invitation.link_once = None
    db.flush()
    if invitation.wrapped_keys is None or invitation.revoked:
        return None
    return token


def invitation_labels(access: RoomAccess, rows: list[Invitation]) -> dict[str, str]:
    """The coordinators' labels of some invitations, by invitation id."""
    access.require_coordinator()
    labels = {}
    for invitation in rows:
        if invitation.label is None or invitation.label_key_version is None:
            continue
        try:
            data = access.keyring.open(
                LABEL, invitation.id, invitation.label_key_version, invitation.label
            )
        except CryptoError:
            continue
        labels[invitation.id] = str(data["label"])
    return labels


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
        _destroy_keys(invitation)
        db.flush()
    # Used up, withdrawn, expired, outdated by a new key, or in a sealed room: the
    # wrapped keys are gone, so the secret cannot be checked. The pages answer all of
    # these exactly as they answer an unknown link.
    if invitation.wrapped_keys is None or invitation.revoked or invitation.uses_left <= 0:
        raise InvitationInvalid("closed")
    # The secret is checked before anything else is said about the invitation.
    try:
        unwrapped = unwrap_with_link_secret(
            secret, invitation.wrapped_keys, purpose=INVITATION, owner=invitation.id
        )
        if invitation.public_key is None:
            # Made before invitations had keypairs: the link wraps the keys themselves.
            stored = json.loads(unwrapped)
            keys = {int(version): unb64url(key) for version, key in stored.items()}
        else:
            keys = open_invitation_keys(invitation, unwrapped)
    except CryptoError:
        raise InvitationInvalid("unknown") from None
    room = db.get(Room, invitation.room_id)
    if room is None or room.sealed:
        raise InvitationInvalid("closed")
    return invitation, room, Keyring(room.id, keys)


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
        _destroy_keys(invitation)
    db.add(RoomMember(room_id=room.id, account_id=identity.account.id, role=RoomRole.MEMBER))
    grant_keys(db, room.id, keyring, identity.account)
    db.flush()
    return room


def purge_expired_invitations(db: Session, today: date) -> int:
    """Destroy the wrapped keys of every invitation past its last day; returns how many."""
    result = db.execute(
        update(Invitation)
        .where(Invitation.expires_on < today, Invitation.wrapped_keys.is_not(None))
        .values(wrapped_keys=None, sealed_keys=None, link_once=None)
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
    _destroy_keys(invitation)
    db.flush()


def _destroy_keys(invitation: Invitation) -> None:
    invitation.wrapped_keys = None
    invitation.sealed_keys = None
    invitation.link_once = None
