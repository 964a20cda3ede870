"""The reference: a bare Flask "hello" served by the same gunicorn settings as the app.

Every throughput figure is reported as a ratio to it, measured in the same run, so the
figures say what the app costs on this machine, not how fast the machine is."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """The least a Flask app can do for a request."""
    return "hello"
