"""The home page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

blueprint = Blueprint("main", __name__)


@blueprint.route("/take-part")
def home() -> Any:
    """What this site is, and the ways in."""
    return render_template("main/home.html")


@blueprint.route("/safety")
def safety() -> Any:
    """Staying safe: Tor Browser, shared devices, and what the server can and cannot see."""
    return render_template("main/safety.html")
