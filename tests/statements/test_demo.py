"""flask --app wsgi demo seeds an empty database, and only an empty one."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.bundle_checks import verify_bundle
from crypto.bundle_reading import parse_keys
from statements.models import Account, Contribution, Room
from tests.support import Staff, login_member, login_staff


def test_demo_seeds_every_role_and_every_contribution_state(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    roles = sorted(session.scalars(select(Account.role)))
    assert roles == ["admin", "coordinator", "member", "member", "member"]
    assert session.scalar(select(func.count()).select_from(Room)) == 2
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

    # The published statement: public and anonymous signatories, and a correction.
    slug = re.search(r"/statements/([a-z0-9-]+)", result.output)
    assert slug
    reader = app.test_client()
    api = reader.get(f"/api/v1/statements/{slug.group(1)}").get_json()
    assert [v["status"] for v in api["versions"]] == ["published", "corrected"]
    statement = api["statement"]
    assert {s["name"] for s in statement["signatories"]} == {
        "Asylum Access Malaysia",
        "Refugee Rights Network Asia Pacific",
    }
    assert statement["anonymous_signatories"] == 2
    keys = parse_keys(reader.get("/.well-known/statement-keys.json").get_json())
    for version in api["versions"]:
        bundle = reader.get(version["bundle_url"].replace("http://localhost", "")).get_json()
        assert verify_bundle(bundle, keys).valid

    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code != 0
    assert "already holds accounts" in again.output
    assert session.scalar(select(func.count()).select_from(Account)) == 5
