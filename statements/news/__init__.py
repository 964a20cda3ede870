"""Members' news: "since your last visit" and private feeds, with no trace that links anyone.

markers.py works out what changed for a member since they last looked, from a snapshot
sealed under their own key; feeds.py serves a content-free Atom feed at an address only
its member holds; views.py wires both into pages.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the news blueprint."""
    from statements.news.views import blueprint

    app.register_blueprint(blueprint)
