"""Seed a benchmark database through the service layer, as the app itself would.

Run as `python -m bench.seed OUT.json` with the app's environment (DATABASE_URL, ...).
It writes what the benchmark needs to sign in and find things to OUT.json: codenames and
staff credentials of throwaway accounts in a throwaway database.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from statements import create_app
from statements.auth import codename as codenames
from statements.auth import now
from statements.auth import service as auth
from statements.drafting import contributions, invitations, rooms, versions
from statements.drafting.access import RoomAccess, open_room
from statements.models import ModerationMode, Role
from statements.publishing import endorsements
from statements.publishing import service as publishing

SMALL, LARGE = 25, 1_000
FEW_VERSIONS, MANY_VERSIONS = 2, 100
STORM_MEMBERS = 20
CONTRIBUTORS = 20
# Writers of the large room: the pending cap is lifted for the benchmark's rooms, so a
# handful of accounts can write a thousand contributions.
WRITERS = 5

DRAFT = "\n\n".join(
    [f"# Benchmark statement {n}" for n in range(1)]
    + [f"Paragraph {n}: refugees in the region are denied the right to work." for n in range(8)]
)


def _member(db: Session, config: auth.AuthConfig) -> tuple[auth.Identity, str]:
    account, codename, keys = auth.create_member(db, config)
    return auth.Identity(account, keys, b"", b""), codename


def _coordinator(db: Session, config: auth.AuthConfig) -> tuple[auth.Identity, dict[str, str]]:
    """The benchmark's coordinator, enrolled as the set-up page would, and its credentials."""
    import pyotp

    passphrase, secret = codenames.generate(5), auth.new_totp_secret()
    # Enrolled with an earlier code, so the code showing when the benchmark signs in is new.
    enrolled_at = now() - timedelta(minutes=2)
    account, token = auth.invite_staff(db, "bench-coordinator", Role.COORDINATOR, enrolled_at)
    code = pyotp.TOTP(secret).at(enrolled_at)
    _, keys = auth.complete_enrolment(db, config, token, passphrase, secret, code, enrolled_at)
    credentials = {"username": "bench-coordinator", "passphrase": passphrase, "totp": secret}
    return auth.Identity(account, keys, b"", b""), credentials


def _room(
    db: Session, coordinator: auth.Identity, title: str, members: list[auth.Identity]
) -> RoomAccess:
    today = now().date()
    room = rooms.create_room(
        db,
        coordinator,
        rooms.RoomInput(
            title=title,
            language="en",
            summary="A room the benchmark fills.",
            markdown=DRAFT,
            contribution_deadline=today + timedelta(days=14),
            signon_deadline=today + timedelta(days=28),
        ),
        today,
    )
    access = open_room(db, room.id, coordinator)
    # Every member sees every contribution: the lists hold what the room holds.
    rooms.set_moderation_mode(db, access, ModerationMode.POST, "benchmark", today)
    room.pending_cap = 1_000_000
    for member in members:
        _invitation, token = invitations.create_invitation(
            db, access, 1, today + timedelta(days=7), today
        )
        invitations.accept_invitation(db, token, member, today)
    return access


def _fill(db: Session, room_id: str, writers: list[auth.Identity], count: int) -> None:
    today = now().date()
    for n in range(count):
        access = open_room(db, room_id, writers[n % len(writers)])
        anchors = [section.anchor for section in versions.version(db, access).sections]
        contributions.submit_contribution(
            db,
            access,
            "comment",
            anchors[n % len(anchors)],
            f"Comment {n}: could this paragraph name the regional labour laws?",
            today,
        )


def _statement(db: Session, coordinator: auth.Identity, slug: str, count: int, origin: str) -> None:
    """A published statement with count versions (one publication, then corrections)."""
    today = now().date()
    member, _ = _member(db, current_config())
    access = _room(db, coordinator, f"Statement {slug}", [member])
    rooms.change_state(db, access, "consolidating", today)
    rooms.change_state(db, access, "sign-on", today)
    endorsements.endorse(db, open_room(db, access.room.id, member), "anonymous", "", "", today)
    endorsements.add_received(db, access, "Refugee Rights Network", "Thailand")
    publishing.publish(db, access, slug, origin, today)
    for number in range(2, count + 1):
        published = publishing.latest(db, slug).statement
        publishing.correct(
            db,
            coordinator,
            slug,
            today,
            title=published["title"],
            body=published["body_markdown"] + f"\n\nCorrection {number}: a date was wrong.",
            signatories="\n".join(
                f"{s['name']} | {s['country']}" for s in published["signatories"]
            ),
            reason="A correction.",
        )


def current_config() -> auth.AuthConfig:
    """The app's auth configuration (KDF costs, pepper)."""
    from flask import current_app

    config: auth.AuthConfig = current_app.extensions["auth"]
    return config


def seed(out: Path) -> None:
    """Seed the configured (empty, migrated) database and write what was made to out."""
    app = create_app()
    with app.app_context():
        db: Session = app.extensions["db"].sessionmaker()
        config = current_config()
        origin = app.extensions["settings"].log_origin
        coordinator, staff = _coordinator(db, config)

        _statement(db, coordinator, "few-versions", FEW_VERSIONS, origin)
        _statement(db, coordinator, "many-versions", MANY_VERSIONS, origin)

        reader, reader_codename = _member(db, config)
        writers = [_member(db, config)[0] for _ in range(WRITERS)]
        small = _room(db, coordinator, "A small room", [reader, *writers])
        large = _room(db, coordinator, "A large room", [reader, *writers])
        # The reader's own contributions fill one page of "Yours" in both rooms; the rest
        # of the large room is other people's.
        _fill(db, small.room.id, [reader], SMALL)
        _fill(db, large.room.id, [reader], SMALL)
        _fill(db, large.room.id, writers, LARGE - SMALL)

        storm = [_member(db, config)[1] for _ in range(STORM_MEMBERS)]
        contributors = [_member(db, config) for _ in range(CONTRIBUTORS)]
        busy = _room(db, coordinator, "A busy room", [m for m, _ in contributors])
        db.commit()
        db.close()
    out.write_text(
        json.dumps(
            {
                "staff": staff,
                "reader": reader_codename,
                "rooms": {"small": small.room.id, "large": large.room.id, "busy": busy.room.id},
                "statements": {"few": "few-versions", "many": "many-versions"},
                "storm": storm,
                "contributors": [codename for _, codename in contributors],
            }
        )
    )


if __name__ == "__main__":
    seed(Path(sys.argv[1]))
