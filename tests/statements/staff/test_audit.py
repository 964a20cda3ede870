"""The staff audit log: what staff did and on which day, append-only in the database
itself, readable by admins with filters, and silent about members."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from statements.models import Account, AuditAction, Role
from statements.staff import audit
from tests.support import (
    dump_database,
    login_member,
    login_staff,
    make_member,
    make_staff,
    post_form,
    post_signed_in,
)


def _entry(session: Session, day: date, actor: str = "root") -> None:
    account = session.scalar(select(Account).where(Account.username == actor))
    audit.record(session, account, AuditAction.ROOM_OPENED, "room-id", day)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET actor = 'someone-else'",
        "UPDATE audit_log SET day = '2000-01-01'",
        "DELETE FROM audit_log",
    ],
)
def test_the_database_refuses_to_change_or_delete_entries(
    app: Flask, session: Session, statement: str
) -> None:
    """On SQLite, or on PostgreSQL when TEST_DATABASE_URL is set: the triggers of 0010."""
    make_staff(app, session, "root", Role.ADMIN)
    _entry(session, date(2026, 3, 1))
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement))
    session.rollback()
    assert session.execute(text("SELECT actor, day FROM audit_log")).one()[0] == "root"


def test_staff_actions_are_logged_by_day_and_never_members(app: Flask, session: Session) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    client = app.test_client()
    assert login_staff(client, app, admin).status_code == 302
    created = post_signed_in(
        client, "/admin/accounts", {"username": "nadia", "role": "coordinator"}
    )
    assert created.status_code == 201
    member, codename = make_member(app, session)
    member_client = app.test_client()
    assert login_member(member_client, codename).status_code == 302
    assert post_form(member_client, "/join", form_page="/join").status_code == 201
    disabled = post_signed_in(client, f"/admin/accounts/{member.id}/disabled", {"disabled": "1"})
    assert disabled.status_code == 302
    nadia = session.scalar(select(Account).where(Account.username == "nadia"))
    assert nadia is not None
    post_signed_in(client, f"/admin/accounts/{nadia.id}/disabled", {"disabled": "1"})
    session.expire_all()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Account created" in page
    assert "nadia" in page
    assert "Account disabled" in page
    # The member's disabling is not audited, and nothing of theirs is in the log.
    rows = session.execute(text("SELECT id, day, actor, action, subject FROM audit_log")).all()
    assert {row.action for row in rows} == {"account-created", "account-disabled"}
    logged = " ".join(str(value) for row in rows for value in row)
    assert member.id not in logged
    assert member.id[:8] not in logged
    # A day, never a time of day.
    assert all(isinstance(row.day, date | str) and ":" not in str(row.day) for row in rows)
    values = b"\n".join(dump_database(session))
    assert codename.encode() not in values


def test_admins_filter_and_page_the_log(app: Flask, session: Session) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    make_staff(app, session, "amina")
    start = date(2026, 1, 1)
    for offset in range(audit.PAGE_SIZE + 5):
        _entry(session, start + timedelta(days=offset))
    _entry(session, start, actor="amina")
    session.commit()
    client = app.test_client()
    assert login_staff(client, app, admin).status_code == 302
    first = client.get("/admin/audit").get_data(as_text=True)
    assert f"{audit.PAGE_SIZE + 6} entries" in first
    assert "page=2" in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert "2026-01-01" in second
    by_account = client.get("/admin/audit?actor=amina").get_data(as_text=True)
    assert "1 entry." in by_account
    by_dates = client.get("/admin/audit?since=2026-01-02&until=2026-01-04").get_data(as_text=True)
    assert "3 entries." in by_dates
    by_action = client.get("/admin/audit?action=room-sealed").get_data(as_text=True)
    assert "0 entries." in by_action
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 400
    assert "Not a valid date value" in bad.get_data(as_text=True)
    farsi = client.get("/admin/audit", headers={"Accept-Language": "fa"})
    assert farsi.status_code == 200


def test_only_admins_read_the_log(app: Flask, session: Session) -> None:
    coordinator = make_staff(app, session, "amina")
    client = app.test_client()
    assert client.get("/admin/audit").status_code == 302
    assert login_staff(client, app, coordinator).status_code == 302
    assert client.get("/admin/audit").status_code == 403


def test_the_audit_page_costs_the_same_for_a_long_log(app: Flask, session: Session) -> None:
    from tests.support import counting

    admin = make_staff(app, session, "root", Role.ADMIN)
    client = app.test_client()
    assert login_staff(client, app, admin).status_code == 302
    counts = []
    for entries in (3, 300):
        for offset in range(entries):
            _entry(session, date(2026, 1, 1) + timedelta(days=offset % 90))
        session.commit()
        client.get("/admin/audit?page=2")
        with counting(app) as statements:
            assert client.get("/admin/audit?page=2").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
