"""Release on a date: a statement signed now, public at a set time (an embargo).

Until its time an embargoed statement is in none of the public tables, and the log holds
only a salted hash of it, so no public page, API answer, feed, log endpoint or mirror can
show it. Its bundle is signed when it is scheduled, with the proof of that commitment
(statements/publishing/scheduled.py), so the release, by `flask release-embargoed` or by
the first public request after the time, needs no key. A press preview link (a random
secret kept only as its SHA-256) lets journalists read it before then. Takes a Session,
never commits, never imports flask.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crypto.bundle_format import bundle_sha256, canonical
from crypto.signing import SigningKey
from statements.drafting.access import RoomAccess, lock_room
from statements.drafting.log import log_action
from statements.drafting.versions import version
from statements.models import (
    Embargo,
    Endorsement,
    PressLink,
    PublishedStatement,
    PublishedVersion,
    Room,
    RoomState,
    SigningKeyRecord,
    StatementStatus,
    random_id,
)
from statements.publishing import endorsements, log, scheduled, service, signing_keys
from statements.publishing.errors import InvalidInput, SigningKeyNotShared, StatementNotFound
from statements.text.clean import clean_line
from statements.writes import QueueBusy

MAX_ZONE = 64
MAX_LABEL = 80
# Far enough for any planned launch; a typo of a year is refused.
LONGEST = timedelta(days=366)
TOKEN_BYTES = 32


@cache
def zones() -> frozenset[str]:
    """The IANA time zone names this system knows."""
    return frozenset(available_timezones())


def release_time(local: datetime | None, zone: str, now: datetime) -> tuple[datetime, str]:
    """A wall-clock time in a named zone, checked, as UTC; and the zone's name.

    Refused: an unknown zone, a time that does not exist there (the hour skipped when the
    clocks go forward), a time not in the future, or more than a year ahead.
    """
    zone = zone.strip()
    if not zone or len(zone) > MAX_ZONE or zone not in zones():
        raise InvalidInput("zone", "unknown")
    if local is None:
        raise InvalidInput("release_at", "format")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput("zone", "unknown") from None
    aware = local.replace(tzinfo=tz, second=0, microsecond=0)
    try:
        at = aware.astimezone(UTC)
    except OverflowError:
        # The first or last day a datetime can hold, shifted out of range by the zone.
        raise InvalidInput(
            "release_at", "past" if local < now.replace(tzinfo=None) else "far"
        ) from None
    if at.astimezone(tz).replace(tzinfo=None) != aware.replace(tzinfo=None):
        raise InvalidInput("release_at", "skipped")
    if at <= now:
        raise InvalidInput("release_at", "past")
    if at > now + LONGEST:
        raise InvalidInput("release_at", "far")
    return at, zone


def local_time(at: datetime, zone: str) -> datetime:
    """A release time as the wall clock shows it in its zone."""
    return at.astimezone(ZoneInfo(zone))


def of_room(db: Session, room_id: str) -> Embargo | None:
    """The room's embargo not yet released, if any."""
    return db.scalar(select(Embargo).where(Embargo.room_id == room_id))


def statement_of(row: Embargo) -> dict[str, Any]:
    """The signed statement an embargo will publish."""
    statement: dict[str, Any] = json.loads(row.statement)
    return statement


def _log(db: Session, access: RoomAccess | None, today: date, action: str, **details: Any) -> None:
    # The room log is sealed under the room key: only someone in the room can write it.
    if access is not None and access.is_coordinator:
        log_action(db, access, today, action, **details)


def _details(row: Embargo) -> dict[str, str]:
    return {"release_at": row.release_at.isoformat(), "zone": row.zone}


def set_embargo(
    db: Session,
    record: SigningKeyRecord,
    key: SigningKey,
    room: Room,
    statement: dict[str, Any],
    translation_of: str | None,
    release_at: datetime,
    zone: str,
) -> Embargo:
    """Sign a statement for its release, and commit to it in the log now."""
    position, bundle = scheduled.commit(db, statement, key, record.note_key_name)
    row = Embargo(
        id=random_id(),
        room_id=room.id,
        slug=statement["slug"],
        translation_of=translation_of,
        release_at=release_at,
        zone=zone,
        statement=canonical(statement),
        commitment_position=position,
        bundle=bundle,
    )
    db.add(row)
    db.flush()
    return row


def schedule(
    db: Session,
    access: RoomAccess,
    slug: str,
    origin: str,
    release_at: datetime,
    zone: str,
    today: date,
    *,
    translation_of: str | None = None,
    title: str | None = None,
) -> Embargo:
    """Sign the room's frozen text as publish() would, to be released at `release_at`.

    The room stays in sign-on, held: nothing about its endorsements can change, and a
    cancelled embargo leaves it as it was.
    """
    endorsements.require_signon(db, access)
    if access.anonymous(db).pending(access.room.id):
        raise QueueBusy
    day = release_at.date()
    title = clean_line(
        access.details()["title"] if title is None else title, "title", service.MAX_TITLE
    )
    slug = service.check_slug(db, slug)
    root = service.family_root(db, translation_of, access.room.language)
    signon = endorsements.sign_on(db, access, today)
    endorsements.require_reviewed(signon)
    record, key = signing_keys.unlock_signing_key(db, access.identity, origin, today, create=True)
    statement = service.new_statement(
        slug=slug,
        title=title,
        language=access.room.language,
        number=1,
        status=StatementStatus.PUBLISHED,
        today=day,
        body=version(db, access).markdown,
        previous=None,
        signatories=signon.public,
        anonymous=signon.anonymous,
        commitments=signon.commitment_fields(),
    )
    row = set_embargo(db, record, key, access.room, statement, root, release_at, zone)
    _log(db, access, today, "embargo_set", **_details(row))
    return row


def _locked(db: Session, room_id: str) -> tuple[SigningKeyRecord | None, Embargo]:
    # The log's lock first, as a release takes it: never the other way round.
    record = signing_keys.lock_log(db)
    row = db.scalar(
        select(Embargo)
        .where(Embargo.room_id == room_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise StatementNotFound
    return record, row


def change(
    db: Session, access: RoomAccess, release_at: datetime, zone: str, today: date
) -> Embargo:
    """Move the release to another time: the statement is signed again for its new date.

    Its old commitment is withdrawn in the log and a new one appended: the date is part
    of what was signed.
    """
    access.require_coordinator()
    _record, row = _locked(db, access.room.id)
    record, key = signing_keys.unlock_signing_key(db, access.identity, "", today)
    origin = record.note_key_name
    statement = statement_of(row)
    statement["published_on"] = release_at.date().isoformat()
    previous = _details(row)
    if row.commitment_position is not None:
        scheduled.withdraw(db, row.commitment_position, key, origin)
    row.commitment_position, row.bundle = scheduled.commit(db, statement, key, origin)
    row.statement = canonical(statement)
    row.release_at, row.zone = release_at, zone
    db.flush()
    _log(db, access, today, "embargo_changed", **_details(row), previous=previous["release_at"])
    return row


def cancel(db: Session, access: RoomAccess, today: date) -> None:
    """Call the publication off: nothing was public; the room is back in sign-on."""
    access.require_coordinator()
    _record, row = _locked(db, access.room.id)
    details = _details(row)
    position = row.commitment_position
    db.delete(row)
    db.execute(delete(PressLink).where(PressLink.room_id == access.room.id))
    db.flush()
    if position is not None:
        # Withdrawn in the log now when this coordinator holds the key; else with the
        # next entry anyone appends. Either way its row, with the salt, is deleted: this
        # site will never open it.
        try:
            record, key = signing_keys.unlock_signing_key(db, access.identity, "", today)
        except SigningKeyNotShared:
            scheduled.withdraw(db, position, None, "")
        else:
            scheduled.withdraw(db, position, key, record.note_key_name)
    _log(db, access, today, "embargo_cancelled", **details)


# --- the release ----------------------------------------------------------------------


def due(db: Session, now: datetime) -> bool:
    """Whether an embargo's time has come: one look at the index on release_at."""
    return db.scalar(select(Embargo.id).where(Embargo.release_at <= now).limit(1)) is not None


def next_release(db: Session) -> datetime | None:
    """The earliest release time still waiting, if any (from the index on release_at)."""
    return db.scalar(select(func.min(Embargo.release_at)))


@dataclass(frozen=True)
class Released:
    """What a release run did."""

    released: list[str]
    stale: list[str]


def pending(db: Session, *, lock: bool = False) -> list[Embargo]:
    """Every embargo not yet released, in the order of their release."""
    query = select(Embargo).order_by(Embargo.release_at, Embargo.slug)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(db.scalars(query))


def release_due(db: Session, now: datetime) -> Released:
    """Publish every embargo whose time has come, in order, with the bundle signed for it.

    Safe to run twice at once: the signing key's row lock (which every log append takes)
    puts the runs one after the other, and the second finds nothing left to release. One
    scheduled by an older version of this software has no commitment in the log: it
    waits, named in `stale`, until a coordinator holding the key sets its time again.
    """
    released: list[str] = []
    stale: list[str] = []
    if not due(db, now):
        return Released(released, stale)
    if signing_keys.lock_log(db) is None:
        return Released(released, stale)
    for row in pending(db, lock=True):
        if row.release_at > now:
            break
        if row.bundle is None or row.commitment_position is None:
            stale.append(row.slug)
            continue
        held = log.entry(db, row.commitment_position)
        if log.commitment_state(db, row.commitment_position, held) != log.WAITING:
            # Never: a withdrawn commitment's row is gone. Refused all the same.
            stale.append(row.slug)
            continue
        _release(db, row, row.bundle, row.commitment_position)
        released.append(row.slug)
    return Released(released, stale)


def _release(db: Session, row: Embargo, bundle: bytes, position: int) -> None:
    statement = statement_of(row)
    day = datetime.fromisoformat(statement["published_on"]).date()
    db.add(
        PublishedStatement(
            slug=row.slug,
            room_id=row.room_id,
            language=statement["language"],
            translation_of=row.translation_of,
            title=statement["title"],
            status=StatementStatus.PUBLISHED,
            latest_version=1,
            signatory_count=len(statement["signatories"]) + statement["anonymous_signatories"],
            first_published_on=day,
            updated_on=day,
        )
    )
    db.flush()
    db.add(
        PublishedVersion(
            slug=row.slug,
            version=1,
            status=StatementStatus.PUBLISHED,
            published_on=day,
            bundle=bundle,
            bundle_sha256=bundle_sha256(json.loads(bundle)),
            log_position=position,
        )
    )
    room = lock_room(db, row.room_id)
    room.state = RoomState.PUBLISHED
    # As publish(): the signatories live in the signed bundle now; their tags go.
    db.execute(delete(Endorsement).where(Endorsement.room_id == row.room_id))
    # The links now only lead to the public page. Their labels, often naming the
    # journalists or outlets that read it early, are not kept beyond the embargo.
    db.execute(update(PressLink).where(PressLink.room_id == row.room_id).values(label=""))
    db.delete(row)
    db.flush()


# --- press preview links --------------------------------------------------------------


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def make_press_link(db: Session, access: RoomAccess, label: str, today: date) -> str:
    """A new press link's secret (shown once; only its hash is kept)."""
    access.require_coordinator()
    if of_room(db, access.room.id) is None:
        raise StatementNotFound
    label = clean_line(label, "label", MAX_LABEL, required=False)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.add(PressLink(id=random_id(), room_id=access.room.id, token_hash=_hash(token), label=label))
    db.flush()
    _log(db, access, today, "press_link_made", label=label)
    return token


def press_links(db: Session, room_id: str) -> list[PressLink]:
    """A room's press links, revoked ones too, by their labels."""
    return list(
        db.scalars(
            select(PressLink)
            .where(PressLink.room_id == room_id)
            .order_by(PressLink.revoked, PressLink.label, PressLink.id)
        )
    )


def revoke_press_link(db: Session, access: RoomAccess, link_id: str, today: date) -> None:
    """Stop a press link working; whoever has it finds nothing there."""
    access.require_coordinator()
    row = db.get(PressLink, link_id) if len(link_id) <= 32 else None
    if row is None or row.room_id != access.room.id:
        raise StatementNotFound
    if not row.revoked:
        row.revoked = True
        db.flush()
        _log(db, access, today, "press_link_revoked", label=row.label)


@dataclass(frozen=True)
class Preview:
    """What a press link opens: the embargoed statement, or where it is published now."""

    embargo: Embargo | None
    published_slug: str | None


def preview(db: Session, token: str) -> Preview:
    """The statement behind a press link; StatementNotFound for any other secret."""
    # Found by the secret's hash through a unique index: a wrong guess costs the same
    # lookup as a right one, and nothing about the secret is compared byte by byte.
    if not 20 <= len(token) <= 100:
        raise StatementNotFound
    link = db.scalar(select(PressLink).where(PressLink.token_hash == _hash(token)))
    if link is None or link.revoked:
        raise StatementNotFound
    row = of_room(db, link.room_id)
    if row is not None:
        return Preview(row, None)
    published = service.room_statement(db, link.room_id)
    if published is None:
        raise StatementNotFound
    return Preview(None, published.slug)
