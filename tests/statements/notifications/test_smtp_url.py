"""SMTP_URL, SMTP_FROM and NOTIFICATION_KEY: parsed carefully, errors name the setting and
never repeat a password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from statements.notifications.smtp import SmtpUrlError, parse_smtp_url
from statements.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "SECRET_KEY": "s" * 48,
    "LOOKUP_PEPPER": "p" * 40,
    "LOG_ORIGIN": "statements.example.org/log",
}
PASSWORD = "Hunter2-very-secret"


def test_starttls_with_credentials_percent_decoded() -> None:
    config = parse_smtp_url("smtp://news%40example.org:a%2Fb%40c%3Ad@mail.example.org")
    assert (config.scheme, config.security) == ("smtp", "starttls")
    assert (config.host, config.port) == ("mail.example.org", 587)
    assert config.username == "news@example.org"
    assert config.password == "a/b@c:d"
    assert "a/b@c:d" not in repr(config)


def test_tls_and_a_port() -> None:
    config = parse_smtp_url("smtps://u:p@[2001:db8::1]:2465")
    assert (config.security, config.host, config.port) == ("tls", "2001:db8::1", 2465)
    assert parse_smtp_url("SMTPS://mail.example.org").port == 465


def test_plain_only_to_this_machine_and_without_credentials() -> None:
    assert parse_smtp_url("smtp+plain://localhost").port == 25
    assert parse_smtp_url("smtp+plain://127.0.0.1:2525").security == "none"
    with pytest.raises(SmtpUrlError, match="only for a mail server on this machine"):
        parse_smtp_url("smtp+plain://mail.example.org")
    with pytest.raises(SmtpUrlError, match="may not carry credentials"):
        parse_smtp_url(f"smtp+plain://u:{PASSWORD}@localhost")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.org", "must start with"),
        ("mail.example.org:587", "must start with"),
        (f"smtp://u:{PASSWORD}@", "names no host"),
        (f"smtp://u:{PASSWORD}@mail.example.org:99999", "malformed host or port"),
        (f"smtp://u:{PASSWORD}@mail.example.org:port", "malformed host or port"),
        (f"smtp://u:{PASSWORD}@mail.example.org/inbox", "no path or query"),
        (f"smtp://u:{PASSWORD}@mail.example.org?tls=no", "no path or query"),
        (f"smtp://:{PASSWORD}@mail.example.org", "password but no user name"),
        (f"smtp://u:{PASSWORD} @mail.example.org", "spaces or control characters"),
        ("smtp://mail.example.org:0", "port 0"),
        (f"smtp://u%0D%0ARSET:{PASSWORD}@mail.example.org", "control characters"),
        (f"smtps://u:{PASSWORD}%0A@mail.example.org", "control characters"),
    ],
)
def test_bad_urls_say_what_is_wrong_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(SmtpUrlError) as caught:
        parse_smtp_url(url)
    assert problem in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or PASSWORD not in str(caught.value.__context__)


def test_settings_read_smtp_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            **PRODUCTION,
            "SMTP_URL": f"smtps://news:{PASSWORD}@mail.example.org",
            "NOTIFICATION_KEY": "n" * 48,
        },
        tmp_path,
    )
    assert settings.smtp is not None
    assert settings.smtp.password == PASSWORD
    assert settings.mail_from == "notifications@statements.example.org"
    assert PASSWORD not in repr(settings)
    assert "n" * 48 not in repr(settings)


def test_production_without_smtp_needs_no_key(tmp_path: Path) -> None:
    settings = Settings.from_env(PRODUCTION, tmp_path)
    assert settings.smtp is None
    assert settings.notification_key is None


def test_development_keeps_a_notification_key_under_instance(tmp_path: Path) -> None:
    first = Settings.from_env({"APP_ENV": "development"}, tmp_path)
    second = Settings.from_env({"APP_ENV": "development"}, tmp_path)
    assert first.notification_key is not None
    assert first.notification_key == second.notification_key
    assert (tmp_path / "notification_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"SMTP_URL": f"smtp://u:{PASSWORD}@mail.example.org:x"}, "SMTP_URL"),
        ({"SMTP_URL": "smtps://mail.example.org"}, "NOTIFICATION_KEY"),
        (
            {
                "SMTP_URL": "smtps://mail.example.org",
                "NOTIFICATION_KEY": "n" * 48,
                "SMTP_FROM": "Name <a@b.org>",
            },
            "SMTP_FROM",
        ),
        (
            {
                "SMTP_URL": "smtps://mail.example.org",
                "NOTIFICATION_KEY": "n" * 48,
                "SMTP_CA_FILE": "/nonexistent/ca.pem",
            },
            "SMTP_URL",
        ),
    ],
)
def test_bad_mail_settings_name_the_setting(
    tmp_path: Path, environ: dict[str, str], name: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**PRODUCTION, **environ}, tmp_path)
    assert caught.value.name == name
    assert PASSWORD not in str(caught.value)


def test_a_bad_smtp_url_stops_the_command_with_one_line(tmp_path: Path) -> None:
    environ = {
        **os.environ,
        **PRODUCTION,
        "APP_ENV": "production",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "SMTP_URL": f"smtp://news:{PASSWORD}@mail.example.org/oops",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "send-notifications"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "configuration error: SMTP_URL: must be only scheme" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
