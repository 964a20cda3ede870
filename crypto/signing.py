"""Ed25519 signatures on published statements: raw, as minisign files, and as C2SP notes.

One Ed25519 key (RFC 8032), three encodings, so the public can check what we publish with
whatever it already trusts: this project's verifier (raw signatures, key_id), the
`minisign` tool (https://jedisct1.github.io/minisign/), or any client of C2SP signed notes
and transparency-log checkpoints (https://c2sp.org/signed-note,
https://c2sp.org/tlog-checkpoint), such as golang.org/x/mod/sumdb/note. Signers raise
ValueError on misuse; verifiers never raise: anything malformed simply does not verify.
"""

import base64
import binascii
import hashlib
import hmac
import string
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_KEY_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

_KEY_ID_LABEL = b"statements/key-id/v1"
_KEY_ID_HEX_CHARS = 16

# minisign, https://jedisct1.github.io/minisign/ ("Public key format", "Signature format").
# A public key is base64("Ed" || key id || public key); a signature line is
# base64("ED" || key id || signature), "ED" meaning Ed25519 over BLAKE2b-512 of the file
# (the prehashed form, the default since minisign 0.11). The legacy "Ed" form, which signs
# the whole file, is never produced and never accepted: one form, one code path.
DEFAULT_UNTRUSTED_COMMENT = "signature from the joint-statements platform"
_MINISIGN_KEY_ALG = b"Ed"
_MINISIGN_PREHASHED_ALG = b"ED"
_MINISIGN_KEY_ID_BYTES = 8
_MINISIGN_PUBLIC_KEY_BYTES = 2 + _MINISIGN_KEY_ID_BYTES + PUBLIC_KEY_BYTES
_MINISIGN_SIGNATURE_BYTES = 2 + _MINISIGN_KEY_ID_BYTES + SIGNATURE_BYTES
_UNTRUSTED_PREFIX = "untrusted comment: "
_TRUSTED_PREFIX = "trusted comment: "
# The minisign tool reads each comment line with fgets() into a fixed buffer
# (COMMENTMAXBYTES = 1024 and TRUSTEDCOMMENTMAXBYTES = 8192 in minisign.h), which must hold
# the line, its newline and a NUL. A longer line is split in two and the tool rejects the
# file, so we neither write one nor accept one.
_MINISIGN_UNTRUSTED_LINE_MAX_BYTES = 1024 - 2
_MINISIGN_TRUSTED_LINE_MAX_BYTES = 8192 - 2
_MINISIGN_UNTRUSTED_MAX_BYTES = _MINISIGN_UNTRUSTED_LINE_MAX_BYTES - len(_UNTRUSTED_PREFIX)
_MINISIGN_TRUSTED_MAX_BYTES = _MINISIGN_TRUSTED_LINE_MAX_BYTES - len(_TRUSTED_PREFIX)
# The tool cuts a comment at the first CR (its trim() strips line endings) or NUL (C
# strings), so a comment holding one would be signed as one text and checked as another.
_MINISIGN_FORBIDDEN = ("\n", "\r", "\x00")

# C2SP signed note, https://c2sp.org/signed-note ("Format", "Signatures", "Ed25519").
_NOTE_ED25519 = b"\x01"  # signature type identifier byte for Ed25519
_NOTE_KEY_ID_BYTES = 4
_NOTE_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_NOTE_SPLIT = "\n\n"  # the last blank line separates the text from its signatures
# The spec asks verifiers to cap the number of signatures at no fewer than 16; 100 is the
# cap of golang.org/x/mod/sumdb/note, the reference implementation.
_NOTE_MAX_SIGNATURES = 100

# C2SP tlog checkpoint, https://c2sp.org/tlog-checkpoint ("Note text"): the root is that
# of an RFC 6962 Merkle tree, which is SHA-256 (crypto.merkle.HASH_SIZE).
_ROOT_HASH_BYTES = 32
# Tree sizes are uint64 in every checkpoint implementation we interoperate with.
_MAX_TREE_SIZE = 2**64 - 1


@dataclass(frozen=True)
class SigningKey:
    """A raw 32-byte Ed25519 private key (RFC 8032 seed) and its raw public key."""

    # Kept out of repr so a logged or printed key never leaks the secret half.
    private_key: bytes = field(repr=False)
    public_key: bytes


def _check_length(name: str, value: bytes, size: int) -> None:
    if len(value) != size:
        raise ValueError(f"{name} must be {size} bytes, got {len(value)}")


def _public_key_of(private_key: bytes) -> bytes:
    _check_length("private_key", private_key, PRIVATE_KEY_BYTES)
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


def _check_pair(private_key: bytes, public_key: bytes) -> None:
    # Every format below names the key by an id derived from the public key; signing with
    # a mismatched pair would publish a signature that can never verify under that id.
    _check_length("public_key", public_key, PUBLIC_KEY_BYTES)
    if not hmac.compare_digest(_public_key_of(private_key), public_key):
        raise ValueError("public_key is not the public key of private_key")


def _b64encode(data: bytes) -> str:
    # Standard base64 with padding (RFC 4648 section 4), as minisign and C2SP both use.
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Decode canonical standard base64, raising ValueError on anything else."""
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    # Only the canonical encoding is accepted (no stray padding bits, nothing after the
    # padding), as libsodium's decoder in minisign does: one signature, one spelling.
    if _b64encode(data) != text:
        raise ValueError("not canonical base64")
    return data


def generate_signing_key() -> SigningKey:
    """Generate a fresh Ed25519 signing key as raw bytes."""
    private = Ed25519PrivateKey.generate()
    return SigningKey(
        private_key=private.private_bytes_raw(),
        public_key=private.public_key().public_bytes_raw(),
    )


def sign(private_key: bytes, message: bytes) -> bytes:
    """Return the raw 64-byte Ed25519 signature (RFC 8032) of a message."""
    _check_length("private_key", private_key, PRIVATE_KEY_BYTES)
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(message)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return whether a raw Ed25519 signature is valid; False, never an error, if malformed."""
    try:
        if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
            return False
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def key_id(public_key: bytes) -> str:
    """Return the id of a public key in the project's own key listing (16 hex characters)."""
    _check_length("public_key", public_key, PUBLIC_KEY_BYTES)
    # Labelled, so the id can never be mistaken for (or collide by design with) any other
    # hash of the key, such as the minisign and signed-note key ids below.
    return hashlib.sha256(_KEY_ID_LABEL + public_key).hexdigest()[:_KEY_ID_HEX_CHARS]


# minisign


def _minisign_key_id(public_key: bytes) -> bytes:
    # The format allows any 8 bytes (the tool draws them at random); deriving them from the
    # key makes the public key string reproducible from the raw key alone.
    return hashlib.blake2b(public_key, digest_size=64).digest()[:_MINISIGN_KEY_ID_BYTES]


def _prehash(message: bytes) -> bytes:
    # minisign's "ED" algorithm signs BLAKE2b-512(file), unkeyed, 64-byte output.
    return hashlib.blake2b(message, digest_size=64).digest()


def _check_minisign_comment(name: str, comment: str, max_bytes: int) -> bytes:
    if any(char in comment for char in _MINISIGN_FORBIDDEN):
        raise ValueError(f"{name} must be one line without CR or NUL")
    try:
        encoded = comment.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be valid Unicode text") from None
    if len(encoded) > max_bytes:
        raise ValueError(f"{name} must be at most {max_bytes} bytes in UTF-8")
    return encoded


def minisign_public_key(public_key: bytes) -> str:
    """Return the public key as the base64 string that `minisign -P` takes."""
    _check_length("public_key", public_key, PUBLIC_KEY_BYTES)
    return _b64encode(_MINISIGN_KEY_ALG + _minisign_key_id(public_key) + public_key)


def minisign_signature(
    private_key: bytes,
    public_key: bytes,
    message: bytes,
    trusted_comment: str,
    untrusted_comment: str = DEFAULT_UNTRUSTED_COMMENT,
) -> str:
    """Return a prehashed minisign signature file (the text of a .minisig) for a message."""
    _check_pair(private_key, public_key)
    trusted = _check_minisign_comment(
        "trusted_comment", trusted_comment, _MINISIGN_TRUSTED_MAX_BYTES
    )
    _check_minisign_comment("untrusted_comment", untrusted_comment, _MINISIGN_UNTRUSTED_MAX_BYTES)
    signature = sign(private_key, _prehash(message))
    # The global signature covers the file signature and the trusted comment together, so
    # the comment cannot be moved to another signature or edited without the secret key.
    global_signature = sign(private_key, signature + trusted)
    signature_line = _MINISIGN_PREHASHED_ALG + _minisign_key_id(public_key) + signature
    return (
        f"{_UNTRUSTED_PREFIX}{untrusted_comment}\n"
        f"{_b64encode(signature_line)}\n"
        f"{_TRUSTED_PREFIX}{trusted_comment}\n"
        f"{_b64encode(global_signature)}\n"
    )


def _minisign_lines(signature_text: str) -> list[str]:
    # Four lines, the last newline optional; a CRLF file (from a Windows download) is
    # read as the tool reads it, which strips line endings.
    lines = signature_text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) != 4:
        raise ValueError("a minisign signature has four lines")
    # Measured with any CR still on, as the tool's buffer has to hold it too.
    if len(lines[0].encode("utf-8")) > _MINISIGN_UNTRUSTED_LINE_MAX_BYTES:
        raise ValueError("untrusted comment line too long for the minisign tool")
    if len(lines[2].encode("utf-8")) > _MINISIGN_TRUSTED_LINE_MAX_BYTES:
        raise ValueError("trusted comment line too long for the minisign tool")
    return [line.removesuffix("\r") for line in lines]


def _verify_minisign(public_key_string: str, message: bytes, signature_text: str) -> bool:
    key = _b64decode(public_key_string)
    if len(key) != _MINISIGN_PUBLIC_KEY_BYTES or key[:2] != _MINISIGN_KEY_ALG:
        return False
    keynum, public_key = key[2:10], key[10:]
    untrusted_line, signature_line, trusted_line, global_line = _minisign_lines(signature_text)
    if not untrusted_line.startswith(_UNTRUSTED_PREFIX):
        return False
    if not trusted_line.startswith(_TRUSTED_PREFIX):
        return False
    trusted_comment = trusted_line.removeprefix(_TRUSTED_PREFIX)
    if any(char in trusted_comment for char in _MINISIGN_FORBIDDEN):
        return False
    signature_struct = _b64decode(signature_line)
    if (
        len(signature_struct) != _MINISIGN_SIGNATURE_BYTES
        or signature_struct[:2] != _MINISIGN_PREHASHED_ALG
        or signature_struct[2:10] != keynum
    ):
        return False
    signature = signature_struct[10:]
    global_signature = _b64decode(global_line)
    return verify(public_key, _prehash(message), signature) and verify(
        public_key, signature + trusted_comment.encode("utf-8"), global_signature
    )


def verify_minisign(public_key_string: str, message: bytes, signature_text: str) -> bool:
    """Check a prehashed minisign signature file as `minisign -V` does; never raises."""
    try:
        return _verify_minisign(public_key_string, message, signature_text)
    except (ValueError, TypeError, AttributeError):
        # ValueError covers bad base64 and unencodable text (UnicodeError is a subclass);
        # TypeError and AttributeError cover arguments that are not str or bytes at all.
        return False


# C2SP signed notes and tlog checkpoints


def _is_valid_key_name(name: str) -> bool:
    # signed-note "Format": key names MUST be non-empty and MUST NOT contain any Unicode
    # spaces or plus (U+002B); control characters are banned from the whole note anyway.
    return (
        bool(name)
        and "+" not in name
        and not any(char.isspace() or char < " " for char in name)
        and _is_utf8(name)
    )


def _is_utf8(text: str) -> bool:
    # A Python str can hold lone surrogates, which have no UTF-8 encoding.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_note_text(text: str) -> bool:
    # signed-note "Format": valid UTF-8, no ASCII control character other than newline.
    return _is_utf8(text) and not any(char < " " and char != "\n" for char in text)


def _check_key_name(name: str) -> None:
    if not _is_valid_key_name(name):
        raise ValueError("key name must be non-empty, without spaces, '+' or control characters")


def note_key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte signed-note key ID of an Ed25519 public key under a key name."""
    _check_key_name(name)
    _check_length("public_key", public_key, PUBLIC_KEY_BYTES)
    # signed-note "Ed25519 signatures": SHA-256(key name || 0x0A || 0x01 || public key)[:4].
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + _NOTE_ED25519 + public_key).digest()
    return digest[:_NOTE_KEY_ID_BYTES]


def note_verifier_key(name: str, public_key: bytes) -> str:
    """Return the verifier key "<name>+<key ID hex>+<base64(0x01 || public key)>"."""
    # The vkey encoding of golang.org/x/mod/sumdb/note, which C2SP tooling shares.
    key_hex = note_key_id(name, public_key).hex()
    return f"{name}+{key_hex}+{_b64encode(_NOTE_ED25519 + public_key)}"


def _parse_verifier_key(verifier_key: str) -> tuple[str, bytes, bytes]:
    # The name cannot hold "+", so the first two "+" are separators; base64 may hold more.
    name, key_hex, key_b64 = verifier_key.split("+", 2)
    if not _is_valid_key_name(name):
        raise ValueError("bad key name")
    if len(key_hex) != 2 * _NOTE_KEY_ID_BYTES or not all(
        char in string.hexdigits for char in key_hex
    ):
        raise ValueError("bad key ID")
    key = _b64decode(key_b64)
    if len(key) != 1 + PUBLIC_KEY_BYTES or key[:1] != _NOTE_ED25519:
        raise ValueError("not an Ed25519 verifier key")
    public_key = key[1:]
    # A key ID that does not match its key is a corrupted (or forged) verifier key.
    key_id_bytes = note_key_id(name, public_key)
    if key_id_bytes != bytes.fromhex(key_hex):
        raise ValueError("key ID does not match the key")
    return name, key_id_bytes, public_key


def checkpoint_body(origin: str, size: int, root_hash: bytes) -> str:
    """Return the note text of a tlog checkpoint: origin, tree size, base64 root hash."""
    # tlog-checkpoint "Note text": the origin SHOULD be free of spaces and "+"; we hold our
    # own log to that, so the origin can also serve as the signing key's name.
    _check_key_name(origin)
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_TREE_SIZE:
        raise ValueError("size must be an integer from 0 to 2**64 - 1")
    _check_length("root_hash", root_hash, _ROOT_HASH_BYTES)
    return f"{origin}\n{size}\n{_b64encode(root_hash)}\n"


def parse_checkpoint(body: str) -> tuple[str, int, bytes]:
    """Return (origin, tree size, root hash) of a checkpoint's note text; ValueError if bad."""
    if not _is_note_text(body) or not body.endswith("\n"):
        raise ValueError("malformed checkpoint: not newline-terminated note text")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("malformed checkpoint: fewer than three lines")
    origin, size_text, root_text, *extensions = lines
    # tlog-checkpoint "Note text": any origin but an empty one is allowed (clients MUST NOT
    # assume a format); optional extension lines are opaque but MUST be non-empty, and as
    # nothing here can check them they are accepted and ignored.
    if not origin:
        raise ValueError("malformed checkpoint: empty origin")
    if not all(extensions):
        raise ValueError("malformed checkpoint: empty extension line")
    # ASCII decimal with no leading zeroes; int() alone would also take "+1", " 1", "1_0"
    # and non-ASCII digits.
    is_decimal = size_text.isascii() and size_text.isdigit()
    if not is_decimal or (size_text[0] == "0" and size_text != "0"):
        raise ValueError("malformed checkpoint: tree size not decimal or with leading zeroes")
    # Length first: int() refuses over 4300 digits, with an error of its own.
    size = int(size_text) if len(size_text) <= len(str(_MAX_TREE_SIZE)) else _MAX_TREE_SIZE + 1
    if size > _MAX_TREE_SIZE:
        raise ValueError("malformed checkpoint: tree size over 64 bits")
    try:
        root_hash = _b64decode(root_text)
    except ValueError:
        raise ValueError("malformed checkpoint: root hash not canonical base64") from None
    if len(root_hash) != _ROOT_HASH_BYTES:
        raise ValueError(f"malformed checkpoint: root hash not {_ROOT_HASH_BYTES} bytes")
    return origin, size, root_hash


def sign_note(body: str, name: str, private_key: bytes, public_key: bytes) -> str:
    """Return a signed note: the text, a blank line, and one Ed25519 signature line."""
    _check_pair(private_key, public_key)
    _check_key_name(name)
    # signed-note "Format": the text ends in a newline, is valid UTF-8 and holds no control
    # character but newline; anything else would be rejected by every verifier.
    if not body.endswith("\n"):
        raise ValueError("the note text must end with a newline")
    if not _is_note_text(body):
        raise ValueError("the note text must be UTF-8 without control characters")
    signature = sign(private_key, body.encode("utf-8"))
    encoded = _b64encode(note_key_id(name, public_key) + signature)
    return f"{body}\n{_NOTE_SIGNATURE_PREFIX}{name} {encoded}\n"


def _open_note(text: str, verifier_key: str) -> str | None:
    name, key_id_bytes, public_key = _parse_verifier_key(verifier_key)
    if not _is_note_text(text):
        return None
    split = text.rfind(_NOTE_SPLIT)
    if split < 0:
        return None
    body, signatures = text[: split + 1], text[split + 2 :]
    if not signatures.endswith("\n"):
        return None
    lines = signatures[:-1].split("\n")
    if len(lines) > _NOTE_MAX_SIGNATURES:
        return None
    message = body.encode("utf-8")
    verified = False
    for line in lines:
        if not line.startswith(_NOTE_SIGNATURE_PREFIX):
            return None
        signer, _, encoded = line.removeprefix(_NOTE_SIGNATURE_PREFIX).partition(" ")
        if not _is_valid_key_name(signer):
            return None
        signature = _b64decode(encoded)
        if len(signature) <= _NOTE_KEY_ID_BYTES:
            return None
        # signed-note "Signatures": verifiers MUST ignore signatures from unknown keys,
        # even if they share a name or an ID (but not both) with the known key ...
        if signer != name or signature[:_NOTE_KEY_ID_BYTES] != key_id_bytes:
            continue
        # ... and SHOULD reject the whole note if one from the known key fails to verify.
        if not verify(public_key, message, signature[_NOTE_KEY_ID_BYTES:]):
            return None
        verified = True
    return body if verified else None


def open_note(text: str, verifier_key: str) -> str | None:
    """Return the text of a note signed by the verifier key, or None; never raises."""
    try:
        return _open_note(text, verifier_key)
    except (ValueError, TypeError, AttributeError):
        # ValueError covers bad base64 and a verifier key without two "+"; TypeError and
        # AttributeError cover arguments that are not strings at all.
        return None
