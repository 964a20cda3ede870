"""Room keys and access: a member's keyring, opening and locking a room, key rotation.

Every record of a room is sealed under a room key version that each member holds wrapped
to their own public key; RoomAccess is a room as one member sees it in one request.
Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import new_key, open_sealed, seal_to_public_key
from crypto.records import RecordContext, decrypt_record, encrypt_record
from crypto.tags import author_tag
from statements.auth.service import Identity
from statements.drafting.errors import NotCoordinator, NotEligible, RoomNotFound, RoomSealed
from statements.encoding import b64url, unb64url
from statements.models import Account, Invitation, Room, RoomKey, RoomMember, RoomRole
from statements.write_apply import DirectWrites
from statements.writes import AnonymousWrites

ROOM_KEY = "room-key"
# A room key sealed to an invitation's own public key (see Invitation.sealed_keys).
INVITATION_KEY = "invitation-room-key"
# Purposes of author tags: one per kind of thing tagged, so tags never collide.
CONTRIBUTION_TAG = "contribution"
SUPPORT_TAG = "support"
ENDORSEMENT_TAG = "endorsement"
FLAG_TAG = "flag"
# Agreement (agreement.py): bound to the room as well as the target (see RoomAccess.room_tag).
OBJECTION_TAG = "objection"
CONSENT_TAG = "consent"
# How many entries one page of a room's lists (versions, contributions, the log) shows.
PAGE_SIZE = 25


@dataclass
class Keyring:
    """The versions of one room's key this account holds, unsealed for this request."""

    room_id: str
    keys: dict[int, bytes] = field(default_factory=dict)

    def seal(self, kind: str, record_id: str, version: int, payload: dict[str, Any]) -> bytes:
        """Encrypt a record under one key version, bound to its kind, id and room."""
        return encrypt_record(
            self.keys[version],
            json.dumps(payload, ensure_ascii=False).encode(),
            RecordContext(kind, record_id, self.room_id, version),
        )

    def open(self, kind: str, record_id: str, version: int, blob: bytes) -> dict[str, Any]:
        """Decrypt a record; CryptoError when the key or the binding is wrong."""
        key = self.keys.get(version)
        if key is None:
            raise CryptoError("no key for this version")
        data: dict[str, Any] = json.loads(
            decrypt_record(key, blob, RecordContext(kind, record_id, self.room_id, version))
        )
        return data


def key_owner(room_id: str, version: int) -> str:
    """What a sealed room key is bound to: the room and the key version."""
    return f"{room_id}:{version}"


def grant_keys(db: Session, room_id: str, keyring: Keyring, account: Account) -> None:
    """Seal every key version held in keyring to an account's public key."""
    if account.public_key is None:
        raise NotEligible
    for version, key in keyring.keys.items():
        db.merge(
            RoomKey(
                room_id=room_id,
                key_version=version,
                account_id=account.id,
                sealed_key=seal_to_public_key(
                    account.public_key,
                    key,
                    purpose=ROOM_KEY,
                    owner=key_owner(room_id, version),
                ),
            )
        )


def _keyring(db: Session, room_id: str, identity: Identity) -> Keyring:
    keyring = Keyring(room_id)
    rows = db.scalars(
        select(RoomKey).where(RoomKey.room_id == room_id, RoomKey.account_id == identity.account.id)
    )
    for row in rows:
        keyring.keys[row.key_version] = open_sealed(
            identity.keys.private_key,
            row.sealed_key,
            purpose=ROOM_KEY,
            owner=key_owner(room_id, row.key_version),
        )
    return keyring


@dataclass
class RoomAccess:
    """A room as one member sees it in this request."""

    room: Room
    membership: RoomMember
    keyring: Keyring
    identity: Identity
    # Where this member's anonymous writes go: the app's mixer (statements/writes.py),
    # or, outside a request, straight into the caller's transaction.
    writes: AnonymousWrites | None = None
    # Draft versions already decrypted for this request (see versions.version): a page
    # that shows the draft, its section numbers and contributions beside their sections
    # opens it once.
    opened: dict[tuple[int, int, bool], Any] = field(default_factory=dict, repr=False)

    def anonymous(self, db: Session) -> AnonymousWrites:
        """The channel for this member's contributions, supports and endorsements."""
        return self.writes if self.writes is not None else DirectWrites(db)

    @property
    def is_coordinator(self) -> bool:
        """True for the room's coordinators."""
        return self.membership.role == RoomRole.COORDINATOR

    def require_coordinator(self) -> None:
        """Raise NotCoordinator unless this member coordinates the room."""
        if not self.is_coordinator:
            raise NotCoordinator

    def details(self) -> dict[str, str]:
        """Title and summary."""
        return {
            key: str(value)
            for key, value in self.keyring.open("room", self.room.id, 1, self.room.details).items()
        }

    def tag(self, purpose: str, target_id: str) -> bytes:
        """This member's author tag for a target."""
        return author_tag(self.identity.keys.author_secret, purpose, target_id)

    def room_tag(self, purpose: str, target_id: str) -> bytes:
        """This member's author tag for a target, bound to this room too."""
        return self.tag(purpose, f"{self.room.id}:{target_id}")


def lock_room(db: Session, room_id: str) -> Room:
    """The room row, locked until the transaction ends (on PostgreSQL), and re-read.

    Joining, sealing and rotating all take this lock first, so they happen one after
    the other. SQLite ignores the lock; it runs one writing transaction at a time.
    """
    room = db.scalar(
        select(Room)
        .where(Room.id == room_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if room is None:
        raise RoomNotFound
    return room


def open_room(
    db: Session, room_id: str, identity: Identity, writes: AnonymousWrites | None = None
) -> RoomAccess:
    """The room, if this account is a member, with its keys unsealed."""
    if not room_id or len(room_id) > 32:
        raise RoomNotFound
    room = db.get(Room, room_id)
    membership = db.get(RoomMember, (room_id, identity.account.id))
    if room is None or membership is None:
        raise RoomNotFound
    if room.sealed:
        raise RoomSealed
    access = RoomAccess(room, membership, _keyring(db, room_id, identity), identity, writes)
    if room.key_version not in access.keyring.keys:
        raise RoomNotFound
    if room.rotation_due:
        # Any remaining member may choose the next key; whoever left is no longer one.
        lock_room(db, room.id)
        if room.rotation_due:
            rotate_room_key(db, access)
        else:
            # Another member rotated while we waited for the lock: take the new key too.
            access.keyring = _keyring(db, room_id, identity)
    return access


def rotate_room_key(db: Session, access: RoomAccess) -> None:
    """A new key version for the remaining members and the room's open invitations.

    Older records stay readable through their own version, which remaining members
    keep; whoever left has lost every wrap, and never receives the new key. Open
    invitations receive it sealed to their own public key, whose private half only the
    link unlocks: the new key reaches whoever holds a link, never whoever held an old key.
    """
    room = lock_room(db, access.room.id)
    version = room.key_version + 1
    access.keyring.keys[version] = new_key()
    members = db.scalars(
        select(Account)
        .join(RoomMember, RoomMember.account_id == Account.id)
        .where(RoomMember.room_id == room.id)
        # A staff account being reset has no public key until it enrols again; the room
        # goes on without it, and a fellow coordinator restores its keys afterwards
        # (statements/staff/resets.py).
        .where(Account.public_key.is_not(None))
    )
    fresh = Keyring(room.id, {version: access.keyring.keys[version]})
    for account in members:
        grant_keys(db, room.id, fresh, account)
    room.key_version = version
    room.rotation_due = False
    rewrap_invitations(db, room.id, version, access.keyring.keys[version])
    db.flush()


def invitation_key_owner(invitation_id: str, room_id: str, version: int) -> str:
    """What a room key sealed to an invitation is bound to."""
    return f"{invitation_id}:{room_id}:{version}"


def seal_for_invitation(invitation: Invitation, keys: dict[int, bytes]) -> None:
    """Add key versions to an invitation, sealed to its public key (no link needed)."""
    if invitation.public_key is None:
        raise ValueError("an invitation from before migration 0008 has no public key")
    sealed: dict[str, str] = json.loads(invitation.sealed_keys or b"{}")
    for version, key in keys.items():
        sealed[str(version)] = b64url(
            seal_to_public_key(
                invitation.public_key,
                key,
                purpose=INVITATION_KEY,
                owner=invitation_key_owner(invitation.id, invitation.room_id, version),
            )
        )
    invitation.sealed_keys = json.dumps(sealed, sort_keys=True).encode()


def open_invitation_keys(invitation: Invitation, private_key: bytes) -> dict[int, bytes]:
    """Every key version sealed to an invitation; CryptoError with the wrong private key."""
    sealed: dict[str, str] = json.loads(invitation.sealed_keys or b"{}")
    return {
        int(version): open_sealed(
            private_key,
            unb64url(blob),
            purpose=INVITATION_KEY,
            owner=invitation_key_owner(invitation.id, invitation.room_id, int(version)),
        )
        for version, blob in sealed.items()
    }


def rewrap_invitations(db: Session, room_id: str, version: int, key: bytes) -> None:
    """Seal a new key version to every open invitation of a room.

    Invitations made before they had keypairs of their own cannot receive it: they
    are withdrawn, as every invitation used to be on a rotation.
    """
    open_invitations = db.scalars(
        select(Invitation).where(
            Invitation.room_id == room_id,
            Invitation.wrapped_keys.is_not(None),
            Invitation.revoked.is_(False),
        )
    )
    for invitation in open_invitations:
        if invitation.public_key is None:
            invitation.wrapped_keys = None
            invitation.sealed_keys = None
            invitation.link_once = None
            invitation.revoked = True
        else:
            seal_for_invitation(invitation, {version: key})


def close_invitations(db: Session, room_id: str) -> None:
    """Withdraw a room's open invitations: their wrapped keys are destroyed."""
    db.execute(
        update(Invitation)
        .where(Invitation.room_id == room_id, Invitation.wrapped_keys.is_not(None))
        .values(wrapped_keys=None, sealed_keys=None, link_once=None, revoked=True)
    )
