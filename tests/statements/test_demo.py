"""flask --app wsgi demo seeds an empty database, and only an empty one."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.models import Account, Contribution, Room
from tests.support import Staff, login_member, login_staff


def test_demo_seeds_every_role_and_every_contribution_state(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    roles = sorted(session.scalars(select(Account.role)))
    assert roles == ["admin", "coordinator", "member", "member", "member"]
    assert session.scalar(select(func.count()).select_from(Room)) == 1
    statuses = set(session.scalars(select(Contribution.status)))
    assert statuses == {"pending", "accepted", "rejected", "hidden", "incorporated"}

    codenames = re.findall(r"codename ([a-z -]+)\n", result.output)
    assert len(codenames) == 3
    member = app.test_client()
    assert login_member(member, codenames[0]).status_code == 302
    room_id = re.search(r"/rooms/([0-9a-f]{32})", result.output)
    assert room_id
    assert member.get(f"/rooms/{room_id.group(1)}").status_code == 200

    username, passphrase, secret = re.search(
        r"coordinator\s+username (\S+)\n\s+passphrase ([a-z -]+)\n\s+TOTP secret ([A-Z2-7]+)",
        result.output,
    ).groups()  # type: ignore[union-attr]
    coordinator = app.test_client()
    account_id = session.scalar(select(Account.id).where(Account.username == username))
    assert account_id
    staff = Staff(account_id, username, passphrase, secret)
    assert login_staff(coordinator, app, staff).status_code == 302
    assert coordinator.get(f"/rooms/{room_id.group(1)}/moderation").status_code == 200

    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code != 0
    assert "already holds accounts" in again.output
    assert session.scalar(select(func.count()).select_from(Account)) == 5
