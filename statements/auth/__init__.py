"""Accounts, login and sessions: wires the login manager and the session cookie."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import Limiter
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from statements.auth import service
from statements.auth.errors import SessionEnded
from statements.auth.kdf_pool import KdfBusy, KdfPool, PoolSize, default_slots
from statements.db import Database, get_session, rollback_request_session
from statements.errors import render_error
from statements.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_BLUEPRINTS = frozenset({"public"})
LEAVE_QUICKLY = "auth.leave_quickly"

# Every form that spends a slow key derivation, so guessing and load are both bounded.
THROTTLED_ENDPOINTS = (
    "auth.login",
    "auth.staff_login",
    "auth.enrol",
    "auth.change_passphrase",
    "auth.replace_codename",
)


class CurrentUser(UserMixin):
    """The logged-in account and the keys its session unlocked."""

    def __init__(self, identity: service.Identity) -> None:
        self.identity = identity
        self.account = identity.account

    def get_id(self) -> str:
        """Flask-Login's id: the account id."""
        return self.account.id

    @property
    def role(self) -> str:
        """admin, coordinator or member."""
        return self.account.role


def now() -> datetime:
    """The current time, UTC, from the app's clock (tests move it forward)."""
    from flask import current_app

    clock: Callable[[], datetime] = current_app.extensions["clock"]
    return clock()


def auth_config() -> service.AuthConfig:
    """The auth service's configuration for this app."""
    from flask import current_app

    config: service.AuthConfig = current_app.extensions["auth"]
    return config


def cookie_name(settings: Settings) -> str:
    """__Host- prefixed outside development: Secure, host-only, path=/."""
    return "auth" if settings.development else "__Host-auth"


def set_login_cookie(response: Response, value: str) -> None:
    """Attach a new session cookie to a response."""
    from flask import current_app

    settings: Settings = current_app.extensions["settings"]
    response.set_cookie(
        cookie_name(settings),
        value,
        httponly=True,
        secure=not settings.development,
        samesite="Strict",
        path="/",
    )


def _cookies_set(response: Response) -> set[str]:
    """Names of the cookies a response already sets."""
    return {header.split("=", 1)[0].strip() for header in response.headers.getlist("Set-Cookie")}


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from a configured secret."""
    return hmac.new(secret.encode(), b"statements-key\x00" + purpose.encode(), "sha256").digest()


def carries(*fields: str) -> Callable[[F], F]:
    """Mark a form view whose typed fields survive a session that ended before it was sent.

    Put it below @login_required: the sign-in page then carries these fields in hidden
    inputs (in the page, never on the server and never in a URL), and the view must
    answer a POST with `restore` by showing its form filled in, without acting on it.
    """

    def decorator(view: F) -> F:
        view.carried_fields = fields  # type: ignore[attr-defined]
        return view

    return decorator


def carried_fields(endpoint: str | None) -> tuple[str, ...]:
    """The fields a view's form carries across a new sign-in (see carries), if any."""
    from flask import current_app

    view = current_app.view_functions.get(endpoint or "")
    fields: tuple[str, ...] = getattr(view, "carried_fields", ())
    return fields


def carried_form(path: str, values: dict[str, str]) -> tuple[str, dict[str, str]] | None:
    """A form to carry, checked: the path must be a carrying view's, the fields its own.

    The path comes back from the browser, so it is matched against the routes rather
    than trusted; fields the view does not carry are dropped.
    """
    from flask import current_app
    from werkzeug.exceptions import HTTPException

    if not path.startswith("/") or len(path) > 2000:
        return None
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return None
    fields = carried_fields(str(endpoint))
    if not fields:
        return None
    return path, {name: values[name] for name in fields if name in values}


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow a view only to logged-in accounts with one of these roles."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from flask import current_app

                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in roles:
                raise Forbidden
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def login_page(carry: tuple[str, dict[str, str]] | None = None, form: Any = None) -> str:
    """The codename sign-in page, carrying a form's typed fields if there are some."""
    from statements.auth.forms import CodenameLoginForm

    form = form if form is not None else CodenameLoginForm(formdata=None)
    path, carried = carry if carry else ("", {})
    return render_template("auth/login.html", form=form, carry_path=path, carried=carried)


def init_app(app: Flask, settings: Settings) -> None:
    """Register the auth blueprint, the session cookie handling and throttling."""
    from statements.auth.views import blueprint

    app.extensions.setdefault("clock", lambda: datetime.now(UTC))
    app.extensions["auth"] = service.AuthConfig(
        pepper=settings.lookup_pepper,
        kdf=settings.kdf,
        idle_minutes=settings.session_idle_minutes,
        activity_key=derive_key(settings.secret_key, "session-activity"),
        max_hours=settings.session_max_hours,
        practice_key=derive_key(settings.secret_key, "codename-practice"),
        pool=KdfPool(
            settings.kdf_slots_dir or settings.instance_path / "kdf-slots",
            PoolSize(
                slots=settings.kdf_slots or default_slots(),
                waiting=settings.kdf_queue,
                max_wait_seconds=settings.kdf_wait_seconds,
                per_worker=settings.kdf_per_worker,
            ),
        ),
    )
    name = cookie_name(settings)

    manager = LoginManager(app)
    manager.session_protection = None
    manager.anonymous_user = AnonymousUserMixin

    @manager.request_loader
    def _load(_request: Any) -> CurrentUser | None:
        identity: service.Identity | None = g.get("identity")
        return CurrentUser(identity) if identity else None

    def _sign_in_notice(ended: bool) -> None:
        if ended:
            flash(
                ngettext(
                    "Your session ended: you were signed out after %(num)d minute without "
                    "activity, or from another device. Please sign in again.",
                    "Your session ended: you were signed out after %(num)d minutes without "
                    "activity, or from another device. Please sign in again.",
                    settings.session_idle_minutes,
                ),
                "notice",
            )
        else:
            flash(_("Please sign in to see that page."), "notice")

    def _carry_posted() -> tuple[str, dict[str, str]] | None:
        """What a form posted here had typed, if its view carries it (see carries)."""
        fields = carried_fields(request.endpoint) if request.method == "POST" else ()
        return carried_form(request.path, request.form.to_dict()) if fields else None

    @manager.unauthorized_handler
    def _unauthorized() -> Response | tuple[str, int]:
        _sign_in_notice(bool(g.get("session_ended")))
        carry = _carry_posted()
        if carry is not None:
            # What they typed comes back in this page's sign-in form, and from there to
            # theirs: a redirect would lose it, and a URL would put it in history and logs.
            return login_page(carry), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @app.errorhandler(KdfBusy)
    def _busy(error: KdfBusy) -> tuple[str, int, dict[str, str]]:
        # Too many sign-ins queued for a derivation slot: said at once, not after a timeout.
        rollback_request_session()
        page, status = render_error(503, "busy")
        return page, status, {"Retry-After": str(error.retry_after)}

    @app.errorhandler(CSRFError)
    def _csrf_failed(_error: CSRFError) -> tuple[str, int]:
        # The CSRF check runs before the session is looked at, and a token goes stale
        # with the session that seeded it (signing in elsewhere, leaving, a restarted
        # browser). A form sent with both gone is a session that ended while typing:
        # the person gets the sign-in page with their words, as when only the session
        # ended. A form another site sent (Sec-Fetch-Site) is never carried, so no site
        # can fill this site's forms; with a live session a stale token is only refused.
        own = request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
        carry = _carry_posted() if own else None
        if carry is not None:
            signed_in, had_session = _session_state()
            if not signed_in:
                _sign_in_notice(had_session)
                return login_page(carry), 401
        return render_error(400, "csrf")

    def _session_state() -> tuple[bool, bool]:
        """Whether this request's login cookie opens a session; whether it had one at all."""
        cookie = request.cookies.get(name)
        if not cookie:
            return False, False
        # The request's own database session is not open yet: the CSRF check came first.
        # This one only reads, and is never committed.
        database: Database = app.extensions["db"]
        with database.sessionmaker() as db:
            try:
                service.resume_session(db, auth_config(), cookie, now())
            except (service.MalformedSessionCookie, SessionEnded):
                g.clear_login_cookie = True
                return False, True
        return True, True

    @app.context_processor
    def _session_idle_minutes() -> dict[str, int]:
        return {"session_idle_minutes": settings.session_idle_minutes}

    @app.before_request
    def _resume() -> Any:
        g.identity = None
        cookie = request.cookies.get(name)
        # Public pages never look at the login: they are the same for everyone, may be
        # cached by anyone, and must not extend a session or answer with a cookie.
        if not cookie or request.endpoint == "static" or request.blueprint in PUBLIC_BLUEPRINTS:
            return None
        try:
            g.identity = service.resume_session(get_session(), auth_config(), cookie, now())
        except service.MalformedSessionCookie:
            g.clear_login_cookie = True
            # Leaving must work whatever state the cookie is in.
            if request.endpoint == LEAVE_QUICKLY:
                return None
            return render_error(400, "session_cookie")
        except SessionEnded:
            g.clear_login_cookie = True
            g.session_ended = True
        return None

    @app.after_request
    def _cookie(response: Response) -> Response:
        if g.get("clear_login_cookie"):
            response.delete_cookie(
                name, path="/", secure=not settings.development, httponly=True, samesite="Strict"
            )
            return response
        identity: service.Identity | None = g.get("identity")
        # The cookie, not the database, records the last activity: see resume_session.
        # A response that signed in or out set its own cookie already.
        if identity is not None and name not in _cookies_set(response):
            refreshed = service.activity_cookie(auth_config(), identity, now())
            if refreshed is not None:
                set_login_cookie(response, refreshed)
        return response

    app.register_blueprint(blueprint)

    # One budget shared by every way in, so switching forms does not buy more guesses:
    # per client address, and in total for the deployment, so that a guesser spread over
    # many addresses is bounded too. Joining has budgets of its own (throttle_joins).
    limiter: Limiter = app.extensions["limiter"]
    app.extensions["login_limits"] = (
        limiter.shared_limit(settings.login_rate_limit, scope="login", methods=["POST"]),
        limiter.shared_limit(
            settings.login_rate_limit_total,
            scope="login-total",
            key_func=_deployment,
            methods=["POST"],
        ),
    )
    app.extensions["join_limits"] = (
        limiter.shared_limit(
            settings.join_rate_limit, scope="join", methods=["POST"], exempt_when=_in_workshop
        ),
        limiter.shared_limit(
            settings.join_rate_limit_total,
            scope="join-total",
            key_func=_deployment,
            methods=["POST"],
        ),
    )
    for endpoint in THROTTLED_ENDPOINTS:
        throttle(app, endpoint)
    throttle_joins(app, "auth.join")


def _deployment() -> str:
    """The key of a deployment-wide budget: the same for every request."""
    return "deployment"


def _workshop() -> str | None:
    """The invitation whose workshop this request joins through, if any (once a request)."""
    from flask import current_app

    if "workshop" not in g:
        finders: dict[str, Callable[[], str | None]] = current_app.extensions.get(
            "workshop_finders", {}
        )
        finder = finders.get(request.endpoint or "")
        g.workshop = finder() if finder is not None else None
    workshop: str | None = g.workshop
    return workshop


def _in_workshop() -> bool:
    return _workshop() is not None


def throttle(app: Flask, endpoint: str) -> None:
    """Count POSTs to an endpoint against the shared sign-in budgets."""
    for limit in app.extensions["login_limits"]:
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])


def throttle_joins(
    app: Flask, endpoint: str, workshop: Callable[[], str | None] | None = None
) -> None:
    """Count POSTs to an endpoint (they create accounts) against the join budgets.

    workshop, if given, names the invitation a request joins through when that
    invitation is marked for a workshop: such joins count against the invitation's own
    budget instead of the address's (statements/drafting/workshops.py).
    """
    limiter: Limiter = app.extensions["limiter"]
    settings: Settings = app.extensions["settings"]
    view: Any = app.view_functions[endpoint]
    for limit in app.extensions["join_limits"]:
        view = limit(view)
    if workshop is not None:
        view = limiter.limit(
            settings.workshop_join_limit,
            key_func=lambda: f"workshop:{_workshop()}",
            methods=["POST"],
            exempt_when=lambda: not _in_workshop(),
        )(view)
        app.extensions.setdefault("workshop_finders", {})[endpoint] = workshop
    app.view_functions[endpoint] = view
