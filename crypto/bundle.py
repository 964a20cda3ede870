"""Building bundles of published statements, the keys file's entries and key rotations.

What a bundle is: crypto/bundle_format.py. A statement and its log part are read with the
same strict reader the verifier uses (crypto/bundle_reading.py) before they are signed,
so the site never signs what a verifier would refuse.
"""

import copy
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from crypto.bundle_format import (
    ROTATION_FORMAT,
    SIGNATURE_ALG,
    b64encode,
    body_sha256,
    canonical,
    minisign_trusted_comment,
)
from crypto.bundle_reading import read_log, read_statement
from crypto.merkle import (
    inclusion_proof,
    root_from_leaf_hashes,
)
from crypto.reveal import SALT_BYTES
from crypto.signing import (
    PUBLIC_KEY_BYTES,
    SigningKey,
    key_id,
    minisign_public_key,
    minisign_signature,
    note_verifier_key,
    parse_checkpoint,
    sign,
)


def make_log_entry(
    leaf_hashes: Sequence[bytes],
    index: int,
    origin: str,
    signed_checkpoint_text: str,
    salt: bytes | None = None,
) -> dict[str, Any]:
    """Return a bundle's log part: leaf `index` in the tree of all `leaf_hashes`.

    With `salt`, the leaf is not the statement but the commitment to it made when it was
    scheduled (crypto/reveal.py), and the salt that opens it goes with the proof.
    """
    body_end = signed_checkpoint_text.rfind("\n\n")
    if body_end < 0:
        raise ValueError("signed_checkpoint_text is not a signed note")
    # Refuse to publish a bundle whose proof and checkpoint disagree: it could never verify.
    checkpoint_origin, size, root = parse_checkpoint(signed_checkpoint_text[: body_end + 1])
    if (checkpoint_origin, size) != (origin, len(leaf_hashes)):
        raise ValueError("the checkpoint is not of this origin and tree size")
    if root != root_from_leaf_hashes(leaf_hashes):
        raise ValueError("the checkpoint root is not the root of these leaves")
    proof = inclusion_proof(leaf_hashes, index)
    entry = {
        "origin": origin,
        "index": index,
        "tree_size": len(leaf_hashes),
        "inclusion_proof": [b64encode(element) for element in proof],
        "checkpoint": signed_checkpoint_text,
    }
    if salt is not None:
        if len(salt) != SALT_BYTES:
            raise ValueError(f"the salt must be {SALT_BYTES} bytes")
        entry["commitment_salt"] = b64encode(salt)
    return entry


def make_bundle(
    statement: Mapping[str, Any], signing_key: SigningKey, log: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the bundle of a statement: signed, minisigned, with its log entry."""
    fields = read_statement(statement)
    if fields.body_sha256 != body_sha256(fields.body_markdown):
        raise ValueError("body_sha256 is not the SHA-256 of body_markdown")
    read_log(log)
    message = canonical(statement)
    minisig = minisign_signature(
        signing_key.private_key,
        signing_key.public_key,
        fields.body_markdown.encode("utf-8"),
        minisign_trusted_comment(fields.slug, fields.version),
    )
    return {
        "format": fields.format,
        # Copies, so a caller editing its dicts later cannot change a signed bundle.
        "statement": copy.deepcopy(dict(statement)),
        "signature": {
            "alg": SIGNATURE_ALG,
            "key_id": key_id(signing_key.public_key),
            "value": b64encode(sign(signing_key.private_key, message)),
        },
        "minisig": minisig,
        "log": copy.deepcopy(dict(log)),
    }


def key_record(
    public_key: bytes,
    note_key_name: str,
    valid_from: date,
    valid_until: date | None = None,
) -> dict[str, Any]:
    """Return a key's entry for statement-keys.json, from its raw public key."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"public_key must be {PUBLIC_KEY_BYTES} bytes")
    return {
        "key_id": key_id(public_key),
        "public_key": b64encode(public_key),
        "minisign_public_key": minisign_public_key(public_key),
        "note_key_name": note_key_name,
        "note_verifier_key": note_verifier_key(note_key_name, public_key),
        "valid_from": _date_text(valid_from),
        "valid_until": None if valid_until is None else _date_text(valid_until),
    }


def keys_document(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return the statement-keys.json document listing these key records."""
    return {"keys": [dict(record) for record in records]}


def make_key_rotation(
    old_key: SigningKey, new_key: SigningKey, note_key_name: str, rotated_on: date
) -> dict[str, Any]:
    """Return the log entry announcing a new signing key, signed by the old key and the new.

    The old key's signature says its holders chose the successor; the new key's says the
    successor's holders hold it. The entry's canonical JSON is the log leaf.
    """
    rotation = {
        "previous_key_id": key_id(old_key.public_key),
        "key": key_record(new_key.public_key, note_key_name, rotated_on),
        "rotated_on": _date_text(rotated_on),
    }
    message = canonical(rotation)
    return {
        "format": ROTATION_FORMAT,
        "rotation": rotation,
        "signatures": [
            {
                "alg": SIGNATURE_ALG,
                "key_id": key_id(signer.public_key),
                "value": b64encode(sign(signer.private_key, message)),
            }
            for signer in (old_key, new_key)
        ],
    }


def _date_text(value: date) -> str:
    # A datetime is a date too, but its isoformat() carries a time no reader accepts.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError("validity dates must be datetime.date values")
    return value.isoformat()
