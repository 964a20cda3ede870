"""Tests for statement bundles: building, and verifying them offline check by check.

A small log of real statements (a correction and a retraction among them) is built with a
fresh key, its bundles written to JSON and read back, then tampered with one part at a
time: each change must be caught by the check that owns that part, named as the first
failure. Consistency with an older checkpoint is tested against the honest log, a log
rewritten behind the checkpoint and a log with a statement dropped. Fuzzing shows that
nothing but MalformedBundle ever escapes the verifier.
"""

import base64
import contextlib
import copy
import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.bundle import key_record, keys_document, make_bundle, make_key_rotation, make_log_entry
from crypto.bundle_checks import verify_bundle, verify_key_rotation
from crypto.bundle_format import (
    CHECK_NAMES,
    KeyRecord,
    MalformedBundle,
    Report,
    body_sha256,
    bundle_sha256,
    canonical,
    minisign_trusted_comment,
)
from crypto.bundle_reading import parse_consistency_proof, parse_keys, validate_statement
from crypto.merkle import consistency_proof, leaf_hash, root_from_leaf_hashes
from crypto.signing import (
    SigningKey,
    checkpoint_body,
    generate_signing_key,
    minisign_public_key,
    minisign_signature,
    sign_note,
)

FUZZ = settings(max_examples=100, deadline=None, database=None)
MINISIGN_TIMEOUT_SECONDS = 30
ORIGIN = "example.org/joint-statements/log"
KEY_VALID_FROM = date(2024, 1, 1)
ALL_CHECKS = [name for name in CHECK_NAMES if name != "log_consistency"]


# A small log, published the way the app publishes: each statement is appended, the new
# tree head signed, and the bundle made with that checkpoint.


@dataclass
class Log:
    """An in-memory log of statements under one signing key."""

    key: SigningKey
    origin: str = ORIGIN
    leaf_hashes: list[bytes] = field(default_factory=list)
    bundles: list[dict[str, Any]] = field(default_factory=list)

    def checkpoint(self, size: int | None = None, key: SigningKey | None = None) -> str:
        """Return the signed checkpoint of the first `size` entries (default: all)."""
        size = len(self.leaf_hashes) if size is None else size
        key = key or self.key
        body = checkpoint_body(self.origin, size, root_from_leaf_hashes(self.leaf_hashes[:size]))
        return sign_note(body, self.origin, key.private_key, key.public_key)

    def publish(self, statement: dict[str, Any]) -> dict[str, Any]:
        """Append a statement to the log and return its bundle, as read back from JSON."""
        self.leaf_hashes.append(leaf_hash(canonical(statement)))
        entry = make_log_entry(
            self.leaf_hashes, len(self.leaf_hashes) - 1, self.origin, self.checkpoint()
        )
        bundle = json.loads(json.dumps(make_bundle(statement, self.key, entry)))
        self.bundles.append(bundle)
        return copy.deepcopy(bundle)

    def consistency(self, first: int) -> list[bytes]:
        """Return the proof that the first `first` entries are a prefix of the whole log."""
        return consistency_proof(self.leaf_hashes, first, len(self.leaf_hashes))


def statement(
    slug: str,
    version: int = 1,
    *,
    previous: dict[str, Any] | None = None,
    status: str = "published",
    published_on: str = "2024-03-01",
    body: str = "We call for safe passage.\n",
    title: str = "Safe passage",
    language: str = "en",
    signatories: Sequence[tuple[str, str | None]] = (("Aid Now", "NL"), ("Open Hands", None)),
    anonymous: int = 3,
) -> dict[str, Any]:
    """Return a statement dict, linked to the bundle of the previous version if any."""
    return {
        "slug": slug,
        "title": title,
        "language": language,
        "version": version,
        "status": status,
        "published_on": published_on,
        "body_markdown": body,
        "body_sha256": body_sha256(body),
        "previous_bundle_sha256": None if previous is None else bundle_sha256(previous),
        "signatories": [{"name": name, "country": country} for name, country in signatories],
        "anonymous_signatories": anonymous,
    }


@dataclass
class World:
    """The published log, its keys and the bundles the tests pick from."""

    key: SigningKey
    log: Log
    keys_document: dict[str, Any]
    keys: list[KeyRecord]

    @property
    def first(self) -> dict[str, Any]:
        """Version 1 of safe-passage, the log's first entry."""
        return copy.deepcopy(self.log.bundles[0])

    @property
    def corrected(self) -> dict[str, Any]:
        """Version 2 of safe-passage, the last of eight entries (a three-hash proof)."""
        return copy.deepcopy(self.log.bundles[-1])


def build_world() -> World:
    """Publish eight entries: two versions of one statement, a retraction, a French text."""
    key = generate_signing_key()
    log = Log(key)
    first = log.publish(statement("safe-passage"))
    water = log.publish(
        statement("clean-water", title="Clean water", body="Water is a right.\n", anonymous=0)
    )
    log.publish(
        statement(
            "déclaration-eau",
            title="Déclaration sur l'eau",
            language="fr",
            body="L'eau est un droit — pour toutes et tous. 💧\n",
            signatories=[("Société Civile", "FR")],
        )
    )
    log.publish(
        statement(
            "clean-water",
            2,
            previous=water,
            status="retracted",
            published_on="2024-04-01",
            title="Clean water (retracted)",
            body="This statement is retracted.\n",
            signatories=[],
            anonymous=0,
        )
    )
    for number in range(4, 7):
        log.publish(statement(f"statement-{number}", body=f"Statement number {number}.\n"))
    log.publish(
        statement(
            "safe-passage",
            2,
            previous=first,
            status="corrected",
            published_on="2024-06-01",
            body="We call for safe passage, now.\n",
        )
    )
    document = keys_document([key_record(key.public_key, ORIGIN, KEY_VALID_FROM)])
    return World(key, log, json.loads(json.dumps(document)), parse_keys(document))


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def _failure(report: Report) -> str | None:
    failure = report.first_failure
    return None if failure is None else failure.name


def _names(report: Report) -> list[str]:
    return [check.name for check in report.checks]


# A good bundle


def test_good_bundles_verify(world: World) -> None:
    for bundle in world.log.bundles:
        report = verify_bundle(bundle, world.keys)
        assert report.valid, report.checks
        assert report.first_failure is None
        assert _names(report) == ALL_CHECKS


def test_the_corrected_version_links_to_the_first(world: World) -> None:
    assert world.corrected["statement"]["previous_bundle_sha256"] == bundle_sha256(world.first)
    # The link is over canonical JSON, so it survives the bundle being reformatted.
    reformatted = json.loads(json.dumps(world.first, indent=2, ensure_ascii=False))
    assert bundle_sha256(reformatted) == bundle_sha256(world.first)


def test_the_signed_bytes_are_the_canonical_statement(world: World) -> None:
    signed = world.corrected["statement"]
    assert canonical(signed) == json.dumps(
        signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def test_the_minisig_names_slug_and_version(world: World) -> None:
    trusted = world.corrected["minisig"].split("\n")[2]
    assert trusted == "trusted comment: joint statement safe-passage version 2"


def test_a_report_with_no_checks_is_not_valid() -> None:
    assert not Report(()).valid


# Tampering: each part, caught by the check that owns it.

Mutation = Callable[[dict[str, Any], World], None]


def _other_char(text: str, index: int) -> str:
    """Return text with the character at index replaced by a different letter."""
    replacement = "b" if text[index] == "a" else "a"
    return text[:index] + replacement + text[index + 1 :]


def _flip_base64(text: str, byte: int) -> str:
    """Return base64 text with one bit of one decoded byte flipped."""
    data = bytearray(base64.b64decode(text))
    data[byte] ^= 1
    return base64.b64encode(bytes(data)).decode("ascii")


def _set(path: str, value: object) -> Mutation:
    def mutate(bundle: dict[str, Any], world: World) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _edit(path: str, edit: Callable[[Any], Any]) -> Mutation:
    def mutate(bundle: dict[str, Any], world: World) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        key = int(last) if last.isdigit() else last
        target[key] = edit(target[key])

    return mutate


def _edit_line(path: str, line: int, edit: Callable[[str], str]) -> Mutation:
    def edit_text(text: str) -> str:
        lines = text.split("\n")
        lines[line] = edit(lines[line])
        return "\n".join(lines)

    return _edit(path, edit_text)


def _new_body(bundle: dict[str, Any], world: World) -> None:
    # The forger recomputes the hash: then only the signatures can catch it.
    body = "We call for nothing at all.\n"
    bundle["statement"]["body_markdown"] = body
    bundle["statement"]["body_sha256"] = body_sha256(body)


def _signature_of_another(bundle: dict[str, Any], world: World) -> None:
    bundle["signature"]["value"] = world.first["signature"]["value"]


def _minisig_of_another(bundle: dict[str, Any], world: World) -> None:
    bundle["minisig"] = world.first["minisig"]


def _minisig_other_version(bundle: dict[str, Any], world: World) -> None:
    # A genuine signature of this very body, but made for another version.
    body = bundle["statement"]["body_markdown"].encode("utf-8")
    comment = minisign_trusted_comment("safe-passage", 3)
    key = world.key
    bundle["minisig"] = minisign_signature(key.private_key, key.public_key, body, comment)


def _minisig_other_slug(bundle: dict[str, Any], world: World) -> None:
    body = bundle["statement"]["body_markdown"].encode("utf-8")
    comment = minisign_trusted_comment("other-statement", 2)
    key = world.key
    bundle["minisig"] = minisign_signature(key.private_key, key.public_key, body, comment)


def _earlier_checkpoint(bundle: dict[str, Any], world: World) -> None:
    bundle["log"]["checkpoint"] = world.log.checkpoint(7)


def _earlier_checkpoint_and_size(bundle: dict[str, Any], world: World) -> None:
    bundle["log"]["checkpoint"] = world.log.checkpoint(7)
    bundle["log"]["tree_size"] = 7


def _checkpoint_of_another_tree(bundle: dict[str, Any], world: World) -> None:
    # Signed by the right key, of the right origin and size, but with another root: a
    # log that signs a fork of itself.
    fork = Log(world.key, leaf_hashes=[*world.log.leaf_hashes[:-1], leaf_hash(b"fork")])
    bundle["log"]["checkpoint"] = fork.checkpoint()


def _checkpoint_by_another_key(bundle: dict[str, Any], world: World) -> None:
    bundle["log"]["checkpoint"] = world.log.checkpoint(key=generate_signing_key())


def _proof_element(position: int) -> Mutation:
    return _edit(f"log.inclusion_proof.{position}", lambda text: _flip_base64(text, 7))


MUTATIONS = [
    pytest.param(_edit("format", lambda text: _other_char(text, 0)), "format", id="format"),
    pytest.param(_set("signature.alg", "Ed448"), "format", id="signature-alg"),
    pytest.param(_edit("statement.slug", lambda t: _other_char(t, 0)), "signature", id="slug"),
    pytest.param(_edit("statement.title", lambda t: _other_char(t, 2)), "signature", id="title"),
    pytest.param(_set("statement.language", "fr"), "signature", id="language"),
    pytest.param(_set("statement.version", 3), "signature", id="version"),
    pytest.param(_set("statement.status", "published"), "signature", id="status"),
    pytest.param(_set("statement.published_on", "2024-06-02"), "signature", id="published-on"),
    pytest.param(
        _edit("statement.body_markdown", lambda t: _other_char(t, 3)), "body_hash", id="body-char"
    ),
    pytest.param(
        _edit("statement.body_markdown", lambda t: t + "\n"), "body_hash", id="body-newline"
    ),
    pytest.param(_new_body, "signature", id="body-with-its-hash"),
    pytest.param(
        _edit("statement.body_sha256", lambda t: _other_char(t, 5)), "body_hash", id="body-sha256"
    ),
    pytest.param(
        _edit("statement.previous_bundle_sha256", lambda t: _other_char(t, 9)),
        "signature",
        id="previous-bundle-sha256",
    ),
    pytest.param(
        _edit("statement.signatories.0.name", lambda t: _other_char(t, 1)),
        "signature",
        id="signatory-name",
    ),
    pytest.param(_set("statement.signatories.0.country", None), "signature", id="country-removed"),
    pytest.param(_set("statement.signatories.1.country", "DE"), "signature", id="country-added"),
    pytest.param(_edit("statement.signatories", lambda s: s[:1]), "signature", id="signatory-gone"),
    pytest.param(
        _edit("statement.signatories", lambda s: s[::-1]), "signature", id="signatories-reordered"
    ),
    pytest.param(
        _edit("statement.signatories", lambda s: [*s, {"name": "Forged", "country": None}]),
        "signature",
        id="signatory-added",
    ),
    pytest.param(
        _edit("statement.anonymous_signatories", lambda n: n + 1), "signature", id="anonymous"
    ),
    pytest.param(
        _edit("signature.value", lambda t: _flip_base64(t, 0)), "signature", id="signature-byte-0"
    ),
    pytest.param(
        _edit("signature.value", lambda t: _flip_base64(t, 63)), "signature", id="signature-byte-63"
    ),
    pytest.param(
        _edit("signature.value", lambda t: _other_char(t, 10)), "signature", id="signature-char"
    ),
    pytest.param(_edit("signature.value", lambda t: t[:-4]), "signature", id="signature-cut"),
    pytest.param(_signature_of_another, "signature", id="signature-of-another-statement"),
    pytest.param(_edit("signature.key_id", lambda t: _other_char(t, 4)), "key", id="key-id"),
    pytest.param(
        _edit_line("minisig", 0, lambda line: "U" + line[1:]), "minisign", id="minisig-line-0"
    ),
    pytest.param(
        _edit_line("minisig", 1, lambda line: _flip_base64(line, 3)),
        "minisign",
        id="minisig-line-1-key-id",
    ),
    pytest.param(
        _edit_line("minisig", 1, lambda line: _flip_base64(line, 40)),
        "minisign",
        id="minisig-line-1-signature",
    ),
    pytest.param(
        _edit_line("minisig", 2, lambda line: line.replace("version 2", "version 3")),
        "minisign",
        id="minisig-line-2-trusted-comment",
    ),
    pytest.param(
        _edit_line("minisig", 3, lambda line: _flip_base64(line, 30)),
        "minisign",
        id="minisig-line-3-global-signature",
    ),
    pytest.param(
        _edit("minisig", lambda t: "\n".join(t.split("\n")[1:])), "minisign", id="minisig-cut"
    ),
    pytest.param(_minisig_of_another, "minisign", id="minisig-of-another-body"),
    pytest.param(_minisig_other_version, "minisign", id="minisig-for-another-version"),
    pytest.param(_minisig_other_slug, "minisign", id="minisig-for-another-slug"),
    pytest.param(
        _edit("log.origin", lambda t: _other_char(t, 0)), "checkpoint_signature", id="log-origin"
    ),
    pytest.param(_set("log.tree_size", 9), "checkpoint_signature", id="tree-size-up"),
    pytest.param(_set("log.tree_size", 7), "checkpoint_signature", id="tree-size-down"),
    pytest.param(_set("log.index", 6), "log_inclusion", id="index-down"),
    pytest.param(_set("log.index", 8), "log_inclusion", id="index-past-the-end"),
    *[
        pytest.param(_proof_element(position), "log_inclusion", id=f"proof-element-{position}")
        for position in range(3)
    ],
    pytest.param(_edit("log.inclusion_proof", lambda p: p[:-1]), "log_inclusion", id="proof-cut"),
    pytest.param(
        _edit("log.inclusion_proof", lambda p: [*p, p[0]]), "log_inclusion", id="proof-longer"
    ),
    pytest.param(
        _edit("log.inclusion_proof", lambda p: p[::-1]), "log_inclusion", id="proof-reordered"
    ),
    pytest.param(
        _set("log.inclusion_proof.1", "not base64!"), "log_inclusion", id="proof-not-base64"
    ),
    pytest.param(
        _edit_line("log.checkpoint", 0, lambda line: _other_char(line, 0)),
        "checkpoint_signature",
        id="checkpoint-origin",
    ),
    pytest.param(
        _edit_line("log.checkpoint", 1, lambda line: "9"),
        "checkpoint_signature",
        id="checkpoint-size",
    ),
    pytest.param(
        _edit_line("log.checkpoint", 2, lambda line: _flip_base64(line, 0)),
        "checkpoint_signature",
        id="checkpoint-root",
    ),
    pytest.param(
        _edit_line("log.checkpoint", 4, lambda line: line[:-10] + _other_char(line[-10:], 0)),
        "checkpoint_signature",
        id="checkpoint-signature",
    ),
    pytest.param(
        _edit("log.checkpoint", lambda t: t.replace("\n\n", "\n")),
        "checkpoint_signature",
        id="checkpoint-not-a-note",
    ),
    pytest.param(_earlier_checkpoint, "checkpoint_signature", id="checkpoint-earlier"),
    pytest.param(_earlier_checkpoint_and_size, "log_inclusion", id="checkpoint-and-size-earlier"),
    pytest.param(_checkpoint_of_another_tree, "log_inclusion", id="checkpoint-of-a-fork"),
    pytest.param(_checkpoint_by_another_key, "checkpoint_signature", id="checkpoint-other-key"),
]


@pytest.mark.parametrize(("mutate", "check"), MUTATIONS)
def test_a_change_is_caught_by_its_check(world: World, mutate: Mutation, check: str) -> None:
    bundle = world.corrected
    mutate(bundle, world)
    assert bundle != world.corrected
    report = verify_bundle(bundle, world.keys)
    assert not report.valid
    assert _failure(report) == check, report.checks
    assert _names(report) == ALL_CHECKS


def test_the_proof_mutations_cover_every_element(world: World) -> None:
    assert len(world.corrected["log"]["inclusion_proof"]) == 3


def test_the_untrusted_comment_is_not_signed(world: World) -> None:
    # By minisign's design: only the prefix is checked; the comment itself is free text.
    bundle = world.corrected
    _edit_line("minisig", 0, lambda line: line + " (mirrored)")(bundle, world)
    assert verify_bundle(bundle, world.keys).valid


def test_a_failed_check_does_not_stop_the_later_ones(world: World) -> None:
    bundle = world.corrected
    _set("log.index", 6)(bundle, world)
    _edit("signature.value", lambda t: _flip_base64(t, 5))(bundle, world)
    report = verify_bundle(bundle, world.keys)
    failed = [check.name for check in report.checks if not check.ok]
    assert failed == ["signature", "log_inclusion"]


# Keys


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "check"),
    [
        pytest.param(date(2024, 6, 2), None, "key", id="not-yet-valid"),
        pytest.param(date(2024, 1, 1), date(2024, 5, 31), "key", id="expired"),
        pytest.param(date(2024, 6, 1), date(2024, 6, 1), None, id="valid-on-the-day"),
        pytest.param(date(2023, 1, 1), date(2025, 1, 1), None, id="within"),
    ],
)
def test_the_key_must_be_valid_on_the_publication_date(
    world: World, valid_from: date, valid_until: date | None, check: str | None
) -> None:
    keys = parse_keys(
        keys_document([key_record(world.key.public_key, ORIGIN, valid_from, valid_until)])
    )
    report = verify_bundle(world.corrected, keys)
    assert _failure(report) == check
    # Only the window is wrong: every other check still runs with the key, and passes.
    assert [c.name for c in report.checks if not c.ok] == ([] if check is None else ["key"])


def test_an_unknown_key_fails_key_and_leaves_the_rest_unchecked(world: World) -> None:
    other = parse_keys(
        keys_document([key_record(generate_signing_key().public_key, ORIGIN, KEY_VALID_FROM)])
    )
    for keys in ([], other):
        report = verify_bundle(world.corrected, keys)
        assert _failure(report) == "key"
        unchecked = [c.name for c in report.checks if c.detail.startswith("not checked")]
        assert unchecked == ["signature", "minisign", "checkpoint_signature", "log_inclusion"]


def test_keys_round_trip(world: World) -> None:
    [record] = world.keys
    assert record.public_key == world.key.public_key
    assert record.minisign_public_key == minisign_public_key(world.key.public_key)
    assert record.valid_from == KEY_VALID_FROM
    assert record.valid_until is None
    assert world.keys_document["keys"][0]["valid_until"] is None


def test_key_record_wants_dates_not_datetimes(world: World) -> None:
    with pytest.raises(ValueError, match=r"datetime\.date"):
        key_record(world.key.public_key, ORIGIN, datetime(2024, 1, 1))


def _keys_with(world: World, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = copy.deepcopy(world.keys_document)
    edit(document["keys"][0])
    return document


def _another_key_field(name: str) -> Callable[[dict[str, Any]], None]:
    other = key_record(generate_signing_key().public_key, ORIGIN, KEY_VALID_FROM)
    return lambda entry: entry.update({name: other[name]})


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda e: e.pop("valid_until"), id="missing-field"),
        pytest.param(lambda e: e.update(public_key="not base64"), id="public-key-not-base64"),
        pytest.param(lambda e: e.update(public_key=e["public_key"][:-4]), id="public-key-short"),
        pytest.param(lambda e: e.update(public_key=None), id="public-key-null"),
        pytest.param(_another_key_field("key_id"), id="key-id-of-another-key"),
        pytest.param(_another_key_field("minisign_public_key"), id="minisign-of-another-key"),
        pytest.param(_another_key_field("note_verifier_key"), id="note-key-of-another-key"),
        pytest.param(lambda e: e.update(note_key_name="has space"), id="bad-note-key-name"),
        pytest.param(lambda e: e.update(valid_from="2024-1-1"), id="valid-from-not-a-date"),
        pytest.param(lambda e: e.update(valid_from=None), id="valid-from-null"),
        pytest.param(lambda e: e.update(valid_until="2023-12-31"), id="until-before-from"),
    ],
)
def test_malformed_keys_are_refused(world: World, edit: Callable[[dict[str, Any]], None]) -> None:
    with pytest.raises(MalformedBundle):
        parse_keys(_keys_with(world, edit))


@pytest.mark.parametrize(
    "document",
    [None, [], {}, {"keys": {}}, {"keys": [1]}, {"keys": ["x"]}],
    ids=repr,
)
def test_keys_files_of_the_wrong_shape_are_refused(document: object) -> None:
    with pytest.raises(MalformedBundle):
        parse_keys(document)


def test_a_key_listed_twice_is_refused(world: World) -> None:
    entry = world.keys_document["keys"][0]
    with pytest.raises(MalformedBundle, match="twice"):
        parse_keys({"keys": [entry, entry]})


# Consistency with an older checkpoint


def test_an_old_checkpoint_with_a_proof_from_the_real_log_passes(world: World) -> None:
    for old_size in range(1, 9):
        report = verify_bundle(
            world.corrected,
            world.keys,
            world.log.checkpoint(old_size),
            world.log.consistency(old_size),
        )
        assert report.valid, (old_size, report.checks)
        assert _names(report) == [*ALL_CHECKS, "log_consistency"]


def test_the_first_version_stays_verifiable_and_in_the_log(world: World) -> None:
    # Version 1's own checkpoint, held against the log after the correction.
    assert verify_bundle(world.first, world.keys).valid
    old = world.first["log"]["checkpoint"]
    report = verify_bundle(world.corrected, world.keys, old, world.log.consistency(1))
    assert report.valid, report.checks


def test_an_old_checkpoint_by_a_retired_key_is_accepted(world: World) -> None:
    retired = generate_signing_key()
    keys = parse_keys(
        keys_document(
            [
                key_record(retired.public_key, ORIGIN, date(2023, 1, 1), date(2023, 12, 31)),
                key_record(world.key.public_key, ORIGIN, KEY_VALID_FROM),
            ]
        )
    )
    old = world.log.checkpoint(4, key=retired)
    report = verify_bundle(world.corrected, keys, old, world.log.consistency(4))
    assert report.valid, report.checks


def rewritten_log(world: World, keep: Callable[[int], bool], change: int | None) -> Log:
    """Return the log republished by its own key, some entries changed or left out."""
    log = Log(world.key)
    for index, bundle in enumerate(world.log.bundles):
        if not keep(index):
            continue
        entry = copy.deepcopy(bundle["statement"])
        if index == change:
            entry["anonymous_signatories"] += 100
        log.publish(entry)
    return log


@pytest.mark.parametrize(
    ("keep", "change", "old_size"),
    [
        pytest.param(lambda index: True, 1, 3, id="earlier-entry-changed"),
        pytest.param(lambda index: True, 2, 3, id="last-old-entry-changed"),
        pytest.param(lambda index: index != 1, None, 3, id="entry-dropped"),
        pytest.param(lambda index: index != 0, None, 1, id="first-entry-dropped"),
        pytest.param(lambda index: index != 3, None, 8, id="entry-dropped-log-shrank"),
    ],
)
def test_a_log_rewritten_behind_the_old_checkpoint_fails_consistency(
    world: World, keep: Callable[[int], bool], change: int | None, old_size: int
) -> None:
    rewritten = rewritten_log(world, keep, change)
    bundle = copy.deepcopy(rewritten.bundles[-1])
    # On its own, the rewritten log's bundle is flawless: only history can expose it.
    assert verify_bundle(bundle, world.keys).valid
    old = world.log.checkpoint(old_size)
    proof = rewritten.consistency(old_size) if old_size <= len(rewritten.leaf_hashes) else []
    report = verify_bundle(bundle, world.keys, old, proof)
    assert _failure(report) == "log_consistency", report.checks


def _flipped_proof(world: World) -> list[bytes]:
    proof = world.log.consistency(3)
    return [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]


@pytest.mark.parametrize(
    ("old", "proof"),
    [
        pytest.param(lambda w: w.log.checkpoint(3), lambda w: [], id="no-proof"),
        pytest.param(lambda w: w.log.checkpoint(3), _flipped_proof, id="proof-flipped"),
        pytest.param(
            lambda w: w.log.checkpoint(3), lambda w: w.log.consistency(4), id="proof-of-other-size"
        ),
        pytest.param(
            lambda w: w.log.checkpoint(3, key=generate_signing_key()),
            lambda w: w.log.consistency(3),
            id="old-checkpoint-by-unknown-key",
        ),
        pytest.param(
            lambda w: Log(
                w.key, origin="other.example/log", leaf_hashes=w.log.leaf_hashes
            ).checkpoint(3),
            lambda w: w.log.consistency(3),
            id="old-checkpoint-of-another-log",
        ),
        pytest.param(lambda w: "not a checkpoint", lambda w: [], id="old-checkpoint-garbage"),
        pytest.param(
            lambda w: w.log.checkpoint(8).replace("\n8\n", "\n0\n"),
            lambda w: [],
            id="old-checkpoint-tampered",
        ),
        pytest.param(
            lambda w: Log(w.key).checkpoint(0), lambda w: [], id="old-checkpoint-empty-log"
        ),
    ],
)
def test_a_bad_old_checkpoint_or_proof_fails_consistency(
    world: World,
    old: Callable[[World], str],
    proof: Callable[[World], list[bytes]],
) -> None:
    report = verify_bundle(world.corrected, world.keys, old(world), proof(world))
    assert _failure(report) == "log_consistency", report.checks


def test_equal_sizes_need_equal_roots(world: World) -> None:
    report = verify_bundle(world.corrected, world.keys, world.log.checkpoint(8), [])
    assert report.valid
    fork = Log(world.key, leaf_hashes=[*world.log.leaf_hashes[:-1], leaf_hash(b"fork")])
    report = verify_bundle(world.corrected, world.keys, fork.checkpoint(), [])
    assert _failure(report) == "log_consistency"


def test_consistency_is_not_checked_without_a_trusted_checkpoint(world: World) -> None:
    bundle = world.corrected
    _checkpoint_by_another_key(bundle, world)
    report = verify_bundle(bundle, world.keys, world.log.checkpoint(3), world.log.consistency(3))
    assert report.checks[-1].name == "log_consistency"
    assert report.checks[-1].detail.startswith("not checked")


def test_consistency_proofs_parse_in_both_served_forms(world: World) -> None:
    proof = world.log.consistency(3)
    encoded = [base64.b64encode(element).decode() for element in proof]
    assert parse_consistency_proof({"first": 3, "second": 8, "proof": encoded}) == proof
    assert parse_consistency_proof(encoded) == proof


@pytest.mark.parametrize(
    "data",
    [None, {}, {"proof": "x"}, ["not base64"], [base64.b64encode(b"short").decode()], [1]],
    ids=repr,
)
def test_malformed_consistency_proofs_are_refused(data: object) -> None:
    with pytest.raises(MalformedBundle):
        parse_consistency_proof(data)


# Statements


def _statement_with(**changes: Any) -> dict[str, Any]:
    result = statement("safe-passage", 2, previous={"some": "bundle"})
    result.update(changes)
    return result


def _without(name: str) -> dict[str, Any]:
    result = _statement_with()
    del result[name]
    return result


SIGNATORY = {"name": "Aid Now", "country": None}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(None, id="not-an-object"),
        pytest.param(_without("title"), id="missing-field"),
        pytest.param(_statement_with(extra="x"), id="unknown-field"),
        pytest.param(_statement_with(slug=""), id="slug-empty"),
        pytest.param(_statement_with(slug="two words"), id="slug-with-space"),
        pytest.param(_statement_with(slug="line\nbreak"), id="slug-with-newline"),
        pytest.param(_statement_with(title=""), id="title-empty"),
        pytest.param(_statement_with(title="\ud800"), id="title-lone-surrogate"),
        pytest.param(_statement_with(language=1), id="language-not-a-string"),
        pytest.param(_statement_with(version=0), id="version-0"),
        pytest.param(_statement_with(version=True), id="version-bool"),
        pytest.param(_statement_with(version="2"), id="version-string"),
        pytest.param(_statement_with(version=2.0), id="version-float"),
        pytest.param(_statement_with(version=2**53), id="version-beyond-json"),
        pytest.param(_statement_with(status="draft"), id="status-unknown"),
        pytest.param(_statement_with(status=["published"]), id="status-list"),
        pytest.param(_statement_with(published_on="2024-6-1"), id="date-short"),
        pytest.param(_statement_with(published_on="20240601"), id="date-basic-format"),
        pytest.param(_statement_with(published_on="2024-02-30"), id="date-not-in-calendar"),
        pytest.param(_statement_with(published_on="2024-06-01T00:00"), id="date-with-time"),
        pytest.param(_statement_with(body_markdown=None), id="body-null"),
        pytest.param(_statement_with(body_sha256="A" * 64), id="body-sha256-uppercase"),
        pytest.param(_statement_with(body_sha256="a" * 63), id="body-sha256-short"),
        pytest.param(_statement_with(body_sha256="a" * 64 + "\n"), id="body-sha256-newline"),
        pytest.param(_statement_with(previous_bundle_sha256=None), id="version-2-unlinked"),
        pytest.param(_statement_with(previous_bundle_sha256="xyz"), id="previous-not-hex"),
        pytest.param(
            _statement_with(version=1, previous_bundle_sha256="a" * 64), id="version-1-linked"
        ),
        pytest.param(_statement_with(signatories={}), id="signatories-object"),
        pytest.param(_statement_with(signatories=["Aid Now"]), id="signatory-string"),
        pytest.param(_statement_with(signatories=[{"name": "A"}]), id="signatory-no-country"),
        pytest.param(
            _statement_with(signatories=[{**SIGNATORY, "email": "a@b"}]), id="signatory-extra"
        ),
        pytest.param(
            _statement_with(signatories=[{**SIGNATORY, "name": ""}]), id="signatory-name-empty"
        ),
        pytest.param(
            _statement_with(signatories=[{**SIGNATORY, "country": 31}]), id="country-number"
        ),
        pytest.param(_statement_with(anonymous_signatories=-1), id="anonymous-negative"),
        pytest.param(_statement_with(anonymous_signatories=None), id="anonymous-null"),
    ],
)
def test_malformed_statements_are_refused(bad: object) -> None:
    with pytest.raises(MalformedBundle):
        validate_statement(bad)


def test_a_good_statement_validates() -> None:
    validate_statement(_statement_with())
    validate_statement(statement("first"))


def test_make_bundle_refuses_a_wrong_body_hash(world: World) -> None:
    wrong = _statement_with(body_sha256="0" * 64)
    with pytest.raises(ValueError, match="body_sha256"):
        make_bundle(wrong, world.key, world.corrected["log"])


def test_make_bundle_refuses_a_malformed_statement(world: World) -> None:
    with pytest.raises(MalformedBundle):
        make_bundle(_statement_with(version=0), world.key, world.corrected["log"])


@pytest.mark.parametrize(
    ("index", "origin", "checkpoint_size"),
    [
        pytest.param(8, ORIGIN, 8, id="index-past-the-end"),
        pytest.param(0, "other.example/log", 8, id="other-origin"),
        pytest.param(0, ORIGIN, 7, id="checkpoint-of-another-size"),
    ],
)
def test_make_log_entry_refuses_a_mismatch(
    world: World, index: int, origin: str, checkpoint_size: int
) -> None:
    with pytest.raises(ValueError, match=r"index|origin|checkpoint"):
        make_log_entry(world.log.leaf_hashes, index, origin, world.log.checkpoint(checkpoint_size))


def test_make_log_entry_refuses_a_checkpoint_of_other_leaves(world: World) -> None:
    fork = Log(world.key, leaf_hashes=[*world.log.leaf_hashes[:-1], leaf_hash(b"fork")])
    with pytest.raises(ValueError, match="root"):
        make_log_entry(world.log.leaf_hashes, 0, ORIGIN, fork.checkpoint())


def test_make_log_entry_refuses_an_unsigned_checkpoint(world: World) -> None:
    body = checkpoint_body(ORIGIN, 8, root_from_leaf_hashes(world.log.leaf_hashes))
    with pytest.raises(ValueError, match="signed note"):
        make_log_entry(world.log.leaf_hashes, 0, ORIGIN, body)


# Malformed bundles raise MalformedBundle, and only that.


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_set("statement", "text"), id="statement-not-an-object"),
        pytest.param(_set("statement.version", "2"), id="version-string"),
        pytest.param(_set("statement.status", "draft"), id="status-unknown"),
        pytest.param(_set("signature", []), id="signature-not-an-object"),
        pytest.param(_set("signature.value", 7), id="signature-value-number"),
        pytest.param(_set("minisig", None), id="minisig-null"),
        pytest.param(_set("log.index", "7"), id="index-string"),
        pytest.param(_set("log.tree_size", 8.0), id="tree-size-float"),
        pytest.param(_set("log.index", True), id="index-bool"),
        pytest.param(_set("log.index", -1), id="index-negative"),
        pytest.param(_set("log.index", 2**63), id="index-past-int64"),
        pytest.param(_set("log.index", 2**53), id="index-past-json"),
        pytest.param(_set("log.tree_size", 0), id="tree-size-zero"),
        pytest.param(_set("log.tree_size", 2**63), id="tree-size-past-int64"),
        pytest.param(_set("log.tree_size", -(2**64)), id="tree-size-hugely-negative"),
        pytest.param(_set("statement.version", 2**63), id="version-past-int64"),
        pytest.param(_set("log.inclusion_proof", "abc"), id="proof-not-a-list"),
        pytest.param(_set("log.inclusion_proof.0", None), id="proof-element-null"),
        pytest.param(_set("log.checkpoint", b"bytes"), id="checkpoint-bytes"),
        pytest.param(
            _edit("log", lambda log: {k: v for k, v in log.items() if k != "origin"}),
            id="log-without-origin",
        ),
    ],
)
def test_wrong_types_raise_malformed_bundle(world: World, mutate: Mutation) -> None:
    bundle = world.corrected
    mutate(bundle, world)
    with pytest.raises(MalformedBundle):
        verify_bundle(bundle, world.keys)


def test_unknown_envelope_fields_are_ignored(world: World) -> None:
    bundle = world.corrected
    bundle["links"] = {"html": "/statements/safe-passage"}
    bundle["log"]["note"] = "extra"
    assert verify_bundle(bundle, world.keys).valid


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
DELETE = object()
BUNDLE_PATHS = [
    ("format",),
    ("statement",),
    ("signature",),
    ("minisig",),
    ("log",),
    *[("statement", name) for name in sorted(statement("x"))],
    ("statement", "signatories", 0),
    ("statement", "signatories", 0, "name"),
    ("statement", "signatories", 0, "country"),
    ("signature", "alg"),
    ("signature", "key_id"),
    ("signature", "value"),
    *[("log", name) for name in ("origin", "index", "tree_size", "inclusion_proof", "checkpoint")],
    ("log", "inclusion_proof", 0),
]


def _verify_or_malformed(bundle: object, keys: Sequence[KeyRecord], **extra: Any) -> None:
    try:
        report = verify_bundle(bundle, keys, **extra)
    except MalformedBundle:
        return
    assert isinstance(report, Report)
    assert [check.name for check in report.checks][:7] == ALL_CHECKS


@FUZZ
@given(value=JSON_VALUES)
def test_fuzz_random_json_is_never_more_than_malformed(world: World, value: object) -> None:
    _verify_or_malformed(value, world.keys)
    # The same value in every place a bundle, keys file or proof can hold it.
    for path in BUNDLE_PATHS:
        bundle = world.corrected
        target: Any = bundle
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        _verify_or_malformed(bundle, world.keys)
    _verify_or_malformed(
        world.corrected, world.keys, old_checkpoint=value, consistency_proof=[value]
    )
    for parse in (parse_keys, parse_consistency_proof, validate_statement):
        with contextlib.suppress(MalformedBundle):
            parse(value)


@FUZZ
@given(path=st.sampled_from(BUNDLE_PATHS), value=JSON_VALUES | st.just(DELETE))
def test_fuzz_one_field_replaced_or_deleted(
    world: World, path: tuple[Any, ...], value: object
) -> None:
    bundle = world.corrected
    target: Any = bundle
    for part in path[:-1]:
        target = target[part]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    _verify_or_malformed(bundle, world.keys)


@pytest.fixture(scope="module")
def bundle_bytes(world: World) -> bytes:
    return json.dumps(world.corrected, indent=1).encode("utf-8")


@FUZZ
@given(data=st.data())
def test_fuzz_byte_flips_of_a_bundle_file(world: World, bundle_bytes: bytes, data: Any) -> None:
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(bundle_bytes) - 1), st.integers(1, 255)),
            min_size=1,
            max_size=4,
        )
    )
    flipped = bytearray(bundle_bytes)
    for position, mask in flips:
        flipped[position] ^= mask
    try:
        bundle = json.loads(bytes(flipped))
    except ValueError:
        return
    try:
        report = verify_bundle(bundle, world.keys)
    except MalformedBundle:
        return
    if report.valid:
        # Only bytes outside the signed parts changed (an escape spelled another way, the
        # untrusted comment): what was verified is what was published.
        assert canonical(bundle["statement"]) == canonical(world.corrected["statement"])
        assert bundle["log"]["checkpoint"] == world.corrected["log"]["checkpoint"]


# The real minisign tool, as anyone would run it on the files the site serves.


def _minisign_verify(
    tool: str, directory: Path, public_key: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "-Vm", "statement.md", "-P", public_key],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MINISIGN_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.mark.parametrize("which", ["first", "corrected", "french"])
def test_the_minisign_tool_verifies_a_bundle(
    world: World, minisign_tool: str, tmp_path: Path, which: str
) -> None:
    bundle = {"first": world.first, "corrected": world.corrected, "french": world.log.bundles[2]}[
        which
    ]
    body = bundle["statement"]["body_markdown"]
    (tmp_path / "statement.md").write_bytes(body.encode("utf-8"))
    (tmp_path / "statement.md.minisig").write_text(bundle["minisig"], encoding="utf-8", newline="")
    public_key = world.keys_document["keys"][0]["minisign_public_key"]
    result = _minisign_verify(minisign_tool, tmp_path, public_key)
    assert result.returncode == 0, result.stderr
    slug, version = bundle["statement"]["slug"], bundle["statement"]["version"]
    assert f"Trusted comment: joint statement {slug} version {version}" in result.stdout
    # And the tool, like our verifier, refuses a changed body.
    (tmp_path / "statement.md").write_bytes(body.encode("utf-8") + b" ")
    assert _minisign_verify(minisign_tool, tmp_path, public_key).returncode != 0


# Key rotation entries


def _rotation_keys(
    old: SigningKey, new: SigningKey, rotated_on: date, old_from: date = KEY_VALID_FROM
) -> list[KeyRecord]:
    return parse_keys(
        keys_document(
            [
                key_record(old.public_key, ORIGIN, old_from, rotated_on),
                key_record(new.public_key, ORIGIN, rotated_on),
            ]
        )
    )


def test_a_rotation_signed_by_both_keys_verifies() -> None:
    old, new = generate_signing_key(), generate_signing_key()
    day = KEY_VALID_FROM + timedelta(days=30)
    entry = make_key_rotation(old, new, ORIGIN, day)
    assert verify_key_rotation(entry, _rotation_keys(old, new, day))
    assert verify_key_rotation(json.loads(canonical(entry)), _rotation_keys(old, new, day))


def test_a_retired_key_cannot_name_a_successor() -> None:
    old, new, thief = generate_signing_key(), generate_signing_key(), generate_signing_key()
    day = KEY_VALID_FROM + timedelta(days=30)
    later = day + timedelta(days=365)
    keys = _rotation_keys(old, new, day)
    forged = make_key_rotation(old, thief, ORIGIN, later)
    # Not listed at all; and even listed, the old key was no longer valid that day.
    assert not verify_key_rotation(forged, keys)
    listed = keys + parse_keys(keys_document([key_record(thief.public_key, ORIGIN, later)]))
    assert not verify_key_rotation(forged, listed)


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e["rotation"].update(rotated_on="2001-01-01"),
        lambda e: e["signatures"].pop(),
        lambda e: e["signatures"][0].update(value=e["signatures"][1]["value"]),
        lambda e: e.update(format="other/1"),
        lambda e: e["rotation"].update(previous_key_id=e["rotation"]["key"]["key_id"]),
        lambda e: e["rotation"].update(extra=2**60),
        lambda e: e.update(rotation=[]),
    ],
)
def test_a_changed_rotation_does_not_verify(edit: Callable[[dict[str, Any]], None]) -> None:
    old, new = generate_signing_key(), generate_signing_key()
    day = KEY_VALID_FROM + timedelta(days=30)
    entry = make_key_rotation(old, new, ORIGIN, day)
    edit(entry)
    assert not verify_key_rotation(entry, _rotation_keys(old, new, day))
