"""Keyed tags: author tags that replace account ids, and peppered lookup ids."""

import hashlib
import hmac

from crypto.aead import encode_fields

TAG_BYTES = 32
AUTHOR_SECRET_BYTES = 32
PEPPER_MIN_BYTES = 16

_TAG_LABEL = b"statements/tag/v1"
_LOOKUP_LABEL = b"statements/lookup/v1"


def author_tag(author_secret: bytes, purpose: str, target_id: str) -> bytes:
    """Return HMAC-SHA256 tying an author to a target without revealing who they are."""
    if len(author_secret) != AUTHOR_SECRET_BYTES:
        raise ValueError(f"author_secret must be {AUTHOR_SECRET_BYTES} bytes")
    # An empty purpose would let, say, a support tag collide with a contribution tag.
    if not purpose:
        raise ValueError("purpose must not be empty")
    if not target_id:
        raise ValueError("target_id must not be empty")
    message = encode_fields(_TAG_LABEL, purpose, target_id)
    return hmac.new(author_secret, message, hashlib.sha256).digest()


def lookup_id(pepper: bytes, secret: bytes) -> bytes:
    """Return a peppered HMAC-SHA256 of a secret, safe to index and look up by."""
    # The pepper lives outside the database; if it were short, a stolen table of lookup
    # ids could be brute-forced for low-entropy secrets.
    if len(pepper) < PEPPER_MIN_BYTES:
        raise ValueError(f"pepper must be at least {PEPPER_MIN_BYTES} bytes")
    if not secret:
        raise ValueError("secret must not be empty")
    return hmac.new(pepper, encode_fields(_LOOKUP_LABEL, secret), hashlib.sha256).digest()


def tags_equal(a: bytes, b: bytes) -> bool:
    """Compare two tags in constant time."""
    return hmac.compare_digest(a, b)
