"""Anonymous endorsements' commitments: the signed group, inclusion proofs, the verifier."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crypto import commitments
from crypto.bundle import key_record, keys_document, make_bundle, make_log_entry
from crypto.bundle_checks import verify_bundle
from crypto.bundle_format import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_V1,
    MalformedBundle,
    body_sha256,
    bundle_sha256,
    canonical,
)
from crypto.bundle_reading import parse_keys
from crypto.changes import make_changes
from crypto.merkle import leaf_hash, root_from_leaf_hashes
from crypto.signing import SigningKey, checkpoint_body, generate_signing_key, sign_note
from crypto.verify_cli import main

ORIGIN = "example.org/joint-statements/log"
DATA = Path(__file__).parent / "data"


class Log:
    """A log of statements under one key, published as the app publishes them."""

    def __init__(self) -> None:
        self.key: SigningKey = generate_signing_key()
        self.leaves: list[bytes] = []
        self.keys = parse_keys(
            keys_document([key_record(self.key.public_key, ORIGIN, date(2024, 1, 1))])
        )

    def publish(self, statement: dict[str, Any]) -> dict[str, Any]:
        self.leaves.append(leaf_hash(canonical(statement)))
        body = checkpoint_body(ORIGIN, len(self.leaves), root_from_leaf_hashes(self.leaves))
        note = sign_note(body, ORIGIN, self.key.private_key, self.key.public_key)
        entry = make_log_entry(self.leaves, len(self.leaves) - 1, ORIGIN, note)
        return json.loads(json.dumps(make_bundle(statement, self.key, entry)))


def _statement(
    leaves: list[bytes],
    *,
    version: int = 1,
    previous: dict[str, Any] | None = None,
    by_letter: list[bytes] | None = None,
    removed: list[tuple[bytes, str]] | None = None,
) -> dict[str, Any]:
    body = "We call for safe passage.\n"
    statement: dict[str, Any] = {
        "slug": "safe-passage",
        "title": "Safe passage",
        "language": "en",
        "version": version,
        "status": "published" if version == 1 else "corrected",
        "published_on": "2024-03-01",
        "body_markdown": body,
        "body_sha256": body_sha256(body),
        "previous_bundle_sha256": None if previous is None else bundle_sha256(previous),
        "signatories": [],
        "anonymous_signatories": len(leaves),
        **commitments.make_fields(leaves, by_letter or [], removed or []),
    }
    if previous is not None:
        statement.update(
            make_changes(
                previous["statement"],
                status="corrected",
                signatories=[],
                anonymous=len(leaves),
                reason="A correction.",
            )
        )
    return statement


def _secrets(count: int) -> list[bytes]:
    return [commitments.new_secret() for _ in range(count)]


def test_a_bundle_with_commitments_is_format_2_and_verifies() -> None:
    log = Log()
    leaves = [commitments.commitment(secret) for secret in _secrets(5)]
    bundle = log.publish(_statement(leaves))
    assert bundle["format"] == BUNDLE_FORMAT
    signed = bundle["statement"]
    assert signed["anonymous_commitments"] == sorted(leaf.hex() for leaf in leaves)
    report = verify_bundle(bundle, log.keys)
    assert report.valid, report.first_failure
    assert [check.name for check in report.checks][-1] == "anonymous_commitments"


def test_the_verifier_rejects_a_count_that_is_not_the_number_of_leaves() -> None:
    """A correctly signed bundle whose count was typed, not counted, is not valid."""
    log = Log()
    leaves = [commitments.commitment(secret) for secret in _secrets(3)]
    statement = _statement(leaves)
    statement["anonymous_signatories"] = 7
    report = verify_bundle(log.publish(statement), log.keys)
    assert not report.valid
    failure = report.first_failure
    assert failure is not None
    assert failure.name == "anonymous_commitments"
    assert "7" in failure.detail
    # Every other check passed: the signature is good, the count is what is wrong.
    assert all(check.ok for check in report.checks if check.name != "anonymous_commitments")


def test_the_verifier_rejects_a_root_that_is_not_the_leaves() -> None:
    log = Log()
    statement = _statement([commitments.commitment(secret) for secret in _secrets(3)])
    statement["anonymous_commitments_root"] = "00" * 32
    report = verify_bundle(log.publish(statement), log.keys)
    assert report.first_failure is not None
    assert report.first_failure.name == "anonymous_commitments"


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: s["anonymous_commitments"].reverse(), id="unsorted"),
        pytest.param(
            lambda s: s["anonymous_commitments"].append(s["anonymous_commitments"][-1]), id="twice"
        ),
        pytest.param(lambda s: s["anonymous_commitments"].append("XY" * 32), id="not hex"),
        pytest.param(lambda s: s.pop("anonymous_by_letter"), id="half a group"),
        pytest.param(lambda s: s["anonymous_by_letter"].append("ff" * 32), id="letter not a leaf"),
        pytest.param(
            lambda s: s["anonymous_removed"].append({"commitment": "ff" * 32, "reason": ""}),
            id="removal without a reason",
        ),
    ],
)
def test_a_malformed_group_is_not_a_bundle(mutate: Any) -> None:
    log = Log()
    leaves = sorted(commitments.commitment(secret) for secret in _secrets(3))
    statement = _statement(leaves)
    mutate(statement)
    bundle = {**log.publish(_statement(leaves)), "statement": statement}
    with pytest.raises(MalformedBundle):
        verify_bundle(bundle, log.keys)


def test_an_inclusion_proof_passes_and_fails_when_the_leaf_is_removed() -> None:
    secrets = _secrets(6)
    leaves = [commitments.commitment(secret) for secret in secrets]
    mine = leaves[2]
    first = _statement(leaves)
    proof = commitments.make_proof(first, mine)
    assert commitments.verify_proof(proof, first) == []
    # Removed by a correction: the proof no longer holds, and no new one can be made.
    second = _statement(
        [leaf for leaf in leaves if leaf != mine],
        version=2,
        removed=[(mine, "Asked to be removed.")],
    )
    assert commitments.verify_proof({**proof, "version": 2}, second) != []
    with pytest.raises(ValueError, match="not a leaf"):
        commitments.make_proof(second, mine)
    # A forged path does not lead to the signed root.
    forged = copy.deepcopy(proof)
    forged["inclusion_proof"][0] = "00" * 32
    assert "not included" in " ".join(commitments.verify_proof(forged, first))


def test_commitments_of_two_secrets_share_nothing() -> None:
    one, two = commitments.commitment(b"\x01" * 32), commitments.commitment(b"\x01" * 31 + b"\x02")
    assert one != two
    assert commitments.letter_commitment() != commitments.letter_commitment()
    with pytest.raises(ValueError, match="32 bytes"):
        commitments.commitment(b"short")


def test_compare_holds_later_versions_to_letters_and_named_removals() -> None:
    leaves = [commitments.commitment(secret) for secret in _secrets(3)]
    first = _statement(leaves)
    letter = commitments.letter_commitment()
    honest = {
        **_statement([*leaves[1:], letter], by_letter=[letter], removed=[(leaves[0], "Asked.")]),
        "version": 2,
    }
    assert commitments.compare(first, honest) == []
    sneaked = {**_statement([*leaves, letter]), "version": 2}
    assert "not marked received by letter" in " ".join(commitments.compare(first, sneaked))
    silent = {**_statement(leaves[1:]), "version": 2}
    assert "anonymous_removed" in " ".join(commitments.compare(first, silent))
    dropped = {key: value for key, value in honest.items() if not key.startswith("anonymous_")}
    dropped["anonymous_signatories"] = 9
    assert "dropped" in " ".join(commitments.compare(first, dropped))


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_statement_verify_checks_a_downloaded_proof_and_the_previous_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = Log()
    leaves = [commitments.commitment(secret) for secret in _secrets(4)]
    mine = leaves[1]
    v1 = log.publish(_statement(leaves))
    letter = commitments.letter_commitment()
    kept = [*(leaf for leaf in leaves if leaf != mine), letter]
    v2 = log.publish(
        _statement(kept, version=2, previous=v1, by_letter=[letter], removed=[(mine, "Asked.")])
    )
    keys = _write(tmp_path / "statement-keys.json", keys_document_of(log))
    first, second = _write(tmp_path / "v1.json", v1), _write(tmp_path / "v2.json", v2)
    proof = _write(tmp_path / "proof.json", commitments.make_proof(v1["statement"], mine))

    assert main([str(first), "--keys", str(keys), "--commitment-proof", str(proof)]) == 0
    assert "ok   commitment_proof" in capsys.readouterr().out
    proof_v2 = _write(tmp_path / "proof2.json", {**json.loads(proof.read_text()), "version": 2})
    assert main([str(second), "--keys", str(keys), "--commitment-proof", str(proof_v2)]) == 1
    assert "FAIL commitment_proof" in capsys.readouterr().out

    assert main([str(second), "--keys", str(keys), "--previous", str(first)]) == 0
    out = capsys.readouterr().out
    assert "anonymous endorsements: 4 -> 4" not in out
    assert "anonymous commitments: 4" in out
    assert "received by letter, added: 1" in out
    assert f"anonymous commitment removed: {mine.hex()[:16]}... (Asked.)" in out

    garbage = _write(tmp_path / "garbage.json", {"format": "nope"})
    assert main([str(first), "--keys", str(keys), "--commitment-proof", str(garbage)]) == 2


def test_a_later_version_that_adds_a_member_commitment_fails_previous(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = Log()
    leaves = [commitments.commitment(secret) for secret in _secrets(2)]
    v1 = log.publish(_statement(leaves))
    extra = commitments.letter_commitment()
    v2 = log.publish(_statement([*leaves, extra], version=2, previous=v1))
    keys = _write(tmp_path / "statement-keys.json", keys_document_of(log))
    code = main(
        [
            str(_write(tmp_path / "v2.json", v2)),
            "--keys",
            str(keys),
            "--previous",
            str(_write(tmp_path / "v1.json", v1)),
        ]
    )
    assert code == 1
    assert "not marked received by letter" in capsys.readouterr().out


def test_stored_format_1_bundles_still_verify() -> None:
    keys = parse_keys(json.loads((DATA / "format1.statement-keys.json").read_text()))
    for number in (1, 2):
        bundle = json.loads((DATA / f"format1-v{number}.bundle.json").read_text())
        assert bundle["format"] == BUNDLE_FORMAT_V1
        report = verify_bundle(bundle, keys)
        assert report.valid
        assert "anonymous_commitments" not in [check.name for check in report.checks]


def keys_document_of(log: Log) -> dict[str, Any]:
    return keys_document([key_record(log.key.public_key, ORIGIN, date(2024, 1, 1))])
