"""Every route, signed in or not, whatever its status, carries the security headers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from statements.models import Role
from tests.support import login_staff, make_staff, post_form

EXPECTED = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _requests(app: Flask) -> list[tuple[str, str]]:
    """(method, url) for every registered route, with placeholder arguments."""
    requests = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "placeholder")
            url = re.sub(rf"<int(\([^)]*\))?:{argument}>", "1", url)
            url = url.replace(f"<path:{argument}>", "style.css")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            requests.append((method, url))
    return requests


def _is_public(app: Flask, method: str, url: str) -> bool:
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(url.split("?")[0], method=method)
    return method == "GET" and str(endpoint).startswith("public.")


def _check(response: TestResponse, method: str, url: str, public: bool = False) -> None:
    response.close()
    where = f"{method} {url} -> {response.status_code}"
    assert response.status_code < 500, where
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, where
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    ):
        assert directive in csp, where
    assert "unsafe-inline" not in csp, where
    assert "http" not in csp, where
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions, where
    if public and response.status_code == 200:
        # Published pages are the same for everyone: cacheable, tagged, and cookie-free.
        assert response.headers["Cache-Control"].startswith("public, "), where
        assert response.headers["ETag"], where
        assert "Set-Cookie" not in response.headers, where
    elif not url.startswith("/static/"):
        assert response.headers["Cache-Control"] == "no-store", where


def test_every_route_anonymous(app: Flask, client: FlaskClient) -> None:
    requests = _requests(app)
    assert len(requests) >= 10
    public = 0
    for method, url in requests:
        is_public = _is_public(app, method, url)
        response = client.open(url, method=method)
        public += is_public and response.status_code == 200
        _check(response, method, url, is_public)
    assert public >= 5  # the pages that exist with nothing published


def test_every_route_signed_in(app: Flask, client: FlaskClient, session: Session) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    assert login_staff(client, app, admin).status_code == 302
    for method, url in _requests(app):
        # Both sign out: checked signed out, like every route, in the test above.
        if url in ("/logout", "/leave"):
            continue
        _check(client.open(url, method=method), method, url, _is_public(app, method, url))
        if method == "POST":
            # Also with a valid CSRF token, so the view itself runs.
            _check(post_form(client, url, form_page="/account"), method, url)
    assert client.get("/account").status_code == 200


@pytest.fixture
def production(app_with: Callable[..., Flask]) -> FlaskClient:
    client = app_with(environment="production").test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def test_production_cookies_and_hsts(production: FlaskClient) -> None:
    response = production.get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert cookie.startswith("__Host-")
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
    joined = post_form(production, "/join", form_page="/join")
    assert joined.status_code == 201
    auth = [c for c in joined.headers.getlist("Set-Cookie") if c.startswith("__Host-auth=")]
    assert auth
    assert "Secure" in auth[0]
    assert "HttpOnly" in auth[0]
    assert "Path=/" in auth[0]
    assert "Expires" not in auth[0]
    assert "Max-Age" not in auth[0]


def test_no_hsts_over_plain_http(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers
