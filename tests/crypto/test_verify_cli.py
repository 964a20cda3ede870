"""Tests for statement-verify, the offline verifier's command line.

Exit codes and output lines are checked through real processes, both `python -m` and the
installed console script, for the three outcomes; the many ways a file can be unusable are
checked in-process (faster), and fuzzed: whatever the files hold, the exit code is 0, 1 or
2 and no traceback is ever shown.
"""

import base64
import contextlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.bundle_format import CHECK_NAMES
from crypto.verify_cli import main
from tests.crypto.test_bundle import JSON_VALUES, World, build_world, rewritten_log

FUZZ = settings(max_examples=100, deadline=None, database=None)
ROOT = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT_SECONDS = 60
ALL_CHECKS = [name for name in CHECK_NAMES if name != "log_consistency"]
VALID_LINES = [f"ok   {name}" for name in ALL_CHECKS] + ["valid"]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@dataclass(frozen=True)
class Files:
    """A bundle as a user downloads it: the bundle, the site's keys, an old checkpoint."""

    directory: Path
    bundle: Path
    keys: Path
    checkpoint: Path
    proof: Path


def _write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _proof_json(proof: Sequence[bytes]) -> dict[str, Any]:
    return {"first": 3, "second": 8, "proof": [base64.b64encode(h).decode() for h in proof]}


@pytest.fixture
def files(world: World, tmp_path: Path) -> Files:
    checkpoint = tmp_path / "old-checkpoint"
    checkpoint.write_bytes(world.log.checkpoint(3).encode("utf-8"))
    return Files(
        directory=tmp_path,
        bundle=_write_json(tmp_path / "bundle.json", world.corrected),
        # Not named statement-keys.json: the tests choose when the default applies.
        keys=_write_json(tmp_path / "keys.json", world.keys_document),
        checkpoint=checkpoint,
        proof=_write_json(tmp_path / "proof.json", _proof_json(world.log.consistency(3))),
    )


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def _run(*args: str | Path) -> Outcome:
    """Run main() in this process, capturing what it prints."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([str(arg) for arg in args])
    return Outcome(code, stdout.getvalue(), stderr.getvalue())


def _script() -> str:
    # The console script pyproject.toml declares, installed beside this interpreter.
    path = shutil.which("statement-verify", path=str(Path(sys.executable).parent))
    if path is None:
        pytest.fail(
            "statement-verify is not installed: run `.venv/bin/pip install -e .`", pytrace=False
        )
    return path


RUNNERS = {
    "module": lambda: [sys.executable, "-m", "crypto.verify_cli"],
    "script": lambda: [_script()],
}


def _run_process(runner: str, *args: str | Path) -> Outcome:
    result = subprocess.run(
        [*RUNNERS[runner](), *map(str, args)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    return Outcome(result.returncode, result.stdout, result.stderr)


def _assert_unreadable(outcome: Outcome, *fragments: str) -> None:
    assert outcome.code == 2, outcome
    assert outcome.stdout == ""
    assert "Traceback" not in outcome.stderr
    [line] = outcome.stderr.splitlines()
    assert line.startswith("statement-verify: error: ")
    for fragment in fragments:
        assert fragment in line


# The three outcomes, through real processes.


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_a_valid_bundle_exits_0(files: Files, runner: str) -> None:
    outcome = _run_process(runner, files.bundle, "--keys", files.keys)
    assert outcome.code == 0, outcome
    assert outcome.lines == VALID_LINES
    assert outcome.stderr == ""


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_a_tampered_bundle_exits_1_naming_the_check(
    world: World, files: Files, runner: str
) -> None:
    bundle = world.corrected
    bundle["statement"]["title"] = "Safe passage, amended"
    _write_json(files.bundle, bundle)
    outcome = _run_process(runner, files.bundle, "--keys", files.keys)
    assert outcome.code == 1, outcome
    assert outcome.lines[3].startswith("FAIL signature: ")
    assert outcome.lines[-1] == "invalid: signature"
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize("runner", sorted(RUNNERS))
def test_a_file_that_is_not_json_exits_2(files: Files, runner: str) -> None:
    files.bundle.write_text("{not json", encoding="utf-8")
    _assert_unreadable(
        _run_process(runner, files.bundle, "--keys", files.keys), str(files.bundle), "not JSON"
    )


# Output, keys and consistency, in-process.


def test_the_keys_file_next_to_the_bundle_is_used(files: Files) -> None:
    shutil.copy(files.keys, files.directory / "statement-keys.json")
    outcome = _run(files.bundle)
    assert outcome.code == 0
    assert outcome.lines == VALID_LINES


def test_without_keys_the_key_check_says_to_pass_them(files: Files) -> None:
    outcome = _run(files.bundle)
    assert outcome.code == 1
    assert outcome.lines[2].startswith("FAIL key: no keys file: pass --keys statement-keys.json")
    assert outcome.lines[-1] == "invalid: key"


def test_the_output_has_one_line_per_check(world: World, files: Files) -> None:
    bundle = world.corrected
    bundle["log"]["index"] = 6
    _write_json(files.bundle, bundle)
    outcome = _run(files.bundle, "--keys", files.keys)
    assert outcome.code == 1
    assert outcome.lines == [
        *VALID_LINES[:6],
        "FAIL log_inclusion: the statement is not entry 6 of the log at size 8",
        "invalid: log_inclusion",
    ]


def test_an_old_checkpoint_and_proof_pass(files: Files) -> None:
    outcome = _run(
        files.bundle,
        "--keys",
        files.keys,
        "--checkpoint",
        files.checkpoint,
        "--consistency-proof",
        files.proof,
    )
    assert outcome.code == 0, outcome
    assert outcome.lines == [*VALID_LINES[:-1], "ok   log_consistency", "valid"]


def test_a_bare_list_proof_is_accepted(world: World, files: Files) -> None:
    _write_json(files.proof, _proof_json(world.log.consistency(3))["proof"])
    args = ["--checkpoint", files.checkpoint, "--consistency-proof", files.proof]
    assert _run(files.bundle, "--keys", files.keys, *args).code == 0


def test_a_checkpoint_of_the_same_size_needs_no_proof(world: World, files: Files) -> None:
    files.checkpoint.write_text(world.log.checkpoint(), encoding="utf-8", newline="")
    outcome = _run(files.bundle, "--keys", files.keys, "--checkpoint", files.checkpoint)
    assert outcome.code == 0, outcome


def test_a_log_rewritten_behind_the_checkpoint_exits_1(world: World, files: Files) -> None:
    # The log republished without entry 1, by its own key.
    rewritten = rewritten_log(world, lambda index: index != 1, None)
    _write_json(files.bundle, rewritten.bundles[-1])
    _write_json(files.proof, _proof_json(rewritten.consistency(3)))
    outcome = _run(
        files.bundle,
        "--keys",
        files.keys,
        "--checkpoint",
        files.checkpoint,
        "--consistency-proof",
        files.proof,
    )
    assert outcome.code == 1
    assert outcome.lines[-2].startswith("FAIL log_consistency: ")
    assert outcome.lines[-1] == "invalid: log_consistency"


# Unusable input: exit 2, one line on stderr, never a traceback.


def test_a_missing_bundle_exits_2(files: Files) -> None:
    missing = files.directory / "nowhere.json"
    _assert_unreadable(_run(missing, "--keys", files.keys), str(missing), "cannot read")


def test_a_directory_for_a_bundle_exits_2(files: Files) -> None:
    _assert_unreadable(_run(files.directory, "--keys", files.keys), "cannot read")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(b"", "not JSON", id="empty"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="not-utf-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not JSON", id="nested-too-deep"),
        pytest.param(b"1" * 5000, "not JSON", id="integer-too-long"),
        pytest.param(b'{"format": NaN}', "not JSON", id="nan"),
        pytest.param(b'{"format": 1, "format": 2}', "appears twice", id="duplicate-field"),
        pytest.param(b"[]", "malformed", id="array"),
        pytest.param(b"{}", "malformed", id="empty-object"),
    ],
)
def test_unreadable_bundles_exit_2(files: Files, content: bytes, fragment: str) -> None:
    files.bundle.write_bytes(content)
    _assert_unreadable(_run(files.bundle, "--keys", files.keys), str(files.bundle), fragment)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("statement", "version"), "2", id="version-string"),
        pytest.param(("statement", "published_on"), "June 1st", id="date"),
        pytest.param(("signature", "value"), 42, id="signature-number"),
        pytest.param(("log", "inclusion_proof"), None, id="proof-null"),
        pytest.param(("log", "checkpoint"), ["text"], id="checkpoint-list"),
    ],
)
def test_wrong_types_exit_2(
    world: World, files: Files, path: tuple[str, str], value: object
) -> None:
    bundle = world.corrected
    bundle[path[0]][path[1]] = value
    _write_json(files.bundle, bundle)
    _assert_unreadable(_run(files.bundle, "--keys", files.keys), "malformed", path[1])


def test_a_malformed_keys_file_exits_2(files: Files) -> None:
    _write_json(files.keys, {"keys": [{"key_id": "x"}]})
    _assert_unreadable(_run(files.bundle, "--keys", files.keys), str(files.keys), "malformed")


def test_a_malformed_keys_file_next_to_the_bundle_exits_2(files: Files) -> None:
    (files.directory / "statement-keys.json").write_text("[]", encoding="utf-8")
    _assert_unreadable(_run(files.bundle), "statement-keys.json", "malformed")


def test_a_missing_keys_file_exits_2(files: Files) -> None:
    _assert_unreadable(_run(files.bundle, "--keys", files.directory / "nope.json"), "nope.json")


def test_a_missing_checkpoint_file_exits_2(files: Files) -> None:
    missing = files.directory / "nope"
    _assert_unreadable(
        _run(files.bundle, "--keys", files.keys, "--checkpoint", missing), str(missing)
    )


def test_a_malformed_proof_exits_2(files: Files) -> None:
    _write_json(files.proof, {"proof": ["not base64"]})
    args = ["--checkpoint", files.checkpoint, "--consistency-proof", files.proof]
    _assert_unreadable(_run(files.bundle, "--keys", files.keys, *args), str(files.proof))


def test_a_proof_without_a_checkpoint_is_a_usage_error(
    files: Files, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(files.bundle), "--consistency-proof", str(files.proof)])
    assert exit_info.value.code == 2
    assert "--consistency-proof needs --checkpoint" in capsys.readouterr().err


def test_untrusted_text_is_escaped_in_the_output(world: World, files: Files) -> None:
    bundle = world.corrected
    bundle["format"] = "\x1b[2J\nvalid"
    _write_json(files.bundle, bundle)
    outcome = _run(files.bundle, "--keys", files.keys)
    assert outcome.code == 1
    assert "\x1b" not in outcome.stdout
    assert outcome.lines[0].startswith("FAIL format: format is '\\x1b[2J\\nvalid'")
    assert outcome.lines[-1] == "invalid: format"


# Fuzzing: whatever the files hold, 0, 1 or 2 and no traceback.


@pytest.fixture(scope="module")
def fuzz_files(world: World, tmp_path_factory: pytest.TempPathFactory) -> Files:
    # Module-scoped, as hypothesis runs many examples per test function; each example
    # rewrites the one file it fuzzes and the test puts it back.
    directory = tmp_path_factory.mktemp("fuzz")
    checkpoint = directory / "old-checkpoint"
    checkpoint.write_bytes(world.log.checkpoint(3).encode("utf-8"))
    return Files(
        directory=directory,
        bundle=_write_json(directory / "bundle.json", world.corrected),
        keys=_write_json(directory / "keys.json", world.keys_document),
        checkpoint=checkpoint,
        proof=_write_json(directory / "proof.json", _proof_json(world.log.consistency(3))),
    )


def _full_run(files: Files) -> Outcome:
    outcome = _run(
        files.bundle,
        "--keys",
        files.keys,
        "--checkpoint",
        files.checkpoint,
        "--consistency-proof",
        files.proof,
    )
    assert outcome.code in (0, 1, 2)
    assert "Traceback" not in outcome.stderr
    if outcome.code == 2:
        assert len(outcome.stderr.splitlines()) == 1
    elif outcome.code == 1:
        assert outcome.lines[-1].removeprefix("invalid: ") in CHECK_NAMES
    else:
        assert outcome.lines[-1] == "valid"
    return outcome


def test_the_fuzzed_files_start_valid(fuzz_files: Files) -> None:
    assert _full_run(fuzz_files).code == 0


@FUZZ
@given(which=st.sampled_from(["bundle", "keys", "checkpoint", "proof"]), data=st.data())
def test_fuzz_byte_flips_in_any_file(fuzz_files: Files, which: str, data: Any) -> None:
    path: Path = getattr(fuzz_files, which)
    original = path.read_bytes()
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)),
            min_size=1,
            max_size=4,
        )
    )
    flipped = bytearray(original)
    for position, mask in flips:
        flipped[position] ^= mask
    try:
        path.write_bytes(bytes(flipped))
        _full_run(fuzz_files)
    finally:
        path.write_bytes(original)


@FUZZ
@given(which=st.sampled_from(["bundle", "keys", "proof"]), value=JSON_VALUES)
def test_fuzz_random_json_in_any_file(fuzz_files: Files, which: str, value: object) -> None:
    path: Path = getattr(fuzz_files, which)
    original = path.read_bytes()
    try:
        path.write_text(json.dumps(value), encoding="utf-8")
        outcome = _full_run(fuzz_files)
        assert outcome.code != 0
    finally:
        path.write_bytes(original)


# --text: which bundle's statement a forwarded copy is.


@pytest.fixture
def two_versions(world: World, tmp_path: Path) -> tuple[Path, Path, Path]:
    keys = _write_json(tmp_path / "statement-keys.json", world.keys_document)
    first = _write_json(tmp_path / "v1.json", world.first)
    second = _write_json(tmp_path / "v2.json", world.corrected)
    return first, second, keys


def _copy(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "copy.txt"
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def test_a_forwarded_copy_names_its_version(
    two_versions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    first, second, _keys = two_versions
    # As copied from the PDF: title, the text on two lines, the page number.
    copy = _copy(tmp_path, "Safe passage\nVersion 2\nWe call for safe\npassage, now.\nPage 1 of 1")
    outcome = _run(first, second, "--text", copy)
    assert outcome.code == 0, outcome
    assert f"text: the whole text of safe-passage version 2 ({second})" in outcome.lines
    assert "     before it: Safe passage Version 2" in outcome.lines
    assert "     after it: Page 1 of 1" in outcome.lines
    assert "version 1" not in outcome.stdout.split(f"{second}:")[-1]
    assert outcome.lines[-1] == "valid"

    outcome = _run(first, "--text", _copy(tmp_path, "We call for safe passage.\n"))
    assert outcome.code == 0, outcome
    assert "text: identical, character for character, to the signed text" in outcome.lines


def test_an_altered_copy_is_invalid_and_shows_the_closest_with_its_changes(
    two_versions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    first, second, _keys = two_versions
    copy = _copy(tmp_path, "We call for unsafe passage, now.")
    outcome = _run(first, second, "--text", copy)
    assert outcome.code == 1, outcome
    assert "text: matches no bundle's statement (a passage needs" in outcome.stdout
    assert any(line.startswith("text: closest is safe-passage version 2") for line in outcome.lines)
    assert outcome.lines[-4:-1] == ["       ...We call for", "     - safe", "     + unsafe"]
    assert outcome.lines[-1] == "invalid: text"

    outcome = _run(second, "--text", _copy(tmp_path, "passage"))
    assert outcome.code == 1  # a word is in too many texts to be a passage of one


def test_text_options_refuse_what_they_cannot_use(
    two_versions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    first, second, _keys = two_versions
    with pytest.raises(SystemExit) as exited:
        _run(first, second)  # several bundles: compared with what?
    assert exited.value.code == 2
    _assert_unreadable(_run(first, "--text", _copy(tmp_path, b"\xff\xfe bad")), "not UTF-8")
    _assert_unreadable(_run(first, "--text", tmp_path / "missing.txt"), "cannot read")


def test_text_through_a_real_process(two_versions: tuple[Path, Path, Path], tmp_path: Path) -> None:
    first, second, _keys = two_versions
    copy = _copy(tmp_path, "We call for safe passage, now.")
    outcome = _run_process("module", first, second, "--text", copy)
    assert outcome.code == 0, outcome
    assert outcome.lines[-1] == "valid"
