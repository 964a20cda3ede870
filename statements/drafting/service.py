"""Drafting rooms: keys, invitations, versions, contributions, moderation, sealing.

Takes a Session, never commits, never imports flask. Every word anyone types is stored
only as a ciphertext under the room key; contributions and supports carry author tags
that only their author can recompute, never an account id.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crypto.errors import CryptoError
from crypto.keys import (
    new_key,
    open_sealed,
    seal_to_public_key,
    unwrap_with_link_secret,
    wrap_with_link_secret,
)
from crypto.records import RecordContext, decrypt_record, encrypt_record
from crypto.tags import author_tag, tags_equal
from statements.auth.service import Identity
from statements.drafting.errors import (
    ContributionNotFound,
    DeadlinePassed,
    EditConflict,
    InvalidInput,
    InvitationInvalid,
    LastCoordinator,
    MemberNotFound,
    NotCoordinator,
    NotEligible,
    NotPending,
    PendingCapReached,
    RoomNotFound,
    RoomSealed,
    SupportRefused,
    TitleMismatch,
    UnknownSection,
    VersionConflict,
    VersionNotFound,
    WrongState,
)
from statements.drafting.markdown import Section, join_sections, sections_from_markdown
from statements.encoding import b64url, unb64url
from statements.models import (
    Account,
    Contribution,
    ContributionKind,
    ContributionStatus,
    DraftVersion,
    Invitation,
    ModerationEntry,
    Role,
    Room,
    RoomKey,
    RoomMember,
    RoomRole,
    RoomState,
    Support,
    random_id,
)
from statements.writes import (
    CONTRIBUTION_DELETE,
    CONTRIBUTION_EDIT,
    CONTRIBUTION_PUT,
    ENDORSEMENT_DELETE,
    SUPPORT_DELETE,
    SUPPORT_PUT,
    AnonymousWrites,
    DirectWrites,
    Write,
    contribution_key,
    endorsement_key,
    support_key,
)

LANGUAGES = {
    "en": "English",
    "th": "Thai",
    "my": "Burmese",
    "ms": "Malay",
    "fa": "Farsi",
    "id": "Indonesian",
    "km": "Khmer",
    "ar": "Arabic",
    "bn": "Bengali",
    "ur": "Urdu",
}
MAX_TITLE = 200
MAX_SUMMARY = 4_000
# A joint statement is a few thousand words. These leave room for long ones while keeping
# every comparison of two versions, and every page that shows one, cheap (see diff.py).
MAX_DRAFT = 200_000
MAX_SECTION = 20_000
MAX_CONTRIBUTION = 10_000
MAX_NOTE = 2_000
PAGE_SIZE = 25
MAX_INVITATION_USES = 500
REJECT_REASONS = ("duplicate", "out_of_scope", "offensive", "unsafe", "other")

ROOM_KEY = "room-key"
INVITATION = "invitation"
# Purposes of author tags: one per kind of thing tagged, so tags never collide.
CONTRIBUTION_TAG = "contribution"
SUPPORT_TAG = "support"
ENDORSEMENT_TAG = "endorsement"


# --- keys -----------------------------------------------------------------------------


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


def _key_owner(room_id: str, version: int) -> str:
    return f"{room_id}:{version}"


def _grant(db: Session, room_id: str, keyring: Keyring, account: Account) -> None:
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
                    owner=_key_owner(room_id, version),
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
            owner=_key_owner(room_id, row.key_version),
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
    """A new key version for the remaining members; open invitations stop working.

    Older records stay readable through their own version, which remaining members
    keep; whoever left has lost every wrap, and never receives the new key.
    """
    room = lock_room(db, access.room.id)
    version = room.key_version + 1
    access.keyring.keys[version] = new_key()
    members = db.scalars(
        select(Account)
        .join(RoomMember, RoomMember.account_id == Account.id)
        .where(RoomMember.room_id == room.id)
    )
    fresh = Keyring(room.id, {version: access.keyring.keys[version]})
    for account in members:
        _grant(db, room.id, fresh, account)
    room.key_version = version
    room.rotation_due = False
    _close_invitations(db, room.id)
    db.flush()


# --- rooms ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomInput:
    """What a coordinator types to open a room."""

    title: str
    language: str
    summary: str
    markdown: str
    contribution_deadline: date
    signon_deadline: date


def normalise_text(value: str) -> str:
    """Typed text as it will be stored (and measured): NFC, one kind of newline, trimmed."""
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def clean_text(value: str, field_name: str, maximum: int, *, required: bool = True) -> str:
    """Typed text as stored: NFC, one kind of newline, trimmed; InvalidInput if empty or long."""
    text = normalise_text(value)
    if required and not text:
        raise InvalidInput(field_name, "required")
    if len(text) > maximum:
        raise InvalidInput(field_name, "too_long")
    return text


def draft_length(blocks: Sequence[str]) -> int:
    """Characters of a draft as stored: its blocks, one blank line between each two."""
    return sum(len(block) for block in blocks) + 2 * max(len(blocks) - 1, 0)


def check_draft_size(sections: Sequence[Section], field_name: str = "markdown") -> None:
    """InvalidInput unless the draft and each of its sections are within the limits."""
    if any(len(section.markdown) > MAX_SECTION for section in sections):
        raise InvalidInput(field_name, "section_too_long")
    if draft_length([section.markdown for section in sections]) > MAX_DRAFT:
        raise InvalidInput(field_name, "too_long")


# Format characters a title may hold: the joiners that Farsi, Arabic, Burmese and Bengali
# spelling needs (ZWNJ, ZWJ) and the direction marks (LRM, RLM, ALM), which only place
# neutral characters. Every other one is refused: an override or an isolate reorders what
# readers see (U+202E makes "evil" read "live"), and the rest is invisible.
_TITLE_FORMAT_CHARACTERS = frozenset("\u200c\u200d\u200e\u200f\u061c")


def clean_line(value: str, field_name: str, maximum: int, *, required: bool = True) -> str:
    """A title or a name as stored and signed: clean_text, on one line, nothing invisible.

    The one rule for every title (room, publication, correction) and every signatory's
    name and country: InvalidInput "one_line" for a line break or other control
    character, "invisible" for a direction override or other hidden format character.
    """
    text = clean_text(value, field_name, maximum, required=required)
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):
            raise InvalidInput(field_name, "one_line")
        if category in ("Cf", "Co") and char not in _TITLE_FORMAT_CHARACTERS:
            raise InvalidInput(field_name, "invisible")
    return text


def create_room(db: Session, identity: Identity, data: RoomInput, today: date) -> Room:
    """Open a drafting room with its first draft version; the creator coordinates it."""
    if identity.account.role not in (Role.COORDINATOR, Role.ADMIN):
        raise NotEligible
    title = clean_line(data.title, "title", MAX_TITLE)
    summary = clean_text(data.summary, "summary", MAX_SUMMARY, required=False)
    markdown = clean_text(data.markdown, "markdown", MAX_DRAFT)
    if data.language not in LANGUAGES:
        raise InvalidInput("language", "unknown")
    if data.contribution_deadline < today:
        raise InvalidInput("contribution_deadline", "past")
    if data.signon_deadline < data.contribution_deadline:
        raise InvalidInput("signon_deadline", "before_contribution_deadline")
    room = Room(
        id=random_id(),
        language=data.language,
        contribution_deadline=data.contribution_deadline,
        signon_deadline=data.signon_deadline,
        key_version=1,
        current_version=1,
    )
    keyring = Keyring(room.id, {1: new_key()})
    room.details = keyring.seal("room", room.id, 1, {"title": title, "summary": summary})
    db.add(room)
    db.flush()
    db.add(RoomMember(room_id=room.id, account_id=identity.account.id, role=RoomRole.COORDINATOR))
    _grant(db, room.id, keyring, identity.account)
    sections = sections_from_markdown(markdown)
    if not sections:
        raise InvalidInput("markdown", "required")
    check_draft_size(sections)
    _add_version(db, room, keyring, 1, sections, "First draft", today)
    db.flush()
    return room


@dataclass(frozen=True)
class RoomSummary:
    """A line of the room list."""

    room: Room
    title: str
    role: str
    members: int


def my_rooms(db: Session, identity: Identity) -> list[RoomSummary]:
    """The rooms this account belongs to, titles decrypted."""
    member_counts = (
        select(RoomMember.room_id, func.count().label("members"))
        .group_by(RoomMember.room_id)
        .subquery()
    )
    rows = db.execute(
        select(Room, RoomMember.role, member_counts.c.members)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .join(member_counts, member_counts.c.room_id == Room.id)
        .where(RoomMember.account_id == identity.account.id)
    ).all()
    keys = {
        (key.room_id, key.key_version): key
        for key in db.scalars(
            select(RoomKey).where(
                RoomKey.account_id == identity.account.id, RoomKey.key_version == 1
            )
        )
    }
    summaries = []
    for room, role, members in rows:
        title = ""
        sealed_key = keys.get((room.id, 1))
        if not room.sealed and sealed_key is not None:
            keyring = Keyring(room.id)
            keyring.keys[1] = open_sealed(
                identity.keys.private_key,
                sealed_key.sealed_key,
                purpose=ROOM_KEY,
                owner=_key_owner(room.id, 1),
            )
            title = str(keyring.open("room", room.id, 1, room.details)["title"])
        summaries.append(RoomSummary(room, title, role, int(members)))
    summaries.sort(key=lambda summary: (summary.room.sealed, summary.title.casefold()))
    return summaries


# Which state may follow which. Publishing is the sign-on issue's; going back from
# consolidating to drafting reopens contributions.
TRANSITIONS = {
    RoomState.DRAFTING: (RoomState.CONSOLIDATING,),
    RoomState.CONSOLIDATING: (RoomState.DRAFTING, RoomState.SIGN_ON),
    RoomState.SIGN_ON: (),
    RoomState.PUBLISHED: (),
}


def change_state(db: Session, access: RoomAccess, target: str, today: date) -> None:
    """Move the room to the next state of the lifecycle."""
    access.require_coordinator()
    allowed = TRANSITIONS.get(RoomState(access.room.state), ())
    if target not in allowed:
        raise WrongState(access.room.state)
    access.room.state = target
    _log(db, access, today, "state", state=target)


def seal_room(db: Session, access: RoomAccess, typed_title: str) -> None:
    """Destroy every wrap of the room's keys: its drafting history is unreadable forever."""
    access.require_coordinator()
    typed = unicodedata.normalize("NFC", typed_title).strip()
    if typed != unicodedata.normalize("NFC", access.details()["title"]):
        raise TitleMismatch
    room_id = access.room.id
    lock_room(db, room_id)
    db.execute(delete(RoomKey).where(RoomKey.room_id == room_id))
    db.execute(
        update(Invitation)
        .where(Invitation.room_id == room_id)
        .values(wrapped_keys=None, revoked=True)
    )
    access.room.sealed = True
    access.keyring.keys.clear()
    db.flush()


# --- members --------------------------------------------------------------------------


# Below this many members, the others can often guess who wrote what: pages say so.
FEW_MEMBERS = 5


def member_count(db: Session, room_id: str) -> int:
    """How many accounts belong to a room (coordinators included)."""
    return int(
        db.scalar(select(func.count()).select_from(RoomMember).where(RoomMember.room_id == room_id))
        or 0
    )


def member_number(room_id: str, account_id: str) -> str:
    """A member's number in one room: stable there, unrelated across rooms."""
    digest = hmac.new(room_id.encode(), b"member-number:" + account_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:6]


@dataclass(frozen=True)
class MemberLine:
    """One member as coordinators see them: a per-room number, never an account."""

    number: str
    role: str
    username: str | None


def members(db: Session, access: RoomAccess) -> list[MemberLine]:
    """The room's members: coordinators by username, members by room number."""
    access.require_coordinator()
    rows = db.execute(
        select(RoomMember.account_id, RoomMember.role, Account.username)
        .join(Account, Account.id == RoomMember.account_id)
        .where(RoomMember.room_id == access.room.id)
    ).all()
    lines = [
        MemberLine(
            member_number(access.room.id, account_id),
            role,
            username if role == RoomRole.COORDINATOR else None,
        )
        for account_id, role, username in rows
    ]
    return sorted(lines, key=lambda line: (line.role != RoomRole.COORDINATOR, line.number))


def _member_by_number(db: Session, room_id: str, number: str) -> RoomMember:
    for membership in db.scalars(select(RoomMember).where(RoomMember.room_id == room_id)):
        if member_number(room_id, membership.account_id) == number:
            return membership
    raise MemberNotFound


def remove_member(db: Session, access: RoomAccess, number: str, today: date) -> None:
    """Remove a member and rotate the room key, so they cannot read what follows."""
    access.require_coordinator()
    membership = _member_by_number(db, access.room.id, number)
    if membership.account_id == access.identity.account.id:
        raise MemberNotFound
    _drop(db, membership)
    rotate_room_key(db, access)
    _log(db, access, today, "member_removed")


def leave_room(db: Session, access: RoomAccess) -> None:
    """Leave a room. Its invitations stop working now; the next member to open it
    rotates its key, so nothing written after the leaver goes is readable to them."""
    if access.is_coordinator:
        others = db.scalar(
            select(func.count())
            .select_from(RoomMember)
            .where(
                RoomMember.room_id == access.room.id,
                RoomMember.role == RoomRole.COORDINATOR,
                RoomMember.account_id != access.identity.account.id,
            )
        )
        if not others:
            raise LastCoordinator
    # An organisation's endorsement goes with the member who made it: once gone they
    # could no longer withdraw it, and nobody else can tell which one it is.
    # Like the endorsement itself, its withdrawal goes through the anonymous channel:
    # in the same transaction as the membership's deletion, it would name its member.
    if access.room.state == RoomState.SIGN_ON:
        tag = access.tag(ENDORSEMENT_TAG, access.room.id)
        access.anonymous(db).put(
            Write(
                key=endorsement_key(access.room.id, tag),
                room_id=access.room.id,
                action=ENDORSEMENT_DELETE,
                row={"tag": tag},
            )
        )
    _drop(db, access.membership)
    # The leaver must not choose the next key, so a remaining member rotates it; every
    # write goes through open_room, which rotates first.
    access.room.rotation_due = True
    _close_invitations(db, access.room.id)
    db.flush()


def _close_invitations(db: Session, room_id: str) -> None:
    db.execute(
        update(Invitation)
        .where(Invitation.room_id == room_id, Invitation.wrapped_keys.is_not(None))
        .values(wrapped_keys=None, revoked=True)
    )


def _drop(db: Session, membership: RoomMember) -> None:
    db.execute(
        delete(RoomKey).where(
            RoomKey.room_id == membership.room_id, RoomKey.account_id == membership.account_id
        )
    )
    db.delete(membership)
    db.flush()


def add_coordinator(db: Session, access: RoomAccess, username: str) -> None:
    """Make a coordinator or admin account a coordinator of this room."""
    access.require_coordinator()
    account = db.scalar(select(Account).where(Account.username == username.strip().lower()))
    if account is None or account.role == Role.MEMBER or not account.enrolled or account.disabled:
        raise NotEligible
    membership = db.get(RoomMember, (access.room.id, account.id))
    if membership is None:
        db.add(RoomMember(room_id=access.room.id, account_id=account.id, role=RoomRole.COORDINATOR))
    else:
        membership.role = RoomRole.COORDINATOR
    _grant(db, access.room.id, access.keyring, account)
    db.flush()


# --- invitations ----------------------------------------------------------------------


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
    _grant(db, room.id, keyring, identity.account)
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


# --- versions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """A decrypted draft version."""

    number: int
    sections: list[Section]
    note: str
    created_on: date

    @property
    def markdown(self) -> str:
        """The whole document."""
        return join_sections(self.sections)

    def section(self, anchor: str) -> Section:
        """One section by anchor."""
        for section in self.sections:
            if section.anchor == anchor:
                return section
        raise UnknownSection


def _version_record(row: DraftVersion) -> str:
    """What a version's ciphertext is bound to: its row and its number in the room."""
    return f"{row.id}:{row.number}"


def _add_version(
    db: Session,
    room: Room,
    keyring: Keyring,
    number: int,
    sections: Sequence[Section],
    note: str,
    today: date,
) -> DraftVersion:
    row = DraftVersion(
        id=random_id(),
        room_id=room.id,
        number=number,
        key_version=room.key_version,
        created_on=today,
    )
    row.content = keyring.seal(
        "version",
        _version_record(row),
        room.key_version,
        {
            "sections": [{"anchor": s.anchor, "markdown": s.markdown} for s in sections],
            "note": note,
        },
    )
    db.add(row)
    return row


def _decode_version(keyring: Keyring, row: DraftVersion) -> Version:
    data = keyring.open("version", _version_record(row), row.key_version, row.content)
    return Version(
        number=row.number,
        sections=[Section(s["anchor"], s["markdown"]) for s in data["sections"]],
        note=str(data["note"]),
        created_on=row.created_on,
    )


def version(db: Session, access: RoomAccess, number: int | None = None) -> Version:
    """One version of the draft (the current one by default)."""
    wanted = access.room.current_version if number is None else number
    row = db.scalar(
        select(DraftVersion).where(
            DraftVersion.room_id == access.room.id, DraftVersion.number == wanted
        )
    )
    if row is None:
        raise VersionNotFound
    return _decode_version(access.keyring, row)


def versions(db: Session, access: RoomAccess, page: int | None = None) -> list[Version]:
    """Every version, newest first; or one page of them, each decrypted once."""
    query = (
        select(DraftVersion)
        .where(DraftVersion.room_id == access.room.id)
        .order_by(DraftVersion.number.desc())
    )
    if page is not None:
        query = query.limit(PAGE_SIZE).offset(max(page - 1, 0) * PAGE_SIZE)
    return [_decode_version(access.keyring, row) for row in db.scalars(query)]


def _commit_version(
    db: Session,
    access: RoomAccess,
    expected: int,
    sections: Sequence[Section],
    note: str,
    today: date,
) -> int:
    """Save a new version if the draft is still at `expected`; else VersionConflict."""
    room = access.room
    result = db.execute(
        update(Room)
        .where(Room.id == room.id, Room.current_version == expected)
        .values(current_version=expected + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.refresh(room)
        raise VersionConflict(room.current_version)
    room.current_version = expected + 1
    _add_version(db, room, access.keyring, expected + 1, sections, note, today)
    db.flush()
    return expected + 1


def edit_draft(
    db: Session, access: RoomAccess, markdown: str, note: str, expected: int, today: date
) -> int:
    """A coordinator's direct edit of the whole draft: a new version with a change note."""
    access.require_coordinator()
    _writable(access.room)
    text = clean_text(markdown, "markdown", MAX_DRAFT)
    note = clean_text(note, "note", MAX_NOTE)
    current = version(db, access)
    if expected != current.number:
        raise VersionConflict(current.number)
    sections = sections_from_markdown(text, current.sections)
    check_draft_size(sections)
    number = _commit_version(db, access, expected, sections, note, today)
    _log(db, access, today, "edited", version=number)
    return number


def _writable(room: Room) -> None:
    if room.state not in (RoomState.DRAFTING, RoomState.CONSOLIDATING):
        raise WrongState(room.state)


# --- contributions --------------------------------------------------------------------


@dataclass(frozen=True)
class ContributionView:
    """A contribution as a page shows it: never who wrote it, nor when beyond the day."""

    id: str
    anchor: str | None
    kind: str
    status: str
    text: str
    created_on: date
    supports: int
    mine: bool
    supported: bool
    reason: str | None = None
    note: str | None = None


# Markdown never passes HTML through, but a contribution that tries to carry markup or
# script is refused outright, so the author learns it will not work and nothing is kept.
_MARKUP = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|style|svg|img|form|input|link|meta|base)\b"
    r"|javascript\s*:|\bon[a-z]+\s*=",
    re.IGNORECASE,
)


def _contribution_record(row: Contribution) -> str:
    """What a contribution's ciphertexts are bound to: its row, kind and section, so a
    database writer cannot turn a comment into an amendment or move it to another section."""
    return f"{row.id}:{row.kind}:{row.anchor or ''}"


def _validate_contribution(
    access: RoomAccess, current: Version, kind: str, anchor: str | None, text: str, today: date
) -> tuple[str, str]:
    room = access.room
    if room.state != RoomState.DRAFTING:
        raise WrongState(room.state)
    if today > room.contribution_deadline:
        raise DeadlinePassed
    if kind not in set(ContributionKind):
        raise InvalidInput("kind", "unknown")
    if anchor is None and kind != ContributionKind.COMMENT:
        raise UnknownSection
    base = current.section(anchor).markdown if anchor is not None else ""
    clean = clean_text(text, "text", MAX_CONTRIBUTION)
    if _MARKUP.search(clean):
        raise InvalidInput("text", "markup")
    return clean, base


_QUEUED_WORDING = (CONTRIBUTION_PUT, CONTRIBUTION_EDIT)


def _queued_wording(access: RoomAccess, db: Session) -> list[Write]:
    """This room's queued contributions and edits."""
    return [w for w in access.anonymous(db).pending(access.room.id) if w.action in _QUEUED_WORDING]


def _from_write(write: Write) -> Contribution:
    """A queued contribution as a (transient) row."""
    return Contribution(status=ContributionStatus.PENDING, decision=None, **write.row)


def _contribution_write(row: Contribution, action: str = CONTRIBUTION_PUT) -> Write:
    return Write(
        key=contribution_key(row.id),
        room_id=row.room_id,
        action=action,
        row={
            "id": row.id,
            "room_id": row.room_id,
            "anchor": row.anchor,
            "kind": row.kind,
            "author_tag": row.author_tag,
            "key_version": row.key_version,
            "content": row.content,
            "created_on": row.created_on,
        },
    )


def submit_contribution(
    db: Session,
    access: RoomAccess,
    kind: str,
    anchor: str | None,
    text: str,
    today: date,
) -> Contribution:
    """Propose an amendment or an addition to a section, or comment on it or the draft.

    The contribution goes through the member's anonymous channel (see
    statements/writes.py): in a request it is queued and committed later in a batch.
    """
    current = version(db, access)
    clean, base = _validate_contribution(access, current, kind, anchor, text, today)
    if _pending_count(db, access) >= access.room.pending_cap:
        raise PendingCapReached(access.room.pending_cap)
    contribution = Contribution(
        id=random_id(),
        room_id=access.room.id,
        anchor=anchor,
        kind=kind,
        key_version=access.room.key_version,
        created_on=today,
    )
    contribution.author_tag = access.tag(CONTRIBUTION_TAG, contribution.id)
    contribution.content = access.keyring.seal(
        "contribution",
        _contribution_record(contribution),
        access.room.key_version,
        {"text": clean, "base": base, "base_version": current.number},
    )
    access.anonymous(db).put(_contribution_write(contribution))
    return db.get(Contribution, contribution.id) or contribution


def _own_ids(db: Session, access: RoomAccess, *, pending_only: bool) -> set[str]:
    """This member's contributions, found by recomputing tags (no author is stored),
    with what they have queued and not yet withdrawn."""
    query = select(Contribution.id, Contribution.author_tag).where(
        Contribution.room_id == access.room.id
    )
    if pending_only:
        query = query.where(Contribution.status == ContributionStatus.PENDING)
    own = {
        cid
        for cid, tag in db.execute(query)
        if tags_equal(bytes(tag), access.tag(CONTRIBUTION_TAG, cid))
    }
    for write in access.anonymous(db).pending(access.room.id):
        if write.action not in (*_QUEUED_WORDING, CONTRIBUTION_DELETE):
            continue
        cid = str(write.row["id"])
        if not tags_equal(bytes(write.row["author_tag"]), access.tag(CONTRIBUTION_TAG, cid)):
            continue
        if write.action in _QUEUED_WORDING:
            own.add(cid)
        else:
            own.discard(cid)
    return own


def _pending_count(db: Session, access: RoomAccess) -> int:
    """This member's pending contributions, queued ones included."""
    return len(_own_ids(db, access, pending_only=True))


def _own(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    """One of this member's pending contributions, as stored or as queued."""
    if len(contribution_id) > 32:
        raise ContributionNotFound
    contribution = db.get(Contribution, contribution_id)
    queued = next(
        (w for w in _queued_wording(access, db) if w.row["id"] == contribution_id),
        None,
    )
    if queued is not None:
        contribution = _from_write(queued)
    if contribution is None or contribution.room_id != access.room.id:
        raise ContributionNotFound
    if contribution_id not in _own_ids(db, access, pending_only=False):
        raise ContributionNotFound
    if contribution.status != ContributionStatus.PENDING:
        raise NotPending
    return contribution


def _contribution(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    contribution = db.get(Contribution, contribution_id) if len(contribution_id) <= 32 else None
    if contribution is None or contribution.room_id != access.room.id:
        raise ContributionNotFound
    return contribution


def edit_contribution(
    db: Session, access: RoomAccess, contribution_id: str, text: str, today: date
) -> None:
    """Change one's own pending contribution."""
    contribution = _own(db, access, contribution_id)
    current = version(db, access)
    old = access.keyring.open(
        "contribution",
        _contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    clean, _base = _validate_contribution(
        access, current, contribution.kind, contribution.anchor, text, today
    )
    edited = Contribution(
        id=contribution.id,
        room_id=contribution.room_id,
        anchor=contribution.anchor,
        kind=contribution.kind,
        author_tag=contribution.author_tag,
        key_version=access.room.key_version,
        created_on=contribution.created_on,
    )
    edited.content = access.keyring.seal(
        "contribution",
        _contribution_record(edited),
        access.room.key_version,
        {**old, "text": clean},
    )
    # Stored already: an edit, which never brings back a contribution withdrawn since.
    # Still queued: the submission itself, with its new wording.
    stored = db.get(Contribution, contribution.id) is not None
    access.anonymous(db).put(
        _contribution_write(edited, CONTRIBUTION_EDIT if stored else CONTRIBUTION_PUT)
    )


def withdraw_contribution(db: Session, access: RoomAccess, contribution_id: str) -> None:
    """Withdraw one's own pending contribution: it is deleted with its supports."""
    contribution = _own(db, access, contribution_id)
    access.anonymous(db).put(
        Write(
            key=contribution_key(contribution.id),
            room_id=access.room.id,
            action=CONTRIBUTION_DELETE,
            row={"id": contribution.id, "author_tag": contribution.author_tag},
        )
    )


def _queued_supports(db: Session, access: RoomAccess) -> dict[str, bool]:
    """This member's queued supports: contribution id -> supported."""
    found: dict[str, bool] = {}
    for write in access.anonymous(db).pending(access.room.id):
        if write.action not in (SUPPORT_PUT, SUPPORT_DELETE):
            continue
        cid = str(write.row["contribution_id"])
        if tags_equal(bytes(write.row["tag"]), access.tag(SUPPORT_TAG, cid)):
            found[cid] = write.action == SUPPORT_PUT
    return found


def support(db: Session, access: RoomAccess, contribution_id: str, supported: bool) -> None:
    """Add or withdraw this member's anonymous +1."""
    contribution = _contribution(db, access, contribution_id)
    if contribution.status != ContributionStatus.PENDING:
        raise SupportRefused
    if tags_equal(contribution.author_tag, access.tag(CONTRIBUTION_TAG, contribution.id)):
        raise SupportRefused
    tag = access.tag(SUPPORT_TAG, contribution.id)
    stored = db.get(Support, (contribution.id, tag)) is not None
    current = _queued_supports(db, access).get(contribution.id, stored)
    if supported == current:
        return
    access.anonymous(db).put(
        Write(
            key=support_key(contribution.id, tag),
            room_id=access.room.id,
            action=SUPPORT_PUT if supported else SUPPORT_DELETE,
            row={"contribution_id": contribution.id, "tag": tag},
        )
    )


def _section_order(current: Version) -> Any:
    """An ORDER BY that puts contributions in section order, then by random id."""
    positions = {section.anchor: index for index, section in enumerate(current.sections)}
    if not positions:
        return Contribution.id
    return case(positions, value=Contribution.anchor, else_=len(positions))


def contributions_page(
    db: Session,
    access: RoomAccess,
    page: int,
    *,
    statuses: Sequence[str] | None = None,
    anchor: str | None = None,
    kind: str | None = None,
) -> tuple[list[ContributionView], int]:
    """A page of contributions in section order, decrypted once each, and the total.

    Members see every contribution except hidden ones; the statuses filter serves the
    moderation queue. The order (section, then random id) does not reveal submission.
    """
    current = version(db, access)
    if statuses is None:
        statuses = [s for s in ContributionStatus if s != ContributionStatus.HIDDEN]
    conditions = [Contribution.room_id == access.room.id, Contribution.status.in_(statuses)]
    if anchor:
        conditions.append(Contribution.anchor == anchor)
    if kind:
        conditions.append(Contribution.kind == kind)
    total = db.scalar(select(func.count()).select_from(Contribution).where(*conditions)) or 0
    rows = list(
        db.scalars(
            select(Contribution)
            .where(*conditions)
            .order_by(_section_order(current), Contribution.id)
            .limit(PAGE_SIZE)
            .offset(max(page - 1, 0) * PAGE_SIZE)
        )
    )
    return _views(db, access, rows), int(total)


def my_contributions(db: Session, access: RoomAccess) -> list[ContributionView]:
    """This member's own contributions with their status and any reason, queued ones
    included: a member sees what they sent at once, others when its batch is in."""
    own_ids = _own_ids(db, access, pending_only=False)
    queued = {
        str(w.row["id"]): _from_write(w)
        for w in _queued_wording(access, db)
        if w.row["id"] in own_ids
    }
    stored = {
        row.id: row for row in db.scalars(select(Contribution).where(Contribution.id.in_(own_ids)))
    }
    own = []
    for cid in own_ids:
        row = stored.get(cid)
        # A queued submission, or a queued edit of one still pending, shows as queued.
        if cid in queued and (row is None or row.status == ContributionStatus.PENDING):
            row = queued[cid]
        if row is not None:
            own.append(row)
    current = version(db, access)
    positions = {s.anchor: i for i, s in enumerate(current.sections)}
    result = _views(db, access, own)
    result.sort(key=lambda view: (positions.get(view.anchor or "", -1), view.id))
    return result


def _views(db: Session, access: RoomAccess, rows: Sequence[Contribution]) -> list[ContributionView]:
    """Contributions as pages show them: each decrypted once, supports in two queries."""
    ids = [row.id for row in rows]
    counts: dict[str, int] = {}
    supported: set[str] = set()
    if ids:
        counts = {
            cid: int(n)
            for cid, n in db.execute(
                select(Support.contribution_id, func.count())
                .where(Support.contribution_id.in_(ids))
                .group_by(Support.contribution_id)
            )
        }
        my_tags = [access.tag(SUPPORT_TAG, cid) for cid in ids]
        supported = set(
            db.scalars(
                select(Support.contribution_id).where(
                    Support.contribution_id.in_(ids), Support.tag.in_(my_tags)
                )
            )
        )
        # This member's own queued +1s show at once, in their count too.
        for cid, wanted in _queued_supports(db, access).items():
            if cid in ids and wanted != (cid in supported):
                counts[cid] = counts.get(cid, 0) + (1 if wanted else -1)
                supported.symmetric_difference_update({cid})
    views = []
    for row in rows:
        record = _contribution_record(row)
        data = access.keyring.open("contribution", record, row.key_version, row.content)
        decision = (
            access.keyring.open("decision", record, row.decision_key_version or 0, row.decision)
            if row.decision
            else {}
        )
        own = tags_equal(row.author_tag, access.tag(CONTRIBUTION_TAG, row.id))
        # A rejection's reason is for its author and the coordinators.
        told = own or access.is_coordinator
        views.append(
            ContributionView(
                id=row.id,
                anchor=row.anchor,
                kind=row.kind,
                status=row.status,
                # Hidden text is for the coordinators' eyes only, the author's included.
                text=str(data["text"])
                if row.status != ContributionStatus.HIDDEN or access.is_coordinator
                else "",
                created_on=row.created_on,
                supports=counts.get(row.id, 0),
                mine=own,
                supported=row.id in supported,
                reason=decision.get("reason") if told else None,
                note=decision.get("note") if told else None,
            )
        )
    return views


# --- moderation -----------------------------------------------------------------------


def _log(db: Session, access: RoomAccess, today: date, action: str, **details: Any) -> None:
    """An encrypted moderation-log entry: what was done, never who wrote what was acted on."""
    entry = ModerationEntry(
        id=random_id(),
        room_id=access.room.id,
        key_version=access.room.key_version,
        created_on=today,
    )
    entry.content = access.keyring.seal(
        "log", entry.id, access.room.key_version, {"action": action, **details}
    )
    db.add(entry)
    db.flush()


@dataclass(frozen=True)
class LogLine:
    """A moderation-log entry as coordinators read it."""

    created_on: date
    action: str
    contribution: str | None
    details: dict[str, Any]


def moderation_log(db: Session, access: RoomAccess, page: int) -> list[LogLine]:
    """The room's moderation log, newest day first."""
    access.require_coordinator()
    rows = db.scalars(
        select(ModerationEntry)
        .where(ModerationEntry.room_id == access.room.id)
        .order_by(ModerationEntry.created_on.desc(), ModerationEntry.id)
        .limit(PAGE_SIZE)
        .offset(max(page - 1, 0) * PAGE_SIZE)
    )
    lines = []
    for row in rows:
        data = access.keyring.open("log", row.id, row.key_version, row.content)
        action = str(data.pop("action"))
        lines.append(LogLine(row.created_on, action, data.pop("contribution", None), data))
    return lines


def _moderatable(db: Session, access: RoomAccess, contribution_id: str) -> Contribution:
    access.require_coordinator()
    if access.room.state not in (RoomState.DRAFTING, RoomState.CONSOLIDATING):
        raise WrongState(access.room.state)
    contribution = _contribution(db, access, contribution_id)
    if contribution.status != ContributionStatus.PENDING:
        raise NotPending
    return contribution


def _decide(
    db: Session,
    access: RoomAccess,
    contribution: Contribution,
    status: str,
    today: date,
    **decision: str,
) -> None:
    # Compare-and-swap on the status: an accept and a reject racing cannot both win.
    result = db.execute(
        update(Contribution)
        .where(
            Contribution.id == contribution.id, Contribution.status == ContributionStatus.PENDING
        )
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise NotPending
    set_committed_value(contribution, "status", status)
    if decision:
        # Under the current key: a member removed earlier must not read the reason.
        contribution.decision_key_version = access.room.key_version
        contribution.decision = access.keyring.seal(
            "decision", _contribution_record(contribution), access.room.key_version, decision
        )
    _log(db, access, today, status, contribution=contribution.id, **decision)


def reject(
    db: Session, access: RoomAccess, contribution_id: str, reason: str, note: str, today: date
) -> None:
    """Reject with a required reason and an optional note the author will see."""
    contribution = _moderatable(db, access, contribution_id)
    if reason not in REJECT_REASONS:
        raise InvalidInput("reason", "required")
    note = clean_text(note, "note", MAX_NOTE, required=False)
    _decide(db, access, contribution, ContributionStatus.REJECTED, today, reason=reason, note=note)


def hide(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Hide an abusive contribution: members no longer see its text."""
    contribution = _moderatable(db, access, contribution_id)
    _decide(db, access, contribution, ContributionStatus.HIDDEN, today)


def mark_incorporated(db: Session, access: RoomAccess, contribution_id: str, today: date) -> None:
    """Mark a contribution as worked into the draft by hand."""
    contribution = _moderatable(db, access, contribution_id)
    _decide(db, access, contribution, ContributionStatus.INCORPORATED, today)


def accept(
    db: Session,
    access: RoomAccess,
    contribution_id: str,
    expected: int,
    today: date,
    merged_text: str | None = None,
) -> int | None:
    """Accept a contribution; an amendment or addition becomes a new draft version.

    When the section changed after the contribution was written, and no hand-merged
    text is given, raises EditConflict: never a silent overwrite. Returns the new
    version number, or None for a comment.
    """
    contribution = _moderatable(db, access, contribution_id)
    current = version(db, access)
    if expected != current.number:
        raise VersionConflict(current.number)
    data = access.keyring.open(
        "contribution",
        _contribution_record(contribution),
        contribution.key_version,
        contribution.content,
    )
    if contribution.kind == ContributionKind.COMMENT:
        _decide(db, access, contribution, ContributionStatus.ACCEPTED, today)
        return None
    if contribution.anchor is None:
        raise UnknownSection
    section = current.section(contribution.anchor)
    proposed = str(data["text"])
    if merged_text is not None:
        text = clean_text(merged_text, "text", MAX_DRAFT)
    elif section.markdown != data["base"]:
        raise EditConflict(section.markdown, proposed, str(data["base"]))
    else:
        text = proposed
    new_sections: list[Section] = []
    for existing in current.sections:
        if existing.anchor != section.anchor:
            new_sections.append(existing)
        elif contribution.kind == ContributionKind.AMENDMENT:
            new_sections.extend(_reanchor(text, existing, current.sections))
        else:
            new_sections.append(existing)
            new_sections.extend(_reanchor(text, None, current.sections))
    # Accepted additions add up: every version stays within the limits, or it could not
    # be edited again.
    check_draft_size(new_sections, "text")
    note = f"Accepted a proposed {contribution.kind}"
    number = _commit_version(db, access, expected, new_sections, note, today)
    _decide(db, access, contribution, ContributionStatus.ACCEPTED, today)
    return number


def _reanchor(text: str, keep: Section | None, existing: Sequence[Section]) -> list[Section]:
    """Sections for new text: the first keeps `keep`'s anchor; the rest get fresh ones."""
    blocks = sections_from_markdown(text, list(existing))
    fresh: list[Section] = []
    taken = {section.anchor for section in existing}
    for index, block in enumerate(blocks):
        if index == 0 and keep is not None:
            fresh.append(Section(keep.anchor, block.markdown))
        elif block.anchor in taken:
            fresh.append(Section(_fresh_anchor(taken), block.markdown))
        else:
            fresh.append(block)
        taken.add(fresh[-1].anchor)
    return fresh


def _fresh_anchor(taken: set[str]) -> str:
    while True:
        anchor = f"s-{secrets.token_hex(4)}"
        if anchor not in taken:
            return anchor
