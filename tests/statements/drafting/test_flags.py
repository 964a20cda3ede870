"""Members flag a contribution for a safety review: anonymously, once each, through the
mixer; a flagged one is hidden from other members while it waits in a pre-moderated room,
and comes first in the moderation queue in either mode."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import contribution_lists, contributions, moderation
from statements.drafting import service as drafting
from statements.drafting.access import FLAG_TAG
from statements.drafting.errors import FlagRefused
from statements.models import Contribution, Flag, ModerationMode
from statements.write_apply import apply_write
from statements.writes import FLAG_PUT, Write
from tests.support import (
    app_today,
    csrf_token,
    join_room,
    make_room,
    member_identity,
    signed_in_member,
    signed_in_staff,
)


class Recorder:
    """An anonymous channel that only keeps what it is given, as a request's mixer would."""

    def __init__(self) -> None:
        self.writes: list[Write] = []

    def put(self, write: Write) -> None:
        self.writes.append(write)

    def pending(self, room_id: str) -> list[Write]:
        return [write for write in self.writes if write.room_id == room_id]


def _flags(session: Session, cid: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Flag).where(Flag.contribution_id == cid))
        or 0
    )


def _setup(
    app: Flask, session: Session, coordinator: Identity, mode: str
) -> tuple[str, Identity, Identity, Identity, str]:
    room_id = make_room(session, coordinator, moderation=mode)
    author, flagger, bystander = (member_identity(app, session) for _ in range(3))
    for who in (author, flagger, bystander):
        join_room(session, coordinator, room_id, who)
    access = drafting.open_room(session, room_id, author)
    cid = drafting.submit_contribution(
        session, access, "comment", None, "A shelter's address.", app_today()
    ).id
    if mode == ModerationMode.PRE:
        moderation.release(
            session, drafting.open_room(session, room_id, coordinator), cid, app_today()
        )
    return room_id, author, flagger, bystander, cid


def _seen(session: Session, who: Identity, room_id: str) -> list[str]:
    views, _total = contribution_lists.contributions_page(
        session, drafting.open_room(session, room_id, who), 1
    )
    return [view.id for view in views]


def test_a_flag_is_an_anonymous_write_through_the_mixer(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, _author, flagger, _bystander, cid = _setup(
        app, session, coordinator, ModerationMode.POST
    )
    recorder = Recorder()
    access = drafting.open_room(session, room_id, flagger, recorder)
    contributions.flag(session, access, cid)
    # Nothing written in the request; one keyed write that names no account.
    assert _flags(session, cid) == 0
    [write] = recorder.writes
    assert write.action == FLAG_PUT
    assert write.row == {"contribution_id": cid, "tag": access.tag(FLAG_TAG, cid)}
    assert flagger.account.id not in write.to_bytes().decode()
    # The flagger sees their own flag at once; flagging again queues nothing more.
    contributions.flag(session, access, cid)
    assert len(recorder.writes) == 1
    [view] = [
        v for v in contribution_lists.contributions_page(session, access, 1)[0] if v.id == cid
    ]
    assert view.flagged
    # Applied by the mixer: one row, and applying again changes nothing.
    apply_write(session, write)
    apply_write(session, write)
    assert _flags(session, cid) == 1


def test_one_flag_per_member_and_never_on_ones_own_or_a_decided_one(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, flagger, bystander, cid = _setup(
        app, session, coordinator, ModerationMode.POST
    )
    for who in (flagger, flagger, bystander):
        contributions.flag(session, drafting.open_room(session, room_id, who), cid)
    assert _flags(session, cid) == 2
    with pytest.raises(FlagRefused):
        contributions.flag(session, drafting.open_room(session, room_id, author), cid)
    access = drafting.open_room(session, room_id, coordinator)
    drafting.reject(session, access, cid, "duplicate", "", app_today())
    # Decided: no longer waiting for review, and no new flag.
    assert _flags(session, cid) == 0
    with pytest.raises(FlagRefused):
        contributions.flag(session, drafting.open_room(session, room_id, bystander), cid)


def test_pre_moderation_hides_a_flagged_contribution_from_other_members_until_reviewed(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, flagger, bystander, cid = _setup(app, session, coordinator, ModerationMode.PRE)
    assert cid in _seen(session, bystander, room_id)
    recorder = Recorder()
    contributions.flag(session, drafting.open_room(session, room_id, flagger, recorder), cid)
    # The flagger no longer sees it at once, while their flag is still queued.
    flagger_access = drafting.open_room(session, room_id, flagger, recorder)
    assert cid not in [
        v.id for v in contribution_lists.contributions_page(session, flagger_access, 1)[0]
    ]
    apply_write(session, recorder.writes[0])
    assert cid not in _seen(session, bystander, room_id)
    assert cid in _seen(session, author, room_id)
    assert cid in _seen(session, coordinator, room_id)
    # Reviewed and found safe: released again, its flags cleared.
    moderation.release(session, drafting.open_room(session, room_id, coordinator), cid, app_today())
    assert _flags(session, cid) == 0
    assert cid in _seen(session, bystander, room_id)


def test_post_moderation_keeps_it_visible_and_puts_it_first_for_review(
    app: Flask, session: Session, coordinator: Identity
) -> None:
    room_id, author, flagger, bystander, cid = _setup(
        app, session, coordinator, ModerationMode.POST
    )
    others = [
        drafting.submit_contribution(
            session,
            drafting.open_room(session, room_id, bystander),
            "comment",
            None,
            f"n{n}",
            app_today(),
        ).id
        for n in range(4)
    ]
    contributions.flag(session, drafting.open_room(session, room_id, flagger), cid)
    assert cid in _seen(session, bystander, room_id)
    access = drafting.open_room(session, room_id, coordinator)
    queue, total = contribution_lists.contributions_page(
        session, access, 1, statuses=["pending"], flagged_first=True
    )
    assert total == 5
    assert queue[0].id == cid
    assert [view.flags for view in queue] == [1, 0, 0, 0, 0]
    assert set(others) < {view.id for view in queue}
    # Members are not told how many flagged it.
    member_views = contribution_lists.contributions_page(
        session, drafting.open_room(session, room_id, author), 1
    )[0]
    assert all(view.flags == 0 for view in member_views)


def test_flagging_over_http(app: Flask, session: Session) -> None:
    coordinator, coordinator_client = signed_in_staff(app, session)
    room_id = make_room(session, coordinator, moderation=ModerationMode.POST)
    session.commit()
    _author, author_client = signed_in_member(app, session, coordinator, room_id)
    _flagger, flagger_client = signed_in_member(app, session, coordinator, room_id)
    page = f"/rooms/{room_id}/contribute?kind=comment"
    sent = author_client.post(
        page, data={"csrf_token": csrf_token(author_client, page), "text": "Risky words."}
    )
    assert sent.status_code == 302
    session.expire_all()
    cid = str(session.scalar(select(Contribution.id).where(Contribution.room_id == room_id)))
    listing = f"/rooms/{room_id}/contributions"
    assert "Ask for a safety review" in flagger_client.get(listing).get_data(as_text=True)
    token = csrf_token(flagger_client, listing)
    flagged = flagger_client.post(
        f"/rooms/{room_id}/contributions/{cid}/flag", data={"csrf_token": token}
    )
    assert flagged.status_code == 302
    assert "You asked the coordinators to review this for safety." in flagger_client.get(
        listing
    ).get_data(as_text=True)
    session.expire_all()
    assert _flags(session, cid) == 1
    queue = coordinator_client.get(f"/rooms/{room_id}/moderation").get_data(as_text=True)
    assert "Review first: 1 member asked for a safety review." in queue
    # The author cannot flag their own: a clear 409, nothing written.
    own = author_client.post(
        f"/rooms/{room_id}/contributions/{cid}/flag",
        data={"csrf_token": csrf_token(author_client, listing)},
    )
    assert own.status_code == 409
    assert _flags(session, cid) == 1
    # An unknown id is a 404, not a 500.
    missing = flagger_client.post(
        f"/rooms/{room_id}/contributions/{'0' * 32}/flag", data={"csrf_token": token}
    )
    assert missing.status_code == 404
