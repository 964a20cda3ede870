"""Named failures of the auth service; views turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass


class AuthError(Exception):
    """Base of every auth failure."""


class LoginFailed(AuthError):
    """Wrong codename, passphrase or code. Deliberately says nothing about which."""


class AccountDisabled(AuthError):
    """The credentials were right but an admin has disabled the account."""


class CodenameMalformed(AuthError):
    """The text typed cannot be a codename at all (wrong characters, far too long)."""


@dataclass(frozen=True)
class UnknownWord:
    """A typed word that is not in the word list: its position (from 1) and close words."""

    position: int
    suggestions: tuple[str, ...]


class UnknownWords(CodenameMalformed):
    """Some typed words are not codename words; no account was looked up."""

    def __init__(self, unknown: list[UnknownWord]) -> None:
        super().__init__("unknown words")
        self.unknown = unknown


class WrongLength(CodenameMalformed):
    """Fewer words, or another number of digits, than any codename has."""

    def __init__(self, kind: str, count: int) -> None:
        super().__init__(f"{count} {kind}")
        self.kind = kind
        self.count = count


class WeakPassphrase(AuthError):
    """A new passphrase is too short or too common."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UsernameTaken(AuthError):
    """Another account already has this username."""


class InvalidUsername(AuthError):
    """A username outside the allowed characters or length."""


class EnrolmentInvalid(AuthError):
    """An enrolment link that is unknown, used or expired."""


class TotpInvalid(AuthError):
    """A TOTP code that does not match the secret being enrolled."""


class SessionEnded(AuthError):
    """The login session expired through inactivity, or was ended elsewhere."""


class AccountNotFound(AuthError):
    """No account with that id."""


class LastAdmin(AuthError):
    """Refused: this would leave the platform without an active admin."""
