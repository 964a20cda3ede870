"""The public side: statements, bundles, keys, the log, the feed, the API and /verify.

Nothing here reads a cookie or the login: every page is the same for every reader, so it
can be cached by anyone and mirrored by export-site. Answers carry an ETag; a conditional
GET gets 304.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from crypto import changes, commitments
from crypto.bundle import key_record, keys_document
from crypto.bundle_checks import log_leaf, verify_bundle
from crypto.bundle_format import (
    CHECK_NAMES,
    Check,
    MalformedBundle,
    Report,
    minisign_trusted_comment,
)
from crypto.bundle_reading import parse_keys
from crypto.signing import minisign_public_key
from statements.db import get_session
from statements.errors import render_error
from statements.i18n import current_language
from statements.languages import direction
from statements.models import PublishedStatement, SigningKeyRecord
from statements.pages import LANGUAGE_NAMES, diff_labels
from statements.publishing import feed, log, service, sharing, signing_keys, verify_text
from statements.publishing.api_shapes import (
    StatementDetail,
    StatementFacts,
    StatementList,
    StatementSummary,
    VersionLink,
)
from statements.publishing.errors import LogRangeError, StatementNotFound
from statements.publishing.forms import VerifyForm
from statements.publishing.render_cache import kept
from statements.settings import Letterhead, Settings
from statements.text import diff as diffs
from statements.text.markdown import render

blueprint = Blueprint("public", __name__)

# How long shared caches may keep an answer: published versions never change; lists and
# the checkpoint change when something is published.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
MAX_BUNDLE_BYTES = 1024 * 1024

# The checks of crypto.bundle_checks.verify_bundle, named for people. (Their details come from
# crypto/, in English: the JSON API's messages stay English too, for machines.)
CHECK_LABELS: dict[str, LazyString] = {
    "format": _l("Format"),
    "body_hash": _l("Body hash"),
    "key": _l("Signing key"),
    "signature": _l("Signature"),
    "minisign": _l("minisign signature"),
    "checkpoint_signature": _l("Checkpoint signature"),
    "log_inclusion": _l("Log inclusion"),
    "log_consistency": _l("Log consistency"),
    "site_log": _l("In this site's log"),
    "anonymous_commitments": _l("Anonymous endorsements counted"),
    "commitment_proof": _l("Your anonymous endorsement"),
}


def _cached(response: Response, cache_control: str = SHORT) -> Response:
    """Mark a public answer cacheable, tag it, and answer 304 when the reader has it."""
    response.cacheable = True  # type: ignore[attr-defined]
    response.headers["Cache-Control"] = cache_control
    response.add_etag()
    return cast(Response, response.make_conditional(request))


def _page(template: str, cache_control: str = SHORT, **context: Any) -> Response:
    return _cached(
        Response(render_template(template, **context), mimetype="text/html"), cache_control
    )


def _json(data: Any, cache_control: str = SHORT) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    return _cached(Response(body, mimetype="application/json"), cache_control)


def _text(body: str | bytes, mimetype: str, cache_control: str = SHORT) -> Response:
    return _cached(Response(body, mimetype=mimetype), cache_control)


def _json_error(message: str, status: int) -> tuple[Response, int]:
    body = json.dumps({"error": message}, indent=2) + "\n"
    return Response(body, mimetype="application/json"), status


@blueprint.errorhandler(StatementNotFound)
def _not_found(_error: StatementNotFound) -> Any:
    # Machines asked for JSON: they get JSON. People get the page.
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return _json_error("no such statement or version", 404)
    return render_error(404)


_HEADING = re.compile(r"<(/?)h([1-5])>")


def statement_html(text: str) -> Markup:
    """A statement's Markdown as HTML, its headings one level down: the page's h1 is the title."""
    html = _HEADING.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}>", render(text))
    # render() escapes raw HTML and passes its output through bleach's allowlist; the
    # substitution only renames heading tags it produced.
    return Markup(html)  # noqa: S704


class DiffCache:
    """Diffs of published texts, kept per process and looked up by the texts' hashes.

    A published version never changes (the database refuses to alter one), so neither
    does its diff from the version before, and a statement page would otherwise compute
    every one of them on every view. Kept in memory rather than in a table: it is cheap to
    compute once (diff.py bounds the work), needs no schema, and holds only what the
    public page shows anyway. Bounded by the characters it holds, least recently used
    out first; the pieces, not the HTML, so one entry serves every interface language.
    """

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._entries: OrderedDict[tuple[bytes, bytes], tuple[diffs.Piece, ...]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def pieces(self, old: str, new: str) -> tuple[diffs.Piece, ...]:
        """The word diff of old and new, computed once while it stays in the cache."""
        key = (hashlib.sha256(old.encode()).digest(), hashlib.sha256(new.encode()).digest())
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        # Outside the lock: two workers' threads may both compute a diff, never wait.
        pieces = tuple(diffs.word_diff(old, new))
        size = sum(len(piece.text) for piece in pieces)
        with self._lock:
            if key not in self._entries and size <= self.max_chars:
                self._entries[key] = pieces
                self._chars += size
                while self._chars > self.max_chars:
                    _, dropped = self._entries.popitem(last=False)
                    self._chars -= sum(len(piece.text) for piece in dropped)
        return pieces


# Room for twenty diffs of the longest drafts, or hundreds of real statements'.
PUBLISHED_DIFFS = DiffCache(max_chars=8_000_000)


def safe_diff(old: str, new: str) -> Markup:
    """A word diff of two published texts as HTML; pieces_html escapes every piece itself."""
    old = old.replace("\r\n", "\n").replace("\r", "\n")
    new = new.replace("\r\n", "\n").replace("\r", "\n")
    return Markup(  # noqa: S704
        diffs.pieces_html(PUBLISHED_DIFFS.pieces(old, new), **diff_labels())
    )


# --- pages ----------------------------------------------------------------------------


@blueprint.route("/")
@kept(SHORT)
def index() -> Response:
    """Every published statement, most recently updated first."""
    return _page(
        "public/index.html",
        statements=service.statements(get_session()),
        statement_languages=LANGUAGE_NAMES,
    )


def _key_for(view: service.PublishedView) -> SigningKeyRecord | None:
    return get_session().get(SigningKeyRecord, view.bundle["signature"]["key_id"])


def changes_between(previous: dict[str, Any], current: dict[str, Any]) -> changes.Changes:
    """The signed reason and summary of a later version (format 2), or, for a format-1
    version that signed none, the changes the two versions show (reason empty)."""
    if "changes" in current:
        return changes.read_changes(current)
    return replace(changes.computed(previous, current), reason="")


@dataclass(frozen=True)
class CommitmentChanges:
    """What a version changed of the anonymous commitments: added by letter, removed."""

    by_letter: int
    removed: tuple[tuple[str, str], ...]


def commitment_changes(previous: dict[str, Any], current: dict[str, Any]) -> CommitmentChanges:
    """The commitments a later version added (by letter) and removed, with reasons."""
    if not current.keys() >= commitments.COMMITMENT_FIELDS:
        return CommitmentChanges(0, ())
    group = commitments.read_commitments(current)
    before: tuple[str, ...] = ()
    if previous.keys() >= commitments.COMMITMENT_FIELDS:
        before = commitments.read_commitments(previous).leaves
    return CommitmentChanges(len(set(group.leaves) - set(before)), group.removed)


def _statement_page(slug: str, number: int | None) -> Response:
    session = get_session()
    published = service.statement(session, slug)
    history = service.versions(session, slug)
    shown = (
        history[-1]
        if number is None
        else next((view for view in history if view.row.version == number), None)
    )
    if shown is None:
        raise NotFound
    key = _key_for(shown)
    return _page(
        "public/statement.html",
        # Never immutable: an older version's banner changes when a newer one appears.
        SHORT,
        published=published,
        family=service.family(session, published),
        statement_languages=LANGUAGE_NAMES,
        shown=shown,
        statement=shown.statement,
        history=history,
        latest=history[-1],
        key=key,
        minisign_key=minisign_public_key(key.public_key) if key else "",
        safe_diff=safe_diff,
        changes_between=changes_between,
        commitment_changes=commitment_changes,
        statement_html=statement_html,
        text_dir=direction(shown.statement["language"]),
        # Where the page is shared: its description and card (share_views.py).
        description=sharing.first_paragraph(shown.statement["body_markdown"]),
        og_locale=sharing.og_locale(shown.statement["language"]),
        embed_code=sharing.embed_code(
            url_for("public.embed", slug=slug, _external=True), shown.statement["title"]
        ),
        page_url=(
            url_for("public.statement", slug=slug, _external=True)
            if number is None
            else url_for("public.statement_version", slug=slug, number=number, _external=True)
        ),
        letterhead=letterhead_settings() is not None,
    )


@blueprint.route("/statements/<slug>")
@kept(SHORT)
def statement(slug: str) -> Response:
    """The latest version of a statement, its history and how to verify it."""
    return _statement_page(slug, None)


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>")
@kept(SHORT)
def statement_version(slug: str, number: int) -> Response:
    """One version of a statement."""
    return _statement_page(slug, number)


# --- files of a version ---------------------------------------------------------------


def _version(slug: str, number: int) -> service.PublishedView:
    return service.published_version(get_session(), slug, number)


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/bundle.json")
# The most fetched file (verifiers, mirrors, monitors): kept, so that it is answered in
# front of the app (fast_path.py) like the pages.
@kept(IMMUTABLE, translated=False)
def bundle(slug: str, number: int) -> Response:
    """The signed bundle, byte for byte as published (RFC 8785 canonical JSON)."""
    view = _version(slug, number)
    return _text(view.row.bundle, "application/json", IMMUTABLE)


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/statement.md")
def markdown(slug: str, number: int) -> Response:
    """The body, exactly the bytes the minisign signature covers."""
    view = _version(slug, number)
    return _text(view.statement["body_markdown"].encode("utf-8"), "text/markdown", IMMUTABLE)


@blueprint.route("/statements/<slug>/v/<int(max=2147483647):number>/statement.md.minisig")
def minisig(slug: str, number: int) -> Response:
    """The minisign signature of statement.md."""
    view = _version(slug, number)
    return _text(view.bundle["minisig"], "text/plain", IMMUTABLE)


def letterhead_settings() -> Letterhead | None:
    """The deployment's letterhead, if it has one."""
    settings: Settings = current_app.extensions["settings"]
    return settings.letterhead


# --- keys and log ---------------------------------------------------------------------


def key_records(keys: list[SigningKeyRecord]) -> dict[str, Any]:
    """statement-keys.json for these keys."""
    return keys_document(
        [key_record(k.public_key, k.note_key_name, k.valid_from, k.valid_until) for k in keys]
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@blueprint.route("/.well-known/statement-keys.json")
def keys() -> Response:
    """Every signing key ever used."""
    return _json(key_records(signing_keys.all_keys(get_session())))


# --- feed and API ---------------------------------------------------------------------


@blueprint.route("/feed.atom")
@kept(SHORT)
def atom() -> Response:
    """Every publication, correction and retraction, newest first (Atom)."""
    entries = [
        feed.Entry(
            id=url_for(
                "public.statement_version",
                slug=view.row.slug,
                number=view.row.version,
                _external=True,
            ),
            title=_entry_title(view.statement),
            url=url_for(
                "public.statement_version",
                slug=view.row.slug,
                number=view.row.version,
                _external=True,
            ),
            updated=view.row.published_on,
            summary=_entry_summary(view.statement),
            language=view.statement["language"],
        )
        for view in service.all_versions(get_session())[: feed.MAX_ENTRIES]
    ]
    body = feed.atom(
        feed_id=url_for("public.atom", _external=True),
        title=_("Joint statements"),
        self_url=url_for("public.atom", _external=True),
        site_url=url_for("public.index", _external=True),
        entries=entries,
        language=current_language(),
    )
    return _text(body, "application/atom+xml")


def _entry_title(statement: dict[str, Any]) -> str:
    if statement["status"] == "retracted":
        return str(_("Retracted: %(title)s", title=statement["title"]))
    if statement["status"] == "corrected":
        return str(
            _(
                "%(title)s (corrected, version %(number)s)",
                title=statement["title"],
                number=statement["version"],
            )
        )
    return str(statement["title"])


def _entry_summary(statement: dict[str, Any]) -> str:
    version = _(
        "Version %(number)s, published %(date)s.",
        number=statement["version"],
        date=statement["published_on"],
    )
    signed = ngettext(
        "Signed by %(num)d named organisation and %(anonymous)d counted anonymously.",
        "Signed by %(num)d named organisations and %(anonymous)d counted anonymously.",
        len(statement["signatories"]),
        anonymous=statement["anonymous_signatories"],
    )
    if statement.get("reason"):
        return f"{version} {signed} " + str(_("Reason: %(reason)s", reason=statement["reason"]))
    return f"{version} {signed}"


def _bundle_url(slug: str, number: int) -> str:
    return url_for("public.bundle", slug=slug, number=number, _external=True)


def _facts(item: PublishedStatement) -> StatementFacts:
    return {
        "slug": item.slug,
        "title": item.title,
        "language": item.language,
        "status": item.status,
        "latest_version": item.latest_version,
        "first_published_on": item.first_published_on.isoformat(),
        "updated_on": item.updated_on.isoformat(),
        "signatory_count": item.signatory_count,
        "url": url_for("public.statement", slug=item.slug, _external=True),
        "bundle_url": _bundle_url(item.slug, item.latest_version),
    }


def _version_link(slug: str, view: service.PublishedView) -> VersionLink:
    number = view.row.version
    return {
        "version": number,
        "status": view.row.status,
        "published_on": view.row.published_on.isoformat(),
        "bundle_sha256": view.row.bundle_sha256,
        "log_index": view.row.log_position,
        "bundle_url": _bundle_url(slug, number),
        "markdown_url": url_for("public.markdown", slug=slug, number=number, _external=True),
        "minisig_url": url_for("public.minisig", slug=slug, number=number, _external=True),
        "pdf_url": url_for("public.pdf", slug=slug, number=number, _external=True),
        "docx_url": url_for("public.docx", slug=slug, number=number, _external=True),
        "letterhead_pdf_url": url_for("public.letterhead", slug=slug, number=number, _external=True)
        if letterhead_settings() is not None
        else None,
    }


@blueprint.route("/api/v1/statements")
@kept(SHORT, translated=False)
def api_statements() -> Response:
    """Every published statement, as JSON."""
    answer: StatementList = {
        "statements": [
            StatementSummary(**_facts(item), translation_of=item.translation_of)
            for item in service.statements(get_session())
        ]
    }
    return _json(answer)


@blueprint.route("/api/v1/statements/<slug>")
@kept(SHORT, translated=False)
def api_statement(slug: str) -> Response:
    """One statement: its latest signed text and every version's files."""
    session = get_session()
    published = service.statement(session, slug)
    history = service.versions(session, slug)
    latest = history[-1].statement
    answer = StatementDetail(
        **_facts(published),
        statement=latest,
        authoritative_language=latest.get("authoritative_language"),
        translations=[
            {
                "slug": other.slug,
                "language": other.language,
                "url": url_for("public.statement", slug=other.slug, _external=True),
            }
            for other in service.family(session, published)
        ],
        versions=[_version_link(slug, view) for view in history],
    )
    return _json(answer)


@blueprint.route("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI description of the public API."""
    from statements.publishing.openapi import document

    return _json(document(url_for("public.index", _external=True).rstrip("/")))


# --- verify ---------------------------------------------------------------------------

# What the offline verifier is made of: crypto/ modules that need only cryptography and
# rfc8785 (tests/test_layering.py checks they import nothing of the web app).
VERIFIER_MODULES = (
    "__init__.py",
    "errors.py",
    "merkle.py",
    "signing.py",
    "bundle_format.py",
    "bundle_reading.py",
    "bundle_checks.py",
    "bundle.py",
    "changes.py",
    "plaintext.py",
    "commitments.py",
    "reveal.py",
    "verify_cli.py",
)
_VERIFIER_MAIN = b"import sys\nfrom crypto.verify_cli import main\nsys.exit(main())\n"


def verifier_zipapp() -> bytes:
    """statement-verify as one file that `python3 statement-verify.pyz` runs (a zipapp)."""
    source = Path(__file__).resolve().parents[2] / "crypto"
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        # Fixed timestamps, so the same code gives the same bytes (and the same ETag).
        for name in VERIFIER_MODULES:
            info = zipfile.ZipInfo(f"crypto/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, (source / name).read_bytes(), zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("__main__.py", date_time=(2020, 1, 1, 0, 0, 0))
        archive.writestr(info, _VERIFIER_MAIN, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@blueprint.route("/statement-verify.pyz")
def verifier() -> Response:
    """Download the offline verifier (needs Python 3.11+, cryptography and rfc8785)."""
    response = _text(verifier_zipapp(), "application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="statement-verify.pyz"'
    return response


def _read_bundle(form: VerifyForm) -> tuple[Any, str | None]:
    """The submitted bundle as JSON, or a message saying why it cannot be read."""
    raw: bytes = b""
    upload = form.bundle_file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(MAX_BUNDLE_BYTES + 1)
    elif form.bundle_text.data:
        raw = form.bundle_text.data.encode("utf-8")
    if not raw.strip():
        return None, _("Paste a bundle or choose a bundle.json file.")
    if len(raw) > MAX_BUNDLE_BYTES:
        return None, _("That file is too large to be a bundle.")
    try:
        return json.loads(raw.decode("utf-8")), None
    # ValueError too: Python refuses integers of thousands of digits.
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, _("That is not JSON: a bundle is the bundle.json file of a published version.")


def _site_log_check(bundle: Any) -> Check:
    """Whether this site's own log holds the statement, at its place, under its checkpoint.

    The offline checks prove a bundle is signed by a published key; only the log proves
    it was published. A key copied before it was retired could sign a statement that was
    never published, with a log of its own: this check catches that here, and a reader
    offline catches it with an older checkpoint and a consistency proof.
    """
    session = get_session()
    place = bundle["log"]
    try:
        held = log.entry(session, place["index"])
        checkpoint = log.checkpoint(session, place["tree_size"])
    except LogRangeError:
        return Check("site_log", False, "this site's log has no such entry or tree size")
    if held != log_leaf(bundle):
        return Check("site_log", False, "this site's log holds another entry at that index")
    if checkpoint != place["checkpoint"]:
        return Check("site_log", False, "this site never signed that checkpoint")
    # A commitment vouches for nothing until its statement is released here.
    state = log.commitment_state(session, place["index"], held)
    if state == log.WITHDRAWN:
        return Check(
            "site_log",
            False,
            "this site withdrew that commitment: the statement was called off or moved "
            "before its release, and never published in this form",
        )
    if state == log.WAITING:
        return Check(
            "site_log", False, "this site committed to that statement but has not published it"
        )
    return Check("site_log", True, f"entry {place['index']} of this site's log")


@blueprint.route("/verify", methods=["GET", "POST"])
def verify() -> Any:
    """Check a bundle against this site's published keys and name every check; or say
    which published version a forwarded text, PDF or Word file is."""
    form = VerifyForm()
    report: Report | None = None
    problem: str | None = None
    context: dict[str, Any] = {}
    status = 200
    if request.method == "POST" and form.checks_text():
        context, status = verify_text.check(form)
    elif request.method == "POST":
        data, problem = _read_bundle(form)
        if problem is None:
            try:
                known = parse_keys(key_records(signing_keys.all_keys(get_session())))
                report = verify_bundle(data, known)
                report = replace(report, checks=(*report.checks, _site_log_check(data)))
            except MalformedBundle as error:
                # What is wrong is told by crypto/, in English.
                problem = _("This is not a valid bundle: %(reason)s.", reason=str(error))
        status = 400 if problem else 200
    # The verdict depends on what was posted: never cached. The empty form may be.
    page = _verify_page(form, report=report, problem=problem, **context)
    if request.method == "GET":
        return _cached(Response(page, mimetype="text/html"))
    return page, status


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> Any:
    # Raised wherever the body is first read (a check of the form before the view, too):
    # a reader checking a file is told on the verify page, with the forms to try again.
    if request.endpoint == "public.verify":
        return _verify_page(VerifyForm(formdata=None), text_problem=TOO_LARGE), 413
    return render_error(413)


TOO_LARGE = _l("That is larger than this site accepts: a statement's PDF or Word file is smaller.")


def _verify_page(form: VerifyForm, **context: Any) -> str:
    return render_template(
        "public/verify.html",
        form=form,
        labels=CHECK_LABELS,
        names=CHECK_NAMES,
        trusted_comment=minisign_trusted_comment,
        statement_languages=LANGUAGE_NAMES,
        **{"report": None, "problem": None, **context},
    )
