"""Publication: versions, translations' families, corrections, retractions, and reading
what is published.

Takes a Session, never commits, never imports flask. Everything published is appended,
never edited or deleted in place. Signing needs the key a coordinator unlocks
(signing_keys.py) and a sign-on whose endorsements are all reviewed (endorsements.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto.bundle import make_bundle, make_log_entry
from crypto.bundle_format import FAMILY_FIELDS, body_sha256, bundle_sha256, canonical
from crypto.changes import make_changes
from crypto.signing import SigningKey
from statements.auth.service import Identity
from statements.drafting.access import RoomAccess
from statements.drafting.versions import version
from statements.models import (
    Embargo,
    Endorsement,
    PublishedStatement,
    PublishedVersion,
    RoomMember,
    RoomRole,
    RoomState,
    SigningKeyRecord,
    StatementStatus,
)
from statements.publishing import commitments, log
from statements.publishing.endorsements import (
    Signatory,
    require_reviewed,
    require_signon,
    sign_on,
    signatory_payload,
    sort_signatories,
)
from statements.publishing.errors import (
    InvalidInput,
    NotAllowed,
    SlugTaken,
    StatementNotFound,
    StatementRetracted,
)
from statements.publishing.signing_keys import unlock_signing_key
from statements.text.clean import clean_line, clean_text
from statements.writes import QueueBusy

MAX_TITLE = 200
MAX_BODY = 200_000
MAX_SIGNATORIES = 5_000
MAX_ANONYMOUS = 100_000
# The public reason of a correction or retraction, signed into its bundle.
MAX_REASON = 1000
SLUG_MIN, SLUG_MAX = 3, 80
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


# --- publication ----------------------------------------------------------------------


def suggest_slug(title: str, today: date) -> str:
    """A web address for a title: its Latin letters and digits, else the date."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    if len(slug) < SLUG_MIN:
        slug = f"statement-{today.isoformat()}"
    return slug


def check_slug(db: Session, slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX or not _SLUG.fullmatch(slug):
        raise InvalidInput("slug", "format")
    if db.get(PublishedStatement, slug) is not None:
        raise SlugTaken
    # An embargoed statement holds its address until its release (or cancellation).
    if db.scalar(select(Embargo.id).where(Embargo.slug == slug)) is not None:
        raise SlugTaken
    return slug


def append_version(
    db: Session,
    record: SigningKeyRecord,
    key: SigningKey,
    statement: dict[str, Any],
) -> PublishedVersion:
    """Log, sign and store one version; the stored bundle is never changed afterwards."""
    origin = record.note_key_name
    position, hashes, checkpoint = log.append(db, log.STATEMENT, canonical(statement), key, origin)
    bundle = make_bundle(statement, key, make_log_entry(hashes, position, origin, checkpoint))
    row = PublishedVersion(
        slug=statement["slug"],
        version=statement["version"],
        status=statement["status"],
        published_on=date.fromisoformat(statement["published_on"]),
        bundle=canonical(bundle),
        bundle_sha256=bundle_sha256(bundle),
        log_position=position,
    )
    db.add(row)
    db.flush()
    return row


def new_statement(
    *,
    slug: str,
    title: str,
    language: str,
    number: int,
    status: str,
    today: date,
    body: str,
    previous: str | None,
    signatories: Sequence[Signatory],
    anonymous: int,
    commitments: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The signed fields of a version; with its commitments group, the anonymous count
    is the number of commitments, never a number typed."""
    if commitments and len(commitments["anonymous_commitments"]) != anonymous:
        raise ValueError("the anonymous count is not the number of commitments")
    return {
        "slug": slug,
        "title": title,
        "language": language,
        "version": number,
        "status": status,
        "published_on": today.isoformat(),
        "body_markdown": body,
        "body_sha256": body_sha256(body),
        "previous_bundle_sha256": previous,
        "signatories": [{"name": s.name, "country": s.country} for s in signatories],
        "anonymous_signatories": anonymous,
        **(commitments or {}),
    }


def family_root(db: Session, translation_of: str | None, language: str) -> str | None:
    """The original a translation belongs with, checked: one statement per language."""
    if not translation_of:
        return None
    original = (
        db.get(PublishedStatement, translation_of) if len(translation_of) <= SLUG_MAX else None
    )
    if original is None:
        raise InvalidInput("translation_of", "unknown")
    root = original.translation_of or original.slug
    family = db.scalars(
        select(PublishedStatement.language).where(
            (PublishedStatement.slug == root) | (PublishedStatement.translation_of == root)
        )
    )
    if language in set(family):
        raise InvalidInput("translation_of", "same_language")
    return root


def family(db: Session, published: PublishedStatement) -> list[PublishedStatement]:
    """The other languages of a statement: its original and the original's translations."""
    root = published.translation_of or published.slug
    return list(
        db.scalars(
            select(PublishedStatement)
            .where(
                (PublishedStatement.slug == root) | (PublishedStatement.translation_of == root),
                PublishedStatement.slug != published.slug,
            )
            .order_by(PublishedStatement.language)
        )
    )


def publish(
    db: Session,
    access: RoomAccess,
    slug: str,
    origin: str,
    today: date,
    translation_of: str | None = None,
    title: str | None = None,
) -> PublishedStatement:
    """Sign and publish the room's frozen text with its signatories, as version 1.

    The title is the room's working title unless another is given; either way it meets
    the one rule for titles before it is signed. A translation names the published
    original it translates; each language is a statement of its own, signed on its own.
    """
    require_signon(db, access)
    # Under the room's lock, nothing of the room may still wait in the mixer's queue:
    # what is signed must hold every endorsement made before (the page flushes first).
    if access.anonymous(db).pending(access.room.id):
        raise QueueBusy
    title = clean_line(access.details()["title"] if title is None else title, "title", MAX_TITLE)
    slug = check_slug(db, slug)
    root = family_root(db, translation_of, access.room.language)
    signon = sign_on(db, access, today)
    require_reviewed(signon)
    record, key = unlock_signing_key(db, access.identity, origin, today, create=True)
    statement = new_statement(
        slug=slug,
        title=title,
        language=access.room.language,
        number=1,
        status=StatementStatus.PUBLISHED,
        today=today,
        body=version(db, access).markdown,
        previous=None,
        signatories=signon.public,
        anonymous=signon.anonymous,
        commitments=signon.commitment_fields(),
    )
    published = PublishedStatement(
        slug=slug,
        room_id=access.room.id,
        language=access.room.language,
        translation_of=root,
        title=title,
        status=StatementStatus.PUBLISHED,
        latest_version=1,
        signatory_count=len(signon.public) + signon.anonymous,
        first_published_on=today,
        updated_on=today,
    )
    db.add(published)
    db.flush()
    append_version(db, record, key, statement)
    access.room.state = RoomState.PUBLISHED
    # The signatories now live in the signed bundle; the tags that deduplicated them are
    # of no further use, and what is not kept cannot be seized.
    db.execute(delete(Endorsement).where(Endorsement.room_id == access.room.id))
    db.flush()
    return published


def _coordinated(db: Session, identity: Identity, slug: str) -> PublishedStatement:
    statement = db.get(PublishedStatement, slug) if len(slug) <= SLUG_MAX else None
    if statement is None:
        raise StatementNotFound
    membership = (
        db.get(RoomMember, (statement.room_id, identity.account.id)) if statement.room_id else None
    )
    if membership is None or membership.role != RoomRole.COORDINATOR:
        raise NotAllowed
    return statement


@dataclass(frozen=True)
class PublishedView:
    """A published version with its bundle parsed."""

    row: PublishedVersion
    bundle: dict[str, Any]

    @property
    def statement(self) -> dict[str, Any]:
        """The signed statement."""
        statement: dict[str, Any] = self.bundle["statement"]
        return statement


def _view(row: PublishedVersion) -> PublishedView:
    return PublishedView(row, json.loads(row.bundle))


def editable_statement(db: Session, identity: Identity, slug: str) -> PublishedView:
    """The latest version of a statement this coordinator may correct or retract."""
    statement = _coordinated(db, identity, slug)
    return latest(db, statement.slug)


def parse_signatories(text: str) -> list[Signatory]:
    """Read "Name | Country" lines (the country optional) into signatories."""
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    if len(lines) > MAX_SIGNATORIES:
        raise InvalidInput("signatories", "too_many")
    signatories = []
    for line in lines:
        name, _, country = line.partition("|")
        payload = signatory_payload(name, country)
        signatories.append(Signatory(payload["name"], payload["country"]))
    return sort_signatories(signatories)


def _next_version(
    db: Session,
    identity: Identity,
    slug: str,
    today: date,
    *,
    status: str,
    title: str,
    body: str,
    signatories: Sequence[Signatory],
    reason: str,
    letters: int = 0,
    removals: Sequence[tuple[bytes, str]] = (),
    for_safety: bool = False,
) -> PublishedStatement:
    return sign_next_version(
        db,
        identity,
        _coordinated(db, identity, slug),
        today,
        status=status,
        title=title,
        body=body,
        signatories=signatories,
        reason=reason,
        letters=letters,
        removals=removals,
        for_safety=for_safety,
    )


def sign_next_version(
    db: Session,
    identity: Identity,
    published: PublishedStatement,
    today: date,
    *,
    status: str,
    title: str,
    body: str,
    signatories: Sequence[Signatory],
    reason: str,
    letters: int = 0,
    removals: Sequence[tuple[bytes, str]] = (),
    for_safety: bool = False,
) -> PublishedStatement:
    """Sign and append version n+1 of a statement the caller was allowed to change, with
    its public reason and what changed signed in (bundle format 2, crypto/changes.py).

    The anonymous count is never typed: it is the previous version's commitments, less
    the `removals` (each with its reason), plus `letters` endorsements received by
    letter, each a fresh commitment marked so (publishing/commitments.py). A retraction
    names nobody and counts nobody.
    """
    reason = clean_text(reason, "reason", MAX_REASON)
    slug = published.slug
    if published.status == StatementStatus.RETRACTED:
        raise StatementRetracted
    previous = latest(db, slug)
    if status == StatementStatus.RETRACTED:
        anonymous, group = 0, None
    else:
        anonymous, group = commitments.next_commitments(previous.statement, letters, removals)
    record, key = unlock_signing_key(db, identity, origin="", today=today)
    number = published.latest_version + 1
    statement = new_statement(
        slug=slug,
        title=title,
        language=published.language,
        number=number,
        status=status,
        today=today,
        body=body,
        previous=previous.row.bundle_sha256,
        signatories=signatories,
        anonymous=anonymous,
        commitments=group,
    )
    # A language of a family stays one: each of its versions names the same authoritative
    # language and family (see publishing/families.py).
    statement.update(
        {name: previous.statement[name] for name in FAMILY_FIELDS & previous.statement.keys()}
    )
    statement.update(
        make_changes(
            previous.statement,
            status=status,
            signatories=statement["signatories"],
            anonymous=anonymous,
            reason=reason,
            for_safety=for_safety,
        )
    )
    append_version(db, record, key, statement)
    published.title = title
    published.status = status
    published.latest_version = number
    published.signatory_count = len(signatories) + anonymous
    published.updated_on = today
    db.flush()
    return published


def correct(
    db: Session,
    identity: Identity,
    slug: str,
    today: date,
    *,
    title: str,
    body: str,
    signatories: str,
    reason: str,
    letters: int = 0,
    removals: str = "",
    for_safety: bool = False,
) -> PublishedStatement:
    """Publish a corrected version n+1, linked to version n by its bundle hash, with its
    public reason; `for_safety`: the signatories it removes asked to be, for their safety,
    and are counted in the summary, never named. `letters`: anonymous endorsements
    received by letter to add; `removals`: "commitment | reason" lines to take off."""
    title = clean_line(title, "title", MAX_TITLE)
    body = clean_text(body, "body", MAX_BODY)
    return _next_version(
        db,
        identity,
        slug,
        today,
        status=StatementStatus.CORRECTED,
        title=title,
        body=body,
        signatories=parse_signatories(signatories),
        reason=reason,
        letters=letters,
        removals=commitments.parse_removals(removals),
        for_safety=for_safety,
    )


def retract(
    db: Session, identity: Identity, slug: str, today: date, notice: str, *, reason: str
) -> None:
    """Publish a signed retraction notice, with its public reason, as the last version;
    earlier ones stay as they were."""
    notice = clean_text(notice, "notice", MAX_BODY)
    published = _coordinated(db, identity, slug)
    # Nobody signed the retraction but the publisher: it names no signatories.
    _next_version(
        db,
        identity,
        slug,
        today,
        status=StatementStatus.RETRACTED,
        title=published.title,
        body=notice,
        signatories=[],
        reason=reason,
    )


def coordinated_statements(db: Session, identity: Identity) -> list[PublishedStatement]:
    """The published statements whose rooms this account coordinates."""
    return list(
        db.scalars(
            select(PublishedStatement)
            .join(RoomMember, RoomMember.room_id == PublishedStatement.room_id)
            .where(
                RoomMember.account_id == identity.account.id,
                RoomMember.role == RoomRole.COORDINATOR,
            )
            .order_by(PublishedStatement.updated_on.desc(), PublishedStatement.slug)
        )
    )


def room_statement(db: Session, room_id: str) -> PublishedStatement | None:
    """The statement published from a room, if any: of a family, the authoritative text."""
    return db.scalar(
        select(PublishedStatement)
        .where(PublishedStatement.room_id == room_id)
        .order_by(PublishedStatement.translation_of.is_not(None), PublishedStatement.slug)
        .limit(1)
    )


# --- reading what is published --------------------------------------------------------


def statements(db: Session) -> list[PublishedStatement]:
    """Every published statement, most recently updated first."""
    return list(
        db.scalars(
            select(PublishedStatement).order_by(
                PublishedStatement.updated_on.desc(), PublishedStatement.slug
            )
        )
    )


def statement(db: Session, slug: str) -> PublishedStatement:
    """One published statement."""
    found = db.get(PublishedStatement, slug) if len(slug) <= SLUG_MAX else None
    if found is None:
        raise StatementNotFound
    return found


def versions(db: Session, slug: str) -> list[PublishedView]:
    """Every version of a statement, oldest first."""
    rows = db.scalars(
        select(PublishedVersion)
        .where(PublishedVersion.slug == slug)
        .order_by(PublishedVersion.version)
    )
    return [_view(row) for row in rows]


def published_version(db: Session, slug: str, number: int) -> PublishedView:
    """One version of a statement."""
    row = db.get(PublishedVersion, (slug, number)) if len(slug) <= SLUG_MAX else None
    if row is None:
        raise StatementNotFound
    return _view(row)


def latest(db: Session, slug: str) -> PublishedView:
    """The newest version of a statement."""
    return published_version(db, slug, statement(db, slug).latest_version)


def all_versions(db: Session) -> list[PublishedView]:
    """Every published version of every statement, newest first (for the feed)."""
    rows = db.scalars(
        select(PublishedVersion).order_by(
            PublishedVersion.published_on.desc(), PublishedVersion.log_position.desc()
        )
    )
    return [_view(row) for row in rows]
