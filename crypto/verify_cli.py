"""statement-verify: check a published statement's bundle offline.

    statement-verify BUNDLE.json [--keys statement-keys.json]
                     [--checkpoint OLD_CHECKPOINT --consistency-proof PROOF.json]
                     [--previous PREVIOUS_BUNDLE.json]
                     [--commitment-proof MY_PROOF.json]
    statement-verify BUNDLE.json [MORE_BUNDLES.json ...] --text COPY.txt

Prints one line per check; for a statement published in several languages (format 2), a
line naming the authoritative language and one listing the family's languages; for a
correction or retraction (format 2), its signed reason and summary of changes; given the
version before it (--previous), the verifier checks that bundle too, that it is the one
linked, and that the summary is the true difference, and prints the changes to the text;
given a forwarded copy of the text (--text, UTF-8 text: pasted from the statement's page,
its PDF or its Word file), it says which of the bundles' statements that text is, whole or
as a passage, comparing words as the site's /verify does (crypto/plaintext.py), or which
is closest and the words that differ; then "valid" (exit 0) or "invalid: <first failing
check>" (exit 1), "invalid: text" when the text matches none of them. Given an
anonymous endorser's downloaded proof (--commitment-proof), it checks that their
commitment is a leaf under the bundle's signed root of commitments. A file that is
missing, not JSON, or not shaped as its format says is reported in one line on stderr,
with exit 2. Needs only cryptography and rfc8785: no web app.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

from crypto import commitments, plaintext
from crypto.bundle_checks import verify_bundle
from crypto.bundle_format import Check, KeyRecord, MalformedBundle, Report, bundle_sha256
from crypto.bundle_reading import parse_consistency_proof, parse_keys
from crypto.changes import (
    CHANGE_FIELDS,
    compare,
    computed,
    read_changes,
    summary,
    text_diff,
)

PROG = "statement-verify"
KEYS_FILE_NAME = "statement-keys.json"
EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2
_NO_KEYS_DETAIL = (
    f"no keys file: pass --keys {KEYS_FILE_NAME} (the site serves it at "
    f"/.well-known/{KEYS_FILE_NAME}), or put it next to the bundle"
)


T = TypeVar("T")


class _Unreadable(Exception):
    """An input file that cannot be used at all; the message is the one line to show."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run statement-verify; return 0 if the bundle is valid, 1 if not, 2 if unreadable."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.consistency_proof is not None and args.checkpoint is None:
        parser.error("--consistency-proof needs --checkpoint")
    several = len(args.bundle) > 1
    if several and args.text is None:
        parser.error("several bundles are compared with a text: add --text")
    if several and (
        args.checkpoint is not None
        or args.previous is not None
        or args.commitment_proof is not None
    ):
        parser.error("--checkpoint, --previous and --commitment-proof take one bundle")
    failures: list[str] = []
    try:
        text_lines: list[str] = []
        text_matches = True
        if args.text is not None:
            text_lines, text_matches = _text(args.text, args.bundle)
        for bundle in args.bundle:
            if several:
                _write(sys.stdout, f"{bundle}:")
            failure = _report(bundle, args)
            if failure is not None:
                failures.append(failure)
    except _Unreadable as error:
        _write(sys.stderr, f"{PROG}: error: {error}")
        return EXIT_UNREADABLE
    for line in text_lines:
        _write(sys.stdout, line)
    if failures:
        _write(sys.stdout, f"invalid: {failures[0]}")
        return EXIT_INVALID
    if not text_matches:
        _write(sys.stdout, "invalid: text")
        return EXIT_INVALID
    _write(sys.stdout, "valid")
    return EXIT_VALID


def _report(bundle: Path, args: argparse.Namespace) -> str | None:
    """Check one bundle and print its lines; the name of its first failing check, if any."""
    report = _verify(bundle, args.keys, args.checkpoint, args.consistency_proof)
    changes: list[str] = []
    if args.previous is not None:
        check, changes = _previous(bundle, args.previous, args.keys)
        report = replace(report, checks=(*report.checks, check))
    if args.commitment_proof is not None:
        mine = _commitment_proof(bundle, args.commitment_proof)
        report = replace(report, checks=(*report.checks, mine))
    changes = _summary(bundle) + changes
    for check in report.checks:
        if check.ok:
            _write(sys.stdout, f"ok   {check.name}")
        else:
            _write(sys.stdout, f"FAIL {check.name}: {check.detail}")
    if report.authoritative_language is not None:
        _write(sys.stdout, f"authoritative language: {report.authoritative_language}")
        family = ", ".join(f"{language} {slug}" for language, slug in report.family)
        _write(sys.stdout, f"languages: {family}")
    for line in changes:
        _write(sys.stdout, f"     {line}")
    failure = report.first_failure
    return None if failure is None else failure.name


def _text(path: Path, bundles: Sequence[Path]) -> tuple[list[str], bool]:
    """Lines saying which bundle's statement a forwarded text is; and whether one is."""
    text = _read_text(path)
    forwarded = plaintext.readable(text)
    keys = plaintext.forwarded_keys(text)
    key = keys[0]
    statements = [(bundle, _statement(bundle)) for bundle in bundles]
    found: list[tuple[Path, dict[str, Any], plaintext.Match]] = []
    for bundle, statement in statements:
        body = statement.get("body_markdown")
        if not isinstance(body, str):
            raise _Unreadable(f"{bundle}: malformed: the statement has no text")
        own = plaintext.statement_key(body)
        match = next((m for m in (plaintext.compare(own, k) for k in keys) if m), None)
        if match is not None:
            found.append((bundle, statement, match))
    if found:
        wholes = [item for item in found if item[2].kind == "whole"]
        if wholes:
            # The fullest: a version 2 that only added to version 1 holds all of it.
            fullest = max(len(plaintext.statement_key(item[1]["body_markdown"])) for item in wholes)
            found = [
                item
                for item in wholes
                if len(plaintext.statement_key(item[1]["body_markdown"])) == fullest
            ]
        lines = []
        for bundle, statement, match in found:
            what = "the whole text" if match.kind == "whole" else "a passage"
            lines.append(f"text: {what} of {_name(statement)} ({bundle})")
            if text.replace("\r\n", "\n") == statement["body_markdown"]:
                lines.append("text: identical, character for character, to the signed text")
            elif match.extra:
                own = plaintext.statement_key(statement["body_markdown"])
                before, after = plaintext.around(forwarded, own)
                lines.append("text: also holds words the statement does not (not compared):")
                if before:
                    lines.append(f"     before it: {before[:300]}")
                if after:
                    lines.append(f"     after it: {after[:300]}")
        return lines, True
    wanted = plaintext.shingles(key)
    bundle, closest = max(
        statements,
        key=lambda item: len(
            wanted & plaintext.shingles(plaintext.statement_key(item[1]["body_markdown"]))
        ),
    )
    short = len(key) < plaintext.MIN_EXCERPT and not found
    lines = [
        "text: matches no bundle's statement"
        + (" (a passage needs a sentence or two: this is too short)" if short else ""),
        f"text: closest is {_name(closest)} ({bundle}); its words (-) against the text's (+):",
    ]
    old = plaintext.markdown_text(closest["body_markdown"])
    lines += [f"     {line}" for line in plaintext.word_changes(old, forwarded)]
    return lines, False


def _name(statement: dict[str, Any]) -> str:
    return f"{statement.get('slug')} version {statement.get('version')}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Verify a joint statement's bundle offline: signatures, keys and log.",
    )
    parser.add_argument(
        "bundle",
        metavar="BUNDLE.json",
        type=Path,
        nargs="+",
        help="the bundle to check (several only with --text: which one is the text?)",
    )
    parser.add_argument(
        "--keys",
        metavar=KEYS_FILE_NAME,
        type=Path,
        help=f"the site's keys (default: {KEYS_FILE_NAME} next to the bundle)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="OLD_CHECKPOINT",
        type=Path,
        help="a checkpoint you saved earlier: check the log only grew since",
    )
    parser.add_argument(
        "--consistency-proof",
        metavar="PROOF.json",
        type=Path,
        help="the log's /log/proof/consistency answer from the old checkpoint's size to the "
        "bundle's (not needed when the sizes are equal)",
    )
    parser.add_argument(
        "--previous",
        metavar="PREVIOUS_BUNDLE.json",
        type=Path,
        help="the bundle of the version before: check the link and the signed summary of "
        "changes, and print the changes",
    )
    parser.add_argument(
        "--text",
        metavar="COPY.txt",
        type=Path,
        help="a forwarded copy of the text (UTF-8): say whether it is the bundle's statement, "
        "whole or a passage (words are compared; spacing, punctuation and formatting are not)",
    )
    parser.add_argument(
        "--commitment-proof",
        metavar="MY_PROOF.json",
        type=Path,
        help="the proof an anonymous endorser downloaded: check that their commitment is "
        "counted in this bundle",
    )
    return parser


def _commitment_proof(bundle_path: Path, proof_path: Path) -> Check:
    """The "commitment_proof" check: the endorser's commitment is under the signed root."""
    statement = _statement(bundle_path)
    try:
        problems = commitments.verify_proof(_load_json(proof_path), statement)
    except commitments.CommitmentsError as error:
        raise _Unreadable(f"{proof_path}: malformed: {error}") from None
    if problems:
        return Check("commitment_proof", False, "; ".join(problems))
    return Check("commitment_proof", True, "the commitment is counted under the signed root")


def _statement(path: Path) -> dict[str, Any]:
    data = _load_json(path)
    statement = data.get("statement") if isinstance(data, dict) else None
    if not isinstance(statement, dict):
        raise _Unreadable(f"{path}: malformed: the bundle has no statement")
    return statement


def _summary(bundle_path: Path) -> list[str]:
    """The signed reason and summary of a correction or retraction, as lines."""
    statement = _statement(bundle_path)
    lines = commitments.summary(statement)
    if not statement.keys() >= CHANGE_FIELDS:
        return lines
    return summary(read_changes(statement)) + lines


def _previous(
    bundle_path: Path, previous_path: Path, keys_path: Path | None
) -> tuple[Check, list[str]]:
    """The "previous" check: the earlier bundle verifies, is the one linked, and the
    summary of changes is the true difference; and the changes to the text."""
    report = _verify(previous_path, keys_path or _keys_beside(bundle_path), None, None)
    current, previous = _statement(bundle_path), _statement(previous_path)
    if not report.valid:
        failure = report.first_failure
        detail = failure.name if failure is not None else "no checks"
        return Check("previous", False, f"the previous bundle is not valid ({detail})"), []
    previous_bundle = _load_json(previous_path)
    if not isinstance(previous_bundle, dict) or current.get(
        "previous_bundle_sha256"
    ) != bundle_sha256(previous_bundle):
        return Check("previous", False, "the bundle does not link to this previous bundle"), []
    problems = compare(previous, current) + commitments.compare(previous, current)
    if problems:
        return Check("previous", False, "; ".join(problems)), []
    lines = commitments.additions(previous, current) + text_diff(previous, current)
    if not current.keys() >= CHANGE_FIELDS:
        detail = f"version {previous['version']} -> {current['version']} (format 1: computed)"
        return Check("previous", True, detail), summary(computed(previous, current)) + lines
    detail = f"version {previous['version']} -> {current['version']}, summary matches"
    return Check("previous", True, detail), lines


def _keys_beside(bundle_path: Path) -> Path | None:
    path = bundle_path.parent / KEYS_FILE_NAME
    return path if path.is_file() else None


def _verify(
    bundle_path: Path, keys_path: Path | None, checkpoint_path: Path | None, proof_path: Path | None
) -> Report:
    bundle = _load_json(bundle_path)
    if keys_path is None and (bundle_path.parent / KEYS_FILE_NAME).is_file():
        keys_path = bundle_path.parent / KEYS_FILE_NAME
    keys: list[KeyRecord] = []
    if keys_path is not None:
        keys = _parse(parse_keys, _load_json(keys_path), keys_path)
    old_checkpoint = None if checkpoint_path is None else _read_text(checkpoint_path)
    proof = (
        None
        if proof_path is None
        else _parse(parse_consistency_proof, _load_json(proof_path), proof_path)
    )
    report = _parse(
        lambda data: verify_bundle(data, keys, old_checkpoint, proof), bundle, bundle_path
    )
    if keys_path is None:
        # The library knows nothing of command-line flags; say here how to supply the keys.
        report = replace(
            report,
            checks=tuple(
                replace(check, detail=_NO_KEYS_DETAIL) if check.name == "key" else check
                for check in report.checks
            ),
        )
    return report


def _parse(parse: Callable[[Any], T], data: object, path: Path) -> T:
    try:
        return parse(data)
    except MalformedBundle as error:
        raise _Unreadable(f"{path}: malformed: {error}") from None


def _read_text(path: Path) -> str:
    try:
        # Bytes, then decode: text mode would turn CRLF into LF and so alter signed text.
        return path.read_bytes().decode("utf-8")
    except OSError as error:
        raise _Unreadable(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise _Unreadable(f"{path}: not UTF-8 text") from None


def _load_json(path: Path) -> object:
    text = _read_text(path)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Duplicate as error:
        raise _Unreadable(f"{path}: malformed: field {error} appears twice") from None
    except (ValueError, RecursionError) as error:
        # ValueError covers JSONDecodeError and integers too long for int(); RecursionError
        # a file nested deeper than the parser can follow.
        reason = str(error) if isinstance(error, ValueError) else "nested too deeply"
        raise _Unreadable(f"{path}: not JSON: {reason}") from None


class _Duplicate(Exception):
    """A JSON object with the same field twice."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal fields wins, so a bundle holding both could
    # show one statement to one verifier and another to the next: refuse it outright.
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Duplicate(repr(name)[:60])
        result[name] = value
    return result


def _no_constant(name: str) -> object:
    # Python's json takes NaN and Infinity, which are not JSON.
    raise ValueError(f"{name} is not a JSON value")


def _write(stream: TextIO, line: str) -> None:
    # File names and details may hold characters the terminal's encoding cannot show;
    # escape them rather than fail with a traceback.
    encoding = getattr(stream, "encoding", None) or "utf-8"
    printable = line.replace("\n", " ").encode(encoding, "backslashreplace").decode(encoding)
    print(printable, file=stream)


if __name__ == "__main__":
    raise SystemExit(main())
