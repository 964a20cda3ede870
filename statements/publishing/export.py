"""A static mirror of everything published: HTML, bundles, keys, the log and the feed.

Each file is what the live site answers at the same path (fetched through the app itself,
so the two cannot drift apart), written so that any static host serves it: a page at
/statements/<slug> becomes statements/<slug>/index.html. The bundles are the signed bytes
themselves, so the mirror verifies wherever it is hosted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from flask import Flask

from statements.db import Database
from statements.i18n import WEB_FONTS
from statements.publishing import EXPORTER, log, service
from statements.settings import Settings

# Where the JSON API lives in the mirror: a static host cannot serve both a file and a
# directory at /api/v1/statements.
API_LIST = "api/v1/statements.json"


@dataclass
class Exported:
    """What an export wrote."""

    files: list[str] = field(default_factory=list)
    bundles: int = 0


def _paths(app: Flask) -> list[tuple[str, str]]:
    """(URL path, file path in the mirror) for everything public."""
    database: Database = app.extensions["db"]
    settings: Settings = app.extensions["settings"]
    files = [
        "bundle.json",
        "statement.md",
        "statement.md.minisig",
        "statement.pdf",
        "statement.docx",
    ]
    if settings.letterhead is not None:
        files.append("letterhead.pdf")
    with database.sessionmaker() as session:
        items = service.statements(session)
        size = log.size(session)
        versions = {item.slug: service.versions(session, item.slug) for item in items}
    paths = [
        ("/", "index.html"),
        ("/verify", "verify/index.html"),
        ("/safety", "safety/index.html"),
        ("/static/style.css", "static/style.css"),
        *((f"/static/fonts/{name}", f"static/fonts/{name}") for name in sorted(WEB_FONTS)),
        ("/.well-known/statement-keys.json", ".well-known/statement-keys.json"),
        ("/feed.atom", "feed.atom"),
        ("/api/v1/statements", API_LIST),
        ("/api/v1/openapi.json", "api/v1/openapi.json"),
        ("/statement-verify.pyz", "statement-verify.pyz"),
    ]
    if size:
        paths.append(("/log/checkpoint", "log/checkpoint"))
    for position in range(size):
        paths.append((f"/log/entries/{position}", f"log/entries/{position}"))
        paths.append((f"/log/checkpoints/{position + 1}", f"log/checkpoints/{position + 1}"))
    for item in items:
        base = f"statements/{item.slug}"
        paths.append((f"/{base}", f"{base}/index.html"))
        paths.append((f"/api/v1/statements/{item.slug}", f"api/v1/statements/{item.slug}.json"))
        for view in versions[item.slug]:
            version = f"{base}/v/{view.row.version}"
            paths.append((f"/{version}", f"{version}/index.html"))
            for name in files:
                paths.append((f"/{version}/{name}", f"{version}/{name}"))
    return paths


def export_site(app: Flask, out: Path, base_url: str) -> Exported:
    """Write the mirror into `out` (created if needed); links inside use `base_url`."""
    result = Exported()
    app.config["STATIC_MIRROR"] = True
    try:
        client = app.test_client()
        for url, relative in _paths(app):
            # Marked as the exporter's own: a site of more than 30 versions would otherwise
            # run into the per-reader PDF budget halfway through.
            response = client.get(url, base_url=base_url, environ_overrides={EXPORTER: True})
            try:
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")
                body = response.get_data()
            finally:
                response.close()
            target = out.joinpath(*PurePosixPath(relative).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            result.files.append(relative)
            result.bundles += relative.endswith("bundle.json")
    finally:
        app.config["STATIC_MIRROR"] = False
    return result
