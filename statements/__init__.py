"""The joint-statement drafting platform: create_app wires the parts together."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask

from statements.settings import Settings, SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app. Each part registers itself through its own init_app."""
    from statements import (
        admin,
        auth,
        cli,
        control,
        db,
        drafting,
        errors,
        health,
        i18n,
        logs,
        main,
        metrics,
        mixing,
        news,
        notifications,
        publishing,
        security,
        staff,
    )
    from statements.publishing import fast_path

    app = logs.QuietFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
    )
    if settings is None:
        try:
            settings = Settings.from_env(os.environ, Path(app.instance_path))
        except SettingsError as exc:
            # One line naming the setting, not a traceback.
            print(f"configuration error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    app.extensions["settings"] = settings

    logs.init_app(app)
    # First, so innermost: it sees each request as the app does, after ProxyFix.
    fast_path.init_app(app)
    security.init_app(app, settings)
    i18n.init_app(app)
    db.init_app(app, settings.database_url)
    mixing.init_app(app, settings)
    errors.init_app(app)
    auth.init_app(app, settings)
    admin.init_app(app)
    drafting.init_app(app)
    news.init_app(app)
    publishing.init_app(app)
    control.init_app(app)
    staff.init_app(app)
    notifications.init_app(app)
    main.init_app(app)
    cli.init_app(app)
    metrics.init_app(app, settings)
    # Last: the health check answers in front of every other middleware.
    health.init_app(app)
    return app
