"""Tests for format-2 bundles: one statement published in several languages as a family.

Each language is a bundle of its own, signed on its own, naming the authoritative language
and every language's slug. Format-1 bundles keep verifying beside them; a statement of one
format in a bundle labelled with the other fails the format check; a family that names a
language twice, leaves out its own text or names an authoritative language it does not
hold is malformed. The offline verifier, run as a process, prints the authoritative language.
"""

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crypto.bundle import key_record, keys_document
from crypto.bundle_checks import verify_bundle
from crypto.bundle_format import BUNDLE_FORMAT, BUNDLE_FORMAT_V1, MalformedBundle
from crypto.bundle_reading import parse_keys, validate_statement
from crypto.signing import generate_signing_key
from tests.crypto.test_bundle import KEY_VALID_FROM, ORIGIN, Log, statement

ROOT = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT_SECONDS = 60
FAMILY = [
    {"language": "en", "slug": "safe-passage"},
    {"language": "fa", "slug": "safe-passage-fa"},
    {"language": "my", "slug": "safe-passage-my"},
]
BODIES = {
    "en": "We call for safe passage.\n",
    "fa": "ما خواستار عبور امن هستیم.\n",
    "my": "ဘေးကင်းစွာ ဖြတ်သန်းခွင့် တောင်းဆိုပါသည်။\n",
}


def family_statement(language: str, **overrides: Any) -> dict[str, Any]:
    """Return the statement of one language of the family, in format 2."""
    slug = next(member["slug"] for member in FAMILY if member["language"] == language)
    result = statement(slug, language=language, body=BODIES[language])
    result["authoritative_language"] = "en"
    result["family"] = copy.deepcopy(FAMILY)
    result.update(overrides)
    return result


class Family:
    """A log holding a format-1 statement and a three-language family after it."""

    def __init__(self) -> None:
        self.key = generate_signing_key()
        self.log = Log(self.key)
        self.single = self.log.publish(statement("clean-water"))
        self.bundles = {
            language: self.log.publish(family_statement(language)) for language in BODIES
        }
        document = keys_document([key_record(self.key.public_key, ORIGIN, KEY_VALID_FROM)])
        self.keys_document = json.loads(json.dumps(document))
        self.keys = parse_keys(document)


@pytest.fixture(scope="module")
def family() -> Family:
    return Family()


def test_each_language_is_a_format_2_bundle_of_its_own(family: Family) -> None:
    signatures = set()
    for language, bundle in family.bundles.items():
        assert bundle["format"] == BUNDLE_FORMAT == "joint-statement-bundle/2"
        report = verify_bundle(bundle, family.keys)
        assert report.valid, report.first_failure
        assert report.language == language
        assert report.authoritative_language == "en"
        assert report.family == tuple((m["language"], m["slug"]) for m in FAMILY)
        signatures.add(bundle["signature"]["value"])
    assert len(signatures) == len(BODIES)


def test_a_format_1_bundle_still_verifies_and_names_no_family(family: Family) -> None:
    assert family.single["format"] == BUNDLE_FORMAT_V1
    report = verify_bundle(family.single, family.keys)
    assert report.valid
    assert report.authoritative_language is None
    assert report.family == ()


def test_a_family_statement_labelled_format_1_fails_the_format_check(family: Family) -> None:
    bundle = copy.deepcopy(family.bundles["fa"])
    bundle["format"] = BUNDLE_FORMAT_V1
    report = verify_bundle(bundle, family.keys)
    assert report.first_failure is not None
    assert report.first_failure.name == "format"


def test_a_single_statement_labelled_format_2_fails_the_format_check(family: Family) -> None:
    bundle = copy.deepcopy(family.single)
    bundle["format"] = BUNDLE_FORMAT
    report = verify_bundle(bundle, family.keys)
    assert report.first_failure is not None
    assert report.first_failure.name == "format"


def test_changing_the_authoritative_language_breaks_the_signature(family: Family) -> None:
    bundle = copy.deepcopy(family.bundles["fa"])
    bundle["statement"]["authoritative_language"] = "fa"
    report = verify_bundle(bundle, family.keys)
    assert report.first_failure is not None
    assert report.first_failure.name == "signature"


def test_dropping_a_language_from_the_family_breaks_the_signature(family: Family) -> None:
    bundle = copy.deepcopy(family.bundles["en"])
    bundle["statement"]["family"] = bundle["statement"]["family"][:2]
    report = verify_bundle(bundle, family.keys)
    assert report.first_failure is not None
    assert report.first_failure.name == "signature"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("family"), "missing or unknown fields"),
        (lambda s: s.pop("authoritative_language"), "missing or unknown fields"),
        (lambda s: s.update(authoritative_language="th"), "not a language of the family"),
        (lambda s: s.update(authoritative_language=""), "is empty"),
        (lambda s: s.update(authoritative_language=7), "not a string"),
        (lambda s: s.update(family={}), "not a JSON array"),
        (lambda s: s["family"].append({"language": "en", "slug": "x-en"}), "twice"),
        (lambda s: s["family"].append({"language": "th", "slug": "safe-passage"}), "twice"),
        (lambda s: s["family"].pop(1), "does not hold the statement's own language"),
        (lambda s: s["family"][0].update(title="x"), "exactly the fields language and slug"),
        (lambda s: s["family"][2].update(slug=""), "is empty"),
    ],
)
def test_a_malformed_family_is_refused(change: Any, message: str) -> None:
    value = family_statement("fa")
    change(value)
    with pytest.raises(MalformedBundle, match=message):
        validate_statement(value)


def test_the_verifier_process_prints_the_authoritative_language(
    family: Family, tmp_path: Path
) -> None:
    keys = tmp_path / "statement-keys.json"
    keys.write_text(json.dumps(family.keys_document), encoding="utf-8")
    for language, bundle in family.bundles.items():
        path = tmp_path / f"{language}.json"
        path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "crypto.verify_cli", str(path), "--keys", str(keys)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_SECONDS,
            check=False,
        )
        assert result.returncode == 0, result
        lines = result.stdout.splitlines()
        assert lines[-3:] == [
            "authoritative language: en",
            "languages: en safe-passage, fa safe-passage-fa, my safe-passage-my",
            "valid",
        ]


def test_the_verifier_process_names_no_language_for_a_format_1_bundle(
    family: Family, tmp_path: Path
) -> None:
    keys = tmp_path / "statement-keys.json"
    keys.write_text(json.dumps(family.keys_document), encoding="utf-8")
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(family.single), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "crypto.verify_cli", str(path)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result
    assert "authoritative" not in result.stdout
    assert result.stdout.splitlines()[-1] == "valid"
