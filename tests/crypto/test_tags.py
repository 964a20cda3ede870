"""Tests for author tags, lookup ids and constant-time comparison."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.tags import TAG_BYTES, author_tag, lookup_id, tags_equal

FAST = settings(max_examples=50, deadline=None, database=None)
AUTHOR = bytes(range(32))
PEPPER = bytes(range(16))


def test_author_tag_is_deterministic_and_32_bytes() -> None:
    tag = author_tag(AUTHOR, "support", "statement-1")
    assert len(tag) == TAG_BYTES == 32
    assert tag == author_tag(AUTHOR, "support", "statement-1")


def test_author_tag_depends_on_every_input() -> None:
    base = author_tag(AUTHOR, "support", "statement-1")
    assert author_tag(bytes(32), "support", "statement-1") != base
    assert author_tag(AUTHOR, "endorsement", "statement-1") != base
    assert author_tag(AUTHOR, "support", "statement-2") != base


def test_author_tag_fields_cannot_shift() -> None:
    assert author_tag(AUTHOR, "support", "x1") != author_tag(AUTHOR, "supportx", "1")


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_author_tag_rejects_wrong_secret_length(length: int) -> None:
    with pytest.raises(ValueError, match="author_secret must be 32 bytes"):
        author_tag(bytes(length), "support", "t")


def test_author_tag_rejects_empty_purpose() -> None:
    with pytest.raises(ValueError, match="purpose must not be empty"):
        author_tag(AUTHOR, "", "t")


def test_author_tag_rejects_empty_target() -> None:
    with pytest.raises(ValueError, match="target_id must not be empty"):
        author_tag(AUTHOR, "support", "")


def test_lookup_id_is_deterministic_and_depends_on_inputs() -> None:
    base = lookup_id(PEPPER, b"codename words")
    assert len(base) == 32
    assert base == lookup_id(PEPPER, b"codename words")
    assert lookup_id(PEPPER + b"!", b"codename words") != base
    assert lookup_id(PEPPER, b"codename word") != base


def test_lookup_id_and_author_tag_are_domain_separated() -> None:
    # Same key and same bytes must not produce the same output in both roles.
    assert lookup_id(AUTHOR, b"t") != author_tag(AUTHOR, "p", "t")


@pytest.mark.parametrize("length", [0, 8, 15])
def test_lookup_id_rejects_short_pepper(length: int) -> None:
    with pytest.raises(ValueError, match="pepper must be at least 16 bytes"):
        lookup_id(bytes(length), b"secret")


def test_lookup_id_rejects_empty_secret() -> None:
    with pytest.raises(ValueError, match="secret must not be empty"):
        lookup_id(PEPPER, b"")


def test_tags_equal() -> None:
    tag = author_tag(AUTHOR, "support", "t")
    assert tags_equal(tag, bytes(tag))
    assert not tags_equal(tag, author_tag(AUTHOR, "support", "u"))
    assert not tags_equal(tag, tag[:-1])
    assert tags_equal(b"", b"")


@FAST
@given(purpose=st.text(min_size=1, max_size=20), target=st.text(min_size=1, max_size=20))
def test_author_tag_property(purpose: str, target: str) -> None:
    tag = author_tag(AUTHOR, purpose, target)
    assert len(tag) == TAG_BYTES
    assert tags_equal(tag, author_tag(AUTHOR, purpose, target))


@FAST
@given(a=st.binary(max_size=40), b=st.binary(max_size=40))
def test_tags_equal_matches_equality(a: bytes, b: bytes) -> None:
    assert tags_equal(a, b) == (a == b)
