"""statement-verify: what `make mutate` found untested in its output and error lines.

The verifier is how the public checks a statement offline; its lines must stay one per
check whatever a file holds, readable on any terminal, and say what is wrong.
"""

import io
import json
from pathlib import Path

import pytest

from crypto.verify_cli import _write
from tests.crypto.test_bundle import World, build_world
from tests.crypto.test_verify_cli import _run, _write_json


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture
def bundle(world: World, tmp_path: Path) -> Path:
    return _write_json(tmp_path / "bundle.json", world.corrected)


def _error_line(*args: str | Path) -> str:
    outcome = _run(*args)
    assert outcome.code == 2, outcome
    [line] = outcome.stderr.splitlines()
    return line


def test_without_keys_only_the_key_check_says_to_pass_them(world: World, bundle: Path) -> None:
    tampered = world.corrected
    tampered["statement"]["title"] = "Safe passage, amended"
    _write_json(bundle, tampered)
    outcome = _run(bundle)
    assert outcome.code == 1
    failures = [line for line in outcome.lines if line.startswith("FAIL ")]
    assert failures[0].startswith("FAIL key: no keys file")
    assert failures[1].startswith("FAIL signature: ")
    assert not [line for line in failures[1:] if "no keys file" in line]


def test_an_ascii_terminal_gets_escapes_not_a_traceback() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    _write(stream, "FAIL format: خطاب\nvalid")
    stream.flush()
    assert raw.getvalue() == b"FAIL format: \\u062e\\u0637\\u0627\\u0628 valid\n"


def test_a_stream_without_an_encoding_is_written_as_utf_8() -> None:
    class Bare:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> int:
            self.parts.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    stream = Bare()
    _write(stream, "ok   خطاب")  # type: ignore[arg-type]
    assert "".join(stream.parts) == "ok   خطاب\n"


def test_a_file_name_with_a_newline_stays_on_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "a\nvalid.json"
    line = _error_line(missing)
    assert line == f"statement-verify: error: {tmp_path}/a valid.json: cannot read: " + (
        "No such file or directory"
    )


def test_not_json_says_why(bundle: Path) -> None:
    bundle.write_text("{not json", encoding="utf-8")
    assert _error_line(bundle).endswith(
        "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )


def test_too_deep_says_so(bundle: Path) -> None:
    bundle.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert _error_line(bundle).endswith("bundle.json: not JSON: nested too deeply")


def test_nan_is_named(bundle: Path) -> None:
    bundle.write_bytes(b'{"format": NaN}')
    assert _error_line(bundle).endswith("not JSON: NaN is not a JSON value")


def test_a_duplicate_field_is_named(bundle: Path) -> None:
    bundle.write_text(json.dumps({"x": 1})[:-1] + ', "format": 1, "format": 2}', encoding="utf-8")
    assert _error_line(bundle).endswith("malformed: field 'format' appears twice")
