"""What any feature uses to sign a person in on a page of its own: open a session, and
show a new codename once with its practice step (joining by invitation does both)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    g,
    make_response,
    render_template,
)
from flask import session as flask_session
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from statements.auth import (
    auth_config,
    now,
    service,
    set_login_cookie,
)
from statements.auth import codename as codenames
from statements.auth.forms import (
    PracticeForm,
)
from statements.db import get_session
from statements.i18n import current_language
from statements.models import Account


def open_session(account: Account, keys: service.UnlockedKeys) -> str:
    """Start a login session, replacing any this browser had; return its cookie value."""
    db = get_session()
    if current_user.is_authenticated:
        service.end_session(db, current_user.identity.session_id_hash)
    # A fresh CSRF seed for the new identity: nothing from before sign-in carries over.
    flask_session.clear()
    return service.start_session(db, auth_config(), account, keys, now())


def localized_number(value: int) -> str:
    """A number written in the digits of the interface language."""
    return codenames.localize(str(value), current_language())


def codename_page(account: Account, codename: str | None, target: str, **extra: Any) -> str:
    """The page that shows a new codename once, explains it and asks to practise it.

    With codename None it is the practice form again, after a wrong answer: the
    codename itself is never shown twice.
    """
    form = extra.pop("form", None) or PracticeForm(formdata=None)
    if codename is not None:
        drill = service.practice(auth_config(), account.id, codename)
        form.kind.data = drill.kind
        form.positions.data = f"{drill.positions[0]},{drill.positions[1]}"
        form.check.data = drill.check
        form.next.data = target
    positions = service.parse_positions(form.positions.data or "") or (1, 2)
    digits = form.kind.data == codenames.DIGITS
    label = _("Group %(number)s") if digits else _("Word %(number)s")
    form.first.label.text = label % {"number": localized_number(positions[0])}
    form.second.label.text = label % {"number": localized_number(positions[1])}
    shown = None
    if codename is not None and digits:
        shown = " ".join(codenames.parts(codename))
    return render_template(
        "auth/codename.html",
        codename=codename,
        digits=digits,
        shown=shown,
        localized=codenames.localize(shown, current_language()) if shown else None,
        first=localized_number(positions[0]),
        second=localized_number(positions[1]),
        form=form,
        **extra,
    )


def open_session_response(
    account: Account, keys: service.UnlockedKeys, render: Callable[[], str], status: int
) -> Response:
    """A response that signs this browser in to a new session, with a page rendered in it.

    The page is rendered only once the session is open: its forms must carry a CSRF token
    of the new session, not of the one open_session has just cleared.
    """
    cookie = open_session(account, keys)
    g.pop("csrf_token", None)
    response = make_response(render(), status)
    set_login_cookie(response, cookie)
    return response
