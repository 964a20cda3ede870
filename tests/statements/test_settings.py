"""Settings come from the environment, validated, with one-line errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crypto.kdf import KdfParams
from statements.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s" * 48


def test_development_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"APP_ENV": "development"}, tmp_path)
    assert settings.development
    assert settings.database_url == f"sqlite:///{tmp_path / 'statements.sqlite3'}"
    assert settings.session_idle_minutes == 30
    assert settings.redis_url is None
    assert settings.kdf == KdfParams()
    with pytest.raises(AttributeError):
        settings.secret_key = "changed"  # type: ignore[misc]


def test_development_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings.from_env({"APP_ENV": "development"}, tmp_path)
    second = Settings.from_env({"APP_ENV": "development"}, tmp_path)
    assert first.secret_key == second.secret_key
    assert first.lookup_pepper == second.lookup_pepper
    assert first.secret_key.encode() != first.lookup_pepper
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600


def test_production_reads_everything_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "SECRET_KEY": GOOD_SECRET,
            "LOOKUP_PEPPER": "p" * 40,
            "DATABASE_URL": "postgresql+psycopg://db/statements",
            "REDIS_URL": "redis://cache:6379/0",
            "SESSION_IDLE_MINUTES": "15",
            "KDF_MEMORY_KIB": "131072",
            "KDF_ITERATIONS": "4",
            "LOG_ORIGIN": "statements.example.org/log",
            "TRUSTED_HOSTS": "statements.example.org, abcdef.onion",
        },
        tmp_path,
    )
    assert not settings.development
    assert settings.log_origin == "statements.example.org/log"
    assert settings.trusted_hosts == ("statements.example.org", "abcdef.onion")
    assert settings.session_idle_minutes == 15
    assert settings.kdf == KdfParams(memory_kib=131072, iterations=4, lanes=1)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": GOOD_SECRET}, "LOOKUP_PEPPER"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"APP_ENV": "development", "SESSION_IDLE_MINUTES": "ten"}, "SESSION_IDLE_MINUTES"),
        ({"APP_ENV": "development", "SESSION_IDLE_MINUTES": "0"}, "SESSION_IDLE_MINUTES"),
        ({"APP_ENV": "development", "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"APP_ENV": "development", "REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"APP_ENV": "development", "KDF_ITERATIONS": "-1"}, "KDF_ITERATIONS"),
        ({"APP_ENV": "development", "KDF_MEMORY_KIB": "4"}, "KDF_MEMORY_KIB"),
        (
            {"SECRET_KEY": GOOD_SECRET, "LOOKUP_PEPPER": GOOD_SECRET, "KDF_MEMORY_KIB": "8"},
            "KDF_MEMORY_KIB",
        ),
        (
            {"SECRET_KEY": GOOD_SECRET, "LOOKUP_PEPPER": GOOD_SECRET, "KDF_ITERATIONS": "1"},
            "KDF_ITERATIONS",
        ),
        ({"APP_ENV": "development", "LOGIN_RATE_LIMIT": "often"}, "LOGIN_RATE_LIMIT"),
        ({"APP_ENV": "development", "LEAVE_QUICKLY_URL": "javascript:x"}, "LEAVE_QUICKLY_URL"),
        ({"SECRET_KEY": GOOD_SECRET, "LOOKUP_PEPPER": GOOD_SECRET}, "LOG_ORIGIN"),
        ({"APP_ENV": "development", "LOG_ORIGIN": "https://example.org/log"}, "LOG_ORIGIN"),
        ({"APP_ENV": "development", "LOG_ORIGIN": "example.org/my log"}, "LOG_ORIGIN"),
        ({"APP_ENV": "development", "TRUSTED_HOSTS": "ok.example, https://x"}, "TRUSTED_HOSTS"),
    ],
)
def test_bad_settings_name_the_setting(tmp_path: Path, environ: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ, tmp_path)
    assert caught.value.name == name
    assert str(caught.value).startswith(f"{name}: ")


def test_start_up_with_a_bad_setting_prints_one_line(tmp_path: Path) -> None:
    environ = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEY", "LOOKUP_PEPPER", "APP_ENV")
    }
    environ.update(INSTANCE_PATH=str(tmp_path), APP_ENV="production")
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]
