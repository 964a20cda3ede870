"""Auth pages. Thin: parse the form, call one service function, render."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from statements.auth import (
    auth_config,
    carried_form,
    login_page,
    now,
    roles_required,
    service,
    set_login_cookie,
)
from statements.auth import codename as codenames
from statements.auth.errors import (
    AccountDisabled,
    CodenameMalformed,
    EnrolmentInvalid,
    LoginFailed,
    TotpInvalid,
    UnknownWords,
    WeakPassphrase,
    WrongLength,
)
from statements.auth.forms import (
    ButtonForm,
    ChangePassphraseForm,
    CodenameLoginForm,
    EnrolForm,
    JoinForm,
    PracticeForm,
    ReplaceCodenameForm,
    StaffLoginForm,
)
from statements.auth.signin import (
    codename_page,
    localized_number,
    open_session,
    open_session_response,
)
from statements.db import get_session
from statements.errors import render_error
from statements.mixing import request_writes
from statements.models import Account, Role
from statements.news import feeds
from statements.pages import qr_svg
from statements.settings import Settings
from statements.staff import recovery, resets

blueprint = Blueprint("auth", __name__)

WEAK_PASSPHRASE: dict[str, LazyString] = {
    "too_short": _l("Use at least %(number)s characters.", number=service.MIN_PASSPHRASE),
    "too_long": _l("Use at most %(number)s characters.", number=service.MAX_PASSPHRASE),
    "too_common": _l(
        "That passphrase is too common or too easy to guess. Try four or five unrelated words."
    ),
}
LOGIN_FAILED_STAFF = _l(
    "That username, passphrase or code is not right. Each code works only once: if you "
    "just used one, wait for the next."
)
# The same, when only the passphrase and code were asked for (changing the passphrase).
LOGIN_FAILED_PASSPHRASE = _l(
    "That passphrase or code is not right. Each code works only once: if you just used "
    "one, wait for the next."
)
LOGIN_FAILED_CODENAME = _l("That codename is not right. Check each word and try again.")
CODENAME_MALFORMED = _l(
    "That cannot be a codename. Type its words, or its digits, as you wrote them down."
)
DISABLED = _l("This account has been disabled by an administrator.")
# Everything this site keeps in the browser. Chromium also drops this site's pages from
# the back/forward cache with "cache", so Back cannot bring a signed-in page out of memory.
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
# Fetch Metadata values of a request this site's own pages (or the address bar) made.
OWN_REQUEST = frozenset({"same-origin", "none"})


def _safe_next(target: str | None) -> str:
    """Only follow a `next` that is a plain path on this site.

    Browsers drop tabs and newlines and read a backslash as a slash, so "/\t/evil" and
    "/\\evil" lead elsewhere: any of those, or any scheme or host, sends you home instead.
    """
    home = url_for("drafting.rooms")
    if not target or len(target) > 2000 or not target.startswith("/"):
        return home
    if any(ch <= " " or ch == "\\" or ch == "\x7f" for ch in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return home
    return target


def _signed_in(account_keys: tuple[Account, service.UnlockedKeys], target: str) -> Response:
    """Open a session for a login that succeeded and go on to target."""
    account, keys = account_keys
    cookie = open_session(account, keys)
    response = redirect(target)
    set_login_cookie(response, cookie)
    return response


CARRY_PREFIX = "carry-"


def _carry() -> tuple[str, dict[str, str]] | None:
    """The form a session-ended page carried into this sign-in, if any (POST body only)."""
    if request.method != "POST" or "carry-path" not in request.form:
        return None
    values = {
        name.removeprefix(CARRY_PREFIX): value
        for name, value in request.form.items()
        if name.startswith(CARRY_PREFIX)
    }
    return carried_form(request.form["carry-path"], values)


def codename_errors(error: CodenameMalformed) -> list[str]:
    """What to tell someone whose typed codename was refused before any lookup."""
    if isinstance(error, UnknownWords):
        messages = []
        for word in error.unknown[: codenames.CODENAME_WORDS]:
            messages.append(
                _("Word %(number)s is not a codename word.", number=localized_number(word.position))
            )
            if word.suggestions:
                messages.append(_("Did you mean: %(words)s?", words=", ".join(word.suggestions)))
        return messages
    if isinstance(error, WrongLength) and error.kind == codenames.DIGITS:
        return [
            _(
                "You typed %(number)s digits; a codename of digits has %(expected)s.",
                number=localized_number(error.count),
                expected=localized_number(codenames.CODENAME_DIGITS),
            )
        ]
    if isinstance(error, WrongLength):
        return [
            _(
                "You typed %(number)s words; a codename has %(expected)s.",
                number=localized_number(error.count),
                expected=localized_number(codenames.CODENAME_WORDS),
            )
        ]
    return [str(CODENAME_MALFORMED)]


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with a codename."""
    form = CodenameLoginForm()
    carry = _carry()
    valid = form.validate_on_submit()
    typed = form.codename.data or ""
    # The codename is not written back into the page, unless it was refused for its
    # words: then the person needs to see the word they are told to correct.
    form.codename.data = ""
    if not valid:
        status = 400 if form.is_submitted() else 200
        return login_page(carry, form), status
    try:
        account_keys = service.login_member(get_session(), auth_config(), typed)
    except CodenameMalformed as error:
        if isinstance(error, UnknownWords | WrongLength):
            form.codename.data = typed
        form.codename.errors = codename_errors(error)
        return login_page(carry, form), 400
    except LoginFailed:
        form.codename.errors = [str(LOGIN_FAILED_CODENAME)]
        return login_page(carry, form), 401
    except AccountDisabled:
        form.codename.errors = [str(DISABLED)]
        return login_page(carry, form), 403
    if carry is not None:
        return _signed_in_with_carry(account_keys, carry)
    return _signed_in(account_keys, _safe_next(request.args.get("next")))


def _signed_in_with_carry(
    account_keys: tuple[Account, service.UnlockedKeys], carry: tuple[str, dict[str, str]]
) -> Response:
    """Signed in: a page whose one button brings back the form, filled, to check and send.

    A redirect cannot carry a POST body, and sending the form on their behalf would act
    on text they have not seen again; so they press Continue. The session opens first,
    so that the form carries a CSRF token of the new session.
    """
    account, keys = account_keys
    cookie = open_session(account, keys)
    # The sign-in form cached a token of the CSRF seed open_session just cleared.
    g.pop("csrf_token", None)
    path, carried = carry
    page = render_template("auth/carried.html", path=path, carried=carried)
    response = make_response(page, 200)
    set_login_cookie(response, cookie)
    return response


@blueprint.route("/join", methods=["GET", "POST"])
def join() -> Any:
    """Create an anonymous account: the codename is shown once, here."""
    form = JoinForm()
    if not form.validate_on_submit():
        return render_template("auth/join.html", form=form), 400 if form.is_submitted() else 200
    account, codename, keys = service.create_member(
        get_session(), auth_config(), form.kind.data or codenames.WORDS
    )
    target = _safe_next(request.args.get("next"))
    return open_session_response(
        account, keys, lambda: codename_page(account, codename, target), 201
    )


@blueprint.route("/codename/practice", methods=["POST"])
@login_required
def practice_codename() -> Any:
    """Check the two parts of a new codename the member typed back."""
    form = PracticeForm()
    positions = service.parse_positions(form.positions.data or "")
    if not form.validate_on_submit() or positions is None:
        return render_error(400)
    if service.practice_passes(
        auth_config(),
        current_user.account.id,
        form.kind.data or "",
        positions,
        (form.first.data or "", form.second.data or ""),
        form.check.data or "",
    ):
        flash(_("That is right. Keep your codename safe: you need it to sign in."), "notice")
        return redirect(_safe_next(form.next.data))
    form.first.data = form.second.data = ""
    page = codename_page(current_user.account, None, "", form=form, wrong=True)
    return page, 400


@blueprint.route("/staff/login", methods=["GET", "POST"])
def staff_login() -> Any:
    """Sign in as a coordinator or admin: username, passphrase and TOTP code."""
    form = StaffLoginForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("auth/staff_login.html", form=form), status
    db, code = get_session(), form.code.data or ""
    try:
        if recovery.looks_like_recovery_code(code):
            account_keys = recovery.login_with_code(
                db,
                auth_config(),
                form.username.data or "",
                form.passphrase.data or "",
                code,
                now().date(),
            )
        else:
            account_keys = service.login_staff(
                db,
                auth_config(),
                form.username.data or "",
                form.passphrase.data or "",
                code,
                now(),
            )
    except LoginFailed:
        return render_template(
            "auth/staff_login.html", form=form, error=str(LOGIN_FAILED_STAFF)
        ), 401
    except AccountDisabled:
        return render_template("auth/staff_login.html", form=form, error=str(DISABLED)), 403
    # Fellow coordinators who were reset get their rooms back from this one.
    resets.restore_access(
        db, service.Identity(*account_keys, session_id_hash=b"", session_key=b""), now().date()
    )
    return _signed_in(account_keys, _safe_next(request.args.get("next")))


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    """Sign out: the server half of the session is deleted."""
    form = ButtonForm()
    if not form.validate_on_submit():
        return redirect(url_for("public.index"))
    if current_user.is_authenticated:
        service.end_session(get_session(), current_user.identity.session_id_hash)
    g.clear_login_cookie = True
    flask_session.clear()
    flash(_("You are signed out."), "notice")
    return redirect(url_for("public.index"))


@blueprint.route("/leave", methods=["GET"])
def leave_quickly() -> Response:
    """Leave at once: end the session, clear what the browser keeps, open a neutral page.

    A plain link, so it works on every page, public and cached ones included, with no
    token to expire and no JavaScript. A GET that signs out invites other sites to sign
    people out; the login cookie is SameSite=Strict, so such a request could not name the
    session anyway, and a browser that says another site sent it (Sec-Fetch-Site) only
    gets the neutral page: nothing is ended or cleared for it. Browsers too old to say
    are believed: leaving must never fail the person who needs it.
    """
    settings: Settings = current_app.extensions["settings"]
    response = redirect(settings.leave_quickly_url, 303)
    if request.headers.get("Sec-Fetch-Site", "none") not in OWN_REQUEST:
        return response
    if current_user.is_authenticated:
        service.end_session(get_session(), current_user.identity.session_id_hash)
    g.clear_login_cookie = True
    flask_session.clear()
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@blueprint.route("/enrol/<token>", methods=["GET", "POST"])
def enrol(token: str) -> Any:
    """A new coordinator or admin sets a passphrase and an authenticator app."""
    db = get_session()
    try:
        account = service.enrolment_account(db, token, now())
    except EnrolmentInvalid:
        return render_template("auth/enrol_invalid.html"), 404
    form = EnrolForm()
    if not form.is_submitted():
        form.totp_secret.data = service.new_totp_secret()
    secret = form.totp_secret.data or ""
    if not service.valid_totp_secret(secret):
        return render_template("auth/enrol_invalid.html"), 400

    def page(status: int, error: str | None = None) -> tuple[str, int]:
        uri = service.totp_uri(secret, account.username or "")
        return (
            render_template(
                "auth/enrol.html",
                form=form,
                account=account,
                secret=secret,
                qr=qr_svg(uri, _("QR code for your authenticator app")),
                error=error,
            ),
            status,
        )

    if not form.validate_on_submit():
        return page(400 if form.is_submitted() else 200)
    try:
        account, keys, codes = recovery.complete_enrolment(
            db,
            auth_config(),
            token,
            form.passphrase.data or "",
            secret,
            form.code.data or "",
            now(),
        )
    except WeakPassphrase as exc:
        form.passphrase.errors = [str(WEAK_PASSPHRASE[exc.reason])]
        return page(400)
    except TotpInvalid:
        form.code.errors = [
            _(
                "That code does not match. Check the time on your phone, and that you "
                "scanned the code on this page."
            )
        ]
        return page(400)
    # The recovery codes are shown once, on the first page of the new session.
    return open_session_response(
        account,
        keys,
        lambda: render_template("staff/recovery_codes.html", codes=codes, enrolled=True),
        201,
    )


def _account_page(**forms: Any) -> str:
    forms.setdefault("form", ChangePassphraseForm())
    forms.setdefault("codename_form", ReplaceCodenameForm())
    return render_template("auth/account.html", button=ButtonForm(), **forms)


@blueprint.route("/account", methods=["GET"])
@login_required
def account() -> Any:
    """The signed-in account's page."""
    return _account_page()


@blueprint.route("/account/codename", methods=["POST"])
@roles_required(Role.MEMBER)
def replace_codename() -> Any:
    """Replace the member's codename with a new one, shown once; other sessions end."""
    form = ReplaceCodenameForm()
    valid = form.validate_on_submit()
    typed = form.current.data or ""
    # Never written back into the page: the codename is refused or replaced.
    form.current.data = ""
    if valid:
        try:
            codename = service.replace_codename(
                get_session(),
                auth_config(),
                current_user.identity,
                typed,
                form.kind.data or codenames.WORDS,
            )
        except CodenameMalformed as error:
            form.current.errors = codename_errors(error)
        except (LoginFailed, AccountDisabled):
            form.current.errors = [str(LOGIN_FAILED_CODENAME)]
        else:
            # Whoever learnt the old codename could have read the feed's address on its
            # page: it stops working too. Queued for every replacement, feed or not, so
            # the queue does not say who had one (statements/news/feeds.py).
            feeds.revoke_feed(current_user.identity.keys.author_secret, request_writes())
            flash(
                _(
                    "Your codename is replaced: the old one no longer works, and every "
                    "other session is signed out."
                ),
                "notice",
            )
            return codename_page(current_user.account, codename, url_for("auth.account"))
    return _account_page(codename_form=form), 400


@blueprint.route("/account/passphrase", methods=["POST"])
@roles_required("admin", "coordinator")
def change_passphrase() -> Any:
    """Change the passphrase; other sessions end."""
    form = ChangePassphraseForm()
    error = None
    if form.validate_on_submit():
        try:
            service.change_passphrase(
                get_session(),
                auth_config(),
                current_user.identity,
                form.current.data or "",
                form.passphrase.data or "",
                form.code.data or "",
                now(),
            )
        except WeakPassphrase as exc:
            form.passphrase.errors = [str(WEAK_PASSPHRASE[exc.reason])]
        except (LoginFailed, AccountDisabled):
            error = str(LOGIN_FAILED_PASSPHRASE)
        else:
            flash(
                _("Your passphrase is changed. Every other session has been signed out."),
                "notice",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, button=ButtonForm(), error=error), 400


@blueprint.route("/account/sessions", methods=["POST"])
@login_required
def end_other_sessions() -> Any:
    """Sign out every other session of this account."""
    form = ButtonForm()
    if form.validate_on_submit():
        service.end_all_sessions(get_session(), current_user.account, keep=current_user.identity)
        flash(_("Every other session of this account is signed out."), "notice")
    return redirect(url_for("auth.account"))
