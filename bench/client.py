"""A small HTTP client for the benchmark: keeps cookies, fills forms with their CSRF token.

The standard library's http.client, because the app's cookies are __Host- and Secure,
which a cookie jar would not send over the benchmark's plain loopback HTTP."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_NAME = re.compile(r'name="([^"]+)"')
_VALUE = re.compile(r'value="([^"]*)"')


class Client:
    """One person's browser, as far as the benchmark needs one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        """The Cookie header this browser sends."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, str]:
        """Send one request; remember the cookies it set; return status and body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": f"127.0.0.1:{self.port}", "Cookie": self.cookie_header()}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
            headers["Sec-Fetch-Site"] = "same-origin"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return response.status, text
        finally:
            connection.close()

    def submit(self, path: str, fields: dict[str, str], form_path: str | None = None) -> int:
        """GET the page with the form, then POST it with its hidden fields and fields."""
        _status, page = self.request("GET", form_path or path)
        body = {}
        for tag in _HIDDEN.findall(page):
            name, value = _NAME.search(tag), _VALUE.search(tag)
            if name:
                body[name.group(1)] = value.group(1) if value else ""
        body.update(fields)
        status, _text = self.request("POST", path, body)
        return status
