"""Named failures of staff recovery and the audit trail; views turn them into messages."""

from __future__ import annotations


class StaffError(Exception):
    """Base of every failure here."""


class NotAdmin(StaffError):
    """Only an active admin may do this."""


class ResetNotAllowed(StaffError):
    """That account cannot be reset: unknown, a member, or the admin asking."""


class ResetNotProposed(StaffError):
    """No reset of that account waits for approval."""


class SameAdmin(StaffError):
    """The admin who proposed a reset cannot also approve it."""
