"""The drafting service as one module: the public names of its capability modules.

The service lives in statements/drafting/ by capability, each layer importing only those
below it: access (room keys, opening a room), text (cleaning typed text), log (the
moderation log), versions, rooms, invitations, contributions, moderation. Application
code imports from those modules; this facade keeps code written against the single
module (the tests, chiefly) working.
"""

from __future__ import annotations

from statements.drafting.access import (
    CONTRIBUTION_TAG,
    ENDORSEMENT_TAG,
    PAGE_SIZE,
    ROOM_KEY,
    SUPPORT_TAG,
    Keyring,
    RoomAccess,
    lock_room,
    open_room,
    rotate_room_key,
)
from statements.drafting.contributions import (
    MAX_CONTRIBUTION,
    ContributionView,
    contributions_page,
    edit_contribution,
    my_contributions,
    submit_contribution,
    support,
    withdraw_contribution,
)
from statements.drafting.invitations import (
    INVITATION,
    MAX_INVITATION_USES,
    accept_invitation,
    create_invitation,
    invitation_room_title,
    invitations,
    purge_expired_invitations,
    revoke_invitation,
)
from statements.drafting.log import LogLine, moderation_log
from statements.drafting.moderation import REJECT_REASONS, accept, hide, mark_incorporated, reject
from statements.drafting.rooms import (
    FEW_MEMBERS,
    LANGUAGES,
    MAX_SUMMARY,
    MAX_TITLE,
    TRANSITIONS,
    MemberLine,
    RoomInput,
    RoomSummary,
    add_coordinator,
    change_state,
    create_room,
    leave_room,
    member_count,
    member_number,
    members,
    my_rooms,
    remove_member,
    seal_room,
)
from statements.drafting.versions import (
    MAX_DRAFT,
    MAX_SECTION,
    Version,
    check_draft_size,
    draft_length,
    edit_draft,
    version,
    versions,
)
from statements.text.clean import MAX_NOTE, clean_line, clean_text, normalise_text
from statements.text.markdown import Section

__all__ = [
    "CONTRIBUTION_TAG",
    "ENDORSEMENT_TAG",
    "FEW_MEMBERS",
    "INVITATION",
    "LANGUAGES",
    "MAX_CONTRIBUTION",
    "MAX_DRAFT",
    "MAX_INVITATION_USES",
    "MAX_NOTE",
    "MAX_SECTION",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "PAGE_SIZE",
    "REJECT_REASONS",
    "ROOM_KEY",
    "SUPPORT_TAG",
    "TRANSITIONS",
    "ContributionView",
    "Keyring",
    "LogLine",
    "MemberLine",
    "RoomAccess",
    "RoomInput",
    "RoomSummary",
    "Section",
    "Version",
    "accept",
    "accept_invitation",
    "add_coordinator",
    "change_state",
    "check_draft_size",
    "clean_line",
    "clean_text",
    "contributions_page",
    "create_invitation",
    "create_room",
    "draft_length",
    "edit_contribution",
    "edit_draft",
    "hide",
    "invitation_room_title",
    "invitations",
    "leave_room",
    "lock_room",
    "mark_incorporated",
    "member_count",
    "member_number",
    "members",
    "moderation_log",
    "my_contributions",
    "my_rooms",
    "normalise_text",
    "open_room",
    "purge_expired_invitations",
    "reject",
    "remove_member",
    "revoke_invitation",
    "rotate_room_key",
    "seal_room",
    "submit_contribution",
    "support",
    "version",
    "versions",
    "withdraw_contribution",
]
