"""Publishing a room drafted in several languages as one family, through the service.

The room's language texts are given as the drafting room hands them over (source first,
each with its status), built here as plain values: what is tested is what publication does
with them. Each language becomes a statement of its own whose format-2 bundle verifies and
names the authoritative language and the whole family; a language not current is left out
only once confirmed; bad addresses and languages publish nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.bundle_checks import verify_bundle
from crypto.bundle_format import BUNDLE_FORMAT
from crypto.bundle_reading import parse_keys
from statements.auth import service as auth
from statements.drafting import service as drafting
from statements.drafting.errors import NotCoordinator
from statements.models import Endorsement, PublishedStatement, Room
from statements.publishing import families, log, signing_keys
from statements.publishing import service as publishing
from statements.publishing.errors import InvalidInput, StatementRetracted
from statements.publishing.public import key_records
from tests.support import (
    app_today,
    confirm_self_declared,
    endorse,
    join_room,
    make_room,
    member_identity,
    open_signon,
    publish_room,
    staff_identity,
)

ORIGIN = "test.example/log"
SLUGS = {"en": "right-to-work", "fa": "right-to-work-fa", "my": "right-to-work-my"}


@dataclass(frozen=True)
class Text:
    """A language text as statements.drafting.translations.language_texts gives it."""

    language: str
    title: str
    markdown: str
    status: str = "current"
    stale_sections: int = 0


ENGLISH = Text("en", "Right to work", "# Right to work\n\nWe call for the right to work.\n")
FARSI = Text("fa", "حق کار", "# حق کار\n\nما خواستار حق کار هستیم.\n")
BURMESE = Text("my", "အလုပ်လုပ်ခွင့်", "# အလုပ်လုပ်ခွင့်\n\nအလုပ်လုပ်ခွင့် တောင်းဆိုပါသည်။\n")


def out_of_date(text: Text, sections: int = 1) -> Text:
    return Text(text.language, text.title, text.markdown, "out-of-date", sections)


@pytest.fixture
def room(app: Flask, session: Session) -> tuple[auth.Identity, str]:
    """A room in sign-on, endorsed once publicly and once anonymously."""
    coordinator = staff_identity(app, session)
    room_id = make_room(session, coordinator)
    members = [member_identity(app, session) for _ in range(2)]
    for member in members:
        join_room(session, coordinator, room_id, member)
    open_signon(session, coordinator, room_id)
    endorse(session, room_id, members[0], "public", "Refugee Rights Network", "Thailand")
    endorse(session, room_id, members[1], "anonymous")
    confirm_self_declared(session, drafting.open_room(session, room_id, coordinator))
    return coordinator, room_id


def _publish(
    session: Session,
    coordinator: auth.Identity,
    room_id: str,
    texts: Sequence[Text],
    slugs: dict[str, str] | None = None,
    *,
    confirmed: bool = False,
) -> list[PublishedStatement]:
    access = drafting.open_room(session, room_id, coordinator)
    published = families.publish_family(
        session,
        access,
        texts,
        SLUGS if slugs is None else slugs,
        ORIGIN,
        app_today(),
        confirmed=confirmed,
    )
    session.flush()
    return published


def _report(session: Session, slug: str, number: int = 1):  # type: ignore[no-untyped-def]
    view = publishing.published_version(session, slug, number)
    keys = parse_keys(key_records(signing_keys.all_keys(session)))
    return verify_bundle(view.bundle, keys)


def _nothing_published(session: Session, room_id: str) -> None:
    assert session.scalars(select(PublishedStatement)).all() == []
    assert log.size(session) == 0
    assert session.get(Room, room_id).state == "sign-on"  # type: ignore[union-attr]


def test_every_current_language_is_published_as_one_family(session: Session, room: tuple) -> None:
    coordinator, room_id = room
    published = _publish(session, coordinator, room_id, [ENGLISH, FARSI, BURMESE])
    assert [p.slug for p in published] == ["right-to-work", "right-to-work-fa", "right-to-work-my"]
    family = [{"language": lang, "slug": slug} for lang, slug in SLUGS.items()]
    signatures = set()
    for text in (ENGLISH, FARSI, BURMESE):
        view = publishing.latest(session, SLUGS[text.language])
        assert view.bundle["format"] == BUNDLE_FORMAT
        statement = view.statement
        assert statement["language"] == text.language
        assert statement["title"] == text.title
        assert statement["body_markdown"] == text.markdown
        assert statement["authoritative_language"] == "en"
        assert statement["family"] == family
        # One endorsement covered every language.
        assert statement["signatories"] == [
            {"name": "Refugee Rights Network", "country": "Thailand"}
        ]
        assert statement["anonymous_signatories"] == 1
        report = _report(session, SLUGS[text.language])
        assert report.valid, report.first_failure
        assert report.authoritative_language == "en"
        signatures.add(view.bundle["signature"]["value"])
    assert len(signatures) == 3
    assert log.size(session) == 3
    # Linked both ways on the pages too: the translations name the source.
    source = session.get(PublishedStatement, "right-to-work")
    assert source is not None
    assert source.translation_of is None
    assert [s.slug for s in publishing.family(session, source)] == [
        "right-to-work-fa",
        "right-to-work-my",
    ]
    farsi = session.get(PublishedStatement, "right-to-work-fa")
    assert farsi is not None
    assert farsi.translation_of == "right-to-work"
    assert [s.slug for s in publishing.family(session, farsi)] == [
        "right-to-work",
        "right-to-work-my",
    ]
    assert publishing.room_statement(session, room_id) == source
    assert session.get(Room, room_id).state == "published"  # type: ignore[union-attr]
    assert session.scalars(select(Endorsement)).all() == []


def test_a_language_out_of_date_needs_confirmation_then_is_left_out(
    session: Session, room: tuple
) -> None:
    coordinator, room_id = room
    texts = [ENGLISH, out_of_date(FARSI), Text("my", "", "", "missing")]
    with pytest.raises(families.ConfirmationNeeded) as needed:
        _publish(session, coordinator, room_id, texts)
    assert needed.value.left_out == ("fa", "my")
    _nothing_published(session, room_id)

    published = _publish(
        session,
        coordinator,
        room_id,
        [ENGLISH, out_of_date(FARSI), BURMESE],
        {"en": SLUGS["en"], "my": SLUGS["my"]},
        confirmed=True,
    )
    assert [p.language for p in published] == ["en", "my"]
    statement = publishing.latest(session, SLUGS["my"]).statement
    assert statement["family"] == [
        {"language": "en", "slug": SLUGS["en"]},
        {"language": "my", "slug": SLUGS["my"]},
    ]
    assert session.get(PublishedStatement, SLUGS["fa"]) is None


def test_the_source_alone_is_published_as_format_1(session: Session, room: tuple) -> None:
    coordinator, room_id = room
    _publish(
        session,
        coordinator,
        room_id,
        [ENGLISH, out_of_date(FARSI)],
        {"en": "alone"},
        confirmed=True,
    )
    view = publishing.latest(session, "alone")
    # Not a family; its anonymous endorsement's commitment alone makes it format 2.
    assert view.bundle["format"] == BUNDLE_FORMAT
    assert "family" not in view.statement
    assert "authoritative_language" not in view.statement
    assert len(view.statement["anonymous_commitments"]) == 1
    assert _report(session, "alone").valid


@pytest.mark.parametrize("texts", [[], [out_of_date(ENGLISH), FARSI]])
def test_no_current_source_publishes_nothing(
    session: Session, room: tuple, texts: list[Text]
) -> None:
    coordinator, room_id = room
    with pytest.raises(families.NothingCurrent):
        _publish(session, coordinator, room_id, texts, confirmed=True)
    _nothing_published(session, room_id)


@pytest.mark.parametrize(
    ("slugs", "field", "reason"),
    [
        ({**SLUGS, "th": "thai"}, "language", "unknown"),
        ({"en": "right-to-work", "fa": "Not A Slug", "my": "x-my"}, "slug-fa", "format"),
        ({"en": "right-to-work", "fa": "right-to-work-fa"}, "slug-my", "format"),
        ({"en": "same-slug", "fa": "same-slug", "my": "x-my"}, "slug-fa", "twice"),
    ],
)
def test_bad_addresses_publish_nothing(
    session: Session, room: tuple, slugs: dict[str, str], field: str, reason: str
) -> None:
    coordinator, room_id = room
    with pytest.raises(InvalidInput) as error:
        _publish(session, coordinator, room_id, [ENGLISH, FARSI, BURMESE], slugs)
    assert (error.value.field, error.value.reason) == (field, reason)
    _nothing_published(session, room_id)


def test_an_address_already_taken_is_named_on_its_language(
    app: Flask, session: Session, room: tuple
) -> None:
    coordinator, room_id = room
    other = make_room(session, coordinator, title="Another")
    open_signon(session, coordinator, other)
    publish_room(session, coordinator, other, "right-to-work-my")
    with pytest.raises(InvalidInput) as error:
        _publish(session, coordinator, room_id, [ENGLISH, FARSI, BURMESE])
    assert (error.value.field, error.value.reason) == ("slug-my", "taken")


def test_a_correction_is_per_language_and_stays_in_the_family(
    session: Session, room: tuple
) -> None:
    coordinator, room_id = room
    _publish(session, coordinator, room_id, [ENGLISH, FARSI, BURMESE])
    first = publishing.latest(session, SLUGS["fa"])
    publishing.correct(
        session,
        coordinator,
        SLUGS["fa"],
        app_today(),
        title="حق کار (اصلاح شده)",
        body=FARSI.markdown + "\nاصلاح.\n",
        signatories="Refugee Rights Network | Thailand",
        reason="A correction.",
    )
    second = publishing.latest(session, SLUGS["fa"])
    assert second.statement["version"] == 2
    assert second.statement["authoritative_language"] == "en"
    assert second.statement["family"] == first.statement["family"]
    assert _report(session, SLUGS["fa"], 2).valid
    # The other languages keep their versions.
    assert publishing.latest(session, SLUGS["en"]).statement["version"] == 1
    assert publishing.latest(session, SLUGS["my"]).statement["version"] == 1


def test_a_retraction_retracts_every_language(session: Session, room: tuple) -> None:
    coordinator, room_id = room
    _publish(session, coordinator, room_id, [ENGLISH, FARSI, BURMESE])
    retracted = families.retract_family(
        session,
        coordinator,
        SLUGS["my"],
        app_today(),
        "Withdrawn at the signatories' request.",
        reason="A retraction.",
    )
    assert retracted == list(SLUGS.values())
    for slug in SLUGS.values():
        view = publishing.latest(session, slug)
        assert view.statement["status"] == "retracted"
        assert view.statement["authoritative_language"] == "en"
        assert _report(session, slug, 2).valid
    with pytest.raises(StatementRetracted):
        families.retract_family(
            session, coordinator, SLUGS["en"], app_today(), "Again.", reason="A retraction."
        )


def test_a_statement_published_alone_is_retracted_alone(app: Flask, session: Session) -> None:
    coordinator = staff_identity(app, session)
    slugs = []
    for slug in ("alone-one", "alone-two"):
        room_id = make_room(session, coordinator, title=slug)
        open_signon(session, coordinator, room_id)
        slugs.append(publish_room(session, coordinator, room_id, slug))
    assert families.retract_family(
        session, coordinator, "alone-one", app_today(), "No.", reason="A retraction."
    ) == ["alone-one"]
    assert publishing.statement(session, "alone-two").status == "published"


def test_only_the_rooms_coordinator_publishes_the_family(
    app: Flask, session: Session, room: tuple
) -> None:
    _coordinator, room_id = room
    member = member_identity(app, session)
    join_room(session, _coordinator, room_id, member)
    with pytest.raises(NotCoordinator):
        _publish(session, member, room_id, [ENGLISH, FARSI])
