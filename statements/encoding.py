"""Unpadded URL-safe base64, for secrets carried in cookies and links."""

from __future__ import annotations

import base64


def b64url(data: bytes) -> str:
    """Encode without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode what b64url produced; binascii.Error or ValueError on anything else."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
