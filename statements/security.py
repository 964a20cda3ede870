"""Response headers, CSRF, request hygiene and throttling, for every route."""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import parse_qsl

from flask import Flask, Response, abort, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from statements.i18n import TRANSLATED_TYPES
from statements.settings import Settings
from statements.throttle_storage import storage_uri

if TYPE_CHECKING:
    import redis

_POLICY = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    # The script fonts of static/fonts, for devices that lack them (see style.css).
    "font-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
]
CONTENT_SECURITY_POLICY = "; ".join(_POLICY)
# A published statement's embed page, and nothing else, may be shown in a frame by any
# site: it has no form, no script and no link that acts (see allow_framing).
FRAMEABLE_POLICY = "; ".join(
    "frame-ancestors *" if rule.startswith("frame-ancestors") else rule for rule in _POLICY
)
View = TypeVar("View", bound=Callable[..., Any])
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"


def allow_framing(view: View) -> View:
    """Let other sites frame this view's successful answers (its errors stay unframeable).

    Only for public pages without forms or anything that acts on a click: a framed page
    can be overlaid by the framing site (clickjacking), which is harmless only there.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.frameable = True
        return view(*args, **kwargs)

    return cast(View, wrapper)


def client_key(secret: bytes, address: str) -> str:
    """A keyed hash of the client address: throttling needs a key, not the address."""
    return hmac.new(secret, b"throttle:" + address.encode(), hashlib.sha256).hexdigest()[:32]


class ThrottleSecret:
    """The random key that hashes client addresses for throttling, never written to disk.

    Not derived from the configuration: with the configuration at hand, the whole IPv4
    space could be hashed and the throttle's keys turned back into addresses. Workers
    share it through Redis, where it lapses after a day; without Redis, each process
    draws its own.
    """

    LIFETIME_SECONDS = 24 * 60 * 60
    # Set by gunicorn's master process (statements/gunicorn_conf.py) to a fresh random
    # value at each start, and inherited by its workers: without Redis, the workers hash
    # addresses alike, so one shared limit storage counts them together. It lives only in
    # the processes' memory.
    SHARED_ENV = "STATEMENTS_THROTTLE_SECRET"

    def __init__(self, redis_url: str | None, prefix: str) -> None:
        shared = os.environ.get(self.SHARED_ENV, "")
        self._local = (
            bytes.fromhex(shared)
            if re.fullmatch(r"[0-9a-f]{64}", shared)
            else secrets.token_bytes(32)
        )
        self._name = f"{prefix}:throttle-secret"
        self._redis: redis.Redis | None = None
        if redis_url:
            # Loaded only with Redis configured: without it, a worker need not hold it.
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def current(self) -> bytes:
        """The key in force now."""
        if self._redis is None:
            return self._local
        import redis

        try:
            self._redis.set(self._name, secrets.token_bytes(32), nx=True, ex=self.LIFETIME_SECONDS)
            value = self._redis.get(self._name)
        except redis.RedisError:
            return self._local
        return value if isinstance(value, bytes) and len(value) == 32 else self._local


class PublicAwareSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus a needless `Vary: Cookie` on public files.

    Flask-Login peeks at the session on every response, so Flask marks every response as
    varying by cookie. Bundles, keys, the log and PDFs are the same for everyone: saying
    otherwise would stop shared caches and mirrors from keeping them.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save as Flask does; then drop the Vary a public, untranslated answer does not need."""
        super().save_session(app, session, response)
        if getattr(response, "cacheable", False) and response.mimetype not in TRANSLATED_TYPES:
            response.vary.discard("Cookie")


def limiter_storage(settings: Settings) -> str:
    """Redis when configured; otherwise a file every worker of this host shares.

    Memory would give each worker a budget of its own (see statements.throttle_storage).
    Several hosts behind one proxy need Redis: a file is shared by one host's workers.
    """
    if settings.redis_url:
        return settings.redis_url
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    return storage_uri(str(settings.instance_path / "throttle.sqlite3"))


def make_limiter(app: Flask, settings: Settings) -> Limiter:
    """A rate limiter on Redis when configured, on a shared file otherwise."""
    secret = ThrottleSecret(settings.redis_url, settings.rate_limit_prefix)
    app.extensions["throttle_secret"] = secret
    limiter = Limiter(
        key_func=lambda: client_key(secret.current(), request.remote_addr or ""),
        app=app,
        storage_uri=limiter_storage(settings),
        strategy="moving-window",
        key_prefix=settings.rate_limit_prefix,
        enabled=settings.rate_limit_enabled,
        headers_enabled=False,
        # Fail closed would lock everyone out when Redis blips; the KDF cost still
        # bounds guessing, so we keep serving and say so in the error log.
        swallow_errors=True,
    )
    return limiter


class RequestBody:
    """wsgi.input, where a body the server cannot read (a broken chunk) is the client's 400.

    Servers report such a body in their own ways: werkzeug's with OSError, which werkzeug
    already turns into 400, gunicorn's with its own ParseException (InvalidChunkSize, ...),
    which reached the app as a 500. Whatever the server raises while reading what the
    client sent, the request could not be understood; nothing was read, nothing is saved.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def _reading(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except HTTPException:
            raise
        except Exception as error:
            raise BadRequest from error

    def read(self, *args: Any) -> bytes:
        """Read as the server's stream does."""
        return bytes(self._reading(self._stream.read, *args))

    def readline(self, *args: Any) -> bytes:
        """Read a line as the server's stream does."""
        return bytes(self._reading(self._stream.readline, *args))

    def readlines(self, *args: Any) -> list[bytes]:
        """Read lines as the server's stream does."""
        return list(self._reading(self._stream.readlines, *args))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def close(self) -> None:
        """Close the server's stream, for whoever closes wsgi.input."""
        self._stream.close()


def guard_request_body(wsgi_app: Callable[[dict[str, Any], Any], Iterable[bytes]]) -> Any:
    """Wrap a WSGI app so that its request body is read through RequestBody, and its query
    string is ASCII."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            # Bytes a client sent unescaped (the server passes them on as they came):
            # escaped, as a browser would have, since werkzeug decodes the query strictly
            # (request.args, request.full_path) and would raise. A query that is not UTF-8
            # is then refused with a 400 (_is_malformed).
            environ["QUERY_STRING"] = "".join(
                char if char.isascii() else f"%{ord(char):02X}" for char in query
            )
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = RequestBody(stream)
        return wsgi_app(environ, start_response)

    return app


def _is_malformed() -> bool:
    """True when the query string or form is not valid UTF-8 or carries NUL characters."""
    try:
        parse_qsl(request.query_string.decode("latin-1"), encoding="utf-8", errors="strict")
        if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            body = request.get_data(cache=True).decode("latin-1")
            parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return True
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.method == "POST":
        # A multipart part without a name comes out of werkzeug under the key None, which
        # CSRF protection and the forms then trip over.
        names = [*request.form.keys(), *request.files.keys()]
        if not all(isinstance(name, str) for name in names):
            return True
        values += [*names, *request.form.values()]
    # Werkzeug turns undecodable bytes (path, multipart) into U+FFFD; NUL breaks
    # PostgreSQL text, and can reach it through a path parameter as well as a form.
    return any("\x00" in value or "\ufffd" in value for value in values)


def init_app(app: Flask, settings: Settings) -> None:
    """Configure cookies, CSRF, throttling and the headers every response carries."""
    secure = not settings.development
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        # Flask's own cookie only carries the CSRF token seed and one-off notices.
        SESSION_COOKIE_NAME="__Host-csrf" if secure else "csrf",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,
        # The strict check demands a Referer, which no-referrer (rightly) never sends;
        # the token and SameSite=Strict cookies are the protection.
        WTF_CSRF_SSL_STRICT=False,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        TEMPLATES_AUTO_RELOAD=settings.development,
    )
    if settings.trusted_hosts:
        app.config["TRUSTED_HOSTS"] = list(settings.trusted_hosts)
    app.wsgi_app = guard_request_body(app.wsgi_app)  # type: ignore[method-assign]
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )

    # Registered before CSRF protection, which would parse (and so consume) the body.
    @app.before_request
    def _reject_bad_encoding() -> None:
        if _is_malformed():
            abort(400, description="malformed")

    app.session_interface = PublicAwareSessions()
    app.extensions["csrf"] = CSRFProtect(app)
    app.extensions["limiter"] = make_limiter(app, settings)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        if g.get("frameable", False) and response.status_code in (200, 304):
            headers["Content-Security-Policy"] = FRAMEABLE_POLICY
            # No X-Frame-Options: it has no way to say "any site" (frame-ancestors does).
        else:
            headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint == "static":
            headers["Cache-Control"] = "public, max-age=86400"
        elif not getattr(response, "cacheable", False):
            # Nothing else is cached unless its view marks it public (published
            # statements, later): a shared computer must not keep a member's pages.
            headers["Cache-Control"] = "no-store"
        return response
