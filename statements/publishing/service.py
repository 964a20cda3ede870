"""Sign-on, the signing key, and publication: versions, corrections, retractions.

Takes a Session, never commits, never imports flask. Endorsements carry author tags, never
an account id. The signing key's private half exists on the server only sealed to the
coordinators' public keys, so nothing can be signed without a coordinator's live session.
Everything published is appended, never edited or deleted in place.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto import commitments as commitment_fields
from crypto.bundle import (
    FAMILY_FIELDS,
    body_sha256,
    bundle_sha256,
    canonical,
    make_bundle,
    make_key_rotation,
    make_log_entry,
)
from crypto.changes import make_changes
from crypto.errors import CryptoError
from crypto.keys import open_sealed, seal_to_public_key
from crypto.signing import SigningKey, generate_signing_key, key_id
from statements.auth.service import Identity
from statements.control.pending import publication_held
from statements.drafting.access import ENDORSEMENT_TAG, RoomAccess, lock_room
from statements.drafting.versions import version
from statements.models import (
    Account,
    Embargo,
    Endorsement,
    EndorsementKind,
    PublishedStatement,
    PublishedVersion,
    Role,
    RoomMember,
    RoomRole,
    RoomState,
    SigningKeyRecord,
    SigningKeyWrap,
    StatementStatus,
    random_id,
)
from statements.publishing import commitments, log, scheduled
from statements.publishing.errors import (
    EndorsementNotFound,
    InvalidInput,
    NoSigningKey,
    NotAllowed,
    SigningKeyNotShared,
    SignOnClosed,
    SlugTaken,
    StatementNotFound,
    StatementRetracted,
    UnreviewedEndorsements,
)
from statements.text.clean import clean_line, clean_text
from statements.writes import (
    ENDORSEMENT_DELETE,
    ENDORSEMENT_PUT,
    QueueBusy,
    Write,
    endorsement_key,
    endorsement_withdrawal,
)

MAX_ORGANISATION = 200
MAX_COUNTRY = 80
MAX_TITLE = 200
MAX_BODY = 200_000
MAX_SIGNATORIES = 5_000
MAX_ANONYMOUS = 100_000
# The public reason of a correction or retraction, signed into its bundle.
MAX_REASON = 1000
SLUG_MIN, SLUG_MAX = 3, 80
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

SIGNING_KEY = "signing-key"
_ENDORSEMENT_RECORD = "endorsement"
# A public endorsement's standing, sealed with its name: made through an organisation
# invitation, or typed by a member and then confirmed by a coordinator. Without one, a
# member's public endorsement is self-declared, and publication waits for a coordinator.
STANDING_INVITATION = "invitation"
STANDING_REVIEWED = "reviewed"


def _one_line(value: str, field_name: str, maximum: int, *, required: bool = True) -> str:
    return clean_line(value, field_name, maximum, required=required)


# --- sign-on --------------------------------------------------------------------------


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


def _require_signon(db: Session, access: RoomAccess) -> None:
    access.require_coordinator()
    access.room = lock_room(db, access.room.id)
    if access.room.state != RoomState.SIGN_ON or _held(db, access):
        raise SignOnClosed


def _held(db: Session, access: RoomAccess) -> bool:
    # A publication waiting for a second person holds the sign-on as it was proposed:
    # what the approver is shown is what is signed (statements/control/).
    return publication_held(db, access.room.id, datetime.now(UTC))


def _signatory_payload(name: str, country: str) -> dict[str, str]:
    return {
        "name": _one_line(name, "name", MAX_ORGANISATION),
        "country": _one_line(country, "country", MAX_COUNTRY, required=False),
    }


def _seal_signatory(access: RoomAccess, row: Endorsement, payload: dict[str, str]) -> None:
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
        payload = _signatory_payload(name, country) if kind == EndorsementKind.PUBLIC else None
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
        _seal_signatory(access, row, payload)
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
    _require_signon(db, access)
    row = Endorsement(id=random_id(), room_id=access.room.id, tag=None)
    row.kind = EndorsementKind.RECEIVED
    _seal_signatory(access, row, _signatory_payload(name, country))
    db.add(row)
    db.flush()


def remove_public_endorsement(db: Session, access: RoomAccess, endorsement_id: str) -> None:
    """A coordinator takes a public endorsement off the list (not who made it: they never know)."""
    _require_signon(db, access)
    row = db.get(Endorsement, endorsement_id) if len(endorsement_id) <= 32 else None
    if row is None or row.room_id != access.room.id or row.kind == EndorsementKind.ANONYMOUS:
        raise EndorsementNotFound
    db.delete(row)
    db.flush()


def _signatory(access: RoomAccess, row: Endorsement) -> Signatory:
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


def _sorted(signatories: Sequence[Signatory]) -> list[Signatory]:
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
    public = [_signatory(access, row) for row in rows if row.kind != EndorsementKind.ANONYMOUS]
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
        public=_sorted(public),
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


# --- the signing key ------------------------------------------------------------------


def _staff(account: Account) -> bool:
    return account.role in (Role.COORDINATOR, Role.ADMIN) and not account.disabled


def active_key(db: Session, *, lock: bool = False) -> SigningKeyRecord | None:
    """The key in use now, if one was created."""
    query = select(SigningKeyRecord).where(SigningKeyRecord.valid_until.is_(None))
    if lock:
        # Publishing, rotating and sharing take this lock, so log appends happen in turn.
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.scalar(query)


def lock_log(db: Session) -> SigningKeyRecord | None:
    """The key in use, locked: the log's lock. None only when no key was ever made.

    A rotation that commits while this waits retires the row it waited on; the new key's
    row is then taken, so callers always lock the log before anything else.
    """
    for _ in range(3):
        record = active_key(db, lock=True)
        if record is not None or not db.scalar(select(func.count()).select_from(SigningKeyRecord)):
            return record
    return None


def all_keys(db: Session) -> list[SigningKeyRecord]:
    """Every signing key ever used, oldest first (the one in use last)."""
    in_use_last = SigningKeyRecord.valid_until.is_(None)
    return list(
        db.scalars(
            select(SigningKeyRecord).order_by(
                SigningKeyRecord.valid_from, in_use_last, SigningKeyRecord.key_id
            )
        )
    )


def _grant(db: Session, record: SigningKeyRecord, key: SigningKey) -> int:
    """Seal the key to every enrolled, active coordinator and admin who lacks it."""
    held = set(
        db.scalars(select(SigningKeyWrap.account_id).where(SigningKeyWrap.key_id == record.key_id))
    )
    granted = 0
    for account in db.scalars(
        select(Account).where(
            Account.role.in_((Role.COORDINATOR, Role.ADMIN)),
            Account.disabled.is_(False),
            Account.public_key.is_not(None),
        )
    ):
        if account.id in held or account.public_key is None:
            continue
        db.add(
            SigningKeyWrap(
                key_id=record.key_id,
                account_id=account.id,
                sealed_key=seal_to_public_key(
                    account.public_key, key.private_key, purpose=SIGNING_KEY, owner=record.key_id
                ),
            )
        )
        granted += 1
    db.flush()
    return granted


def _unwrap(db: Session, record: SigningKeyRecord, identity: Identity) -> SigningKey:
    wrap = db.get(SigningKeyWrap, (record.key_id, identity.account.id))
    if wrap is None or not _staff(identity.account):
        raise SigningKeyNotShared
    try:
        private_key = open_sealed(
            identity.keys.private_key, wrap.sealed_key, purpose=SIGNING_KEY, owner=record.key_id
        )
    except CryptoError:
        raise SigningKeyNotShared from None
    return SigningKey(private_key=private_key, public_key=record.public_key)


def _new_key(db: Session, origin: str, today: date) -> tuple[SigningKeyRecord, SigningKey]:
    key = generate_signing_key()
    record = SigningKeyRecord(
        key_id=key_id(key.public_key),
        public_key=key.public_key,
        note_key_name=origin,
        valid_from=today,
        valid_until=None,
    )
    db.add(record)
    db.flush()
    return record, key


def unlock_signing_key(
    db: Session, identity: Identity, origin: str, today: date, *, create: bool = False
) -> tuple[SigningKeyRecord, SigningKey]:
    """The signing key, unsealed with this staff member's keys; created first if asked."""
    if not _staff(identity.account):
        raise NotAllowed
    record = active_key(db, lock=True)
    if record is None:
        # Only the very first key is made here. A key that was just retired (a rotation
        # committed while this request waited for the lock) is not replaced by a second
        # one: the caller is told to try again, and then finds the new key.
        if not create or db.scalar(select(func.count()).select_from(SigningKeyRecord)):
            raise NoSigningKey
        record, key = _new_key(db, origin, today)
    else:
        key = _unwrap(db, record, identity)
    _grant(db, record, key)
    return record, key


@dataclass(frozen=True)
class KeyStatus:
    """What a staff member sees of the signing key."""

    active: SigningKeyRecord | None
    held: bool
    waiting: int


def key_status(db: Session, identity: Identity) -> KeyStatus:
    """The key in use, whether this account holds it, and how many staff wait for it."""
    record = active_key(db)
    if record is None:
        return KeyStatus(None, False, 0)
    holders = set(
        db.scalars(select(SigningKeyWrap.account_id).where(SigningKeyWrap.key_id == record.key_id))
    )
    staff = set(
        db.scalars(
            select(Account.id).where(
                Account.role.in_((Role.COORDINATOR, Role.ADMIN)),
                Account.disabled.is_(False),
                Account.public_key.is_not(None),
            )
        )
    )
    return KeyStatus(record, identity.account.id in holders, len(staff - holders))


def share_signing_key(db: Session, identity: Identity) -> int:
    """Seal the key to staff who joined since it was made; how many received it."""
    record = active_key(db, lock=True)
    if record is None:
        raise NoSigningKey
    return _grant(db, record, _unwrap(db, record, identity))


def rotate_signing_key(
    db: Session, identity: Identity, today: date, *, approved: bool = False
) -> SigningKeyRecord:
    """Replace the key; the rotation is a log entry signed by the old key and the new.

    An admin replaces it, or, under the two-person rule, the staff member who approves an
    admin's proposal (`approved`).
    """
    if identity.account.role != Role.ADMIN and not approved:
        raise NotAllowed
    old_record, old_key = unlock_signing_key(db, identity, origin="", today=today)
    new_key = generate_signing_key()
    new_record = SigningKeyRecord(
        key_id=key_id(new_key.public_key),
        public_key=new_key.public_key,
        note_key_name=old_record.note_key_name,
        valid_from=today,
        valid_until=None,
    )
    old_record.valid_until = today
    db.flush()
    db.add(new_record)
    db.flush()
    entry = make_key_rotation(old_key, new_key, old_record.note_key_name, today)
    log.append(db, log.KEY_ROTATION, canonical(entry), new_key, new_record.note_key_name)
    # A statement waiting for its release is signed again, to verify under the key valid
    # on its release day.
    scheduled.sign_again(db, new_key, new_record.note_key_name)
    # Staff who held the old key receive the new one; whoever lost access does not.
    db.execute(delete(SigningKeyWrap).where(SigningKeyWrap.key_id == old_record.key_id))
    _grant(db, new_record, new_key)
    return new_record


# --- publication ----------------------------------------------------------------------


def suggest_slug(title: str, today: date) -> str:
    """A web address for a title: its Latin letters and digits, else the date."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    if len(slug) < SLUG_MIN:
        slug = f"statement-{today.isoformat()}"
    return slug


def _check_slug(db: Session, slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX or not _SLUG.fullmatch(slug):
        raise InvalidInput("slug", "format")
    if db.get(PublishedStatement, slug) is not None:
        raise SlugTaken
    # An embargoed statement holds its address until its release (or cancellation).
    if db.scalar(select(Embargo.id).where(Embargo.slug == slug)) is not None:
        raise SlugTaken
    return slug


def _append_version(
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


def _statement(
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


def _family_root(db: Session, translation_of: str | None, language: str) -> str | None:
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
    _require_signon(db, access)
    # Under the room's lock, nothing of the room may still wait in the mixer's queue:
    # what is signed must hold every endorsement made before (the page flushes first).
    if access.anonymous(db).pending(access.room.id):
        raise QueueBusy
    title = _one_line(access.details()["title"] if title is None else title, "title", MAX_TITLE)
    slug = _check_slug(db, slug)
    root = _family_root(db, translation_of, access.room.language)
    signon = sign_on(db, access, today)
    require_reviewed(signon)
    record, key = unlock_signing_key(db, access.identity, origin, today, create=True)
    statement = _statement(
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
    _append_version(db, record, key, statement)
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
        payload = _signatory_payload(name, country)
        signatories.append(Signatory(payload["name"], payload["country"]))
    return _sorted(signatories)


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
    statement = _statement(
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
    _append_version(db, record, key, statement)
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
    title = _one_line(title, "title", MAX_TITLE)
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
