"""Verifying bundles and key rotations offline, against the published keys.

A well-shaped bundle whose contents do not check out gets a Report naming each check, the
first failing one first; a document that is not a bundle raises MalformedBundle. So a
verifier can tell "not a bundle" from "not genuine".
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import rfc8785

from crypto.bundle_format import (
    ROTATION_FORMAT,
    SIGNATURE_ALG,
    BundleParts,
    Check,
    KeyRecord,
    LogPart,
    MalformedBundle,
    Report,
    StatementFields,
    b64decode,
    body_sha256,
    canonical,
    minisign_trusted_comment,
)
from crypto.bundle_reading import (
    read_bundle,
    read_field,
    read_iso_date,
    read_key,
    read_list,
    read_mapping,
    read_string,
    show,
)
from crypto.commitments import check as check_commitments
from crypto.merkle import (
    HASH_SIZE,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from crypto.reveal import commitment, commitment_leaf
from crypto.signing import (
    SIGNATURE_BYTES,
    key_id,
    open_note,
    parse_checkpoint,
    verify,
    verify_minisign,
)

_TRUSTED_PREFIX = "trusted comment: "


def verify_bundle(
    bundle: Mapping[str, Any],
    keys: Sequence[KeyRecord],
    old_checkpoint: str | None = None,
    consistency_proof: Sequence[bytes] | None = None,
) -> Report:
    """Check a bundle against the published keys; MalformedBundle if it is not a bundle."""
    parts = read_bundle(bundle)
    message = canonical(parts.statement)
    key = next((record for record in keys if record.key_id == parts.key_id), None)
    checks = [
        _check_format(parts),
        _check_body_hash(parts.fields),
        _check_key(parts, key),
        _check_signature(parts, key, message),
        _check_minisign(parts, key),
    ]
    checkpoint_check, tree = _check_checkpoint(parts.log, key)
    checks += [checkpoint_check, _check_inclusion(parts.log, tree, _log_leaf(parts))]
    if parts.fields.commitments:
        checks.append(_check_commitments(parts.statement))
    if old_checkpoint is not None:
        checks.append(_check_consistency(tree, keys, old_checkpoint, consistency_proof or []))
    return Report(
        tuple(checks),
        language=parts.fields.language,
        authoritative_language=parts.fields.authoritative_language,
        family=parts.fields.family,
    )


def log_leaf(bundle: Mapping[str, Any]) -> bytes:
    """The bytes the log holds for a bundle's statement; MalformedBundle if not a bundle.

    The statement's canonical JSON; or, for one released after an embargo, the leaf of
    the commitment to it that entered the log when it was scheduled.
    """
    return _log_leaf(read_bundle(bundle))


def _log_leaf(parts: BundleParts) -> bytes:
    statement = canonical(parts.statement)
    if parts.log.salt is None:
        return statement
    return commitment_leaf(commitment(parts.log.salt, statement))


def _ok(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, False, detail)


def _not_checked(name: str, reason: str) -> Check:
    # A check that cannot run fails: "valid" must mean every check was actually made.
    return _fail(name, f"not checked: {reason}")


_NO_KEY = "no known key"


def _check_format(parts: BundleParts) -> Check:
    expected = parts.fields.format
    if parts.format != expected:
        return _fail("format", f"format is {show(parts.format)}, not {expected!r}")
    if parts.alg != SIGNATURE_ALG:
        return _fail("format", f"signature.alg is {show(parts.alg)}, not {SIGNATURE_ALG!r}")
    return _ok("format", f"{expected}, {SIGNATURE_ALG}")


def _check_body_hash(fields: StatementFields) -> Check:
    if body_sha256(fields.body_markdown) != fields.body_sha256:
        return _fail("body_hash", "body_sha256 is not the SHA-256 of body_markdown")
    return _ok("body_hash", "body_sha256 matches body_markdown")


def _check_key(parts: BundleParts, key: KeyRecord | None) -> Check:
    if key is None:
        return _fail("key", f"no key with key_id {show(parts.key_id)} in the keys given")
    published_on = parts.fields.published_on
    window = f"from {key.valid_from}" + (
        "" if key.valid_until is None else f" until {key.valid_until}"
    )
    if published_on < key.valid_from or (
        key.valid_until is not None and published_on > key.valid_until
    ):
        return _fail(
            "key", f"key {key.key_id} is valid {window}, not on {published_on} (published_on)"
        )
    return _ok("key", f"key {key.key_id}, valid {window}")


def _check_signature(parts: BundleParts, key: KeyRecord | None, message: bytes) -> Check:
    if key is None:
        return _not_checked("signature", _NO_KEY)
    signature = b64decode(parts.signature)
    if signature is None or len(signature) != SIGNATURE_BYTES:
        return _fail("signature", f"signature.value is not base64 of {SIGNATURE_BYTES} bytes")
    if not verify(key.public_key, message, signature):
        return _fail("signature", f"the Ed25519 signature does not verify with key {key.key_id}")
    return _ok("signature", f"Ed25519 signature by key {key.key_id}")


def _check_minisign(parts: BundleParts, key: KeyRecord | None) -> Check:
    if key is None:
        return _not_checked("minisign", _NO_KEY)
    body = parts.fields.body_markdown.encode("utf-8")
    if not verify_minisign(key.minisign_public_key, body, parts.minisig):
        return _fail("minisign", f"minisig does not verify over the body with key {key.key_id}")
    # verify_minisign has checked the trusted comment's signature but does not return it.
    # It read the third line of a well-formed four-line file, so this parse cannot fail.
    trusted_line = parts.minisig.split("\n")[2].removesuffix("\r")
    trusted = trusted_line.removeprefix(_TRUSTED_PREFIX)
    expected = minisign_trusted_comment(parts.fields.slug, parts.fields.version)
    # Without this, a genuine minisig of the same body under another slug or version
    # (a text republished unchanged) would vouch for this one.
    if trusted != expected:
        return _fail("minisign", f"trusted comment is {show(trusted)}, not {show(expected)}")
    return _ok("minisign", f"minisig verified, trusted comment {show(trusted)}")


@dataclass(frozen=True)
class _Tree:
    """A tree head read from a checkpoint whose signature verified."""

    origin: str
    size: int
    root: bytes


def _check_checkpoint(log: LogPart, key: KeyRecord | None) -> tuple[Check, _Tree | None]:
    name = "checkpoint_signature"
    if key is None:
        return _not_checked(name, _NO_KEY), None
    body = open_note(log.checkpoint, key.note_verifier_key)
    if body is None:
        return _fail(name, f"checkpoint is not a note signed by {show(key.note_key_name)}"), None
    try:
        origin, size, root = parse_checkpoint(body)
    except ValueError as error:
        return _fail(name, str(error)), None
    if origin != log.origin:
        detail = f"checkpoint origin {show(origin)} is not log.origin {show(log.origin)}"
        return _fail(name, detail), None
    if size != log.tree_size:
        return _fail(
            name, f"checkpoint tree size {size} is not log.tree_size {log.tree_size}"
        ), None
    tree = _Tree(origin, size, root)
    return _ok(name, f"checkpoint of {show(origin)} at size {size}, signed"), tree


def _check_inclusion(log: LogPart, tree: _Tree | None, leaf: bytes) -> Check:
    name = "log_inclusion"
    if tree is None:
        return _not_checked(name, "no checkpoint with a verified signature")
    proof: list[bytes] = []
    for position, element in enumerate(log.inclusion_proof):
        decoded = b64decode(element)
        if decoded is None or len(decoded) != HASH_SIZE:
            return _fail(name, f"inclusion_proof[{position}] is not a base64 SHA-256 hash")
        proof.append(decoded)
    what = "the statement" if log.salt is None else "the commitment to the statement"
    if not verify_inclusion(leaf_hash(leaf), log.index, tree.size, proof, tree.root):
        return _fail(name, f"{what} is not entry {log.index} of the log at size {tree.size}")
    if log.salt is not None:
        return _ok(
            name,
            f"entry {log.index} of {tree.size}: the commitment made when the statement was "
            "scheduled, opened by its salt",
        )
    return _ok(name, f"entry {log.index} of {tree.size}")


def _check_commitments(statement: Mapping[str, Any]) -> Check:
    # The signed count must be the number of signed commitments, and the signed root
    # theirs: otherwise the count could be typed, and endorsers' proofs would prove nothing.
    name = "anonymous_commitments"
    problems = check_commitments(statement)
    if problems:
        return _fail(name, "; ".join(problems))
    count = len(statement["anonymous_commitments"])
    return _ok(name, f"{count} commitments, root matches, count matches")


def _check_consistency(
    tree: _Tree | None, keys: Sequence[KeyRecord], old_checkpoint: str, proof: Sequence[bytes]
) -> Check:
    name = "log_consistency"
    if tree is None:
        return _not_checked(name, "no checkpoint with a verified signature")
    # Any key ever listed: the old checkpoint may predate a key rotation.
    body = next(
        (
            opened
            for record in keys
            if (opened := open_note(old_checkpoint, record.note_verifier_key)) is not None
        ),
        None,
    )
    if body is None:
        return _fail(name, "the old checkpoint is not a note signed by a known key")
    try:
        origin, old_size, old_root = parse_checkpoint(body)
    except ValueError as error:
        return _fail(name, f"the old checkpoint: {error}")
    if origin != tree.origin:
        return _fail(name, f"the old checkpoint is of another log, {show(origin)}")
    if old_size > tree.size:
        # Either the log was rolled back, or this bundle predates the old checkpoint (its
        # own checkpoint is the one of its publication): then check a newer bundle.
        return _fail(
            name,
            f"the old checkpoint has {old_size} entries, the bundle's only {tree.size}: "
            "the log shrank, or the bundle is older than the checkpoint",
        )
    if not verify_consistency(old_size, tree.size, old_root, tree.root, proof):
        return _fail(
            name,
            f"the log at size {tree.size} does not extend the old checkpoint at size "
            f"{old_size}: entries were changed or removed, or the proof is wrong",
        )
    return _ok(name, f"the log grew from {old_size} to {tree.size} entries, append-only")


def verify_key_rotation(entry: object, keys: Sequence[KeyRecord]) -> bool:
    """Return whether a key-rotation entry is sound against the published keys.

    Both keys must sign it; the old key must have been valid on the rotation day (a key
    retired earlier, even if later stolen, cannot name a successor), and the new key must
    be listed with the record the entry announces.
    """
    try:
        document = read_mapping(entry, "the rotation entry")
        rotation = read_mapping(read_field(document, "rotation", "the entry"), "rotation")
        previous = read_string(
            read_field(rotation, "previous_key_id", "rotation"), "previous_key_id"
        )
        new = read_key(read_field(rotation, "key", "rotation"), "rotation.key")
        rotated_on = read_iso_date(read_field(rotation, "rotated_on", "rotation"), "rotated_on")
        signatures = read_list(read_field(document, "signatures", "the entry"), "signatures")
        by_key = {
            read_string(read_field(item, "key_id", "signature"), "key_id"): read_string(
                read_field(item, "value", "signature"), "value"
            )
            for item in (read_mapping(item, "signature") for item in signatures)
        }
        message = canonical(rotation)
    except (MalformedBundle, ValueError, TypeError, rfc8785.CanonicalizationError):
        return False
    if document.get("format") != ROTATION_FORMAT:
        return False
    old = next((record for record in keys if record.key_id == previous), None)
    listed = next((record for record in keys if record.key_id == new.key_id), None)
    if old is None or listed is None or previous == new.key_id:
        return False
    # The listed record may since have gained a valid_until (a later rotation).
    if replace(listed, valid_until=None) != new or new.valid_from != rotated_on:
        return False
    if rotated_on < old.valid_from or (
        old.valid_until is not None and rotated_on > old.valid_until
    ):
        return False
    for signer in (old.public_key, new.public_key):
        value = b64decode(by_key.get(key_id(signer), ""))
        if value is None or not verify(signer, message, value):
            return False
    return True
