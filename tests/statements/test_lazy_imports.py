"""An idle worker does not hold what few requests need: the PDF engine and its fonts,
PyICU and myanmar-tools, zxcvbn's word lists, the QR code maker, prometheus_client,
python-docx and lxml, the Word and PDF readers, and the command line's Alembic (with Mako)
and backup code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from statements.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "fpdf",
    "fontTools",
    "uharfbuzz",
    "PIL",
    "icu",
    "myanmartools",
    "zxcvbn",
    "xkcdpass",
    "segno",
    "prometheus_client",
    "pypdf",
    "docx",
    "lxml",
    "defusedxml",
    "alembic",
    "mako",
    "tarfile",
)

_PROBE = """
import json, sys
import wsgi
assert wsgi.app.url_map.bind("localhost").match("/login")
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


# A worker after its first requests: the schema check, the home page, the feed, sign-in.
_SERVE = """
import json, sys
import wsgi
client = wsgi.app.test_client()
for path in ("/", "/feed.atom", "/login", "/healthz"):
    response = client.get(path, base_url="https://localhost")
    assert response.status_code == 200, (path, response.status_code)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _loaded(tmp_path: Path, script: str = _PROBE, database_url: str = "") -> set[str]:
    environ = {
        **os.environ,
        "APP_ENV": "development",
        "INSTANCE_PATH": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    environ.pop("DATABASE_URL", None)
    environ.pop("REDIS_URL", None)
    if database_url:
        environ["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_app_loads_nothing_heavy(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path)
    assert "flask" in loaded  # the probe saw the app
    assert not loaded & set(HEAVY)


def test_serving_public_pages_loads_nothing_heavy(tmp_path: Path) -> None:
    """The schema check and the public pages need neither Alembic nor Redis (none is set)."""
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    loaded = _loaded(tmp_path, _SERVE, url)
    assert {"flask", "sqlalchemy", "markdown_it"} <= loaded  # the pages were served
    assert not loaded & {*HEAVY, "redis"}


def test_burmese_text_loads_its_tools_when_it_is_met(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from statements.text import burmese\n"
        "assert 'icu' not in sys.modules\n"
        "burmese.to_unicode('\\u1019\\u103a\\u102c\\u1038')\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    loaded = _loaded(tmp_path, script)
    assert {"icu", "myanmartools"} <= loaded
