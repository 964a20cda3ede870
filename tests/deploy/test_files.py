"""deploy/: the gunicorn configuration loads and keeps the private logger; the systemd
units, the container files and the torrc say what the README says they do."""

from __future__ import annotations

import configparser
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from gunicorn.config import Config

from statements.gunicorn_conf import PrivateLogger

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"


def test_the_gunicorn_configuration_keeps_the_private_logger(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    values = runpy.run_path(str(GUNICORN_CONF))
    assert values["logger_class"] is PrivateLogger
    assert values["accesslog"] is None
    assert values["bind"] == "127.0.0.1:8000"
    assert values["workers"] == 3
    # gunicorn ignores a name it does not know: each one here must be a real setting.
    config = Config()
    names = {name for name in values if not name.startswith("_") and name.islower()}
    names -= {"os"}
    assert names <= set(config.settings), names - set(config.settings)
    for name in names:
        config.set(name, values[name])
    assert config.logger_class is PrivateLogger


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX only")
def test_gunicorn_accepts_the_configuration_and_loads_the_app(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'statements.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", str(GUNICORN_CONF), "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


TIMED = ["purge-sessions", "rewrite-anonymous", "backup", "mirror", "notifications"]
COMMANDS = {"mirror": "export-site", "notifications": "send-notifications"}


@pytest.mark.parametrize("name", TIMED)
def test_each_timer_runs_its_flask_command(name: str) -> None:
    timer = _unit(DEPLOY / "systemd" / f"statements-{name}.timer")
    assert timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == "timers.target"
    service = _unit(DEPLOY / "systemd" / f"statements-{name}.service")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["User"] == "statements"
    assert service["Service"]["EnvironmentFile"] == "/etc/statements/env"
    assert f"flask --app wsgi {COMMANDS.get(name, name)}" in (service["Service"]["ExecStart"])


def test_the_commands_the_units_run_exist() -> None:
    from statements import create_app
    from statements.settings import Settings

    settings = Settings(
        environment="development",
        secret_key="x" * 48,
        lookup_pepper=b"y" * 48,
        database_url="sqlite://",
        instance_path=Path("/nonexistent"),
    )
    app = create_app(settings)
    for name in [
        "purge-sessions",
        "rewrite-anonymous",
        "backup",
        "restore",
        "export-site",
        "send-notifications",
    ]:
        assert name in app.cli.commands
    app.extensions["db"].engine.dispose()


def test_the_app_unit_uses_the_deploy_configuration() -> None:
    service = _unit(DEPLOY / "systemd" / "statements.service")["Service"]
    assert "--config deploy/gunicorn.conf.py wsgi:app" in service["ExecStart"]
    assert service["EnvironmentFile"] == "/etc/statements/env"
    assert service["User"] == "statements"
    assert service["UMask"] == "0077"


def test_the_container_runs_the_deploy_configuration_from_the_lock() -> None:
    containerfile = (DEPLOY / "Containerfile").read_text()
    assert "--require-hashes --no-deps -r requirements.lock" in containerfile
    assert 'CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"]' in containerfile
    assert "postgresql-client" in containerfile
    assert "/healthz" in containerfile
    assert "\nUSER statements\n" in containerfile


def test_compose_runs_the_app_with_postgresql_and_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"app", "migrate", "postgres", "redis"} <= set(services)
    app = services["app"]
    assert app["build"]["dockerfile"] == "deploy/Containerfile"
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in app["environment"]["DATABASE_URL"]
    assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    # The app is reached through nginx on the host: published on loopback only.
    assert app["ports"] == ["127.0.0.1:8000:8000"]
    assert services["migrate"]["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert "--appendonly" in services["redis"]["command"]


def test_the_example_environment_names_real_settings() -> None:
    from statements.settings import Settings

    names = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    names -= {"GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_THREADS", "INSTANCE_PATH"}
    source = Path(Settings.__module__.replace(".", "/") + ".py")
    text = (ROOT / source).read_text()
    for name in names:
        assert f'"{name}"' in text, name


def test_the_torrc_points_the_onion_service_at_nginx() -> None:
    torrc = (DEPLOY / "tor" / "torrc").read_text()
    site = (DEPLOY / "nginx" / "statements.conf").read_text()
    assert "HiddenServicePort 80 127.0.0.1:8080" in torrc
    assert "listen 127.0.0.1:8080;" in site
