"""Statements committed to the log when scheduled and revealed at their release: the
commitment leaf, the bundle that opens it, and what a verifier refuses."""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from crypto import reveal
from crypto.bundle import key_record, keys_document, make_bundle, make_log_entry
from crypto.bundle_checks import log_leaf, verify_bundle
from crypto.bundle_format import MalformedBundle, canonical
from crypto.bundle_reading import parse_keys
from crypto.merkle import leaf_hash
from crypto.signing import generate_signing_key
from crypto.verify_cli import main
from tests.crypto.test_bundle import KEY_VALID_FROM, ORIGIN, Log, statement


def _released() -> tuple[dict[str, Any], Log, bytes]:
    """A log with a statement, then a commitment to another; the other's bundle."""
    log = Log(generate_signing_key())
    log.publish(statement("published-first"))
    later = statement("released-later", published_on="2024-05-01")
    salt = reveal.new_salt()
    leaf = reveal.commitment_leaf(reveal.commitment(salt, canonical(later)))
    log.leaf_hashes.append(leaf_hash(leaf))
    entry = make_log_entry(log.leaf_hashes, 1, ORIGIN, log.checkpoint(), salt)
    bundle = json.loads(json.dumps(make_bundle(later, log.key, entry)))
    return bundle, log, leaf


def _keys(log: Log) -> list[Any]:
    return parse_keys(keys_document([key_record(log.key.public_key, ORIGIN, KEY_VALID_FROM)]))


def _checks(bundle: dict[str, Any], log: Log) -> dict[str, Any]:
    return {check.name: check for check in verify_bundle(bundle, _keys(log)).checks}


def test_a_released_bundle_verifies_against_its_commitment() -> None:
    bundle, log, leaf = _released()
    assert verify_bundle(bundle, _keys(log)).valid
    assert "opened by its salt" in _checks(bundle, log)["log_inclusion"].detail
    assert log_leaf(bundle) == leaf
    assert reveal.committed(leaf) == json.loads(leaf)["commitment"]
    # The leaf names nothing of the statement.
    assert b"released-later" not in leaf
    assert b"2024-05-01" not in leaf


def test_another_salt_or_none_does_not_open_it() -> None:
    bundle, log, _leaf = _released()
    for salt in (bytes(32), reveal.new_salt()):
        changed = copy.deepcopy(bundle)
        changed["log"]["commitment_salt"] = base64.b64encode(salt).decode()
        assert not _checks(changed, log)["log_inclusion"].ok
    bare = copy.deepcopy(bundle)
    del bare["log"]["commitment_salt"]
    assert not _checks(bare, log)["log_inclusion"].ok


def test_a_commitment_to_another_text_does_not_open() -> None:
    bundle, log, _leaf = _released()
    other = copy.deepcopy(bundle)
    other["statement"]["title"] = "Another title"
    checks = _checks(other, log)
    assert not checks["signature"].ok
    assert not checks["log_inclusion"].ok


@pytest.mark.parametrize(
    "salt", ["", "not base64!", base64.b64encode(bytes(31)).decode(), 42, None, ["x"]]
)
def test_a_malformed_salt_is_not_a_bundle(salt: object) -> None:
    bundle, _log, _leaf = _released()
    bundle["log"]["commitment_salt"] = salt
    with pytest.raises(MalformedBundle):
        verify_bundle(bundle, [])


def test_leaves_are_read_strictly() -> None:
    value = reveal.commitment(bytes(32), b"{}")
    assert reveal.committed(reveal.commitment_leaf(value)) == value
    for leaf in (
        reveal.withdrawal_leaf(value),
        b"not json",
        b"[]",
        json.dumps({"format": reveal.COMMITMENT_FORMAT, "commitment": value}).encode(),
        canonical({"format": reveal.COMMITMENT_FORMAT, "commitment": value.upper()}),
        canonical({"format": reveal.COMMITMENT_FORMAT, "commitment": value, "x": 1}),
    ):
        assert reveal.committed(leaf) is None
    for bad in ("", value.upper(), value[:-1], value + "0"):
        with pytest.raises(ValueError, match="hex"):
            reveal.commitment_leaf(bad)
    with pytest.raises(ValueError, match="salt"):
        reveal.commitment(bytes(31), b"{}")


def test_the_offline_verifier_checks_a_released_bundle(tmp_path: Path) -> None:
    bundle, log, _leaf = _released()
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(keys_document([key_record(log.key.public_key, ORIGIN, KEY_VALID_FROM)])),
        encoding="utf-8",
    )
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main([str(path), "--keys", str(keys)]) == 0
    assert stdout.getvalue().splitlines()[-1] == "valid"
