"""A2 from the attacker's side: a copy of a running server's files links nobody to anything.

Five members join by invitation, sign in again later by codename, contribute, support,
edit, withdraw and sign on, interleaved, over a server that stays up. The database files
are then copied as they are (SQLite: main file, `-wal`, `-shm`; PostgreSQL: every tuple,
live or dead, with its `xmin`, `xmax` and `ctid`), and tests/seizure.py replays the copy
into ordered transactions and attacks it. The test keeps the truth (whose author secret
made each row's tag) and scores every claim against it.

What counts as a failure, precisely:
- any transaction that wrote an anonymous row (contribution, support, endorsement) and
  also a row naming an account (accounts, memberships, room keys, key wraps) or a login
  session row: A2 forbids sharing a transaction, whether or not an attack then wins;
- any attack whose correct claims reach a number that blind guessing reaches with
  probability below 1e-3. Attacks claim only where their evidence is unique (one
  account named, one anonymous row), and the chance per claim is generous to the
  server: for an attribution, the share of the most prolific member; for a same-author
  pair, the chance that two rows drawn at random share an author. With nothing to go
  on, an attack's hits stay within that bound whatever the order of a batch.

The workload does not depend on time: where a real server would commit a batch of
anonymous writes, the test calls the anonymous-write queue's flush(), if the app has one
(app.extensions["mixer"]); nothing else knows how the defence is built.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from crypto.tags import author_tag
from statements import create_app
from statements.auth import service as auth
from statements.db import Database, make_engine, upgrade
from statements.drafting.access import CONSENT_TAG, OBJECTION_TAG
from statements.drafting.discussion import REPLY_FLAG_TAG, REPLY_TAG
from statements.drafting.room_languages import LANGUAGE_TAG
from statements.drafting.service import CONTRIBUTION_TAG, ENDORSEMENT_TAG, SUPPORT_TAG
from statements.models import (
    AuthorAnswer,
    AuthorMessage,
    Base,
    CommitmentSecret,
    ConsentAnswer,
    Contribution,
    Endorsement,
    LanguageChoice,
    LoginSession,
    Objection,
    Reply,
    ReplyFlag,
    Support,
)
from statements.publishing.commitments import COMMITMENT_TAG
from statements.settings import Settings
from tests import seizure
from tests.conftest import TEST_DATABASE_URL, Clock
from tests.support import (
    DRAFT,
    app_today,
    csrf_token,
    invitation_link,
    login_member,
    login_staff,
    make_staff,
)

CODENAME = re.compile(r'<p class="codename"[^>]*>([a-z -]+)</p>')


# --- the server, on a database of its own that really commits ------------------------------


@dataclass
class Server:
    """A running app and how to copy its files."""

    app: Flask
    clock: Clock
    seize: Callable[[], seizure.Seizure]


def _sqlite_server(settings: Settings, tmp_path: Path) -> Iterator[Server]:
    path = tmp_path / "seized.sqlite3"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app, clock = _app(settings, url)

    def seize() -> seizure.Seizure:
        # The app's engine keeps its connections open: nothing checkpoints the log.
        copy = seizure.copy_sqlite_files(path, tmp_path / "seized")
        return seizure.sqlite_history(copy, tmp_path / "replay")

    try:
        yield Server(app, clock, seize)
    finally:
        app.extensions["db"].engine.dispose()


def _postgres_server(settings: Settings) -> Iterator[Server]:
    assert TEST_DATABASE_URL
    schema = f"seized_{secrets.token_hex(6)}"
    joiner = "&" if "?" in TEST_DATABASE_URL else "?"
    url = f"{TEST_DATABASE_URL}{joiner}options={quote(f'-csearch_path={schema}')}"
    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app, clock = _app(settings, url)

    def seize() -> seizure.Seizure:
        attacker = make_engine(url)
        try:
            with attacker.connect() as connection:
                found = seizure.postgres_history(connection, schema)
                connection.commit()
                return found
        finally:
            attacker.dispose()

    try:
        yield Server(app, clock, seize)
    finally:
        app.extensions["db"].engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _app(settings: Settings, url: str) -> tuple[Flask, Clock]:
    # Sessions idle for a day, and no rate limit: the test's clock runs fast, and every
    # browser of the test comes from one address.
    # Batches as in production (not after each request), but only where the workload
    # says a real server's timer would have fired.
    app = create_app(
        replace(
            settings,
            database_url=url,
            session_idle_minutes=24 * 60,
            rate_limit_enabled=False,
            mix_interval_seconds=3600,
        )
    )
    app.extensions["mixer"].autostart = False
    clock = Clock()
    app.extensions["clock"] = clock
    return app, clock


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not TEST_DATABASE_URL, reason="PostgreSQL's xmin: set TEST_DATABASE_URL"
            ),
        ),
    ]
)
def server(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[Server]:
    """The app on a real database, committed for real, and how to seize its files."""
    if request.param == "sqlite":
        yield from _sqlite_server(settings, tmp_path)
    else:
        yield from _postgres_server(settings)


# --- members and what they do --------------------------------------------------------------


@dataclass
class Member:
    """One browser, and what its member knows: the codename."""

    name: str
    client: FlaskClient
    codename: str
    # Their own contributions, in the order they first saw them.
    own: list[str] = field(default_factory=list)


@dataclass
class Drafting:
    """A room, its coordinator's browser, the members, and the flush points."""

    server: Server
    room_id: str
    coordinator: FlaskClient
    link: str
    anchors: list[str] = field(default_factory=list)
    members: dict[str, Member] = field(default_factory=dict)
    flushes: int = 0

    @property
    def app(self) -> Flask:
        """The app."""
        return self.server.app

    def post(self, client: FlaskClient, path: str, form_page: str, data: dict[str, str]) -> int:
        """Load a form, take a minute to fill it in, and send it; return the status."""
        self.server.clock.advance(minutes=1)
        token = csrf_token(client, form_page)
        self.server.clock.advance(minutes=2)
        return client.post(path, data={"csrf_token": token, **data}).status_code

    def flush(self) -> None:
        """Where a real server would commit a batch of anonymous writes."""
        mixer = self.app.extensions.get("mixer")
        flush = getattr(mixer, "flush", None)
        if callable(flush):
            with self.app.app_context():
                flush()
            self.flushes += 1

    def join(self, name: str) -> Member:
        """Follow the invitation and create a codename account in one step."""
        client = self.app.test_client()
        self.server.clock.advance(minutes=1)
        page = client.get(self.link)
        assert page.status_code == 200
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token
        joined = client.post(self.link, data={"csrf_token": token.group(1)})
        assert joined.status_code == 201
        codename = CODENAME.search(joined.text)
        assert codename
        member = Member(name, client, codename.group(1))
        self.members[name] = member
        if not self.anchors:
            page = client.get(f"/rooms/{self.room_id}").text
            self.anchors = re.findall(r'<li id="(s-[0-9a-f]{8})" class="section">', page)
            assert len(self.anchors) >= 3
        return member

    def choose_language(self, name: str, language: str) -> None:
        """The member chooses the working language they read the room in."""
        page = f"/rooms/{self.room_id}"
        path = f"{page}/reading-language"
        assert self.post(self.members[name].client, path, page, {"language": language}) == 302

    def translate(self, name: str, section: int, language: str, words: str) -> None:
        """The member offers a section's words in a working language."""
        anchor = self.anchors[section % len(self.anchors)]
        path = f"/rooms/{self.room_id}/translate"
        page = f"{path}?type=section&id={anchor}&language={language}"
        data = {"type": "section", "id": anchor, "language": language, "text": words}
        assert self.post(self.members[name].client, path, page, data) == 302

    def sign_in_again(self, name: str) -> None:
        """The member comes back later in a new browser and signs in by codename."""
        member = self.members[name]
        member.client = self.app.test_client()
        self.server.clock.advance(minutes=1)
        assert login_member(member.client, member.codename).status_code == 302

    def contribute(self, name: str, kind: str, section: int | None, words: str) -> None:
        """Propose or comment."""
        data = {"kind": kind, "text": words, "submit": "1"}
        if section is not None:
            data["section"] = self.anchors[section % len(self.anchors)]
        path = f"/rooms/{self.room_id}/contribute"
        assert self.post(self.members[name].client, path, path, data) == 302

    def learn_own(self) -> None:
        """Each member reads their own page: which contributions are theirs."""
        for member in self.members.values():
            page = member.client.get(f"/rooms/{self.room_id}/mine").text
            found = re.findall(r"/contributions/([0-9a-f]{32})/edit", page)
            member.own = [c for c in member.own if c in found]
            member.own += [c for c in found if c not in member.own]

    def support(self, name: str, whose: str, supported: bool = True) -> None:
        """Support (or stop supporting) the first contribution of another member."""
        target = self.members[whose].own[0]
        path = f"/rooms/{self.room_id}/contributions/{target}/support"
        status = self.post(
            self.members[name].client,
            path,
            f"/rooms/{self.room_id}/contributions",
            {"supported": "1" if supported else "0"},
        )
        assert status == 302

    def edit(self, name: str, words: str) -> None:
        """Change one's own pending contribution."""
        target = self.members[name].own[0]
        path = f"/rooms/{self.room_id}/contributions/{target}/edit"
        assert self.post(self.members[name].client, path, path, {"text": words}) == 302

    def withdraw(self, name: str) -> None:
        """Withdraw one's own pending contribution."""
        member = self.members[name]
        target = member.own[0]
        path = f"/rooms/{self.room_id}/contributions/{target}/withdraw"
        assert self.post(member.client, path, f"/rooms/{self.room_id}/mine", {}) == 302
        member.own.remove(target)

    def endorse(self, name: str, kind: str, organisation: str = "") -> None:
        """Sign on, or change how one signs."""
        path = f"/rooms/{self.room_id}/sign-on"
        data = {"kind": kind, "name": organisation, "country": "Thailand" if organisation else ""}
        assert self.post(self.members[name].client, path, path, data) == 302

    def withdraw_endorsement(self, name: str) -> None:
        """Take one's endorsement back."""
        page = f"/rooms/{self.room_id}/sign-on"
        assert self.post(self.members[name].client, f"{page}/withdraw", page, {}) == 302

    # --- agreement: objections and consent checks ---

    def object_to(self, name: str, whose: str, reason: str) -> None:
        """Object to the first contribution (a proposal) of another member."""
        target = self.members[whose].own[0]
        path = f"/rooms/{self.room_id}/contributions/{target}/object"
        assert self.post(self.members[name].client, path, path, {"reason": reason}) == 302

    def open_check(self) -> str:
        """The coordinator opens a consent check on the whole text; returns its id."""
        page = f"/rooms/{self.room_id}/agreement"
        data = {"section": "whole", "question": "Can we all live with this text?"}
        assert self.post(self.coordinator, f"{page}/open", page, data) == 302
        found = re.findall(r'id="check-([0-9a-f]{32})"', self.coordinator.get(page).text)
        assert len(found) == 1
        return found[0]

    def answer(self, name: str, check_id: str, answer: str, reason: str = "") -> None:
        """Answer (or change one's answer to) a consent check."""
        page = f"/rooms/{self.room_id}/agreement"
        data = {f"c{check_id}-answer": answer, f"c{check_id}-reason": reason}
        client = self.members[name].client
        assert self.post(client, f"{page}/{check_id}/answer", page, data) == 302

    def close_check(self, check_id: str) -> None:
        """The coordinator closes the check; its results are shown."""
        page = f"/rooms/{self.room_id}/agreement"
        assert self.post(self.coordinator, f"{page}/{check_id}/close", page, {}) == 302

    # --- discussion: replies, flags on replies, a question to an author and its answer

    def thread(self, whose: str) -> str:
        """The thread of another member's first contribution."""
        return f"/rooms/{self.room_id}/contributions/{self.members[whose].own[0]}/thread"

    def reply(self, name: str, whose: str, nested: bool = False) -> None:
        """Reply to another member's first contribution, or to the first reply shown."""
        client = self.members[name].client
        page = self.thread(whose)
        data = {"text": f"A reply from {name}."}
        if nested:
            found = re.search(r'name="parent" value="([0-9a-f]{32})"', client.get(page).text)
            assert found
            data["parent"] = found.group(1)
        path = page.removesuffix("/thread") + "/replies"
        assert self.post(client, path, page, data) == 302

    def flag_reply(self, name: str, whose: str) -> None:
        """Ask for a safety review of the first reply one can flag in a thread."""
        client = self.members[name].client
        page = self.thread(whose)
        found = re.search(r"/replies/([0-9a-f]{32})/flag", client.get(page).text)
        assert found
        path = f"/rooms/{self.room_id}/replies/{found.group(1)}/flag"
        assert self.post(client, path, page, {}) == 302

    def ask(self, whose: str) -> None:
        """The coordinator asks the author of a member's first contribution a question."""
        page = self.thread(whose)
        path = page.removesuffix("/thread") + "/ask"
        assert self.post(self.coordinator, path, page, {"question": "What do you mean?"}) == 302

    def answer_question(self, name: str) -> None:
        """The author answers the question waiting for them."""
        client = self.members[name].client
        page = f"/rooms/{self.room_id}/questions"
        found = re.search(r"/questions/([0-9a-f]{32})/answer", client.get(page).text)
        assert found
        path = f"{page}/{found.group(1)}/answer"
        assert self.post(client, path, page, {"answer": f"{name} means this."}) == 302

    def change_state(self, target: str) -> None:
        """The coordinator moves the room on, leaving what is pending undecided."""
        path = f"/rooms/{self.room_id}/state"
        page = f"/rooms/{self.room_id}"
        data = {"target": target, "leave_undecided": "1"}
        assert self.post(self.coordinator, path, page, data) == 302


def _open_room(server: Server) -> Drafting:
    app = server.app
    database: Database = app.extensions["db"]
    with database.sessionmaker() as db:
        staff = make_staff(app, db)
    coordinator = app.test_client()
    assert login_staff(coordinator, app, staff).status_code == 302
    created = coordinator.post(
        "/rooms/new",
        data={
            "csrf_token": csrf_token(coordinator, "/rooms/new"),
            "title": "Right to work",
            "language": "en",
            "summary": "What we ask of governments.",
            "markdown": DRAFT,
            "contribution_deadline": (app_today() + timedelta(days=14)).isoformat(),
            "signon_deadline": (app_today() + timedelta(days=28)).isoformat(),
            # Members support one another's words as soon as they are written.
            "moderation": "post",
            # A multilingual room: members choose their reading language and translate.
            "working_languages": ["fa", "my"],
        },
    )
    assert created.status_code == 302
    room_id = created.headers["Location"].rsplit("/", 1)[-1]
    link = invitation_link(coordinator, room_id, app_today() + timedelta(days=7), uses=10)
    return Drafting(server, room_id, coordinator, link)


def _workload(drafting: Drafting) -> None:
    """Interleaved rounds; in each, a member acts at most once before the batch is flushed."""
    d = drafting
    # Each newcomer writes at once after joining: a join must not give their words away.
    d.join("m0")
    d.contribute("m0", "amendment", 1, "Refugees across the region are denied lawful work.")
    d.join("m1")
    d.choose_language("m1", "fa")
    d.contribute("m1", "comment", 2, "Name the bilateral agreements explicitly.")
    d.join("m2")
    d.contribute("m2", "addition", 0, "Add a paragraph on healthcare for families.")
    d.flush()
    d.learn_own()
    d.join("m3")
    d.contribute("m3", "comment", None, "The title should mention domestic workers.")
    d.support("m0", "m1")
    d.support("m1", "m2")
    d.flush()
    d.learn_own()
    d.join("m4")
    d.choose_language("m4", "my")
    d.contribute("m4", "amendment", 3, "End arrests at workplaces and at checkpoints.")
    d.support("m2", "m0")
    d.support("m3", "m0")
    d.flush()
    d.learn_own()
    for name in ("m0", "m2", "m4"):
        d.sign_in_again(name)
    d.edit("m0", "Refugees across the whole region are denied lawful work.")
    d.contribute("m2", "comment", 1, "Cite the UNHCR registration figures.")
    d.support("m4", "m3")
    d.choose_language("m2", "fa")
    d.translate("m1", 1, "fa", "Farsi words for the second section.")
    d.translate("m4", 0, "my", "Burmese words for the first section.")
    d.flush()
    d.learn_own()
    d.withdraw("m1")  # it carries m0's support: the support goes with it
    d.contribute("m0", "comment", None, "Thank you all for the careful work.")
    d.edit("m3", "The title should mention domestic and farm workers.")
    d.flush()
    d.learn_own()
    d.support("m2", "m0", supported=False)
    d.edit("m4", "End arrests at workplaces, checkpoints and clinics.")
    d.contribute("m1", "amendment", 4, "Recognise UNHCR documents as identity papers.")
    d.support("m3", "m2")
    d.flush()
    d.learn_own()
    # Objections, and a consent check answered, changed and closed (its answers purged).
    d.object_to("m1", "m0", "Lawful is said twice.")
    d.object_to("m3", "m4", "Clinics are not workplaces.")
    check = d.open_check()
    d.answer("m2", check, "object", "The text forgets families.")
    d.flush()
    d.answer("m0", check, "agree")
    d.object_to("m2", "m4", "Checkpoints need a section of their own.")
    d.answer("m4", check, "abstain")
    d.support("m3", "m4")  # takes back m3's objection
    d.flush()
    d.answer("m1", check, "object", "Too weak on permits.")
    d.answer("m3", check, "agree")
    d.answer("m2", check, "agree")  # changed
    d.flush()
    d.close_check(check)
    # Discussion: replies, a nested reply, a flag on a reply, a question and its answer.
    d.reply("m1", "m0")
    d.reply("m3", "m0")
    d.ask("m2")
    d.flush()
    d.reply("m4", "m0", nested=True)
    d.flag_reply("m2", "m0")
    d.answer_question("m2")
    d.flush()
    d.sign_in_again("m1")
    d.reply("m1", "m3")
    d.answer_question("m2")
    d.flag_reply("m3", "m0")
    d.flush()
    d.change_state("consolidating")
    d.change_state("sign-on")
    d.endorse("m0", "public", "Refugee Rights Network")
    d.endorse("m1", "anonymous")
    d.endorse("m2", "public", "Migrant Workers Union")
    d.flush()
    d.endorse("m3", "anonymous")
    d.endorse("m4", "public", "Domestic Workers Collective")
    d.endorse("m0", "anonymous")
    d.flush()
    d.withdraw_endorsement("m2")
    d.endorse("m1", "public", "Women Refugees Forum")
    d.endorse("m4", "anonymous")
    d.flush()


# --- the truth, and the attacks scored against it -------------------------------------------


def _schema() -> seizure.Schema:
    """What the attacker reads from the models: which rows name an account."""
    account_columns = {"accounts": "id"}
    for table in Base.metadata.tables.values():
        for key in table.foreign_keys:
            if key.column.table.name == "accounts":
                account_columns[table.name] = key.parent.name
    return seizure.Schema(
        anonymous=frozenset(
            {
                Contribution.__tablename__,
                Support.__tablename__,
                Endorsement.__tablename__,
                Objection.__tablename__,
                ConsentAnswer.__tablename__,
                Reply.__tablename__,
                ReplyFlag.__tablename__,
                AuthorAnswer.__tablename__,
                LanguageChoice.__tablename__,
                CommitmentSecret.__tablename__,
            }
        ),
        account_columns=account_columns,
        sessions=frozenset({LoginSession.__tablename__}),
        cascades={
            (Support.__tablename__, "contribution_id"): Contribution.__tablename__,
            (Objection.__tablename__, "contribution_id"): Contribution.__tablename__,
            (Reply.__tablename__, "contribution_id"): Contribution.__tablename__,
            (Reply.__tablename__, "parent_id"): Reply.__tablename__,
            (ReplyFlag.__tablename__, "reply_id"): Reply.__tablename__,
            (AuthorAnswer.__tablename__, "message_id"): AuthorMessage.__tablename__,
        },
    )


def _author_secrets(drafting: Drafting) -> dict[str, bytes]:
    """Each member's account id and author secret, unlocked by their codename."""
    app = drafting.app
    database: Database = app.extensions["db"]
    secrets_by_account = {}
    with database.sessionmaker() as db:
        for member in drafting.members.values():
            account, keys = auth.login_member(db, app.extensions["auth"], member.codename)
            secrets_by_account[account.id] = keys.author_secret
        db.rollback()
    return secrets_by_account


def _asked(drafting: Drafting) -> dict[str, tuple[str, bytes]]:
    """Each question to an author: the contribution it is about and that one's author tag."""
    database: Database = drafting.app.extensions["db"]
    with database.sessionmaker() as db:
        found = {
            str(message_id): (str(contribution_id), bytes(tag))
            for message_id, contribution_id, tag in db.execute(
                select(AuthorMessage.id, Contribution.id, Contribution.author_tag).join(
                    Contribution, Contribution.id == AuthorMessage.contribution_id
                )
            )
        }
        db.rollback()
    return found


def _owner(
    secrets_by_account: dict[str, bytes], room_id: str, asked: dict[str, tuple[str, bytes]]
) -> Callable[[seizure.RowWrite], str | None]:
    """Whose author secret made a row's tag: the truth, from the row alone (an answer has
    no tag: its truth is the author of the contribution its question is about)."""

    def owner(write: seizure.RowWrite) -> str | None:
        values = write.values
        if write.table == AuthorAnswer.__tablename__:
            about = asked.get(str(values.get("message_id")))
            if about is None:
                return None
            purpose, target, tag = CONTRIBUTION_TAG, about[0], about[1]
        elif write.table == Reply.__tablename__:
            purpose, target, tag = REPLY_TAG, values.get("id"), values.get("author_tag")
        elif write.table == ReplyFlag.__tablename__:
            purpose, target, tag = REPLY_FLAG_TAG, values.get("reply_id"), values.get("tag")
        elif write.table == Contribution.__tablename__:
            purpose, target, tag = CONTRIBUTION_TAG, values.get("id"), values.get("author_tag")
        elif write.table == Support.__tablename__:
            purpose, target, tag = SUPPORT_TAG, values.get("contribution_id"), values.get("tag")
        elif write.table == Endorsement.__tablename__:
            purpose, target, tag = ENDORSEMENT_TAG, values.get("room_id"), values.get("tag")
        elif write.table == Objection.__tablename__:
            cid = values.get("contribution_id")
            purpose, target, tag = OBJECTION_TAG, cid and f"{room_id}:{cid}", values.get("tag")
        elif write.table == LanguageChoice.__tablename__:
            purpose, target, tag = LANGUAGE_TAG, room_id, values.get("tag")
        elif write.table == CommitmentSecret.__tablename__:
            purpose, target, tag = COMMITMENT_TAG, room_id, values.get("tag")
        elif write.table == ConsentAnswer.__tablename__:
            check = values.get("check_id")
            purpose, target, tag = CONSENT_TAG, check and f"{room_id}:{check}", values.get("tag")
        else:
            return None
        if not target or not tag:
            return None
        for account_id, secret in secrets_by_account.items():
            if author_tag(secret, purpose, str(target)) == bytes(tag):
                return account_id
        return None

    return owner


def test_a_copy_of_a_running_server_links_no_member_to_their_words(server: Server) -> None:
    drafting = _open_room(server)
    _workload(drafting)

    # The seizure: the app is still up, its connections open, nothing checkpointed.
    seized = server.seize()

    secrets_by_account = _author_secrets(drafting)
    owner = _owner(secrets_by_account, drafting.room_id, _asked(drafting))
    schema = _schema()
    final = _final_state(drafting)
    anonymous_writes = [
        w for t in seized.transactions for w in t.writes if w.table in schema.anonymous
    ]
    # The reader works: the copy holds every row the server holds now, and every
    # anonymous row in it has an owner among the members.
    assert seized.final_rows.get(Contribution.__tablename__) == final["contributions"], seized
    assert seized.final_rows.get(Endorsement.__tablename__) == final["endorsements"], seized
    # Three members endorse anonymously at the end: the secrets of their commitments.
    assert final["commitment_secrets"] == 3
    assert seized.final_rows.get(CommitmentSecret.__tablename__) == 3, seized
    assert all(owner(w) is not None for w in anonymous_writes)

    mixed = seizure.mixed_transactions(seized, schema)
    results = seizure.run_attacks(seized, schema, owner, set(secrets_by_account))
    report = "\n".join(
        [
            f"{seized.source}: {len(seized.transactions)} transactions, "
            f"{len(anonymous_writes)} anonymous row writes, {drafting.flushes} flushes; "
            + "; ".join(seized.notes),
            f"transactions mixing anonymous rows with account or session rows: {len(mixed)}",
            *mixed[:5],
            *(line for result in results for line in (result.line(), *result.examples)),
            "insertion order exposed by: " + ", ".join(sorted(seized.row_order)),
        ]
    )
    print(report)
    beyond_chance = [result.name for result in results if result.correct >= result.allowed]
    # A2: an anonymous write never shares a transaction with one that names an account.
    assert not mixed, report
    assert not beyond_chance, report


def _final_state(drafting: Drafting) -> dict[str, int]:
    """How many contributions and endorsements the server holds at the end."""
    database: Database = drafting.app.extensions["db"]
    with database.sessionmaker() as db:
        counts = {
            table.__tablename__: db.scalar(select(func.count()).select_from(table)) or 0
            for table in (Contribution, Endorsement, CommitmentSecret)
        }
        db.rollback()
    return counts
