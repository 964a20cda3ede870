"""Publishing a room drafted in several languages as one family of signed statements.

Takes a Session, never commits, never imports flask. A room has a source language and
working languages (statements/drafting/translations.py); at sign-on one endorsement covers
the text in all of them. At publication every language whose text is current is published
as a statement of its own — its own slug, its own bundle, signed on its own — and each
bundle (format 2, crypto/bundle_format.py) names the authoritative language (the source: in case
of difference, its text prevails) and every language's slug, so the family is linked both
ways in what is signed, not only on the pages. A language whose text is out of date or
missing is left out, and only after the coordinator confirms it.

Corrections stay per language (a typo in one text must not force new versions of the
others), and carry the family forward unchanged (service._next_version). A retraction is
of the whole family: the organisations endorsed the statement in all its languages at
once, so it cannot be withdrawn in one and stand in another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy import delete
from sqlalchemy.orm import Session

from crypto.signing import SigningKey
from statements.auth.service import Identity
from statements.drafting.access import RoomAccess
from statements.drafting.translations import LanguageText, language_texts, room_languages
from statements.models import (
    Endorsement,
    PublishedStatement,
    Room,
    RoomState,
    SigningKeyRecord,
    StatementStatus,
)
from statements.publishing import endorsements, service, signing_keys
from statements.publishing.errors import (
    InvalidInput,
    PublishingError,
    SlugTaken,
    StatementNotFound,
    StatementRetracted,
)
from statements.text.clean import clean_line
from statements.writes import QueueBusy

CURRENT = "current"


class LanguageTextLike(Protocol):
    """One working language's text, as the drafting room's translations give it."""

    @property
    def language(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def markdown(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def stale_sections(self) -> int: ...


class ConfirmationNeeded(PublishingError):
    """Some languages' texts are not current: publishing leaves them out once confirmed."""

    def __init__(self, left_out: Sequence[str]) -> None:
        super().__init__(", ".join(left_out))
        self.left_out = tuple(left_out)


class NothingCurrent(PublishingError):
    """No language's text is current (not even the source's): there is nothing to sign."""


@dataclass(frozen=True)
class FamilyPlan:
    """What publishing would do: the texts signed, source first, and those left out."""

    published: tuple[LanguageTextLike, ...]
    left_out: tuple[LanguageTextLike, ...]

    @property
    def authoritative(self) -> str:
        """The language whose text prevails in case of difference: the source's."""
        return self.published[0].language


def plan(texts: Sequence[LanguageTextLike]) -> FamilyPlan:
    """Split a room's language texts (source first) into those published and those left out."""
    # The source text is the authoritative one: if it is not current (which the drafting
    # room never reports), nothing else can be measured against it.
    if not texts or str(texts[0].status) != CURRENT:
        raise NothingCurrent
    return FamilyPlan(
        published=tuple(text for text in texts if str(text.status) == CURRENT),
        left_out=tuple(text for text in texts if str(text.status) != CURRENT),
    )


def several_languages(access: RoomAccess) -> bool:
    """Whether the room keeps its draft in more than one language."""
    return len(room_languages(access.room)) > 1


def signon_texts(db: Session, access: RoomAccess) -> list[LanguageText]:
    """The room's text in every language, for the sign-on page; none for one language."""
    return language_texts(db, access) if several_languages(access) else []


def slug_field(language: str) -> str:
    """The name of the form field holding a language's web address."""
    return f"slug-{language}"


def suggest_slugs(plan_: FamilyPlan, today: date) -> dict[str, str]:
    """A web address per published language: the source's from its title, the others suffixed."""
    base = service.suggest_slug(plan_.published[0].title, today)
    return {
        text.language: base if index == 0 else f"{base[: service.SLUG_MAX - 17]}-{text.language}"
        for index, text in enumerate(plan_.published)
    }


def _check_slugs(
    db: Session, plan_: FamilyPlan, slugs: Mapping[str, str], known: set[str]
) -> dict[str, str]:
    unknown = set(slugs) - known
    if unknown:
        raise InvalidInput("language", "unknown")
    checked: dict[str, str] = {}
    for text in plan_.published:
        field_name = slug_field(text.language)
        try:
            slug = service.check_slug(db, slugs.get(text.language, ""))
        except InvalidInput as error:
            raise InvalidInput(field_name, error.reason) from None
        except SlugTaken:
            raise InvalidInput(field_name, "taken") from None
        if slug in checked.values():
            raise InvalidInput(field_name, "twice")
        checked[text.language] = slug
    return checked


def family_publication(
    db: Session,
    access: RoomAccess,
    texts: Sequence[LanguageTextLike],
    slugs: Mapping[str, str],
    today: date,
    *,
    confirmed: bool,
    title: str | None = None,
) -> dict[str, Any]:
    """What publishing every current language as one family would sign, checked.

    `texts` are the room's language texts, source first; `slugs` a web address per
    language to publish. Unless `confirmed`, a language whose text is not current stops
    the publication (ConfirmationNeeded names them); once confirmed it is left out. The
    source's title may be given anew; the other titles are their texts' own. This is also
    what a second person approves under the two-person rule (statements/control/).
    """
    endorsements.require_signon(db, access)
    # As for one language: everything endorsed must be in what is signed.
    if access.anonymous(db).pending(access.room.id):
        raise QueueBusy
    plan_ = plan(texts)
    if plan_.left_out and not confirmed:
        raise ConfirmationNeeded([text.language for text in plan_.left_out])
    checked = _check_slugs(db, plan_, slugs, {text.language for text in texts})
    languages = [
        {
            "language": text.language,
            "slug": checked[text.language],
            "title": clean_line(
                title if index == 0 and title is not None else text.title,
                "title" if index == 0 else f"title-{text.language}",
                service.MAX_TITLE,
            ),
            "body_markdown": text.markdown,
        }
        for index, text in enumerate(plan_.published)
    ]
    signon = endorsements.sign_on(db, access, today)
    endorsements.require_reviewed(signon)
    source = languages[0]
    return {
        # The source's, as a single publication's content reads (the proposal page).
        "slug": source["slug"],
        "title": source["title"],
        "language": source["language"],
        "translation_of": None,
        "body_markdown": source["body_markdown"],
        "draft_version": access.room.current_version,
        "signatories": [{"name": s.name, "country": s.country} for s in signon.public],
        "anonymous_signatories": signon.anonymous,
        "authoritative_language": plan_.authoritative,
        "languages": languages,
        # The anonymous endorsements' commitments, signed into every language's bundle.
        "commitments": signon.commitment_fields(),
    }


def check_family_slugs(db: Session, content: Mapping[str, Any]) -> None:
    """Each language's web address is still free (SlugTaken if not)."""
    for item in content["languages"]:
        service.check_slug(db, item["slug"])


def sign_family(
    db: Session,
    record: SigningKeyRecord,
    key: SigningKey,
    room: Room,
    content: Mapping[str, Any],
    today: date,
) -> list[PublishedStatement]:
    """Sign and publish a checked family publication (family_publication's content)."""
    languages = content["languages"]
    signatories = [
        endorsements.Signatory(item["name"], item["country"]) for item in content["signatories"]
    ]
    anonymous = int(content["anonymous_signatories"])
    family = [{"language": item["language"], "slug": item["slug"]} for item in languages]
    root = next(
        item["slug"] for item in languages if item["language"] == content["authoritative_language"]
    )
    published: list[PublishedStatement] = []
    for item in languages:
        slug = item["slug"]
        statement: dict[str, Any] = service.new_statement(
            slug=slug,
            title=item["title"],
            language=item["language"],
            number=1,
            status=StatementStatus.PUBLISHED,
            today=today,
            body=item["body_markdown"],
            previous=None,
            signatories=signatories,
            anonymous=anonymous,
            commitments=content.get("commitments") or None,
        )
        # One language alone is not a family: it keeps bundle format 1.
        if len(languages) > 1:
            statement["authoritative_language"] = content["authoritative_language"]
            statement["family"] = family
        row = PublishedStatement(
            slug=slug,
            room_id=room.id,
            language=item["language"],
            translation_of=None if slug == root else root,
            title=item["title"],
            status=StatementStatus.PUBLISHED,
            latest_version=1,
            signatory_count=len(signatories) + anonymous,
            first_published_on=today,
            updated_on=today,
        )
        db.add(row)
        db.flush()
        service.append_version(db, record, key, statement)
        published.append(row)
    room.state = RoomState.PUBLISHED
    # As for one language: the signatories now live in the signed bundles.
    db.execute(delete(Endorsement).where(Endorsement.room_id == room.id))
    db.flush()
    return published


def publish_family(
    db: Session,
    access: RoomAccess,
    texts: Sequence[LanguageTextLike],
    slugs: Mapping[str, str],
    origin: str,
    today: date,
    *,
    confirmed: bool,
    title: str | None = None,
) -> list[PublishedStatement]:
    """Sign and publish every current language of the room as one family, source first
    (see family_publication for what is checked)."""
    content = family_publication(db, access, texts, slugs, today, confirmed=confirmed, title=title)
    record, key = signing_keys.unlock_signing_key(db, access.identity, origin, today, create=True)
    return sign_family(db, record, key, access.room, content, today)


def family_slugs(db: Session, slug: str) -> list[str]:
    """The slugs of the family a statement was published in together, itself included."""
    statement = service.latest(db, slug).statement
    members = statement.get("family") or [{"slug": slug}]
    return [str(member["slug"]) for member in members]


def retract_family(
    db: Session, identity: Identity, slug: str, today: date, notice: str, *, reason: str
) -> list[str]:
    """Retract every language of a family with the same signed notice; the slugs retracted.

    Each language gets its own signed retraction version; a language already retracted is
    left as it is. A statement published alone is retracted alone.
    """
    if service.statement(db, slug).status == StatementStatus.RETRACTED:
        raise StatementRetracted
    retracted = []
    for member in family_slugs(db, slug):
        try:
            current = service.statement(db, member)
        except StatementNotFound:  # pragma: no cover - a signed family names only published slugs
            continue
        if current.status == StatementStatus.RETRACTED:
            continue
        service.retract(db, identity, member, today, notice, reason=reason)
        retracted.append(member)
    return retracted
