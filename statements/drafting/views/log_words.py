"""The room log in words: what each entry records, as one sentence a coordinator reads.

Entries say what was done and by "a coordinator", never who wrote what was acted on.
An action this module does not know yet (a capability added later) still reads, through
its LOG_ACTIONS label.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from statements.drafting.forms import REASON_LABELS
from statements.drafting.log import LogLine
from statements.drafting.views.common import LOG_ACTIONS, blueprint
from statements.i18n import isodate
from statements.pages import LANGUAGE_NAMES

# A room's stage inside a sentence ("Stage changed from drafting to consolidating").
STAGE_WORDS: dict[str, LazyString] = {
    "drafting": _l("drafting"),
    "consolidating": _l("consolidating"),
    "sign-on": _l("sign-on"),
    "published": _l("published"),
}


def _say(translated: str, **values: Any) -> Markup:
    """A translated sentence with its values put in, each escaped unless already markup."""
    return escape(translated) % values


def _typed(value: Any) -> Markup:
    """A coordinator's own words, isolated: they keep their direction in any sentence."""
    return Markup("<bdi>{}</bdi>").format(str(value or ""))


def _stage(value: Any) -> str:
    return str(STAGE_WORDS.get(str(value), str(value)))


def _short(value: Any) -> str:
    return str(value)[:6]


def _state(details: dict[str, Any], contribution: str | None) -> Markup:
    if details.get("previous"):
        return _say(
            _("Stage changed from %(old)s to %(new)s."),
            old=_stage(details["previous"]),
            new=_stage(details.get("state")),
        )
    return _say(_("Stage changed to %(new)s."), new=_stage(details.get("state")))


def _member_removed(details: dict[str, Any], contribution: str | None) -> Markup:
    invitations = details.get("invitations")
    if invitations == "kept":
        return _say(
            _(
                "A coordinator removed a member; the room's key changed and open "
                "invitations received the new key."
            )
        )
    if invitations == "withdrawn":
        return _say(
            _(
                "A coordinator removed a fellow coordinator; the room's key changed and "
                "open invitations were withdrawn."
            )
        )
    return _say(_("A coordinator removed a member; the room's key changed."))


def _edited(details: dict[str, Any], contribution: str | None) -> Markup:
    if details.get("version"):
        return _say(
            _("A coordinator edited the draft, making version %(number)s."),
            number=details["version"],
        )
    return _say(_("A coordinator edited the draft."))


def _accepted(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator accepted contribution %(contribution)s."),
        contribution=_short(contribution),
    )


def _rejected(details: dict[str, Any], contribution: str | None) -> Markup:
    reason = details.get("reason")
    if reason:
        return _say(
            _("A coordinator rejected contribution %(contribution)s: %(reason)s."),
            contribution=_short(contribution),
            reason=str(REASON_LABELS.get(str(reason), str(reason))),
        )
    return _say(
        _("A coordinator rejected contribution %(contribution)s."),
        contribution=_short(contribution),
    )


def _hidden(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator hid contribution %(contribution)s and destroyed its words."),
        contribution=_short(contribution),
    )


def _incorporated(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator marked contribution %(contribution)s as worked into the draft."),
        contribution=_short(contribution),
    )


def _released(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator let members see contribution %(contribution)s."),
        contribution=_short(contribution),
    )


def _moderation_mode(details: dict[str, Any], contribution: str | None) -> Markup:
    note = _typed(details.get("note"))
    if details.get("mode") == "pre":
        return _say(_("A coordinator switched the room to pre-moderation: %(reason)s"), reason=note)
    return _say(_("A coordinator switched the room to post-moderation: %(reason)s"), reason=note)


def _deadlines(details: dict[str, Any], contribution: str | None) -> Markup:
    note = _typed(details.get("note"))
    contributions = details.get("contribution_deadline")
    signon = details.get("signon_deadline")
    before_contributions = details.get("previous_contribution_deadline") or ""
    before_signon = details.get("previous_signon_deadline") or ""
    if contributions and signon:
        return _say(
            _(
                "A coordinator moved the deadlines: contributions close on %(contributions)s "
                "(was %(old_contributions)s) and sign-on on %(signon)s (was %(old_signon)s). "
                "Why: %(reason)s"
            ),
            contributions=isodate(str(contributions)),
            old_contributions=isodate(str(before_contributions)),
            signon=isodate(str(signon)),
            old_signon=isodate(str(before_signon)),
            reason=note,
        )
    if contributions:
        return _say(
            _(
                "A coordinator moved the contribution deadline from %(old)s to %(new)s. "
                "Why: %(reason)s"
            ),
            old=isodate(str(before_contributions)),
            new=isodate(str(contributions)),
            reason=note,
        )
    return _say(
        _("A coordinator moved the sign-on deadline from %(old)s to %(new)s. Why: %(reason)s"),
        old=isodate(str(before_signon)),
        new=isodate(str(signon or "")),
        reason=note,
    )


def _language_list(codes: Any) -> str:
    names = [str(LANGUAGE_NAMES.get(code, code)) for code in str(codes or "").split()]
    return ", ".join(names) or "—"


def _languages(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator changed the working languages to %(new)s (they were %(old)s)."),
        new=_language_list(details.get("languages")),
        old=_language_list(details.get("previous")),
    )


def _two_person(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(_("A coordinator turned on the two-person rule for this room."))


def _wall_clock(at: Any, zone: Any) -> str:
    """A release time as its zone's clock shows it, with the zone's name."""
    try:
        moment = datetime.fromisoformat(str(at)).astimezone(ZoneInfo(str(zone)))
    except (ValueError, KeyError, OSError):
        return str(at or "")
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def _embargo_set(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator signed the statement to be published on %(time)s (an embargo)."),
        time=_typed(_wall_clock(details.get("release_at"), details.get("zone"))),
    )


def _embargo_changed(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator moved the release from %(old)s to %(new)s."),
        old=_typed(_wall_clock(details.get("previous"), "UTC")),
        new=_typed(_wall_clock(details.get("release_at"), details.get("zone"))),
    )


def _embargo_cancelled(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator cancelled the release set for %(time)s; nothing was published."),
        time=_typed(_wall_clock(details.get("release_at"), details.get("zone"))),
    )


def _press_link_made(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator made a press preview link (%(label)s)."),
        label=_typed(details.get("label") or "—"),
    )


def _press_link_revoked(details: dict[str, Any], contribution: str | None) -> Markup:
    return _say(
        _("A coordinator revoked a press preview link (%(label)s)."),
        label=_typed(details.get("label") or "—"),
    )


SENTENCES: dict[str, Callable[[dict[str, Any], str | None], Markup]] = {
    "embargo_set": _embargo_set,
    "embargo_changed": _embargo_changed,
    "embargo_cancelled": _embargo_cancelled,
    "press_link_made": _press_link_made,
    "press_link_revoked": _press_link_revoked,
    "two_person": _two_person,
    "state": _state,
    "member_removed": _member_removed,
    "edited": _edited,
    "accepted": _accepted,
    "rejected": _rejected,
    "hidden": _hidden,
    "incorporated": _incorporated,
    "released": _released,
    "moderation_mode": _moderation_mode,
    "deadlines": _deadlines,
    "languages": _languages,
}


@blueprint.app_template_global()
def log_sentence(line: LogLine) -> Markup:
    """One log entry as a dated sentence."""
    describe = SENTENCES.get(line.action)
    if describe is not None:
        what = describe(line.details, line.contribution)
    elif line.contribution:
        what = _say(
            _("A coordinator: %(action)s (contribution %(contribution)s)."),
            action=str(LOG_ACTIONS.get(line.action, line.action)),
            contribution=_short(line.contribution),
        )
    else:
        what = _say(
            _("A coordinator: %(action)s."),
            action=str(LOG_ACTIONS.get(line.action, line.action)),
        )
    return _say(_("%(date)s: %(what)s"), date=isodate(line.created_on), what=what)
