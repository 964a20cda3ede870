"""deploy/nginx/statements.conf with the real nginx: `nginx -t`, then nginx in front of
the real gunicorn (deploy/gunicorn.conf.py) on loopback, serving the app and the mirror.

The site file is used as shipped, with only its host-specific values (ports, paths, the
certificate) swapped for this test's: each must be found, so the test follows the file.
"""

from __future__ import annotations

import datetime
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from statements.db import make_engine, upgrade
from tests.conftest import tools_required

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "statements.conf"
HOST = "statements.example.org"
ONION = "exampleonionaddressexampleonionaddressexampleonionaddr.onion"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="nginx and gunicorn: POSIX")


@pytest.fixture(scope="module")
def nginx_tool() -> str:
    """The real nginx binary (CI installs Debian's; elsewhere a missing one skips)."""
    path = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if path is None:
        message = (
            "nginx is required to test deploy/nginx: install it "
            "(Debian/Ubuntu: apt-get install nginx); CI does"
        )
        if tools_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _wait_for(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Ports:
    """Where each part listens in this test."""

    http: int
    https: int
    onion: int
    app: int


def _site(ports: Ports, cert: Path, key: Path, mirror: Path, logs: Path) -> str:
    text = SITE.read_text()
    swaps = {
        "listen 80;": f"listen 127.0.0.1:{ports.http};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{ports.https} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 127.0.0.1:8080;": f"listen 127.0.0.1:{ports.onion};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports.app};",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
        "/var/www/statements": str(mirror),
        "/var/log/nginx/statements.error.log": str(logs / "site-error.log"),
    }
    for old, new in swaps.items():
        assert old in text, f"{old!r} is no longer in {SITE.name}: update this test"
        text = text.replace(old, new)
    return text


def _main_conf(work: Path, site: Path) -> str:
    """A minimal nginx.conf around the site, as Debian's includes sites-enabled/."""
    temp = {name: work / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    # As root, nginx's workers would become nobody, who cannot read pytest's 0700 dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    # A server-wide access log, as Debian's nginx.conf has: the site must turn it off.
    access_log {work / "access.log"};
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
}}
"""


@dataclass(frozen=True)
class Served:
    """nginx and gunicorn running, and what a test needs to talk to them."""

    ports: Ports
    work: Path
    mirror: Path
    tls: ssl.SSLContext


@pytest.fixture(scope="module")
def served(nginx_tool: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app under gunicorn with the deploy configuration, and nginx with the site."""
    work = tmp_path_factory.mktemp("nginx")
    ports = Ports(_free_port(), _free_port(), _free_port(), _free_port())
    cert, key = _certificate(work)
    mirror = work / "mirror"
    version = mirror / "statements" / "from-the-mirror" / "v" / "1"
    version.mkdir(parents=True)
    (version / "bundle.json").write_text('{"served": "from the mirror"}')
    (mirror / "log" / "checkpoints").mkdir(parents=True)
    (mirror / "log" / "checkpoints" / "1").write_text("a checkpoint from the mirror\n")
    site = work / "site.conf"
    site.write_text(_site(ports, cert, key, mirror, work))
    conf = work / "nginx.conf"
    conf.write_text(_main_conf(work, site))

    database = work / "statements.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "development",
        "INSTANCE_PATH": str(work / "instance"),
        "DATABASE_URL": f"sqlite:///{database}",
        "PROXY_HOPS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{ports.app}",
        "GUNICORN_WORKERS": "1",
    }
    base = ["-p", str(work), "-c", str(conf), "-e", str(work / "startup-error.log")]
    checked = subprocess.run(
        [nginx_tool, "-t", *base], capture_output=True, text=True, check=False, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    with (work / "gunicorn.out").open("wb") as out:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        nginx = subprocess.Popen(
            [nginx_tool, *base, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(lambda: _accepts(ports.app), "gunicorn")
            _wait_for(lambda: _accepts(ports.https) and _accepts(ports.onion), "nginx")
            tls = ssl.create_default_context(cafile=str(cert))
            yield Served(ports, work, mirror, tls)
        finally:
            for process in (nginx, gunicorn):
                process.terminate()
            for process in (nginx, gunicorn):
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _get(
    served: Served, path: str, *, port: str = "https", host: str = HOST
) -> http.client.HTTPResponse:
    if port == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", served.ports.https, context=_sni(served.tls), timeout=30
        )
    else:
        connection = http.client.HTTPConnection(
            "127.0.0.1", getattr(served.ports, port), timeout=30
        )
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _sni(context: ssl.SSLContext) -> ssl.SSLContext:
    # The certificate is checked against the CA file; the name is checked below, as the
    # connection is to 127.0.0.1 while the site is statements.example.org.
    context.check_hostname = False
    return context


def test_nginx_serves_the_app_over_tls_with_hsts_and_onion_location(served: Served) -> None:
    response = _get(served, "/healthz")
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security", "").startswith("max-age=")
    assert response.getheader("Onion-Location") == f"http://{ONION}/healthz"
    page = _get(served, "/safety")
    assert page.status == 200
    # One HSTS header (nginx's), however the app is configured.
    assert len(page.headers.get_all("Strict-Transport-Security") or []) == 1
    assert page.getheader("Content-Security-Policy")  # the app's own headers come through


def test_published_files_come_from_the_mirror_and_the_rest_from_the_app(served: Served) -> None:
    bundle = _get(served, "/statements/from-the-mirror/v/1/bundle.json")
    assert bundle.status == 200
    assert bundle.getheader("Content-Type", "").startswith("application/json")
    assert "max-age=" in bundle.getheader("Cache-Control", "")
    assert bundle.getheader("Strict-Transport-Security", "").startswith("max-age=")
    assert bundle.getheader("Onion-Location", "").startswith(f"http://{ONION}/")
    checkpoint = _get(served, "/log/checkpoints/1")
    assert checkpoint.status == 200
    assert checkpoint.getheader("Content-Type", "").startswith("text/plain")
    # Not in the mirror: the app answers (this one has published nothing).
    missing = _get(served, "/statements/not-exported/v/1/bundle.json")
    assert missing.status == 404
    assert missing.getheader("Content-Security-Policy")
    assert _get(served, "/log/checkpoints/2").status == 404


def test_plain_http_goes_to_https_and_the_onion_side_has_no_hsts(served: Served) -> None:
    redirect = _get(served, "/take-part?x=1", port="http")
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"https://{HOST}/take-part?x=1"
    onion = _get(served, "/healthz", port="onion", host=ONION)
    assert onion.status == 200
    assert onion.getheader("Strict-Transport-Security") is None
    assert onion.getheader("Onion-Location") is None
    mirrored = _get(served, "/statements/from-the-mirror/v/1/bundle.json", port="onion", host=ONION)
    assert mirrored.status == 200


def test_nothing_is_written_to_the_access_log(served: Served) -> None:
    secret_path = "/invitation/an-invitation-secret"
    _get(served, secret_path)
    _get(served, secret_path, port="onion", host=ONION)
    _get(served, secret_path, port="http")
    access = served.work / "access.log"
    assert not access.exists() or access.read_text() == ""
    for log in served.work.glob("*.log"):
        assert "an-invitation-secret" not in log.read_text(), log.name
