"""The drafting room's pages. One blueprint; each module holds the pages of one capability."""

from statements.drafting.views import (  # noqa: F401 - importing registers the routes
    agreement,
    contributions,
    discussion,
    invitations,
    log_words,
    moderation,
    rooms,
    running,
    translations,
    versions,
)
from statements.drafting.views.common import blueprint

__all__ = ["blueprint"]
