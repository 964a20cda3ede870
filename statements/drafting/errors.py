"""Named failures of the drafting service; views turn them into messages and statuses."""

from __future__ import annotations

# Typed text is cleaned by the shared text tools, which name a bad field this way too.
from statements.text.clean import InvalidInput
from statements.text.merge import ThreeWay

__all__ = ["InvalidInput"]


class DraftingError(Exception):
    """Base of every drafting failure."""


class RoomNotFound(DraftingError):
    """No such room, or not one this account belongs to (the same answer for both)."""


class NotCoordinator(DraftingError):
    """Only the room's coordinators may do this."""


class RoomSealed(DraftingError):
    """The room's keys were destroyed: nothing in it can be read or changed."""


class WrongState(DraftingError):
    """The room's state does not allow this action."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class UndecidedContributions(DraftingError):
    """Closing contributions or freezing the text would leave these undecided."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


class DeadlinePassed(DraftingError):
    """The contribution deadline has passed."""


class UnknownSection(DraftingError):
    """The section anchor does not exist in the current draft."""


class PendingCapReached(DraftingError):
    """This member already has the room's maximum of pending contributions."""

    def __init__(self, cap: int) -> None:
        super().__init__(cap)
        self.cap = cap


class ContributionNotFound(DraftingError):
    """No such contribution in this room (or not one this member may act on)."""


class NotPending(DraftingError):
    """The contribution has already been moderated."""


class SupportRefused(DraftingError):
    """A member cannot support their own contribution, nor one that is not pending."""


class FlagRefused(DraftingError):
    """Only other members' pending contributions can be flagged for review."""


class VersionNotFound(DraftingError):
    """No draft version with that number."""


class VersionConflict(DraftingError):
    """The draft changed since the form was loaded: someone else saved a version first."""

    def __init__(self, current_version: int) -> None:
        super().__init__(current_version)
        self.current_version = current_version


class EditConflict(DraftingError):
    """The section changed after the contribution was written: merge by hand."""

    def __init__(self, current_text: str, proposed_text: str, base_text: str) -> None:
        super().__init__("section changed")
        self.current_text = current_text
        self.proposed_text = proposed_text
        self.base_text = base_text


class InvitationInvalid(DraftingError):
    """An invitation link that is mistyped, used up, expired or revoked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TitleMismatch(DraftingError):
    """The typed title does not match the room's working title."""


class LastCoordinator(DraftingError):
    """The last coordinator of a room cannot leave it."""


class MemberNotFound(DraftingError):
    """No such member in this room."""


class NotEligible(DraftingError):
    """Only coordinator or admin accounts can coordinate a room."""


# --- proposals as changes -------------------------------------------------------------


class NotAChange(DraftingError):
    """A comment changes no text: it is addressed (or left open), never accepted."""


class NotAComment(DraftingError):
    """Only comments are addressed; a proposed change is accepted or rejected."""


class MergeNeeded(EditConflict):
    """Two changes to the same text met: here is their three-way merge, for a coordinator
    to check (and to resolve where conflicts are marked) before anything is saved."""

    def __init__(self, merge: ThreeWay, number: int) -> None:
        super().__init__(merge.current, merge.proposed, merge.base)
        self.merge = merge
        # The version the merge was made against: the one a save must replace.
        self.number = number


# --- agreement (agreement.py) -----------------------------------------------------------


class ObjectionRefused(DraftingError):
    """Only other members' pending proposals (not comments) can be objected to."""


class ConsentCheckNotFound(DraftingError):
    """No such consent check in this room."""


class ConsentCheckClosed(DraftingError):
    """The consent check is closed: it takes no more answers, and cannot close again."""


# --- discussion -------------------------------------------------------------------------


class ThreadClosed(DraftingError):
    """The contribution's words were removed (hidden, or rejected as unsafe): its thread
    takes no more replies or questions."""


class ThreadFull(DraftingError):
    """The thread has reached its maximum number of replies."""


class ReplyNotFound(DraftingError):
    """No such reply in this thread (or not one this member can see)."""


class ReplyFlagRefused(DraftingError):
    """Only other people's replies that are still shown can be flagged for review."""


class MessageNotFound(DraftingError):
    """No such question to an author, or not one addressed to this member."""
