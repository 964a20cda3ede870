"""Named failures of sign-on and publication; views turn them into messages and statuses."""

from __future__ import annotations

# One kind of bad field everywhere: sign-on and publication check text as drafting does.
from statements.drafting.errors import InvalidInput

__all__ = ["InvalidInput"]


class PublishingError(Exception):
    """Base of every sign-on and publication failure."""


class SignOnClosed(PublishingError):
    """The room is not in sign-on, or its sign-on deadline has passed."""


class EndorsementNotFound(PublishingError):
    """No such endorsement, or not one this member may act on."""


class SlugTaken(PublishingError):
    """Another published statement already has this address."""


class NoSigningKey(PublishingError):
    """No signing key exists yet."""


class SigningKeyNotShared(PublishingError):
    """This account does not hold the signing key (yet): it cannot sign."""


class NotAllowed(PublishingError):
    """Only the coordinators of the statement's room (or, for keys, staff) may do this."""


class StatementNotFound(PublishingError):
    """No such published statement or version."""


class StatementRetracted(PublishingError):
    """A retracted statement takes no further versions."""


class LogRangeError(PublishingError):
    """A log position, tree size or proof range the log cannot answer."""


class UnreviewedEndorsements(PublishingError):
    """Members' self-declared public endorsements wait for a coordinator to confirm or
    remove them: nothing is published until they are reviewed."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


class UnreadableDocument(PublishingError):
    """A forwarded file whose text cannot be read; `reason` says why (type, encrypted,
    corrupt, too_large, no_text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvitationRevoked(PublishingError):
    """An organisation invitation link its coordinators revoked: it no longer works."""
