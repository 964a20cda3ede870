"""A member's private feed: an address only they hold, serving content-free news.

The address is a capability: 256 bits, HMAC of a random nonce under the member's author
secret, so the signed-in member can be shown it again while a copy of the server cannot
make it. The database keeps only:

- `owner_tag`, the member's tag for their feed (HMAC under their author secret);
- `address_hash`, HMAC of the address under a key derived from the lookup pepper, which
  is kept out of the database: requests find the row by it;
- `nonce`, random;
- `sealed`, the account id and the feed's language, encrypted under a key derived from
  the address itself.

A copy of the server at rest therefore learns that some feeds exist, how many, and
nothing of whose or for which rooms. Serving a feed needs no unlocked key: the address
opens `sealed`, the account's rooms are read from the memberships, and each entry says
only how many things of which kind happened in a room on a day, naming the room by a
short number (ROOM_NUMBER_CHARS hex digits of a hash of its id) that means nothing
outside the platform: never a title, never a word that is encrypted at rest.

Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from crypto.aead import decrypt, encode_fields, encrypt
from crypto.errors import CryptoError
from crypto.tags import author_tag
from statements.encoding import b64url, unb64url
from statements.models import (
    Account,
    ConsentCheck,
    Contribution,
    DraftVersion,
    MemberFeed,
    ModerationEntry,
    Room,
    RoomMember,
)
from statements.news.markers import reminders_for
from statements.writes import FEED_DELETE, FEED_PUT, FEED_ROOM, AnonymousWrites, Write, feed_key

FEED_TAG = "feed"
ADDRESS_BYTES = 32
# How far back a feed looks: entries older than this drop out.
WINDOW_DAYS = 30
ROOM_NUMBER_CHARS = 4
_PEPPER_LABEL = b"statements/feed-address/v1"
_SEAL_SALT = b"statements/feed-seal/v1"


class FeedNotFound(LookupError):
    """No feed has this address (never had, revoked, or replaced)."""


def room_number(room_id: str) -> str:
    """A room's short number in news: the same for every member, meaningless elsewhere."""
    return hashlib.sha256(f"statements/room-number/v1:{room_id}".encode()).hexdigest()[
        :ROOM_NUMBER_CHARS
    ]


def owner_tag(author_secret: bytes) -> bytes:
    """The member's tag for their feed."""
    return author_tag(author_secret, FEED_TAG, FEED_TAG)


def address_for(author_secret: bytes, nonce: bytes) -> str:
    """The feed's address (its secret part), from the member's secret and the row's nonce."""
    mac = hmac.new(
        author_secret, encode_fields(b"statements/feed/v1", nonce), hashlib.sha256
    ).digest()
    return b64url(mac)


def address_hash(pepper: bytes, address: str) -> bytes:
    """The keyed hash the row is found by: without the pepper, addresses cannot be tested."""
    key = hmac.new(pepper, _PEPPER_LABEL, hashlib.sha256).digest()
    return hmac.new(key, address.encode(), hashlib.sha256).digest()


def _seal_key(address: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SEAL_SALT, info=b"seal").derive(
        address.encode()
    )


@dataclass(frozen=True)
class FeedState:
    """A member's feed as their own pages show it."""

    address: str | None
    # The change is queued and takes effect with the next batch of writes.
    waiting: bool = False


def current_feed(db: Session, author_secret: bytes, writes: AnonymousWrites) -> FeedState:
    """The member's feed address, if they have one (their queued change counts)."""
    tag = owner_tag(author_secret)
    for write in writes.pending(FEED_ROOM):
        if write.key == feed_key(tag):
            if write.action == FEED_DELETE:
                return FeedState(None, waiting=True)
            return FeedState(address_for(author_secret, bytes(write.row["nonce"])), waiting=True)
    row = db.get(MemberFeed, tag)
    return FeedState(address_for(author_secret, row.nonce) if row is not None else None)


def create_feed(
    account_id: str, author_secret: bytes, pepper: bytes, language: str, writes: AnonymousWrites
) -> str:
    """A new feed address for the member, replacing any they had; returns the address.

    Queued like every member write: it works once its batch is in.
    """
    nonce = secrets.token_bytes(16)
    address = address_for(author_secret, nonce)
    hashed = address_hash(pepper, address)
    payload = json.dumps({"account": account_id, "language": language}).encode()
    sealed = encrypt(_seal_key(address), payload, encode_fields(FEED_TAG, hashed))
    tag = owner_tag(author_secret)
    writes.put(
        Write(
            key=feed_key(tag),
            room_id=FEED_ROOM,
            action=FEED_PUT,
            row={"owner_tag": tag, "address_hash": hashed, "nonce": nonce, "sealed": sealed},
        )
    )
    return address


def revoke_feed(author_secret: bytes, writes: AnonymousWrites) -> None:
    """Stop the member's feed address working (with the next batch of writes)."""
    tag = owner_tag(author_secret)
    writes.put(
        Write(key=feed_key(tag), room_id=FEED_ROOM, action=FEED_DELETE, row={"owner_tag": tag})
    )


# --- serving --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomDay:
    """What happened in one room on one day, in counts: a feed entry."""

    room_id: str
    number: str
    day: date
    versions: int = 0
    contributions: int = 0
    log_entries: int = 0
    checks_opened: int = 0
    # Reminders due that day: ("contributions" | "signon", the deadline).
    deadlines: tuple[tuple[str, date], ...] = ()


@dataclass(frozen=True)
class Feed:
    """A feed as served: its language and its entries, newest first."""

    language: str
    address_hash: bytes
    entries: list[RoomDay] = field(default_factory=list)


def _open(db: Session, pepper: bytes, address: str) -> tuple[MemberFeed, dict[str, str]]:
    if not address or len(address) > 64:
        raise FeedNotFound
    try:
        if len(unb64url(address)) != ADDRESS_BYTES:
            raise FeedNotFound
    except ValueError:
        raise FeedNotFound from None
    hashed = address_hash(pepper, address)
    row = db.scalar(select(MemberFeed).where(MemberFeed.address_hash == hashed))
    if row is None:
        raise FeedNotFound
    try:
        data = json.loads(decrypt(_seal_key(address), row.sealed, encode_fields(FEED_TAG, hashed)))
    except (CryptoError, ValueError):
        raise FeedNotFound from None
    return row, {"account": str(data["account"]), "language": str(data["language"])}


def feed(db: Session, pepper: bytes, address: str, today: date) -> Feed:
    """The feed at this address: per room and day, counts of what happened. FeedNotFound
    if the address opens nothing. A constant number of queries, whatever the rooms."""
    row, data = _open(db, pepper, address)
    # Access without signing in ends with the account's access: a disabled account's
    # feed (its phone taken, say) tells the reader nothing more.
    account = db.get(Account, data["account"])
    if account is None or account.disabled:
        raise FeedNotFound
    rooms = list(
        db.scalars(
            select(Room)
            .join(RoomMember, RoomMember.room_id == Room.id)
            .where(RoomMember.account_id == data["account"], Room.sealed.is_(False))
        )
    )
    ids = [room.id for room in rooms]
    since = today - timedelta(days=WINDOW_DAYS)
    counts: dict[tuple[str, date], dict[str, int]] = defaultdict(dict)

    def tally(
        name: str,
        room_column: InstrumentedAttribute[str],
        day_column: InstrumentedAttribute[date],
        *where: ColumnElement[bool],
    ) -> None:
        query = (
            select(room_column, day_column, func.count())
            .where(room_column.in_(ids), day_column >= since, day_column <= today, *where)
            .group_by(room_column, day_column)
        )
        for room_id, day, count in db.execute(query):
            counts[(str(room_id), day)][name] = int(count)

    if ids:
        # The first version is the room's opening, not news.
        tally("versions", DraftVersion.room_id, DraftVersion.created_on, DraftVersion.number > 1)
        tally("contributions", Contribution.room_id, Contribution.created_on)
        tally("log", ModerationEntry.room_id, ModerationEntry.created_on)
        tally("checks", ConsentCheck.room_id, ConsentCheck.opened_on)
    reminders: dict[tuple[str, date], list[tuple[str, date]]] = defaultdict(list)
    for room in rooms:
        for days_before in (3, 1):
            for kind, deadline in (
                ("contributions", room.contribution_deadline),
                ("signon", room.signon_deadline),
            ):
                day = deadline - timedelta(days=days_before)
                if since <= day <= today and any(
                    r.kind == kind and r.deadline == deadline for _, r in reminders_for(room, day)
                ):
                    reminders[(room.id, day)].append((kind, deadline))
    entries = []
    for key in set(counts) | set(reminders):
        room_id, day = key
        found = counts.get(key, {})
        entries.append(
            RoomDay(
                room_id=room_id,
                number=room_number(room_id),
                day=day,
                versions=found.get("versions", 0),
                contributions=found.get("contributions", 0),
                log_entries=found.get("log", 0),
                checks_opened=found.get("checks", 0),
                deadlines=tuple(sorted(reminders.get(key, []))),
            )
        )
    entries.sort(key=lambda entry: (entry.day, entry.number), reverse=True)
    return Feed(language=data["language"], address_hash=row.address_hash, entries=entries)


def entry_id(feed: Feed, entry: RoomDay) -> str:
    """An entry's id: stable for this feed, unrelated across feeds (no shared room ids)."""
    mac = hmac.new(
        feed.address_hash, encode_fields(entry.room_id, entry.day.isoformat()), hashlib.sha256
    )
    return f"urn:statements:news:{mac.hexdigest()[:32]}"
