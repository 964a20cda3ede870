"""One transaction per request: committed on success, rolled back on any failure."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth import service
from statements.db import get_session
from statements.models import Account


def _accounts(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Account)) or 0


@pytest.fixture
def writer(app: Flask) -> Flask:
    """Routes that create a member account and then succeed, refuse, or crash."""

    def create(outcome: str) -> str:
        service.create_member(get_session(), app.extensions["auth"])
        if outcome == "crash":
            raise RuntimeError("the database raised mid-request")
        if outcome == "refuse":
            abort(409)
        return "created"

    app.add_url_rule("/_test/<outcome>", "test_writer", create, methods=["GET"])
    return app


def test_a_successful_request_commits(writer: Flask, session: Session) -> None:
    assert writer.test_client().get("/_test/ok").status_code == 200
    assert _accounts(session) == 1


def test_a_failing_request_writes_nothing(writer: Flask, session: Session) -> None:
    client: FlaskClient = writer.test_client()
    response = client.get("/_test/crash")
    assert response.status_code == 500
    assert "Nothing you sent was saved" in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    assert client.get("/_test/refuse").status_code == 409
    assert _accounts(session) == 0
