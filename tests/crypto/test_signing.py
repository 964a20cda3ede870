"""Tests for Ed25519 signing: raw, minisign files and C2SP signed notes and checkpoints.

Every format is checked three ways: round trips and tampering here; known answers
recomputed straight from `cryptography`, `hashlib` and `base64` (plus the RFC 8032 and
golang.org/x/mod/sumdb/note test vectors, which come from other implementations); and,
for minisign, the real `minisign` tool in both directions. If a pinned vector fails, a
published signature somewhere has stopped verifying: change the format on purpose, never
the hex.
"""

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import signing
from crypto.signing import (
    SigningKey,
    checkpoint_body,
    generate_signing_key,
    key_id,
    minisign_public_key,
    minisign_signature,
    note_key_id,
    note_verifier_key,
    open_note,
    parse_checkpoint,
    sign,
    sign_note,
    verify,
    verify_minisign,
)

FAST = settings(max_examples=50, deadline=None, database=None)
MINISIGN_TIMEOUT_SECONDS = 30

# RFC 8032 section 7.1, TEST 1 and TEST 2.
RFC8032_PRIVATE = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
RFC8032_PRIVATE_2 = bytes.fromhex(
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
)
RFC8032_PUBLIC_2 = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
RFC8032_SIGNATURE_2 = bytes.fromhex(
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
)

MESSAGE = b"We call for safe passage.\n"
TRUSTED = "statement:1\tversion:2"
LOG = "example.org/joint-statements/log"
ROOT = bytes(range(32))


def _flip(data: bytes, index: int) -> bytes:
    """Flip the lowest bit of one byte."""
    return data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :]


def _flip_char(text: str, index: int) -> str:
    """Replace one base64 character by another valid one."""
    replacement = "B" if text[index] == "A" else "A"
    return text[:index] + replacement + text[index + 1 :]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key()


# raw Ed25519


def test_sign_matches_rfc8032_vectors() -> None:
    assert sign(RFC8032_PRIVATE, b"") == RFC8032_SIGNATURE
    assert verify(RFC8032_PUBLIC, b"", RFC8032_SIGNATURE)
    assert sign(RFC8032_PRIVATE_2, b"\x72") == RFC8032_SIGNATURE_2
    assert verify(RFC8032_PUBLIC_2, b"\x72", RFC8032_SIGNATURE_2)
    assert signing._public_key_of(RFC8032_PRIVATE) == RFC8032_PUBLIC


def test_generate_signing_key_gives_a_working_raw_pair(key: SigningKey) -> None:
    assert len(key.private_key) == 32
    assert len(key.public_key) == 32
    assert signing._public_key_of(key.private_key) == key.public_key
    assert generate_signing_key().private_key != key.private_key
    signature = sign(key.private_key, MESSAGE)
    assert len(signature) == 64
    assert verify(key.public_key, MESSAGE, signature)


def test_signing_key_repr_hides_the_private_key(key: SigningKey) -> None:
    assert key.private_key.hex() not in repr(key)
    assert str(key.private_key) not in repr(key)
    assert "public_key" in repr(key)


def test_verify_rejects_tampering(key: SigningKey) -> None:
    signature = sign(key.private_key, MESSAGE)
    for index in (0, len(MESSAGE) - 1):
        assert not verify(key.public_key, _flip(MESSAGE, index), signature)
    for index in (0, 31, 32, 63):
        assert not verify(key.public_key, MESSAGE, _flip(signature, index))
    for index in (0, 31):
        assert not verify(_flip(key.public_key, index), MESSAGE, signature)
    assert not verify(generate_signing_key().public_key, MESSAGE, signature)


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        (b"", RFC8032_SIGNATURE),
        (RFC8032_PUBLIC[:31], RFC8032_SIGNATURE),
        (RFC8032_PUBLIC + b"\x00", RFC8032_SIGNATURE),
        (RFC8032_PUBLIC, b""),
        (RFC8032_PUBLIC, RFC8032_SIGNATURE[:63]),
        (RFC8032_PUBLIC, RFC8032_SIGNATURE + b"\x00"),
        (RFC8032_PUBLIC, bytes(64)),
        (bytes(32), bytes(64)),  # not a point in canonical form
        (b"\x01" + bytes(31), bytes(64)),  # the identity: a low-order point
        (b"\xff" * 32, RFC8032_SIGNATURE),
    ],
)
def test_verify_is_false_for_malformed_input(public_key: bytes, signature: bytes) -> None:
    assert verify(public_key, b"", signature) is False


def test_verify_is_false_for_values_of_the_wrong_type() -> None:
    assert verify(None, b"", RFC8032_SIGNATURE) is False  # type: ignore[arg-type]
    assert verify(RFC8032_PUBLIC, "", RFC8032_SIGNATURE) is False  # type: ignore[arg-type]
    assert verify(RFC8032_PUBLIC, b"", None) is False  # type: ignore[arg-type]


@FAST
@given(st.binary(max_size=40), st.binary(max_size=70), st.binary(max_size=16))
def test_verify_never_raises(public_key: bytes, signature: bytes, message: bytes) -> None:
    assert verify(public_key, message, signature) in (True, False)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_sign_rejects_wrong_private_key_length(length: int) -> None:
    with pytest.raises(ValueError, match="private_key must be 32 bytes"):
        sign(bytes(length), MESSAGE)


# the project's own key id


def test_key_id_is_a_labelled_sha256_prefix() -> None:
    expected = hashlib.sha256(b"statements/key-id/v1" + RFC8032_PUBLIC).hexdigest()[:16]
    assert key_id(RFC8032_PUBLIC) == expected == "475f42d82e7728db"
    assert key_id(RFC8032_PUBLIC_2) != expected


@pytest.mark.parametrize("length", [0, 31, 33])
def test_key_id_rejects_wrong_public_key_length(length: int) -> None:
    with pytest.raises(ValueError, match="public_key must be 32 bytes"):
        key_id(bytes(length))


# minisign

MINISIGN_PUBLIC = "RWSAGfZg9fv9QddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
MINISIGN_VECTOR = (
    "untrusted comment: signature from the joint-statements platform\n"
    "RUSAGfZg9fv9QepyumAVRln/2/3LxgOncjTobAktyheTnI2m2w8x26ZcR9EtKJw+KiBH1PoOC8JEKg8bJGxs8lU8"
    "bed+cwC6nwU=\n"
    "trusted comment: statement:1\tversion:2\n"
    "hh5YmUOEjpQpTD3CfnLI5yPB+9oJU03csUhgwsoql0E32fUVq9jS+ydwhl7Ix5y8HkgJ0o69NFW3RngtQOdoDw==\n"
)


def test_minisign_public_key_vector() -> None:
    assert minisign_public_key(RFC8032_PUBLIC) == MINISIGN_PUBLIC
    keynum = hashlib.blake2b(RFC8032_PUBLIC, digest_size=64).digest()[:8]
    assert base64.b64decode(MINISIGN_PUBLIC) == b"Ed" + keynum + RFC8032_PUBLIC


def test_minisign_signature_vector() -> None:
    text = minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC, MESSAGE, TRUSTED)
    assert text == MINISIGN_VECTOR
    assert verify_minisign(MINISIGN_PUBLIC, MESSAGE, MINISIGN_VECTOR)


def test_minisign_signature_vector_from_primitives() -> None:
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE)
    keynum = hashlib.blake2b(RFC8032_PUBLIC).digest()[:8]
    signature = private.sign(hashlib.blake2b(MESSAGE).digest())
    global_signature = private.sign(signature + TRUSTED.encode())
    by_hand = (
        "untrusted comment: signature from the joint-statements platform\n"
        + base64.b64encode(b"ED" + keynum + signature).decode()
        + "\ntrusted comment: "
        + TRUSTED
        + "\n"
        + base64.b64encode(global_signature).decode()
        + "\n"
    )
    assert by_hand == MINISIGN_VECTOR


def test_minisign_round_trip_with_unicode_comments(key: SigningKey) -> None:
    public = minisign_public_key(key.public_key)
    trusted = "déclaration commune — 2024\tversion:3"
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, trusted, "à vérifier")
    assert text.endswith("\n")
    assert text.splitlines()[2] == f"trusted comment: {trusted}"
    assert verify_minisign(public, MESSAGE, text)
    assert verify_minisign(
        public, b"", minisign_signature(key.private_key, key.public_key, b"", "")
    )


def test_verify_minisign_rejects_tampering(key: SigningKey) -> None:
    public = minisign_public_key(key.public_key)
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, TRUSTED)
    _, signature_line, _, global_line = text.splitlines()
    assert not verify_minisign(public, _flip(MESSAGE, 0), text)
    assert not verify_minisign(public, MESSAGE + b"\n", text)
    for index in (0, 2, 9, 10, 73):  # algorithm, key id, signature
        raw = base64.b64encode(_flip(base64.b64decode(signature_line), index)).decode()
        assert not verify_minisign(public, MESSAGE, text.replace(signature_line, raw))
    for index in (0, 63):
        raw = base64.b64encode(_flip(base64.b64decode(global_line), index)).decode()
        assert not verify_minisign(public, MESSAGE, text.replace(global_line, raw))
    assert not verify_minisign(public, MESSAGE, text.replace(TRUSTED, TRUSTED + " "))
    assert not verify_minisign(public, MESSAGE, text.replace("version:2", "version:3"))
    other = minisign_public_key(generate_signing_key().public_key)
    assert not verify_minisign(other, MESSAGE, text)
    for index in (0, 2, 9, 10, 41):  # algorithm, key id, key
        raw = base64.b64encode(_flip(base64.b64decode(public), index)).decode()
        assert not verify_minisign(raw, MESSAGE, text)


def test_verify_minisign_ignores_the_untrusted_comment(key: SigningKey) -> None:
    # That is what "untrusted" means in the format: anyone may edit it.
    public = minisign_public_key(key.public_key)
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, TRUSTED, "original")
    assert verify_minisign(public, MESSAGE, text.replace("original", "edited by a mirror"))


def test_verify_minisign_reads_crlf_and_a_missing_final_newline(key: SigningKey) -> None:
    public = minisign_public_key(key.public_key)
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, TRUSTED)
    assert verify_minisign(public, MESSAGE, text.replace("\n", "\r\n"))
    assert verify_minisign(public, MESSAGE, text.removesuffix("\n"))


def test_verify_minisign_rejects_the_legacy_unhashed_form() -> None:
    # Same key, same key id, but "Ed" (Ed25519 over the whole file) instead of "ED".
    private = Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE)
    keynum = hashlib.blake2b(RFC8032_PUBLIC).digest()[:8]
    signature = private.sign(MESSAGE)
    legacy = (
        "untrusted comment: legacy\n"
        + base64.b64encode(b"Ed" + keynum + signature).decode()
        + "\ntrusted comment: t\n"
        + base64.b64encode(private.sign(signature + b"t")).decode()
        + "\n"
    )
    assert not verify_minisign(MINISIGN_PUBLIC, MESSAGE, legacy)


def _malformed_minisign() -> list[str]:
    lines = MINISIGN_VECTOR.splitlines()
    return [
        "",
        "\n",
        "\n\n\n\n",
        MINISIGN_VECTOR + "extra line\n",
        MINISIGN_VECTOR + "\n",
        "\n".join(lines[:3]) + "\n",
        "\n".join(lines[1:]) + "\n",
        MINISIGN_VECTOR.replace("untrusted comment: ", "comment: "),
        MINISIGN_VECTOR.replace("trusted comment: statement", "trusted: statement"),
        MINISIGN_VECTOR.replace("version:2", "version:\r2"),
        MINISIGN_VECTOR.replace("version:2", "version:\x002"),
        MINISIGN_VECTOR.replace("version:2", "version:2\ud800"),
        MINISIGN_VECTOR.replace(lines[1], lines[1][:-4]),
        MINISIGN_VECTOR.replace(lines[1], lines[1] + "===="),
        MINISIGN_VECTOR.replace(lines[1], " " + lines[1]),
        MINISIGN_VECTOR.replace(lines[1], lines[1].replace("+", "-")),
        MINISIGN_VECTOR.replace(lines[3], lines[3][:-4]),
        MINISIGN_VECTOR.replace(lines[3], lines[3][:-3] + "Q=="),  # non-canonical padding
        MINISIGN_VECTOR.replace(lines[3], "é" * 88),
    ]


@pytest.mark.parametrize("text", _malformed_minisign())
def test_verify_minisign_is_false_for_malformed_signatures(text: str) -> None:
    assert verify_minisign(MINISIGN_PUBLIC, MESSAGE, text) is False


@pytest.mark.parametrize(
    "public",
    [
        "",
        MINISIGN_PUBLIC[:-4],
        MINISIGN_PUBLIC + "AAAA",
        " " + MINISIGN_PUBLIC,
        MINISIGN_PUBLIC + "\n",
        "untrusted comment: minisign public key\n" + MINISIGN_PUBLIC,
        "RU" + MINISIGN_PUBLIC[2:],  # "ED" is a signature algorithm, not a key algorithm
        "é" * 56,
    ],
)
def test_verify_minisign_is_false_for_malformed_public_keys(public: str) -> None:
    assert verify_minisign(public, MESSAGE, MINISIGN_VECTOR) is False


def test_verify_minisign_is_false_for_values_of_the_wrong_type() -> None:
    assert not verify_minisign(None, MESSAGE, MINISIGN_VECTOR)  # type: ignore[arg-type]
    assert not verify_minisign(MINISIGN_PUBLIC, "text", MINISIGN_VECTOR)  # type: ignore[arg-type]
    assert not verify_minisign(MINISIGN_PUBLIC, MESSAGE, MINISIGN_VECTOR.encode())  # type: ignore[arg-type]


@FAST
@given(st.text(max_size=300), st.text(max_size=60))
def test_verify_minisign_never_raises(text: str, public: str) -> None:
    assert verify_minisign(public, MESSAGE, text) in (True, False)
    assert verify_minisign(MINISIGN_PUBLIC, MESSAGE, text) in (True, False)


@pytest.mark.parametrize("bad", ["two\nlines", "carriage\rreturn", "nul\x00byte", "\ud800"])
def test_minisign_signature_rejects_bad_comments(bad: str) -> None:
    with pytest.raises(ValueError, match="trusted_comment"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC, MESSAGE, bad)
    with pytest.raises(ValueError, match="untrusted_comment"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC, MESSAGE, TRUSTED, bad)


def test_minisign_signature_rejects_comments_the_tool_cannot_read() -> None:
    with pytest.raises(ValueError, match="trusted_comment must be at most 8173 bytes"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC, MESSAGE, "x" * 8174)
    with pytest.raises(ValueError, match="untrusted_comment must be at most 1003 bytes"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC, MESSAGE, "", "x" * 1004)
    # The limit is in bytes: "é" is two of them in UTF-8.
    with pytest.raises(ValueError, match="trusted_comment"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC, MESSAGE, "é" * 4087)


def test_minisign_signature_rejects_a_mismatched_key_pair() -> None:
    with pytest.raises(ValueError, match="not the public key of private_key"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC_2, MESSAGE, TRUSTED)
    with pytest.raises(ValueError, match="public_key must be 32 bytes"):
        minisign_signature(RFC8032_PRIVATE, RFC8032_PUBLIC[:31], MESSAGE, TRUSTED)
    with pytest.raises(ValueError, match="private_key must be 32 bytes"):
        minisign_signature(RFC8032_PRIVATE[:31], RFC8032_PUBLIC, MESSAGE, TRUSTED)


def test_minisign_public_key_rejects_wrong_length() -> None:
    with pytest.raises(ValueError, match="public_key must be 32 bytes"):
        minisign_public_key(RFC8032_PUBLIC + b"\x00")


# minisign, the real tool (the minisign_tool fixture is in conftest.py).


def _run(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # stdin closed, so a password prompt fails at once instead of hanging the suite.
    return subprocess.run(
        [tool, *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MINISIGN_TIMEOUT_SECONDS,
        check=False,
    )


def _write_signed(directory: Path, message: bytes, signature_text: str) -> Path:
    # `minisign -V -m message` looks for message.minisig next to it.
    path = directory / "message"
    path.write_bytes(message)
    (directory / "message.minisig").write_text(signature_text, encoding="utf-8", newline="")
    return path


def _tool_verifies(tool: str, path: Path, public: str) -> subprocess.CompletedProcess[str]:
    return _run(tool, "-V", "-m", path.name, "-P", public, cwd=path.parent)


def test_minisign_tool_verifies_our_signature(
    minisign_tool: str, key: SigningKey, tmp_path: Path
) -> None:
    trusted = "statement:42\tdéclaration — version:3"
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, trusted)
    path = _write_signed(tmp_path, MESSAGE, text)
    result = _tool_verifies(minisign_tool, path, minisign_public_key(key.public_key))
    assert result.returncode == 0, result.stderr
    assert "Signature and comment signature verified" in result.stdout
    assert f"Trusted comment: {trusted}" in result.stdout


def test_minisign_tool_verifies_the_pinned_vector(minisign_tool: str, tmp_path: Path) -> None:
    path = _write_signed(tmp_path, MESSAGE, MINISIGN_VECTOR)
    result = _tool_verifies(minisign_tool, path, MINISIGN_PUBLIC)
    assert result.returncode == 0, result.stderr
    assert "Signature and comment signature verified" in result.stdout


def test_verify_minisign_applies_the_tools_line_limits(key: SigningKey) -> None:
    public = minisign_public_key(key.public_key)
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, "t" * 8173, "u" * 1003)
    assert verify_minisign(public, MESSAGE, text)
    assert not verify_minisign(public, MESSAGE, text.replace("\n", "\r\n"))
    # One byte more and the tool would read the line in two pieces; so must we refuse it.
    longer = text.replace("u" * 1003, "u" * 1004)
    assert not verify_minisign(public, MESSAGE, longer)
    private = Ed25519PrivateKey.from_private_bytes(key.private_key)
    signature = base64.b64decode(text.split("\n")[1])[10:]
    global_line = base64.b64encode(private.sign(signature + b"t" * 8174)).decode()
    lines = text.split("\n")
    lines[2], lines[3] = "trusted comment: " + "t" * 8174, global_line
    assert not verify_minisign(public, MESSAGE, "\n".join(lines))


def test_minisign_tool_reads_comments_at_our_length_limits(
    minisign_tool: str, key: SigningKey, tmp_path: Path
) -> None:
    trusted, untrusted = "t" * 8173, "u" * 1003
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, trusted, untrusted)
    path = _write_signed(tmp_path, MESSAGE, text)
    result = _tool_verifies(minisign_tool, path, minisign_public_key(key.public_key))
    assert result.returncode == 0, result.stderr
    assert "Signature and comment signature verified" in result.stdout


def test_minisign_tool_rejects_a_tampered_file(
    minisign_tool: str, key: SigningKey, tmp_path: Path
) -> None:
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, TRUSTED)
    path = _write_signed(tmp_path, _flip(MESSAGE, 0), text)
    result = _tool_verifies(minisign_tool, path, minisign_public_key(key.public_key))
    assert result.returncode != 0
    assert "Signature and comment signature verified" not in result.stdout


def test_minisign_tool_rejects_a_tampered_trusted_comment(
    minisign_tool: str, key: SigningKey, tmp_path: Path
) -> None:
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, TRUSTED)
    path = _write_signed(tmp_path, MESSAGE, text.replace("version:2", "version:3"))
    result = _tool_verifies(minisign_tool, path, minisign_public_key(key.public_key))
    assert result.returncode != 0
    assert "Comment signature verification failed" in result.stderr


def test_minisign_tool_rejects_another_key(
    minisign_tool: str, key: SigningKey, tmp_path: Path
) -> None:
    text = minisign_signature(key.private_key, key.public_key, MESSAGE, TRUSTED)
    path = _write_signed(tmp_path, MESSAGE, text)
    other = minisign_public_key(generate_signing_key().public_key)
    assert _tool_verifies(minisign_tool, path, other).returncode != 0


def test_verify_minisign_accepts_the_tools_signature(minisign_tool: str, tmp_path: Path) -> None:
    generated = _run(minisign_tool, "-G", "-W", "-p", "pub", "-s", "sec", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    public = (tmp_path / "pub").read_text(encoding="utf-8").split("\n")[1]
    path = tmp_path / "message"
    path.write_bytes(MESSAGE)
    trusted = "signed by the minisign tool"
    signed = _run(minisign_tool, "-S", "-s", "sec", "-m", "message", "-t", trusted, cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    text = (tmp_path / "message.minisig").read_text(encoding="utf-8")
    # minisign 0.11 prehashes by default; this is the "ED" form we implement.
    assert base64.b64decode(text.split("\n")[1])[:2] == b"ED"
    assert text.split("\n")[2] == f"trusted comment: {trusted}"
    assert verify_minisign(public, MESSAGE, text)
    assert not verify_minisign(public, _flip(MESSAGE, 0), text)
    assert not verify_minisign(public, MESSAGE, text.replace(trusted, trusted + "!"))
    assert not verify_minisign(MINISIGN_PUBLIC, MESSAGE, text)


# C2SP signed notes: the test vectors of golang.org/x/mod/sumdb/note (note_test.go)

PETER_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VERIFIER_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)


def _peter() -> tuple[bytes, bytes]:
    # The Go signer key is "PRIVATE+KEY+<name>+<key ID>+base64(0x01 || Ed25519 seed)".
    encoded = base64.b64decode(PETER_SIGNER_KEY.split("+", 4)[4])
    assert encoded[0] == 1
    seed = encoded[1:]
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return seed, public


def test_note_matches_the_go_reference_vectors() -> None:
    seed, public = _peter()
    assert note_key_id("PeterNeumann", public) == bytes.fromhex("c74f20a3")
    assert note_verifier_key("PeterNeumann", public) == PETER_VERIFIER_KEY
    assert sign_note(GO_TEXT, "PeterNeumann", seed, public) == GO_TEXT + "\n" + PETER_SIG
    assert open_note(GO_TEXT + "\n" + PETER_SIG, PETER_VERIFIER_KEY) == GO_TEXT


def test_open_note_ignores_signatures_from_other_keys() -> None:
    both = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(both, PETER_VERIFIER_KEY) == GO_TEXT
    assert open_note(both, ENOCH_VERIFIER_KEY) == GO_TEXT
    assert open_note(GO_TEXT + "\n" + ENOCH_SIG, PETER_VERIFIER_KEY) is None
    # Same name, other key ID; and same key ID, other name: both are someone else's key.
    assert (
        open_note(
            GO_TEXT + "\n" + ENOCH_SIG.replace("EnochRoot", "PeterNeumann"), PETER_VERIFIER_KEY
        )
        is None
    )
    assert (
        open_note(GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter"), PETER_VERIFIER_KEY)
        is None
    )


def test_open_note_rejects_the_note_if_a_known_key_signature_fails() -> None:
    # signed-note: a known key's failing signature SHOULD reject the whole note.
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    assert open_note(GO_TEXT + "\n" + bad, PETER_VERIFIER_KEY) is None
    assert open_note(GO_TEXT + "\n" + PETER_SIG + bad, PETER_VERIFIER_KEY) is None
    assert open_note(GO_TEXT + "\n" + PETER_SIG + PETER_SIG, PETER_VERIFIER_KEY) == GO_TEXT


def test_open_note_rejects_every_mangled_verifier_key() -> None:
    # As Go's TestNewVerifier: every proper substring and every one-character change fails.
    note = GO_TEXT + "\n" + PETER_SIG
    vkey = PETER_VERIFIER_KEY
    for start in range(len(vkey) + 1):
        for end in range(start + 1, len(vkey) + 1):
            if (start, end) != (0, len(vkey)):
                assert open_note(note, vkey[start:end]) is None, vkey[start:end]
    for index, char in enumerate(vkey):
        mangled = vkey[:index] + chr(ord(char) + 1) + vkey[index + 1 :]
        assert open_note(note, mangled) is None, mangled
    # A well-formed key whose key ID was recomputed but whose algorithm byte is unknown.
    assert (
        open_note(note, "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        is None
    )
    # Upper-case hex, as Go's ParseUint accepts, names the same key.
    assert open_note(note, vkey.replace("c74f20a3", "C74F20A3")) == GO_TEXT


@pytest.mark.parametrize(
    "text",
    [
        "",
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        "\udcff" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "- "),
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        GO_TEXT + "\n" + PETER_SIG.replace("x08go", "x08g"),
        GO_TEXT + "\n" + PETER_SIG.replace(" x08go", " "),
        GO_TEXT + "\n" + PETER_SIG.replace(" x08go", ""),
        GO_TEXT + "\n" + PETER_SIG.replace("\n", "\r\n"),
        GO_TEXT + "\n" + PETER_SIG + "\n",
        GO_TEXT + "\n" + "— PeterNeumann x08goA==\n",  # key ID only, no signature
        GO_TEXT + "\n" + PETER_SIG * 101,
        GO_TEXT.replace("\n", "\t", 1) + "\n" + PETER_SIG,
    ],
)
def test_open_note_is_none_for_malformed_notes(text: str) -> None:
    assert open_note(text, PETER_VERIFIER_KEY) is None


def test_open_note_accepts_up_to_a_hundred_signatures() -> None:
    assert open_note(GO_TEXT + "\n" + PETER_SIG * 100, PETER_VERIFIER_KEY) == GO_TEXT


def test_open_note_is_none_for_values_of_the_wrong_type() -> None:
    note = GO_TEXT + "\n" + PETER_SIG
    assert open_note(None, PETER_VERIFIER_KEY) is None  # type: ignore[arg-type]
    assert open_note(note.encode(), PETER_VERIFIER_KEY) is None  # type: ignore[arg-type]
    assert open_note(note, None) is None  # type: ignore[arg-type]


@FAST
@given(st.text(max_size=300), st.text(max_size=80))
def test_open_note_never_raises(text: str, vkey: str) -> None:
    assert open_note(text, vkey) is None
    assert open_note(GO_TEXT + "\n" + text, PETER_VERIFIER_KEY) in (None, GO_TEXT)


def test_note_key_id_is_computed_as_the_spec_says() -> None:
    for name, public in [(LOG, RFC8032_PUBLIC), ("PeterNeumann", _peter()[1])]:
        digest = hashlib.sha256(name.encode() + b"\x0a" + b"\x01" + public).digest()
        assert note_key_id(name, public) == digest[:4]
    assert note_key_id(LOG, RFC8032_PUBLIC) != note_key_id(LOG + "2", RFC8032_PUBLIC)


@pytest.mark.parametrize(
    "name", ["", "two words", "a+b", "tab\tname", "nbsp\u00a0name", "\u3000", "\ud800"]
)
def test_note_names_must_be_valid(name: str) -> None:
    with pytest.raises(ValueError, match="key name"):
        note_key_id(name, RFC8032_PUBLIC)
    with pytest.raises(ValueError, match="key name"):
        note_verifier_key(name, RFC8032_PUBLIC)
    with pytest.raises(ValueError, match="key name"):
        sign_note("text\n", name, RFC8032_PRIVATE, RFC8032_PUBLIC)


@pytest.mark.parametrize("body", ["", "no final newline", "bell\x07\n", "cr\r\n", "\udcff\n"])
def test_sign_note_rejects_bad_text(body: str) -> None:
    with pytest.raises(ValueError, match="note text"):
        sign_note(body, LOG, RFC8032_PRIVATE, RFC8032_PUBLIC)


def test_sign_note_rejects_a_mismatched_key_pair() -> None:
    with pytest.raises(ValueError, match="not the public key of private_key"):
        sign_note("text\n", LOG, RFC8032_PRIVATE, RFC8032_PUBLIC_2)


def test_note_round_trip_with_blank_lines_and_unicode(key: SigningKey) -> None:
    vkey = note_verifier_key("example.org/clé", key.public_key)
    for body in [
        "\n",
        "one\n\n\nthree\n",
        "déclaration — commune\n\n",
        "— looks like a signature\n",
    ]:
        note = sign_note(body, "example.org/clé", key.private_key, key.public_key)
        assert open_note(note, vkey) == body


# tlog checkpoints

CHECKPOINT_BODY = f"{LOG}\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
CHECKPOINT_VERIFIER_KEY = f"{LOG}+b10430ad+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
CHECKPOINT_VECTOR = (
    CHECKPOINT_BODY
    + "\n— example.org/joint-statements/log sQQwrVfO/G6c3ydMEdfuc7HDIF7E87FHm7ChKL1GGhZkjMRFz"
    "krvOUltuOv/RD3tT0dTDRLhDdBo0vRDY5Q9lF4RrQ4=\n"
)
# The example of c2sp.org/tlog-checkpoint.
SPEC_CHECKPOINT_BODY = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def test_checkpoint_vector() -> None:
    assert checkpoint_body(LOG, 3, ROOT) == CHECKPOINT_BODY
    assert note_verifier_key(LOG, RFC8032_PUBLIC) == CHECKPOINT_VERIFIER_KEY
    assert sign_note(CHECKPOINT_BODY, LOG, RFC8032_PRIVATE, RFC8032_PUBLIC) == CHECKPOINT_VECTOR
    assert open_note(CHECKPOINT_VECTOR, CHECKPOINT_VERIFIER_KEY) == CHECKPOINT_BODY
    assert parse_checkpoint(CHECKPOINT_BODY) == (LOG, 3, ROOT)


def test_checkpoint_vector_from_primitives() -> None:
    body = f"{LOG}\n3\n{base64.b64encode(ROOT).decode()}\n"
    assert body == CHECKPOINT_BODY
    key_id_bytes = hashlib.sha256(LOG.encode() + b"\n\x01" + RFC8032_PUBLIC).digest()[:4]
    signature = Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE).sign(body.encode())
    line = f"— {LOG} {base64.b64encode(key_id_bytes + signature).decode()}\n"
    assert body + "\n" + line == CHECKPOINT_VECTOR
    encoded_key = base64.b64encode(b"\x01" + RFC8032_PUBLIC).decode()
    vkey = f"{LOG}+{key_id_bytes.hex()}+{encoded_key}"
    assert vkey == CHECKPOINT_VERIFIER_KEY
    Ed25519PublicKey.from_public_bytes(RFC8032_PUBLIC).verify(signature, body.encode())


def test_parse_checkpoint_reads_the_spec_example() -> None:
    root = base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    parsed = parse_checkpoint(SPEC_CHECKPOINT_BODY)
    assert parsed == ("example.com/behind-the-sofa", 20852163, root)
    assert checkpoint_body(*parsed) == SPEC_CHECKPOINT_BODY


def test_parse_checkpoint_accepts_and_ignores_extension_lines() -> None:
    assert parse_checkpoint(CHECKPOINT_BODY + "ext one\next two\n") == (LOG, 3, ROOT)


def test_parse_checkpoint_accepts_any_non_empty_origin_and_the_extremes() -> None:
    # Clients MUST NOT assume the origin follows the recommended URL form.
    zero = base64.b64encode(bytes(32)).decode()
    assert parse_checkpoint(f"my log+1\n0\n{zero}\n") == ("my log+1", 0, bytes(32))
    big = f"{LOG}\n{2**64 - 1}\n{zero}\n"
    assert parse_checkpoint(big) == (LOG, 2**64 - 1, bytes(32))
    assert checkpoint_body(LOG, 2**64 - 1, bytes(32)) == big


@pytest.mark.parametrize(
    "body",
    [
        "",
        "\n",
        f"{LOG}\n",
        f"{LOG}\n3\n",
        CHECKPOINT_BODY[:-1],
        "\n" + CHECKPOINT_BODY.split("\n", 1)[1],
        CHECKPOINT_BODY.replace("\n3\n", "\n03\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n-3\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n+3\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n 3\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n3 \n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n1_0\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n\u0663\n"),  # ARABIC-INDIC DIGIT THREE
        CHECKPOINT_BODY.replace("\n3\n", "\n\u00b3\n"),  # SUPERSCRIPT THREE
        CHECKPOINT_BODY.replace("\n3\n", "\n0x3\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n\n"),
        CHECKPOINT_BODY.replace("\n3\n", f"\n{2**64}\n"),
        CHECKPOINT_BODY.replace("\n3\n", "\n" + "9" * 5000 + "\n"),
        CHECKPOINT_BODY.replace("Hh8=", "Hh8"),
        CHECKPOINT_BODY.replace("Hh8=", "Hh9="),  # non-canonical padding bits
        CHECKPOINT_BODY.replace("AAEC", "AAE"),
        CHECKPOINT_BODY.replace("AAECAwQF", ""),  # 26 bytes
        f"{LOG}\n3\n{base64.b64encode(bytes(33)).decode()}\n",
        f"{LOG}\n3\n{base64.b64encode(bytes(32)).decode()}\n\n",
        CHECKPOINT_BODY + "ext\n\n",
        CHECKPOINT_BODY.replace(LOG, LOG + "\r"),
        CHECKPOINT_BODY.replace(LOG, LOG + "\ud800"),
    ],
)
def test_parse_checkpoint_rejects_malformed_bodies(body: str) -> None:
    with pytest.raises(ValueError, match="malformed checkpoint"):
        parse_checkpoint(body)


@FAST
@given(st.text(max_size=120))
def test_parse_checkpoint_raises_nothing_but_value_error(body: str) -> None:
    try:
        _, size, root = parse_checkpoint(body)
    except ValueError as error:
        outcome = str(error)
    else:
        outcome = "parsed" if 0 <= size < 2**64 and len(root) == 32 else "wrong values"
    assert outcome == "parsed" or outcome.startswith("malformed checkpoint")


@pytest.mark.parametrize(
    ("origin", "size", "root", "match"),
    [
        ("", 1, ROOT, "key name"),
        ("two words", 1, ROOT, "key name"),
        ("a+b", 1, ROOT, "key name"),
        ("line\nbreak", 1, ROOT, "key name"),
        (LOG, -1, ROOT, "size"),
        (LOG, 2**64, ROOT, "size"),
        (LOG, True, ROOT, "size"),
        (LOG, 1.0, ROOT, "size"),
        (LOG, 1, ROOT[:31], "root_hash must be 32 bytes"),
        (LOG, 1, ROOT + b"\x00", "root_hash must be 32 bytes"),
    ],
)
def test_checkpoint_body_rejects_bad_input(origin: str, size: int, root: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        checkpoint_body(origin, size, root)


def test_signed_checkpoint_rejects_tampering(key: SigningKey) -> None:
    vkey = note_verifier_key(LOG, key.public_key)
    note = sign_note(checkpoint_body(LOG, 3, ROOT), LOG, key.private_key, key.public_key)
    body = open_note(note, vkey)
    assert body is not None
    assert parse_checkpoint(body) == (LOG, 3, ROOT)
    assert open_note(note.replace("\n3\n", "\n4\n", 1), vkey) is None
    other_root = base64.b64encode(_flip(ROOT, 31)).decode()
    assert open_note(note.replace(base64.b64encode(ROOT).decode(), other_root), vkey) is None
    assert open_note(note.replace(LOG, "example.org/other", 1), vkey) is None
    signature = note.rsplit(" ", 1)[1].strip()
    for index in (0, 3, 4, 67):  # key ID, signature
        flipped = base64.b64encode(_flip(base64.b64decode(signature), index)).decode()
        assert open_note(note.replace(signature, flipped), vkey) is None
    for index in (len(LOG) + 12, len(vkey) - 2):  # inside the base64 key
        assert open_note(note, _flip_char(vkey, index)) is None
    assert open_note(note, note_verifier_key(LOG, generate_signing_key().public_key)) is None
    assert open_note(note, note_verifier_key("example.org/other", key.public_key)) is None
