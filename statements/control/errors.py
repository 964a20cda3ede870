"""Named failures of the two-person rule; views turn them into messages and statuses."""

from __future__ import annotations


class ControlError(Exception):
    """Base of every failure of a proposal."""


class ProposalNotFound(ControlError):
    """No such proposal, or not one this account may read."""


class ProposalClosed(ControlError):
    """The proposal was approved, cancelled, or has lapsed: it can do nothing more."""


class OwnProposal(ControlError):
    """The proposer cannot approve their own proposal: a different person must."""


class NotApprover(ControlError):
    """This account may not approve or cancel this proposal."""


class ProposalChanged(ControlError):
    """What the approver saw is no longer what would be carried out: propose again."""


class AlreadyProposed(ControlError):
    """The same action already waits for approval in this room."""


class AwaitingApproval(ControlError):
    """A publication waits for approval: the sign-on is held as it was proposed."""
