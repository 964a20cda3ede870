"""A1 at rest: a full copy of the database holds no secret in the clear."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.orm import Session

from crypto.kdf import KdfParams, derive_master_key
from statements.auth import service
from statements.models import (
    Account,
    ConsentAnswer,
    ConsentCheck,
    ModerationMode,
    Objection,
    Role,
)
from statements.settings import Settings
from tests.conftest import Clock
from tests.support import (
    STRONG_PASSPHRASE,
    csrf_token,
    dump_database,
    invitation_link,
    login_member,
    login_staff,
    make_room,
    make_staff,
    post_form,
    signed_in_member,
    signed_in_staff,
)


def _forms(secret: bytes) -> list[bytes]:
    """A secret and the encodings it could be stored in."""
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        base64.b32encode(secret).rstrip(b"="),
    ]


def test_no_secret_is_readable_at_rest(
    app: Flask, client: FlaskClient, session: Session, settings: Settings, clock: Clock
) -> None:
    admin = make_staff(app, session, "root", Role.ADMIN)
    assert login_staff(client, app, admin).status_code == 302

    codenames = []
    for _ in range(3):
        member = app.test_client()
        page = post_form(member, "/join", form_page="/join").get_data(as_text=True)
        found = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', page)
        assert found
        codenames.append(found.group(1))
        member.delete_cookie("auth")
        assert login_member(member, found.group(1)).status_code == 302

    config: service.AuthConfig = app.extensions["auth"]
    secrets: list[bytes] = [
        STRONG_PASSPHRASE.encode(),
        admin.totp_secret.encode(),
        base64.b32decode(admin.totp_secret),
        settings.lookup_pepper,
        settings.secret_key.encode(),
    ]
    for codename in codenames:
        secrets.append(codename.encode())
        _, keys = service.login_member(session, config, codename)
        secrets += [keys.private_key, keys.author_secret]
    session.rollback()
    admin_row = session.get(Account, admin.account_id)
    assert admin_row is not None
    assert admin_row.kdf_salt
    assert admin_row.kdf_params
    secrets.append(
        derive_master_key(
            STRONG_PASSPHRASE.encode(),
            admin_row.kdf_salt,
            KdfParams.from_json(admin_row.kdf_params),
        )
    )
    _, admin_keys = service.login_staff(
        session,
        config,
        admin.username,
        admin.passphrase,
        pyotp.TOTP(admin.totp_secret).at(clock.now),
        clock.now,
    )
    session.rollback()
    secrets += [admin_keys.private_key, admin_keys.author_secret]

    values = dump_database(session)
    assert values
    blob = b"\x00".join(values)
    # Positive control: what is meant to be stored in the clear is found.
    assert admin_row.public_key
    assert admin_row.public_key in blob
    assert b"root" in blob
    for secret in secrets:
        for form in _forms(secret):
            assert form not in blob
    # Neither the address the requests came from nor any user agent is kept.
    assert b"127.0.0.1" not in blob
    assert b"werkzeug" not in blob.lower()

    # On SQLite, the file itself (free pages and the write-ahead log included).
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert admin_row.public_key in raw
        for secret in secrets:
            for form in _forms(secret):
                assert form not in raw


def test_login_sessions_do_not_say_whose_they_are(
    app: Flask, session: Session, clock: Clock
) -> None:
    for _ in range(2):
        client = app.test_client()
        page = post_form(client, "/join", form_page="/join").get_data(as_text=True)
        assert "codename" in page
    staff = make_staff(app, session)
    login_staff(app.test_client(), app, staff)

    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    table = metadata.tables["login_sessions"]
    assert set(table.columns.keys()) == {"id_hash", "sealed", "expires_at"}
    assert not table.foreign_keys
    rows = list(session.execute(select(table)))
    assert len(rows) == 3
    accounts = list(session.scalars(select(Account.id)))
    for row in rows:
        for account_id in accounts:
            assert account_id.encode() not in bytes(row.sealed)
            assert account_id.encode() not in bytes(row.id_hash)


# --- agreement: objections, consent checks and their answers -------------------------------

OBJECTION_WORDS = "Omits the Mae Sot clinic"
QUESTION_WORDS = "Can the room accept the list of camps"
ANSWER_WORDS = "Names Umpiem Mai camp"


def test_objections_and_consent_answers_are_unreadable_and_name_no_one(
    app: Flask, session: Session, settings: Settings
) -> None:
    """Every new table of agreement: its words are ciphertexts, its rows name no account,
    carry no time, and a closed check keeps only its sealed tally."""
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, moderation=ModerationMode.POST)
    session.commit()
    author, author_client = signed_in_member(app, session, coordinator, room_id)
    objector, objector_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/contribute?kind=addition"
    anchor = re.findall(
        r'<li id="(s-[0-9a-f]{8})" class="section">',
        author_client.get(f"/rooms/{room_id}").get_data(as_text=True),
    )[0]
    page = f"/rooms/{room_id}/contribute?kind=addition&section={anchor}"
    sent = author_client.post(
        page, data={"csrf_token": csrf_token(author_client, page), "text": "Add clinics."}
    )
    assert sent.status_code == 302
    listing = objector_client.get(f"/rooms/{room_id}/contributions").get_data(as_text=True)
    [cid] = re.findall(r"/contributions/([0-9a-f]{32})/object", listing)
    form = f"/rooms/{room_id}/contributions/{cid}/object"
    objected = objector_client.post(
        form, data={"csrf_token": csrf_token(objector_client, form), "reason": OBJECTION_WORDS}
    )
    assert objected.status_code == 302

    agreement_page = f"/rooms/{room_id}/agreement"
    opened = coordinator_client.post(
        f"{agreement_page}/open",
        data={
            "csrf_token": csrf_token(coordinator_client, agreement_page),
            "section": "whole",
            "question": QUESTION_WORDS,
        },
    )
    assert opened.status_code == 302
    session.expire_all()
    check_id = str(session.scalar(select(ConsentCheck.id)))
    # Three answers: fewer would have their results withheld.
    for client, answer in (
        (author_client, "object"),
        (objector_client, "abstain"),
        (coordinator_client, "agree"),
    ):
        answered = client.post(
            f"{agreement_page}/{check_id}/answer",
            data={
                "csrf_token": csrf_token(client, agreement_page),
                f"c{check_id}-answer": answer,
                f"c{check_id}-reason": ANSWER_WORDS,
            },
        )
        assert answered.status_code == 302

    def readable() -> bytes:
        session.expire_all()
        return b"\x00".join(dump_database(session))

    # Positive control: the rows are there, and the pages read them.
    assert len(session.scalars(select(Objection)).all()) == 1
    assert len(session.scalars(select(ConsentAnswer)).all()) == 3
    assert OBJECTION_WORDS in coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(
        as_text=True
    )
    blob = readable()
    for words in (OBJECTION_WORDS, QUESTION_WORDS, ANSWER_WORDS):
        assert words.encode() not in blob
    # The answers themselves are sealed: the words an answer could be are not stored.
    for row in session.scalars(select(ConsentAnswer)):
        for word in (b"object", b"abstain", b"agree"):
            assert word not in bytes(row.content)
    # No row of these tables names an account, or says when it was written.
    accounts = [author.account.id, objector.account.id, coordinator.account.id]
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    for name in ("objections", "consent_answers"):
        table = metadata.tables[name]
        assert not any(key.column.table.name == "accounts" for key in table.foreign_keys)
        assert not {"created_on", "created_at", "account_id"} & set(table.columns.keys())
        for row in session.execute(select(table)):
            for value in row:
                for account_id in accounts:
                    assert account_id.encode() not in str(value).encode()
                    if isinstance(value, bytes):
                        assert account_id.encode() not in value

    closed = coordinator_client.post(
        f"{agreement_page}/{check_id}/close",
        data={"csrf_token": csrf_token(coordinator_client, agreement_page)},
    )
    assert closed.status_code == 302
    results = author_client.get(agreement_page).get_data(as_text=True)
    assert ANSWER_WORDS in results
    blob = readable()
    # Closed: no answer and no tag is kept, only the sealed tally.
    assert session.scalars(select(ConsentAnswer)).all() == []
    assert ANSWER_WORDS.encode() not in blob
    if settings.database_url.startswith("sqlite:///"):
        session.close()
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        for words in (OBJECTION_WORDS, QUESTION_WORDS, ANSWER_WORDS):
            assert words.encode() not in raw


def test_invitation_labels_links_and_deadline_reasons_are_not_readable_at_rest(
    app: Flask, session: Session, settings: Settings, clock: Clock
) -> None:
    """A label, a link waiting to be shown, and a deadline's reason are ciphertexts only."""
    from statements.models import Invitation, Room
    from tests.support import csrf_token, make_room, signed_in_staff

    coordinator, client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, today=clock().date())
    session.commit()
    label = "for the Chin women's group in Kuala Lumpur"
    reason = "The hearing at the ministry moved to March"
    page = f"/rooms/{room_id}/invitations"
    created = client.post(
        page,
        data={
            "csrf_token": csrf_token(client, page),
            "uses": "3",
            "expires_on": clock().date().isoformat(),
            "label": label,
        },
    )
    assert created.status_code == 303
    moved = post_form(
        client,
        f"/rooms/{room_id}/deadlines",
        {
            "contribution_deadline": clock().date().isoformat(),
            "signon_deadline": clock().date().isoformat(),
            "reason": reason,
        },
        form_page="/account",
    )
    assert moved.status_code == 302
    session.expire_all()
    invitation = session.scalars(select(Invitation).where(Invitation.room_id == room_id)).one()
    room = session.get(Room, room_id)
    assert room is not None
    # Positive control: what is stored in the clear is found.
    assert invitation.link_once is not None
    assert invitation.public_key is not None
    # The link has not been shown yet: it waits, sealed under the session's key.
    shown = client.get(created.headers["Location"]).get_data(as_text=True)
    found = re.search(r"/invitation/([0-9a-f]{32})\.([A-Za-z0-9_-]+)", shown)
    assert found
    secret = base64.urlsafe_b64decode(found.group(2) + "=" * (-len(found.group(2)) % 4))
    session.expire_all()
    assert session.get(Invitation, invitation.id).link_once is None  # type: ignore[union-attr]

    blob = b"\x00".join(dump_database(session))
    assert invitation.public_key in blob
    for words in (label, reason):
        assert words.encode() not in blob
        assert words.encode("utf-16-le") not in blob
    for form in _forms(secret):
        assert form not in blob
    assert found.group(2).encode() not in blob
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert invitation.public_key in raw
        for words in (label, reason):
            assert words.encode() not in raw
        for form in _forms(secret):
            assert form not in raw
        assert found.group(2).encode() not in raw


def test_discussion_is_unreadable_at_rest_and_names_nobody(
    app: Flask, session: Session, settings: Settings
) -> None:
    """Replies, resolutions, questions to authors and their answers: ciphertexts keyed by
    random ids, with no account, no day and no time; a hidden reply's words are destroyed."""
    import glob

    from statements.models import AuthorMessage, Contribution, Reply
    from tests.support import csrf_token, make_room, signed_in_member, signed_in_staff

    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator)
    session.commit()
    author, author_client = signed_in_member(app, session, coordinator, room_id)
    other, other_client = signed_in_member(app, session, coordinator, room_id)

    def post(client: FlaskClient, path: str, data: dict[str, str]) -> None:
        token = csrf_token(client, f"/rooms/{room_id}")
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 302

    words = {
        "contribution": "Refugees in Mae Sot need permits.",
        "reply": "My cousin at the Mae Sot clinic says otherwise.",
        "secretariat": "The secretariat checked the clinic figures.",
        "summary": "Settled with the clinic figures.",
        "question": "Which clinic did you mean?",
        "answer": "The one near the market.",
    }
    post(
        author_client, f"/rooms/{room_id}/contribute?kind=comment", {"text": words["contribution"]}
    )
    session.commit()
    [cid] = session.scalars(select(Contribution.id).where(Contribution.room_id == room_id))
    base = f"/rooms/{room_id}/contributions/{cid}"
    post(other_client, f"{base}/replies", {"text": words["reply"]})
    post(coordinator_client, f"{base}/replies", {"text": words["secretariat"]})
    post(coordinator_client, f"{base}/resolve", {"summary": words["summary"]})
    post(coordinator_client, f"{base}/ask", {"question": words["question"]})
    session.commit()
    [message_id] = session.scalars(select(AuthorMessage.id))
    post(
        author_client,
        f"/rooms/{room_id}/questions/{message_id}/answer",
        {"answer": words["answer"]},
    )

    session.commit()
    tables = ("replies", "reply_flags", "thread_resolutions", "author_messages", "author_answers")
    metadata = MetaData()
    metadata.reflect(bind=session.connection())
    accounts = [str(a) for a in session.scalars(select(Account.id))]
    for name in tables:
        table = metadata.tables[name]
        # No account, no day, no time: nothing to link a row to a person or a moment.
        assert not [key for key in table.foreign_keys if key.column.table.name == "accounts"]
        assert not [c for c in table.columns if "date" in str(c.type).lower()]
        assert not [c for c in table.columns if "time" in str(c.type).lower()]
        for row in session.execute(select(table)):
            for value in row:
                raw = bytes(value) if isinstance(value, bytes) else str(value).encode()
                for account_id in accounts:
                    assert account_id.encode() not in raw
    assert session.scalar(select(func.count()).select_from(Reply)) == 2

    blob = b"\x00".join(dump_database(session))
    for typed in words.values():
        assert typed.encode() not in blob
    for who in (author, other, coordinator):
        for secret in (who.keys.author_secret, who.keys.private_key):
            for form in _forms(secret):
                assert form not in blob

    # Hidden: the reply's ciphertext itself is overwritten, in the rows and in the files.
    reply = session.scalars(select(Reply).where(Reply.secretariat.is_(False))).one()
    fragment = bytes(reply.content)[:48]
    assert fragment in blob
    session.commit()
    post(coordinator_client, f"/rooms/{room_id}/replies/{reply.id}/moderate", {"action": "hide"})
    session.expire_all()
    assert fragment not in b"\x00".join(dump_database(session))
    if settings.database_url.startswith("sqlite:///"):
        session.close()
        path = settings.database_url.removeprefix("sqlite:///")
        raw = b"".join(Path(name).read_bytes() for name in glob.glob(path + "*"))
        assert fragment not in raw
        for text in words.values():
            assert text.encode() not in raw


def test_the_audit_log_and_recovery_codes_say_nothing_of_members(
    app: Flask, session: Session, clock: Clock
) -> None:
    """Staff do everything the audit log records around members who join and write; the
    log names staff and rooms only, and recovery codes are not in the database."""
    from datetime import timedelta

    from statements.models import Contribution, Invitation
    from statements.staff import recovery
    from tests.support import DRAFT, csrf_token

    admin = make_staff(app, session, "root", Role.ADMIN)
    coordinator = make_staff(app, session, "amina")
    admin_account = session.get(Account, admin.account_id)
    assert admin_account is not None
    codes = recovery.issue_codes(session, app.extensions["auth"], admin_account)
    session.commit()
    staff = app.test_client()
    assert login_staff(staff, app, coordinator).status_code == 302
    today = clock.now.date()
    opened = staff.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(staff, "/rooms/new"),
            "title": "Right to work",
            "language": "en",
            "summary": "What we ask.",
            "markdown": DRAFT,
            "contribution_deadline": (today + timedelta(days=14)).isoformat(),
            "signon_deadline": (today + timedelta(days=28)).isoformat(),
            "moderation": "post",
        },
    )
    assert opened.status_code == 302
    room_id = opened.headers["Location"].rsplit("/", 1)[-1]
    link_path = invitation_link(staff, room_id, today + timedelta(days=7))
    invitation_id = link_path.split("/")[-1].split(".")[0]
    words = "Please add the right to family reunion"
    codenames = []
    for _ in range(2):
        member = app.test_client()
        page = member.post(link_path, data={"csrf_token": csrf_token(member, link_path)})
        found = re.search(r'<p class="codename"[^>]*>([a-z -]+)</p>', page.get_data(as_text=True))
        assert found
        codenames.append(found.group(1))
        written = member.post(
            f"/rooms/{room_id}/contribute",
            data={
                "csrf_token": csrf_token(member, f"/rooms/{room_id}/contribute"),
                "kind": "comment",
                "text": words,
            },
        )
        assert written.status_code == 302, written.get_data(as_text=True)
    admin_client = app.test_client()
    assert login_staff(admin_client, app, admin).status_code == 302
    members = [
        account_id
        for account_id in session.scalars(select(Account.id).where(Account.role == Role.MEMBER))
    ]
    assert len(members) == 2
    disabled = post_form(
        admin_client,
        f"/admin/accounts/{members[0]}/disabled",
        {"disabled": "1"},
        form_page="/admin/accounts",
    )
    assert disabled.status_code == 302
    session.expire_all()

    rows = session.execute(text("SELECT * FROM audit_log")).all()
    assert {row.action for row in rows} == {"room-opened"}
    logged = "\x00".join(str(value) for row in rows for value in row)
    # Positive control: the staff account and the room are there.
    assert "amina" in logged
    assert room_id in logged
    contribution_ids = list(session.scalars(select(Contribution.id)))
    assert contribution_ids
    for needle in [
        *members,
        *(member[:8] for member in members),
        *codenames,
        *contribution_ids,
        invitation_id,
        words,
        "127.0.0.1",
    ]:
        assert needle not in logged
    assert session.get(Invitation, invitation_id) is not None
    blob = b"\x00".join(dump_database(session))
    for code in codes:
        assert code.encode() not in blob
        assert code.replace("-", "").encode() not in blob


def _shared_window(one: bytes, other: bytes, width: int = 8) -> bytes | None:
    """A run of `width` bytes found in both, if any."""
    windows = {one[i : i + width] for i in range(len(one) - width + 1)}
    return next(
        (
            other[i : i + width]
            for i in range(len(other) - width + 1)
            if other[i : i + width] in windows
        ),
        None,
    )


def test_anonymous_endorsements_in_two_rooms_share_nothing_at_rest(
    app: Flask, session: Session
) -> None:
    """One member endorses anonymously in two rooms: no stored byte of one endorsement (its
    row, its commitment, its sealed secret) is found in the other's, nor their account's."""
    from crypto.tags import author_tag
    from statements.models import CommitmentSecret, Endorsement
    from statements.publishing.commitments import COMMITMENT_TAG
    from tests.support import (
        endorse,
        join_room,
        member_identity,
        open_signon,
        publish_room,
        staff_identity,
    )

    coordinator = staff_identity(app, session, "coord-two-rooms")
    member = member_identity(app, session)
    rooms = [make_room(session, coordinator, title=f"Room {n}") for n in (1, 2)]
    for room_id in rooms:
        join_room(session, coordinator, room_id, member)
        open_signon(session, coordinator, room_id)
        endorse(session, room_id, member, "anonymous")
    session.commit()

    def stored(room_id: str) -> list[bytes]:
        tag = author_tag(member.keys.author_secret, COMMITMENT_TAG, room_id)
        secret = session.get(CommitmentSecret, tag)
        assert secret is not None
        endorsement = session.scalars(
            select(Endorsement).where(Endorsement.room_id == room_id)
        ).one()
        assert endorsement.commitment is not None
        assert endorsement.tag is not None
        return [
            endorsement.id.encode(),
            endorsement.tag,
            endorsement.commitment,
            endorsement.commitment.hex().encode(),
            secret.tag,
            secret.sealed,
        ]

    first, second = stored(rooms[0]), stored(rooms[1])
    account = session.get(Account, member.account.id)
    assert account is not None
    assert account.public_key
    linking = [account.id.encode(), account.public_key, member.keys.author_secret]
    for value in first:
        for other in second:
            assert _shared_window(value, other) is None, (value, other)
        for known in linking:
            assert _shared_window(value, known) is None
    # Nor does any row of the database hold both a commitment and the account.
    for value in dump_database(session):
        if account.id.encode() in value:
            assert not any(item in value for item in first + second)

    # Published, the commitments are in the bundles; the secrets stay unlinked.
    for number, room_id in enumerate(rooms):
        publish_room(session, coordinator, room_id, f"two-rooms-{number}")
    session.commit()
    assert session.scalars(select(Endorsement)).first() is None
    assert len(list(session.scalars(select(CommitmentSecret)))) == 2
    # Positive control: the commitments themselves are public, in the signed bundles.
    blob = b"\x00".join(dump_database(session))
    assert first[3] in blob
    assert second[3] in blob
