"""Workshops: an invitation marked for a room of people joining from one network.

Joining is limited per client address, so that one address cannot create accounts
without end; but twenty people at a workshop share one Wi-Fi (or one Tor exit), and
would be stopped after a few. A coordinator marks the invitation they hand out there
for a workshop: for a few hours, joins through that invitation count against a budget
of the invitation's own (statements.auth.throttle_joins) instead of the address's.
Nothing else is widened: sign-ins, other invitations and joins without an invitation
keep their limits. Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import binascii
import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import unwrap_with_link_secret
from statements.drafting.access import RoomAccess
from statements.drafting.errors import InvalidInput, InvitationInvalid
from statements.drafting.invitations import INVITATION
from statements.encoding import unb64url
from statements.models import Invitation

WORKSHOP_HOURS = 6


def start_workshop(db: Session, access: RoomAccess, invitation_id: str, now: datetime) -> datetime:
    """Mark an open invitation for a workshop from now; returns when the mark lapses.

    The end is rounded up to the hour: the row says roughly when, not the minute a
    coordinator pressed the button.
    """
    access.require_coordinator()
    invitation = db.get(Invitation, invitation_id) if len(invitation_id) <= 32 else None
    if invitation is None or invitation.room_id != access.room.id:
        raise InvitationInvalid("unknown")
    if invitation.revoked or invitation.wrapped_keys is None or invitation.uses_left <= 0:
        raise InvalidInput("workshop", "closed")
    later = now + timedelta(hours=WORKSHOP_HOURS)
    until = datetime.fromtimestamp(math.ceil(later.timestamp() / 3600) * 3600, tz=UTC)
    invitation.workshop_until = until
    db.flush()
    return until


def workshop_invitation(db: Session, token: str, now: datetime) -> str | None:
    """The id of the invitation a link names, if the link is good and its workshop on.

    Asked before the view runs (by the join budgets), so it only reads: an expired
    invitation is destroyed by the view, in a transaction of its own.
    """
    try:
        invitation_id, secret_text = token.split(".")
        secret = unb64url(secret_text)
    except (ValueError, binascii.Error):
        return None
    if len(invitation_id) != 32 or len(secret) != 32:
        return None
    invitation = db.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.workshop_until is None
        or invitation.workshop_until <= now
        or invitation.expires_on < now.date()
        or invitation.revoked
        or invitation.uses_left <= 0
        or invitation.wrapped_keys is None
    ):
        return None
    # Only the link's holder may spend its workshop budget.
    try:
        unwrap_with_link_secret(
            secret, invitation.wrapped_keys, purpose=INVITATION, owner=invitation.id
        )
    except CryptoError:
        return None
    return invitation.id
