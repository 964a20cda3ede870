"""Members' news: "since your last visit" markers and private feeds."""

from __future__ import annotations

from sqlalchemy import LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base

# --- members' news: "since your last visit" and private feeds (statements/news/) ---------
#
# Nothing here names an account or says when anyone looked. A marker is keyed by a tag
# only its member can recompute and holds, sealed under a key derived from the member's
# own author secret, what they had seen (version numbers and ids), never a time. A feed
# is keyed by a keyed hash of its address; what it serves is sealed under the address.


class NewsMarker(Base):
    """What one member had seen of one room when they last looked: sealed, no time.

    Written through the mixer (statements/writes.py), and only when it changes.
    """

    __tablename__ = "news_markers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # HMAC(author secret, "news-marker", room id): neither the account nor the room.
    tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # Padded to a multiple of a fixed size, so its length does not count what was seen.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class MemberFeed(Base):
    """A member's private feed address: a keyed hash of it and what it serves, sealed.

    `sealed` holds the account id and the feed's language under a key derived from the
    address itself, which is never stored: without the address the row opens nothing.
    """

    __tablename__ = "member_feeds"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # HMAC(author secret, "feed", "feed"): the member finds their feed by it.
    owner_tag: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # HMAC under a key derived from the lookup pepper (a server secret) of the address.
    address_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Random; with the member's author secret it gives the address back (feeds.py).
    nonce: Mapped[bytes] = mapped_column(LargeBinary(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
