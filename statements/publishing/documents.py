"""What every downloadable document of a version says about where it can be checked.

The documents (PDF, letterhead PDF, Word) are made from the signed bundle and are not part
of it, so each can state the bundle's SHA-256 without going in a circle: the hash covers
the bundle's bytes, never a document's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Links:
    """Where a version is read and checked, and the hash that identifies its bundle."""

    page_url: str
    bundle_url: str
    bundle_sha256: str = ""
    verify_url: str = ""
