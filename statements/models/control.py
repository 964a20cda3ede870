"""Shared control: proposals that need a second staff member."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    ForeignKey,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from statements.models.base import Base, one_of, random_id

# --- shared control ---------------------------------------------------------------------
#
# Under the two-person rule, an action that signs or destroys is first proposed by one
# staff member and carried out only when another approves it (statements/control/).
# Staff are not anonymous, so a proposal names its proposer's account; what the action
# would sign or destroy is a ciphertext under a key of its own, sealed to each staff
# member who may approve it.


class ControlAction(enum.StrEnum):
    """What a proposal would do once approved."""

    PUBLISH = "publish"
    CORRECT = "correct"
    RETRACT = "retract"
    SEAL = "seal"
    REPLACE_KEY = "replace-key"
    MODERATION = "moderation-mode"


class ProposalStatus(enum.StrEnum):
    """Where a proposal is; a pending one past its expiry reads as expired."""

    PENDING = "pending"
    APPROVED = "approved"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ControlProposal(Base):
    """One proposed action awaiting (or past) a second staff member's approval."""

    __tablename__ = "control_proposals"
    __table_args__ = (
        one_of("action", ControlAction),
        one_of("status", ProposalStatus),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    # None for replacing the signing key, which belongs to no room.
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PENDING)
    proposed_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_on: Mapped[date]
    decided_on: Mapped[date | None]
    expires_at: Mapped[datetime]
    # SHA-256 of the proposal's canonical content: the approver's form carries the digest
    # of what they were shown, and nothing else is carried out.
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ControlProposalKey(Base):
    """A proposal's content key, sealed to one staff member who may read and approve it."""

    __tablename__ = "control_proposal_keys"
    __table_args__ = ({"sqlite_with_rowid": False},)

    proposal_id: Mapped[str] = mapped_column(
        ForeignKey("control_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
