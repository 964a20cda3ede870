"""Sign-on and publication through the service: the rules, the keys, and what is stored."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from crypto.bundle import (
    bundle_sha256,
    parse_keys,
    verify_bundle,
    verify_key_rotation,
)
from crypto.signing import generate_signing_key, key_id
from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.drafting.errors import NotCoordinator
from statements.models import (
    Endorsement,
    LogEntry,
    PublishedStatement,
    Role,
    Room,
    SigningKeyRecord,
    SigningKeyWrap,
)
from statements.publishing import log
from statements.publishing import service as publishing
from statements.publishing.errors import (
    EndorsementNotFound,
    InvalidInput,
    NoSigningKey,
    NotAllowed,
    SigningKeyNotShared,
    SignOnClosed,
    SlugTaken,
    StatementRetracted,
)
from statements.publishing.public import key_records
from tests.support import (
    app_today,
    dump_database,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
    published_statement,
    staff_identity,
)

ORIGIN = "test.example/log"


@pytest.fixture
def room(app: Flask, session: Session) -> tuple[auth.Identity, str, list[auth.Identity]]:
    """A room in sign-on with a coordinator and three members."""
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    members = [member_identity(app, session) for _ in range(3)]
    for member in members:
        join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    return coordinator, room_id, members


def _access(session: Session, room_id: str, who: auth.Identity) -> drafting.RoomAccess:
    return drafting.open_room(session, room_id, who)


def _verify(session: Session, slug: str, number: int) -> bool:
    view = publishing.published_version(session, slug, number)
    keys = parse_keys(key_records(publishing.all_keys(session)))
    return verify_bundle(view.bundle, keys).valid


# --- endorsements ---------------------------------------------------------------------


def test_one_endorsement_per_member_public_or_anonymous(session: Session, room: tuple) -> None:
    coordinator, room_id, (first, second, third) = room
    endorse(session, room_id, first, "public", "  Refugee Rights Network ", "Thailand")
    endorse(session, room_id, second, "anonymous")
    endorse(session, room_id, third, "public", "Asylum Access", "")
    # Endorsing again replaces the first endorsement: still one per member.
    endorse(session, room_id, third, "anonymous")
    signon = publishing.sign_on(session, _access(session, room_id, coordinator), app_today())
    assert [(s.name, s.country) for s in signon.public] == [("Refugee Rights Network", "Thailand")]
    assert signon.anonymous == 2
    assert session.scalar(select(text("count(*)")).select_from(Endorsement)) == 3
    mine = publishing.sign_on(session, _access(session, room_id, first), app_today())
    assert mine.mine is not None
    assert mine.mine.name == "Refugee Rights Network"
    assert publishing.sign_on(session, _access(session, room_id, third), app_today()).mine_anonymous


def test_withdrawing_until_the_deadline(session: Session, room: tuple) -> None:
    _coordinator, room_id, (first, *_rest) = room
    endorse(session, room_id, first, "anonymous")
    access = _access(session, room_id, first)
    publishing.withdraw_endorsement(session, access, app_today())
    assert publishing.sign_on(session, access, app_today()).anonymous == 0
    with pytest.raises(EndorsementNotFound):
        publishing.withdraw_endorsement(session, access, app_today())
    endorse(session, room_id, first, "anonymous")
    after = session.get(Room, room_id).signon_deadline + timedelta(days=1)  # type: ignore[union-attr]
    with pytest.raises(SignOnClosed):
        publishing.withdraw_endorsement(session, access, after)
    with pytest.raises(SignOnClosed):
        publishing.endorse(session, access, "public", "Late", "", after)
    assert publishing.sign_on(session, access, after).anonymous == 1


def test_no_endorsing_outside_sign_on(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    member = member_identity(app, session)
    join_room(session, coordinator, room_id, member)
    with pytest.raises(SignOnClosed):
        endorse(session, room_id, member, "anonymous")


@pytest.mark.parametrize(
    ("kind", "name", "country", "field", "reason"),
    [
        ("public", "", "", "name", "required"),
        ("public", "   ", "", "name", "required"),
        ("public", "x" * 201, "", "name", "too_long"),
        ("public", "Line\nbreak", "", "name", "one_line"),
        ("public", "Name", "y" * 81, "country", "too_long"),
        ("sideways", "Name", "", "kind", "unknown"),
    ],
)
def test_bad_endorsements_are_refused_and_store_nothing(
    session: Session, room: tuple, kind: str, name: str, country: str, field: str, reason: str
) -> None:
    _coordinator, room_id, (first, *_rest) = room
    with pytest.raises(InvalidInput) as caught:
        endorse(session, room_id, first, kind, name, country)
    assert (caught.value.field, caught.value.reason) == (field, reason)
    assert session.scalars(select(Endorsement)).all() == []


def test_coordinators_add_received_endorsements_and_remove_public_ones(
    session: Session, room: tuple
) -> None:
    coordinator, room_id, (first, second, _third) = room
    access = _access(session, room_id, coordinator)
    publishing.add_received(session, access, "Jesuit Refugee Service", "Indonesia")
    endorse(session, room_id, first, "public", "A network", "")
    endorse(session, room_id, second, "anonymous")
    signon = publishing.sign_on(session, access, app_today())
    received = {s.name: s.received for s in signon.public}
    assert received == {"A network": False, "Jesuit Refugee Service": True}
    with pytest.raises(NotCoordinator):
        publishing.add_received(session, _access(session, room_id, first), "Fake", "")
    anonymous = session.scalars(select(Endorsement).where(Endorsement.kind == "anonymous")).one()
    with pytest.raises(EndorsementNotFound):
        publishing.remove_public_endorsement(session, access, anonymous.id)
    with pytest.raises(EndorsementNotFound):
        publishing.remove_public_endorsement(session, access, "0" * 32)
    for signatory in signon.public:
        publishing.remove_public_endorsement(session, access, signatory.endorsement_id)
    after = publishing.sign_on(session, access, app_today())
    assert (after.public, after.anonymous) == ([], 1)


def test_endorsements_at_rest_name_no_account_and_no_organisation(
    app: Flask, session: Session, room: tuple
) -> None:
    _coordinator, room_id, (first, second, third) = room
    endorse(session, room_id, first, "public", "Rohingya Women's Network", "Malaysia")
    endorse(session, room_id, second, "anonymous")
    endorse(session, room_id, third, "anonymous")
    session.commit()
    blob = b"\x00".join(dump_database(session))
    assert b"Rohingya Women" not in blob
    assert b"Malaysia" not in blob
    rows = session.scalars(select(Endorsement)).all()
    account_ids = {m.account.id.encode() for m in (first, second, third)}
    for row in rows:
        values = [row.id.encode(), row.room_id.encode(), row.tag or b"", row.content or b""]
        assert not any(account in value for value in values for account in account_ids)
    anonymous = [row for row in rows if row.kind == "anonymous"]
    assert len(anonymous) == 2
    # An anonymous endorsement is a random id, the room, a tag and its kind: nothing else.
    assert all(row.content is None and row.key_version is None for row in anonymous)
    # The tags differ per member and cannot be recomputed without the member's own secret.
    assert len({row.tag for row in rows}) == 3
    outsider = member_identity(app, session)
    assert outsider.keys.author_secret not in blob
    assert all(m.keys.author_secret not in blob for m in (first, second, third))


# --- publication ----------------------------------------------------------------------


def test_publishing_signs_logs_and_freezes(session: Session, room: tuple) -> None:
    coordinator, room_id, (first, second, third) = room
    endorse(session, room_id, first, "public", "Zeta Collective", "Myanmar")
    endorse(session, room_id, second, "public", "alpha network", "")
    endorse(session, room_id, third, "anonymous")
    slug = publish_room(session, coordinator, room_id)
    view = publishing.latest(session, slug)
    statement = view.statement
    assert statement["version"] == 1
    assert statement["status"] == "published"
    assert statement["previous_bundle_sha256"] is None
    assert statement["signatories"] == [
        {"name": "alpha network", "country": ""},
        {"name": "Zeta Collective", "country": "Myanmar"},
    ]
    assert statement["anonymous_signatories"] == 1
    assert statement["title"] == "Right to work"
    assert statement["body_markdown"].startswith("# Joint statement on the right to work")
    assert _verify(session, slug, 1)
    assert session.get(Room, room_id).state == "published"  # type: ignore[union-attr]
    # The tags have done their work: nothing about the endorsers is kept.
    assert session.scalars(select(Endorsement)).all() == []
    assert log.size(session) == 1
    published = session.get(PublishedStatement, slug)
    assert published is not None
    assert published.signatory_count == 3
    with pytest.raises(SignOnClosed):
        endorse(session, room_id, first, "anonymous")


def test_only_a_coordinator_holding_the_key_can_publish(
    app: Flask, session: Session, room: tuple
) -> None:
    coordinator, room_id, (member, *_rest) = room
    with pytest.raises(NotCoordinator):
        publishing.publish(
            session, _access(session, room_id, member), "slug-one", ORIGIN, app_today()
        )
    # A key exists, sealed to the staff enrolled when it was made.
    record, _key = publishing.unlock_signing_key(
        session, coordinator, ORIGIN, app_today(), create=True
    )
    late = staff_identity(app, session, "late-coordinator")
    drafting.add_coordinator(session, _access(session, room_id, coordinator), "late-coordinator")
    with pytest.raises(SigningKeyNotShared):
        publishing.publish(
            session, _access(session, room_id, late), "slug-one", ORIGIN, app_today()
        )
    # Keys that are not this account's own (a forged or stale session) cannot open it.
    impostor = replace(late, keys=coordinator.keys)
    with pytest.raises(SigningKeyNotShared):
        publishing.unlock_signing_key(session, impostor, ORIGIN, app_today())
    assert log.size(session) == 0
    # Once a holder has opened it, the late coordinator holds it too.
    assert publishing.share_signing_key(session, coordinator) == 1
    assert publishing.key_status(session, late).held
    publishing.publish(session, _access(session, room_id, late), "slug-one", ORIGIN, app_today())
    assert publishing.latest(session, "slug-one").bundle["signature"]["key_id"] == record.key_id


def test_members_and_disabled_staff_never_hold_the_key(
    app: Flask, session: Session, room: tuple
) -> None:
    coordinator, _room_id, (member, *_rest) = room
    other = staff_identity(app, session, "other-coordinator")
    admin = staff_identity(app, session, "an-admin", Role.ADMIN)
    record, _ = publishing.unlock_signing_key(
        session, coordinator, ORIGIN, app_today(), create=True
    )
    holders = set(
        session.scalars(
            select(SigningKeyWrap.account_id).where(SigningKeyWrap.key_id == record.key_id)
        )
    )
    assert holders == {coordinator.account.id, other.account.id, admin.account.id}
    assert member.account.id not in holders
    with pytest.raises(NotAllowed):
        publishing.unlock_signing_key(session, member, ORIGIN, app_today())
    auth.set_disabled(session, admin.account, other.account.id, True)
    assert session.get(SigningKeyWrap, (record.key_id, other.account.id)) is None
    assert publishing.key_status(session, coordinator).waiting == 0


@pytest.mark.parametrize("slug", ["ab", "ünïcode", "two--hyphens", "-lead", "x" * 81, "sp ace"])
def test_bad_slugs_are_refused(session: Session, room: tuple, slug: str) -> None:
    coordinator, room_id, _members = room
    with pytest.raises(InvalidInput):
        publishing.publish(
            session, _access(session, room_id, coordinator), slug, ORIGIN, app_today()
        )
    assert log.size(session) == 0


def test_a_slug_is_used_once(app: Flask, session: Session) -> None:
    coordinator, slug = published_statement(app, session)
    room_id = make_room(session, coordinator, title="Second")
    open_signon(session, coordinator, room_id)
    with pytest.raises(SlugTaken):
        publish_room(session, coordinator, room_id, slug)


def test_suggested_slugs() -> None:
    assert publishing.suggest_slug("Right to Work: Now!", app_today()) == "right-to-work-now"
    assert publishing.suggest_slug("حق کار", app_today()) == f"statement-{app_today().isoformat()}"


# --- corrections and retractions ------------------------------------------------------


def test_corrections_link_versions_and_keep_the_old_ones_verifiable(
    app: Flask, session: Session
) -> None:
    coordinator, slug = published_statement(app, session)
    first = publishing.latest(session, slug)
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title="Right to work (corrected)",
        body=first.statement["body_markdown"].replace("region", "whole region"),
        signatories="Refugee Rights Network | Thailand\nA new signatory",
        reason="A correction.",
    )
    second = publishing.latest(session, slug)
    assert second.statement["version"] == 2
    assert second.statement["status"] == "corrected"
    assert second.statement["previous_bundle_sha256"] == bundle_sha256(first.bundle)
    assert second.statement["signatories"][0] == {"name": "A new signatory", "country": ""}
    # Version 1 is untouched, byte for byte, and both verify.
    assert publishing.published_version(session, slug, 1).row.bundle == first.row.bundle
    assert _verify(session, slug, 1)
    assert _verify(session, slug, 2)

    publishing.retract(
        session,
        coordinator,
        slug,
        app_today(),
        "Withdrawn at the signatories' request.",
        reason="A retraction.",
    )
    third = publishing.latest(session, slug)
    assert third.statement["status"] == "retracted"
    assert third.statement["signatories"] == []
    assert third.statement["previous_bundle_sha256"] == bundle_sha256(second.bundle)
    assert all(_verify(session, slug, n) for n in (1, 2, 3))
    with pytest.raises(StatementRetracted):
        publishing.correct(
            session,
            coordinator,
            slug,
            app_today(),
            title="t",
            body="b",
            signatories="",
            reason="A correction.",
        )
    assert [v.row.version for v in publishing.versions(session, slug)] == [1, 2, 3]
    assert log.size(session) == 3


def test_only_the_rooms_coordinators_correct(app: Flask, session: Session) -> None:
    _coordinator, slug = published_statement(app, session)
    stranger = staff_identity(app, session, "stranger")
    with pytest.raises(NotAllowed):
        publishing.correct(
            session,
            stranger,
            slug,
            app_today(),
            title="t",
            body="b",
            signatories="",
            reason="A correction.",
        )
    with pytest.raises(NotAllowed):
        publishing.retract(session, stranger, slug, app_today(), "No.", reason="A retraction.")
    assert publishing.latest(session, slug).row.version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"body": "  "}, "body"),
        ({"letters": -1}, "letters"),
        ({"removals": "not-a-commitment | why"}, "removals"),
        ({"removals": "ab" * 32 + " | gone"}, "removals"),
        ({"signatories": "Name | Country\n\tTab | x\x07"}, "country"),
    ],
)
def test_bad_corrections_publish_nothing(
    app: Flask, session: Session, changes: dict[str, object], field: str
) -> None:
    coordinator, slug = published_statement(app, session)
    values: dict[str, object] = {
        "title": "T",
        "body": "B",
        "signatories": "",
        "reason": "R",
    }
    values.update(changes)
    with pytest.raises(InvalidInput) as caught:
        publishing.correct(session, coordinator, slug, app_today(), **values)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert log.size(session) == 1


# --- the log and the keys -------------------------------------------------------------


def test_published_rows_are_append_only_in_the_database(app: Flask, session: Session) -> None:
    published_statement(app, session)
    session.commit()
    for statement in (
        "UPDATE published_versions SET status = 'retracted'",
        "DELETE FROM published_versions",
        "UPDATE log_entries SET kind = 'statement'",
        "DELETE FROM log_entries",
        "DELETE FROM log_checkpoints",
    ):
        with pytest.raises((IntegrityError, DBAPIError)):
            session.execute(text(statement))
        session.rollback()
    assert log.size(session) == 1


def test_key_rotation_is_logged_signed_by_both_keys_and_old_bundles_still_verify(
    app: Flask, session: Session
) -> None:
    admin = staff_identity(app, session, "root", Role.ADMIN)
    coordinator, slug = published_statement(app, session)
    old = publishing.active_key(session)
    assert old is not None
    new = publishing.rotate_signing_key(session, admin, app_today())
    assert new.key_id != old.key_id
    assert old.valid_until == app_today()
    assert publishing.key_status(session, coordinator).held
    keys = parse_keys(key_records(publishing.all_keys(session)))
    rotation = session.get(LogEntry, 1)
    assert rotation is not None
    assert rotation.kind == "key-rotation"
    entry = json.loads(rotation.leaf)
    assert verify_key_rotation(entry, keys)
    # Not with a key list that lacks the old key; not with a signature changed.
    assert not verify_key_rotation(entry, [k for k in keys if k.key_id == new.key_id])
    entry["rotation"]["rotated_on"] = "2000-01-01"
    assert not verify_key_rotation(entry, keys)
    assert _verify(session, slug, 1)
    # A correction after the rotation is signed by the new key; the log stays consistent.
    publishing.correct(
        session,
        coordinator,
        slug,
        app_today(),
        title="T",
        body="B",
        signatories="",
        reason="A correction.",
    )
    assert publishing.latest(session, slug).bundle["signature"]["key_id"] == new.key_id
    assert _verify(session, slug, 2)
    # Nobody holds the old key any more.
    assert not session.scalars(
        select(SigningKeyWrap).where(SigningKeyWrap.key_id == old.key_id)
    ).all()


def test_the_database_allows_one_key_in_use(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    publishing.unlock_signing_key(session, coordinator, ORIGIN, app_today(), create=True)
    session.commit()
    second = generate_signing_key()
    session.add(
        SigningKeyRecord(
            key_id=key_id(second.public_key),
            public_key=second.public_key,
            note_key_name=ORIGIN,
            valid_from=app_today(),
            valid_until=None,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    # And a retired key is not silently replaced by a new one.
    active = publishing.active_key(session)
    assert active is not None
    active.valid_until = app_today()
    session.flush()
    with pytest.raises(NoSigningKey):
        publishing.unlock_signing_key(session, coordinator, ORIGIN, app_today(), create=True)


def test_translations_form_a_family_one_statement_per_language(
    app: Flask, session: Session
) -> None:
    coordinator, original = published_statement(app, session)
    thai_room = make_room(session, coordinator, title="สิทธิในการทำงาน")
    session.get(Room, thai_room).language = "th"  # type: ignore[union-attr]
    open_signon(session, coordinator, thai_room)
    access = _access(session, thai_room, coordinator)
    with pytest.raises(InvalidInput) as unknown:
        publishing.publish(session, access, "thai", ORIGIN, app_today(), translation_of="no-such")
    assert unknown.value.reason == "unknown"
    thai = publishing.publish(session, access, "thai", ORIGIN, app_today(), translation_of=original)
    assert thai.translation_of == original
    # A translation of the translation joins the same family, under the original.
    english_again = make_room(session, coordinator, title="Right to work, again")
    open_signon(session, coordinator, english_again)
    with pytest.raises(InvalidInput) as same:
        publishing.publish(
            session,
            _access(session, english_again, coordinator),
            "again",
            ORIGIN,
            app_today(),
            translation_of="thai",
        )
    assert same.value.reason == "same_language"
    first = session.get(PublishedStatement, original)
    assert first is not None
    assert [s.slug for s in publishing.family(session, first)] == ["thai"]
    assert [s.slug for s in publishing.family(session, thai)] == [original]
    # Each is signed on its own.
    assert _verify(session, "thai", 1)


def test_a_listed_key_is_only_ever_retired(app: Flask, session: Session) -> None:
    published_statement(app, session)
    session.commit()
    for statement in (
        "DELETE FROM signing_keys",
        "UPDATE signing_keys SET note_key_name = 'elsewhere/log'",
        "UPDATE signing_keys SET valid_from = '2000-01-01'",
    ):
        with pytest.raises((IntegrityError, DBAPIError)):
            session.execute(text(statement))
        session.rollback()
    retire = text("UPDATE signing_keys SET valid_until = :day")
    session.execute(retire, {"day": app_today()})
    session.commit()
    # Retired once; its window cannot be moved afterwards.
    with pytest.raises((IntegrityError, DBAPIError)):
        session.execute(retire, {"day": app_today() + timedelta(days=1)})
    session.rollback()
    assert publishing.all_keys(session)[0].valid_until == app_today()
