"""Rooms and membership: opening a room, its lifecycle, sealing, members and coordinators.

Members are shown to coordinators by a per-room number, never by account; removing or
losing a member moves the room to a key they never hold.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crypto.keys import new_key, open_sealed
from statements.auth.service import Identity
from statements.drafting.access import (
    ENDORSEMENT_TAG,
    ROOM_KEY,
    Keyring,
    RoomAccess,
    close_invitations,
    grant_keys,
    key_owner,
    lock_room,
    rotate_room_key,
)
from statements.drafting.consent import CHECK_STATES, close_open_checks
from statements.drafting.errors import (
    InvalidInput,
    LastCoordinator,
    MemberNotFound,
    NotEligible,
    TitleMismatch,
    UndecidedContributions,
    WrongState,
)
from statements.drafting.log import log_action
from statements.drafting.versions import MAX_DRAFT, add_version, check_draft_size
from statements.models import (
    Account,
    Contribution,
    ContributionStatus,
    Invitation,
    ModerationMode,
    Role,
    Room,
    RoomKey,
    RoomMember,
    RoomRole,
    RoomState,
    random_id,
)
from statements.text.clean import MAX_NOTE, clean_line, clean_text
from statements.text.markdown import sections_from_markdown
from statements.writes import endorsement_withdrawal

LANGUAGES = {
    "en": "English",
    "th": "Thai",
    "my": "Burmese",
    "ms": "Malay",
    "fa": "Farsi",
    "prs": "Dari",
    "ps": "Pashto",
    "id": "Indonesian",
    "km": "Khmer",
    "ar": "Arabic",
    "bn": "Bengali",
    "ur": "Urdu",
}
MAX_TITLE = 200
MAX_SUMMARY = 4_000


@dataclass(frozen=True)
class RoomInput:
    """What a coordinator types to open a room."""

    title: str
    language: str
    summary: str
    markdown: str
    contribution_deadline: date
    signon_deadline: date
    moderation: str = ModerationMode.PRE
    # Languages the draft is kept in besides the source (see translations.py).
    working_languages: tuple[str, ...] = ()


# A room works in a handful of languages; a long list is a mistake or an attack.
MAX_WORKING_LANGUAGES = len(LANGUAGES) - 1


def check_working_languages(source: str, languages: Sequence[str]) -> str:
    """The working languages as stored (space-separated, in the order given, once each).

    InvalidInput for an unknown code, the source language itself, or too many.
    """
    chosen = list(dict.fromkeys(code.strip() for code in languages if code.strip()))
    if any(code not in LANGUAGES for code in chosen):
        raise InvalidInput("working_languages", "unknown")
    if source in chosen:
        raise InvalidInput("working_languages", "source")
    if len(chosen) > MAX_WORKING_LANGUAGES:
        raise InvalidInput("working_languages", "too_many")
    return " ".join(chosen)


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
    if data.moderation not in set(ModerationMode):
        raise InvalidInput("moderation", "unknown")
    working = check_working_languages(data.language, data.working_languages)
    room = Room(
        working_languages=working,
        moderation=data.moderation,
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
    grant_keys(db, room.id, keyring, identity.account)
    sections = sections_from_markdown(markdown)
    if not sections:
        raise InvalidInput("markdown", "required")
    check_draft_size(sections)
    add_version(db, room, keyring, 1, sections, "First draft", today)
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
                owner=key_owner(room.id, 1),
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


def undecided_count(db: Session, room_id: str) -> int:
    """Contributions of a room still waiting for a coordinator's decision."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(Contribution)
            .where(
                Contribution.room_id == room_id,
                Contribution.status == ContributionStatus.PENDING,
            )
        )
        or 0
    )


def change_state(
    db: Session, access: RoomAccess, target: str, today: date, *, leave_undecided: bool = False
) -> None:
    """Move the room to the next state of the lifecycle.

    Closing contributions or freezing the text while some wait for a decision is refused
    (UndecidedContributions) until the coordinator confirms leaving them undecided: an
    author must not be left with an eternal "pending" nobody chose.
    """
    access.require_coordinator()
    allowed = TRANSITIONS.get(RoomState(access.room.state), ())
    if target not in allowed:
        raise WrongState(access.room.state)
    closing = target in (RoomState.CONSOLIDATING, RoomState.SIGN_ON)
    if closing and not leave_undecided:
        count = undecided_count(db, access.room.id)
        if count:
            raise UndecidedContributions(count)
    previous = access.room.state
    access.room.state = target
    log_action(db, access, today, "state", state=target, previous=previous)
    if target not in CHECK_STATES:
        # Consent checks belong to drafting: the frozen text closes them with their results.
        close_open_checks(db, access, today)


def set_moderation_mode(
    db: Session, access: RoomAccess, mode: str, reason: str, today: date
) -> None:
    """Switch between pre- and post-moderation, with a reason for the moderation log."""
    access.require_coordinator()
    if access.room.state == RoomState.PUBLISHED:
        raise WrongState(access.room.state)
    if mode not in set(ModerationMode):
        raise InvalidInput("moderation", "unknown")
    reason = clean_text(reason, "reason", MAX_NOTE)
    if mode == access.room.moderation:
        return
    access.room.moderation = mode
    log_action(db, access, today, "moderation_mode", mode=mode, note=reason)


def seal_room(db: Session, access: RoomAccess, typed_title: str) -> None:
    """Destroy every wrap of the room's keys: its drafting history is unreadable forever."""
    access.require_coordinator()
    check_seal_title(access, typed_title)
    destroy_room_keys(db, access.room.id)
    access.room.sealed = True
    access.keyring.keys.clear()
    db.flush()


def check_seal_title(access: RoomAccess, typed_title: str) -> None:
    """The coordinator typed the room's working title, so it is this room they mean."""
    typed = unicodedata.normalize("NFC", typed_title).strip()
    if typed != unicodedata.normalize("NFC", access.details()["title"]):
        raise TitleMismatch


def destroy_room_keys(db: Session, room_id: str) -> Room:
    """Delete every wrap of a room's keys and mark it sealed (it needs no key to do)."""
    room = lock_room(db, room_id)
    db.execute(delete(RoomKey).where(RoomKey.room_id == room_id))
    db.execute(
        update(Invitation)
        .where(Invitation.room_id == room_id)
        .values(wrapped_keys=None, sealed_keys=None, link_once=None, revoked=True)
    )
    room.sealed = True
    db.flush()
    return room


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


def remove_member(db: Session, access: RoomAccess, number: str, today: date) -> bool:
    """Remove a member and rotate the room key, so they cannot read what follows.

    Open invitations receive the new key and keep working, unless the one removed is a
    coordinator: they may know the links, so every open invitation is withdrawn.
    Returns True when the open invitations were kept.
    """
    access.require_coordinator()
    membership = _member_by_number(db, access.room.id, number)
    if membership.account_id == access.identity.account.id:
        raise MemberNotFound
    keep = membership.role != RoomRole.COORDINATOR
    _drop(db, membership)
    if not keep:
        close_invitations(db, access.room.id)
    rotate_room_key(db, access)
    log_action(db, access, today, "member_removed", invitations="kept" if keep else "withdrawn")
    return keep


def leave_room(db: Session, access: RoomAccess) -> None:
    """Leave a room. The next member to open it rotates its key, so nothing written
    after the leaver goes is readable to them; open invitations receive the new key then,
    unless the leaver coordinated the room and may know their links."""
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
        access.anonymous(db).put(endorsement_withdrawal(access.room.id, tag))
    _drop(db, access.membership)
    # The leaver must not choose the next key, so a remaining member rotates it; every
    # write goes through open_room, which rotates first.
    access.room.rotation_due = True
    if access.is_coordinator:
        close_invitations(db, access.room.id)
    db.flush()


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
    grant_keys(db, access.room.id, access.keyring, account)
    db.flush()
