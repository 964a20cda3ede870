"""Seed a demonstration instance: accounts of every role, a room mid-drafting, and a
published statement with public and anonymous signatories and a correction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth import codename as codenames
from statements.auth import service as auth
from statements.drafting import contributions, invitations, moderation, rooms, versions
from statements.drafting.access import open_room
from statements.models import Account, Role
from statements.publishing import endorsements, organisations
from statements.publishing import service as publishing

DEMO_DRAFT = """# Joint statement on the right to work for refugees

We, the undersigned refugee-led groups and organisations, call for the right to work.

Refugees in the region are denied the right to work, and many are arrested at their workplaces.

We call on governments to grant work permits without delay, and to recognise UNHCR documents.

- End arrests and detention at workplaces.
- Allow refugees to open bank accounts.
- Protect refugee workers from exploitation.
"""


PUBLISHED_DRAFT = """# Joint statement: end the detention of refugee children

We, the undersigned organisations, call on governments in the region to end the immigration
detention of children.

Children are held in crowded detention centres, sometimes for years, without schooling.

We call for alternatives to detention that keep families together in the community.
"""
PUBLISHED_SLUG = "end-child-detention"


class DatabaseNotEmpty(Exception):
    """The demo only seeds an empty database."""


@dataclass
class StaffCredentials:
    """What a demo coordinator or admin signs in with."""

    role: str
    username: str
    passphrase: str
    totp_secret: str


@dataclass
class DemoCredentials:
    """Everything the demo prints."""

    staff: list[StaffCredentials] = field(default_factory=list)
    codenames: list[str] = field(default_factory=list)
    room_id: str = ""
    published_slug: str = ""


def _staff(
    db: Session, config: auth.AuthConfig, role: Role, username: str, now: datetime
) -> tuple[StaffCredentials, auth.Identity]:
    passphrase = codenames.generate(5)
    secret = auth.new_totp_secret()
    # Enrolled with a code from two minutes ago, so the code showing now is still unused.
    enrolled_at = now - timedelta(minutes=2)
    account, token = auth.invite_staff(db, username, role, enrolled_at)
    _, keys = auth.complete_enrolment(
        db, config, token, passphrase, secret, pyotp.TOTP(secret).at(enrolled_at), enrolled_at
    )
    credentials = StaffCredentials(role.value, username, passphrase, secret)
    return credentials, auth.Identity(account, keys, b"", b"")


def seed(db: Session, config: auth.AuthConfig, now: datetime, origin: str) -> DemoCredentials:
    """Create the demo: an admin, a coordinator, three contributors, a room in drafting
    with contributions in every state, and a published, corrected statement. Refuses a
    database that already holds accounts."""
    if db.scalar(select(func.count()).select_from(Account)):
        raise DatabaseNotEmpty
    today = now.date()
    result = DemoCredentials()
    admin, _ = _staff(db, config, Role.ADMIN, "admin", now)
    coordinator_credentials, coordinator = _staff(db, config, Role.COORDINATOR, "coordinator", now)
    result.staff = [admin, coordinator_credentials]

    members = []
    for _ in range(3):
        account, codename, keys = auth.create_member(db, config)
        result.codenames.append(codename)
        members.append(auth.Identity(account, keys, b"", b""))

    room = rooms.create_room(
        db,
        coordinator,
        rooms.RoomInput(
            title="Right to work for refugees",
            language="en",
            summary="A joint call to governments in the region on refugees' right to work.",
            markdown=DEMO_DRAFT,
            contribution_deadline=today + timedelta(days=14),
            signon_deadline=today + timedelta(days=28),
        ),
        today,
    )
    result.room_id = room.id
    access = open_room(db, room.id, coordinator)
    for member in members:
        _invitation, token = invitations.create_invitation(
            db, access, 1, today + timedelta(days=7), today
        )
        invitations.accept_invitation(db, token, member, today)

    first, second, third = (open_room(db, room.id, m) for m in members)
    anchors = [s.anchor for s in versions.version(db, first).sections]
    submit = contributions.submit_contribution
    accepted = submit(
        db,
        first,
        "amendment",
        anchors[2],
        "Refugees in the region are denied the right to work; many are arrested at work.",
        today,
    )
    pending_change = submit(
        db,
        second,
        "amendment",
        anchors[3],
        "We call on governments to grant work permits within three months.",
        today,
    )
    submit(db, third, "comment", None, "Could we cite the 2023 labour survey?", today)
    rejected = submit(db, second, "comment", anchors[1], "Name my village in the text.", today)
    hidden = submit(db, third, "comment", anchors[4], "An insulting remark.", today)
    incorporated = submit(
        db, first, "addition", anchors[4], "- Let refugees' children attend school.", today
    )
    # The room is pre-moderated (the default): members support what a coordinator released.
    moderation.release(db, access, accepted.id, today)
    moderation.release(db, access, pending_change.id, today)
    contributions.support(db, second, accepted.id, True)
    contributions.support(db, third, accepted.id, True)
    contributions.support(db, first, pending_change.id, True)

    moderation.accept(db, access, accepted.id, 1, today)
    moderation.reject(db, access, rejected.id, "unsafe", "This could identify you.", today)
    moderation.hide(db, access, hidden.id, today)
    moderation.mark_incorporated(db, access, incorporated.id, today)
    db.flush()
    result.published_slug = _published(db, coordinator, members, today, origin)
    return result


def _published(
    db: Session,
    coordinator: auth.Identity,
    members: list[auth.Identity],
    today: date,
    origin: str,
) -> str:
    """A second room taken through sign-on to publication, then corrected."""
    room = rooms.create_room(
        db,
        coordinator,
        rooms.RoomInput(
            title="End the detention of refugee children",
            language="en",
            summary="A joint call to end the immigration detention of children.",
            markdown=PUBLISHED_DRAFT,
            contribution_deadline=today,
            signon_deadline=today + timedelta(days=7),
        ),
        today,
    )
    access = open_room(db, room.id, coordinator)
    for member in members:
        _invitation, token = invitations.create_invitation(
            db, access, 1, today + timedelta(days=7), today
        )
        invitations.accept_invitation(db, token, member, today)
    rooms.change_state(db, access, "consolidating", today)
    rooms.change_state(db, access, "sign-on", today)
    first, second, third = (open_room(db, room.id, m) for m in members)
    endorsements.endorse(
        db, first, "public", "Refugee Rights Network Asia Pacific", "Thailand", today
    )
    endorsements.endorse(db, second, "anonymous", "", "", today)
    endorsements.endorse(db, third, "anonymous", "", "", today)
    endorsements.add_received(db, access, "Asylum Access Malaysia", "Malaysia")
    # The name the member typed is self-declared until a coordinator confirms it.
    for signatory in endorsements.sign_on(db, access, today).public:
        if signatory.self_declared:
            organisations.confirm(db, access, signatory.endorsement_id)
    publishing.publish(db, access, PUBLISHED_SLUG, origin, today)
    published = publishing.latest(db, PUBLISHED_SLUG).statement
    publishing.correct(
        db,
        coordinator,
        PUBLISHED_SLUG,
        today,
        title=published["title"],
        body=published["body_markdown"].replace(
            "without schooling.", "without schooling or health care."
        ),
        signatories="\n".join(f"{s['name']} | {s['country']}" for s in published["signatories"]),
        reason="Health care was missing from the list of what children go without.",
    )
    db.flush()
    return PUBLISHED_SLUG
