"""What each proposal holds, and carrying it out once a second person approves.

The content is computed when the action is proposed, from what the proposer sees; the
approver is shown that content and nothing else is done. Each action checks, before it
signs or destroys, that the world still matches what was proposed (the statement's last
version, the room's text and sign-on, the key in use), else ProposalChanged.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto import commitments as commitment_fields
from statements.auth.service import Identity
from statements.control.errors import ProposalChanged, ProposalClosed
from statements.drafting import rooms
from statements.drafting.access import RoomAccess, lock_room
from statements.drafting.errors import WrongState
from statements.drafting.versions import version
from statements.models import (
    Contribution,
    Embargo,
    Endorsement,
    EndorsementKind,
    PublishedStatement,
    Room,
    RoomState,
    StatementStatus,
)
from statements.publishing import commitments, embargo, endorsements, families, signing_keys
from statements.publishing import service as publishing
from statements.publishing.errors import (
    InvalidInput,
    NoSigningKey,
    StatementNotFound,
    StatementRetracted,
)
from statements.text.clean import MAX_NOTE, clean_line, clean_text
from statements.writes import QueueBusy

MAX_REASON = MAX_NOTE


# --- what is proposed -----------------------------------------------------------------


def _signatories(items: list[endorsements.Signatory]) -> list[dict[str, str]]:
    return [{"name": s.name, "country": s.country} for s in items]


def publication(
    db: Session,
    access: RoomAccess,
    slug: str,
    today: date,
    translation_of: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """What publishing the room would sign, checked as publishing checks it."""
    endorsements.require_signon(db, access)
    if access.anonymous(db).pending(access.room.id):
        raise QueueBusy
    details = access.details()
    title = clean_line(details["title"] if title is None else title, "title", publishing.MAX_TITLE)
    slug = publishing.check_slug(db, slug)
    root = publishing.family_root(db, translation_of, access.room.language)
    signon = endorsements.sign_on(db, access, today)
    endorsements.require_reviewed(signon)
    return {
        "slug": slug,
        "title": title,
        "language": access.room.language,
        "translation_of": root,
        "body_markdown": version(db, access).markdown,
        "draft_version": access.room.current_version,
        "signatories": _signatories(signon.public),
        "anonymous_signatories": signon.anonymous,
    }


def correction(
    db: Session,
    identity: Identity,
    slug: str,
    *,
    title: str,
    body: str,
    signatories: str,
    reason: str,
    letters: int = 0,
    removals: str = "",
    for_safety: bool = False,
) -> dict[str, Any]:
    """What correcting the statement would sign, checked as correcting checks it.

    The anonymous count is not proposed: the removals (each with its reason) and the
    number of letters are, and the count follows from them when it is signed.
    """
    latest = publishing.editable_statement(db, identity, slug)
    if latest.statement["status"] == StatementStatus.RETRACTED:
        raise StatementRetracted
    removed = commitments.parse_removals(removals)
    anonymous, _ = commitments.next_commitments(latest.statement, letters, removed)
    return {
        "slug": latest.statement["slug"],
        "previous_bundle_sha256": latest.row.bundle_sha256,
        "title": clean_line(title, "title", publishing.MAX_TITLE),
        "body_markdown": clean_text(body, "body", publishing.MAX_BODY),
        "signatories": _signatories(publishing.parse_signatories(signatories)),
        "anonymous_signatories": anonymous,
        "letters": letters,
        "removals": [[leaf.hex(), why] for leaf, why in removed],
        "reason": clean_text(reason, "reason", publishing.MAX_REASON),
        "for_safety": for_safety,
    }


def retraction(
    db: Session, identity: Identity, slug: str, notice: str, *, reason: str
) -> dict[str, Any]:
    """What retracting the statement would sign."""
    latest = publishing.editable_statement(db, identity, slug)
    if latest.statement["status"] == StatementStatus.RETRACTED:
        raise StatementRetracted
    return {
        "slug": latest.statement["slug"],
        "previous_bundle_sha256": latest.row.bundle_sha256,
        "title": latest.statement["title"],
        "body_markdown": clean_text(notice, "notice", publishing.MAX_BODY),
        "reason": clean_text(reason, "reason", publishing.MAX_REASON),
    }


def sealing(db: Session, access: RoomAccess, typed_title: str) -> dict[str, Any]:
    """What sealing the room destroys: every key of the room named here."""
    access.require_coordinator()
    rooms.check_seal_title(access, typed_title)
    return {
        "room_title": access.details()["title"],
        "draft_versions": access.room.current_version,
        "contributions": _contributions(db, access.room.id),
    }


def _contributions(db: Session, room_id: str) -> int:
    return int(
        db.scalar(
            select(func.count()).select_from(Contribution).where(Contribution.room_id == room_id)
        )
        or 0
    )


def moderation_change(access: RoomAccess, mode: str, reason: str) -> dict[str, Any]:
    """The room's moderation mode from what it is to what is proposed, and why."""
    access.require_coordinator()
    if access.room.state == RoomState.PUBLISHED:
        raise WrongState(access.room.state)
    if mode not in ("pre", "post"):
        raise InvalidInput("moderation", "unknown")
    return {
        "room_title": access.details()["title"],
        "previous": access.room.moderation,
        "mode": mode,
        "reason": clean_text(reason, "reason", MAX_REASON),
    }


def key_replacement(db: Session) -> dict[str, Any]:
    """Which key would be retired."""
    record = signing_keys.active_key(db)
    if record is None:
        raise NoSigningKey
    return {"key_id": record.key_id}


# --- carrying out ---------------------------------------------------------------------


def _signed(items: list[dict[str, str]]) -> list[endorsements.Signatory]:
    return [endorsements.Signatory(item["name"], item["country"]) for item in items]


def _checked(
    db: Session, room_id: str, content: dict[str, Any], *, queued: bool
) -> tuple[Room, str, str | None, int, dict[str, Any]]:
    """The room, slug, family root, anonymous count and the commitments group to sign, if
    all is still as proposed."""
    room = lock_room(db, room_id)
    if room.state != RoomState.SIGN_ON or room.current_version != content["draft_version"]:
        raise ProposalChanged
    if queued:
        raise QueueBusy
    counts = dict(
        db.execute(
            select(Endorsement.kind, func.count())
            .where(Endorsement.room_id == room_id)
            .group_by(Endorsement.kind)
        ).all()
    )
    public = counts.get(EndorsementKind.PUBLIC, 0) + counts.get(EndorsementKind.RECEIVED, 0)
    anonymous = counts.get(EndorsementKind.ANONYMOUS, 0)
    if public != len(content["signatories"]) or anonymous != content["anonymous_signatories"]:
        raise ProposalChanged
    group = commitment_fields.make_fields(
        list(
            db.scalars(
                select(Endorsement.commitment).where(
                    Endorsement.room_id == room_id,
                    Endorsement.kind == EndorsementKind.ANONYMOUS,
                    Endorsement.commitment.is_not(None),
                )
            )
        )
    )
    if len(group["anonymous_commitments"]) != anonymous:
        raise ProposalChanged
    slug = publishing.check_slug(db, content["slug"])
    root = publishing.family_root(db, content["translation_of"], room.language)
    return room, slug, root, anonymous, group


def _first_version(
    room: Room,
    slug: str,
    content: dict[str, Any],
    anonymous: int,
    group: dict[str, Any],
    day: date,
) -> dict[str, Any]:
    """The signed fields of version 1 of what was proposed, published on `day`."""
    return publishing.new_statement(
        slug=slug,
        title=content["title"],
        language=room.language,
        number=1,
        status=StatementStatus.PUBLISHED,
        today=day,
        body=content["body_markdown"],
        previous=None,
        signatories=_signed(content["signatories"]),
        anonymous=anonymous,
        commitments=group,
    )


def release_time(content: dict[str, Any], now: datetime) -> datetime | None:
    """When an approved publication is released: None for at once (also when the time
    set in the proposal passed while it waited for approval)."""
    if not content.get("release_at"):
        return None
    at = datetime.fromisoformat(content["release_at"])
    return at if at > now else None


def schedule(
    db: Session,
    identity: Identity,
    room_id: str,
    content: dict[str, Any],
    origin: str,
    release_at: datetime,
    today: date,
    *,
    queued: bool,
) -> Embargo:
    """Sign what was proposed, to be released at the time the proposal named; the release
    itself then needs no second approval: this one approved "publish at that time"."""
    room, slug, root, anonymous, group = _checked(db, room_id, content, queued=queued)
    day = release_at.date()
    record, key = signing_keys.unlock_signing_key(db, identity, origin, today, create=True)
    statement = _first_version(room, slug, content, anonymous, group, day)
    return embargo.set_embargo(
        db, record, key, room, statement, root, release_at, str(content["zone"])
    )


def publish(
    db: Session,
    identity: Identity,
    room_id: str,
    content: dict[str, Any],
    origin: str,
    today: date,
    *,
    queued: bool,
) -> PublishedStatement:
    """Sign and publish what was proposed, if the room is still as it was proposed; of a
    family (several languages at once), every language, and the source is returned."""
    room, slug, root, anonymous, group = _checked(db, room_id, content, queued=queued)
    if content.get("languages"):
        families.check_family_slugs(db, content)
        record, key = signing_keys.unlock_signing_key(db, identity, origin, today, create=True)
        # The commitments as they are now: _checked found their count unchanged.
        signed = {**content, "commitments": group if anonymous else {}}
        return families.sign_family(db, record, key, room, signed, today)[0]
    record, key = signing_keys.unlock_signing_key(db, identity, origin, today, create=True)
    signatories = _signed(content["signatories"])
    statement = _first_version(room, slug, content, anonymous, group, today)
    published = PublishedStatement(
        slug=slug,
        room_id=room.id,
        language=room.language,
        translation_of=root,
        title=content["title"],
        status=StatementStatus.PUBLISHED,
        latest_version=1,
        signatory_count=len(signatories) + anonymous,
        first_published_on=today,
        updated_on=today,
    )
    db.add(published)
    db.flush()
    publishing.append_version(db, record, key, statement)
    room.state = RoomState.PUBLISHED
    # As publishing.publish: the tags that deduplicated endorsements go with publication.
    db.execute(delete(Endorsement).where(Endorsement.room_id == room.id))
    db.flush()
    return published


def _current(db: Session, content: dict[str, Any]) -> PublishedStatement:
    published = db.get(PublishedStatement, content["slug"])
    if published is None:
        raise StatementNotFound
    if publishing.latest(db, published.slug).row.bundle_sha256 != content["previous_bundle_sha256"]:
        # Another version was published since: the approver saw a change to an old one.
        raise ProposalChanged
    return published


def correct(
    db: Session, identity: Identity, content: dict[str, Any], today: date
) -> PublishedStatement:
    """Sign and publish the proposed correction."""
    signatories = _signed(content["signatories"])
    return publishing.sign_next_version(
        db,
        identity,
        _current(db, content),
        today,
        status=StatementStatus.CORRECTED,
        title=content["title"],
        body=content["body_markdown"],
        signatories=signatories,
        reason=content["reason"],
        letters=int(content.get("letters", 0)),
        removals=[(bytes.fromhex(leaf), why) for leaf, why in content.get("removals", [])],
        for_safety=bool(content["for_safety"]),
    )


def retract(
    db: Session, identity: Identity, content: dict[str, Any], today: date
) -> PublishedStatement:
    """Sign and publish the proposed retraction notice."""
    return publishing.sign_next_version(
        db,
        identity,
        _current(db, content),
        today,
        status=StatementStatus.RETRACTED,
        title=content["title"],
        body=content["body_markdown"],
        signatories=[],
        reason=content["reason"],
    )


def seal(db: Session, room_id: str) -> Room:
    """Destroy every key of the room."""
    room = db.get(Room, room_id)
    if room is None or room.sealed:
        raise ProposalClosed
    return rooms.destroy_room_keys(db, room_id)


def change_moderation(
    db: Session,
    room_id: str,
    content: dict[str, Any],
    today: date,
    access: RoomAccess | None,
) -> None:
    """Switch the moderation mode; logged in the room when the approver holds its key."""
    room = lock_room(db, room_id)
    if room.state == RoomState.PUBLISHED or room.moderation != content["previous"]:
        raise ProposalChanged
    if access is not None:
        rooms.set_moderation_mode(db, access, content["mode"], content["reason"], today)
    else:
        room.moderation = content["mode"]
        db.flush()


def replace_key(db: Session, identity: Identity, content: dict[str, Any], today: date) -> str:
    """Replace the signing key proposed for replacement; the new key's id."""
    record = signing_keys.active_key(db)
    if record is None or record.key_id != content["key_id"]:
        raise ProposalChanged
    return signing_keys.rotate_signing_key(db, identity, today, approved=True).key_id
