"""Publication through the service: signing, the log, slugs, corrections, retractions and
translations' families."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from crypto.bundle_format import bundle_sha256
from statements.drafting import service as drafting
from statements.drafting.errors import NotCoordinator
from statements.models import (
    Endorsement,
    PublishedStatement,
    Room,
)
from statements.publishing import log, signing_keys
from statements.publishing import service as publishing
from statements.publishing.errors import (
    InvalidInput,
    NotAllowed,
    SigningKeyNotShared,
    SignOnClosed,
    SlugTaken,
    StatementRetracted,
)
from tests.support import (
    app_today,
    endorse,
    make_room,
    open_signon,
    publish_room,
    published_statement,
    staff_identity,
    verifies,
)

ORIGIN = "test.example/log"


# --- publication ----------------------------------------------------------------------


def test_publishing_signs_logs_and_freezes(session: Session, signon_room: tuple) -> None:
    coordinator, room_id, (first, second, third) = signon_room
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
    assert verifies(session, slug, 1)
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
    app: Flask, session: Session, signon_room: tuple
) -> None:
    coordinator, room_id, (member, *_rest) = signon_room
    with pytest.raises(NotCoordinator):
        publishing.publish(
            session, drafting.open_room(session, room_id, member), "slug-one", ORIGIN, app_today()
        )
    # A key exists, sealed to the staff enrolled when it was made.
    record, _key = signing_keys.unlock_signing_key(
        session, coordinator, ORIGIN, app_today(), create=True
    )
    late = staff_identity(app, session, "late-coordinator")
    drafting.add_coordinator(
        session, drafting.open_room(session, room_id, coordinator), "late-coordinator"
    )
    with pytest.raises(SigningKeyNotShared):
        publishing.publish(
            session, drafting.open_room(session, room_id, late), "slug-one", ORIGIN, app_today()
        )
    # Keys that are not this account's own (a forged or stale session) cannot open it.
    impostor = replace(late, keys=coordinator.keys)
    with pytest.raises(SigningKeyNotShared):
        signing_keys.unlock_signing_key(session, impostor, ORIGIN, app_today())
    assert log.size(session) == 0
    # Once a holder has opened it, the late coordinator holds it too.
    assert signing_keys.share_signing_key(session, coordinator) == 1
    assert signing_keys.key_status(session, late).held
    publishing.publish(
        session, drafting.open_room(session, room_id, late), "slug-one", ORIGIN, app_today()
    )
    assert publishing.latest(session, "slug-one").bundle["signature"]["key_id"] == record.key_id


@pytest.mark.parametrize("slug", ["ab", "ünïcode", "two--hyphens", "-lead", "x" * 81, "sp ace"])
def test_bad_slugs_are_refused(session: Session, signon_room: tuple, slug: str) -> None:
    coordinator, room_id, _members = signon_room
    with pytest.raises(InvalidInput):
        publishing.publish(
            session, drafting.open_room(session, room_id, coordinator), slug, ORIGIN, app_today()
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
    assert verifies(session, slug, 1)
    assert verifies(session, slug, 2)

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
    assert all(verifies(session, slug, n) for n in (1, 2, 3))
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


def test_translations_form_a_family_one_statement_per_language(
    app: Flask, session: Session
) -> None:
    coordinator, original = published_statement(app, session)
    thai_room = make_room(session, coordinator, title="สิทธิในการทำงาน")
    session.get(Room, thai_room).language = "th"  # type: ignore[union-attr]
    open_signon(session, coordinator, thai_room)
    access = drafting.open_room(session, thai_room, coordinator)
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
            drafting.open_room(session, english_again, coordinator),
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
    assert verifies(session, "thai", 1)
