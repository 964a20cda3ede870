"""Codenames a frightened, non-English user can keep: reading what they type, codenames
of digits, practising a new codename, and replacing one that may have been seen."""

from __future__ import annotations

import hashlib
import math

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.tags import lookup_id
from statements.auth import codename as codenames
from statements.auth import keys, service, sessions
from statements.auth.errors import (
    CodenameMalformed,
    LoginFailed,
    SessionEnded,
    UnknownWords,
    WrongLength,
)
from statements.models import Account, LoginSession
from tests.conftest import Clock
from tests.support import make_member

SEVEN = "apple banana grape zebra drop-down t-shirt yo-yo"


@pytest.fixture
def config(app: Flask) -> service.AuthConfig:
    return app.extensions["auth"]


# --- reading what is typed ------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        SEVEN,
        "APPLE Banana GRAPE zebra Drop-Down T-SHIRT yo-yo",
        "apple, banana, grape, zebra, drop-down, t-shirt, yo-yo",
        "apple\u060c banana\u060c grape\u060c zebra\u060c drop-down\u060c t-shirt\u060c yo-yo",
        "apple\u3001banana\u3001grape\uff0czebra\u3002drop-down\u06d4t-shirt yo-yo",
        "apple.banana.grape.zebra.drop-down.t-shirt.yo-yo",
        "apple-banana-grape-zebra-drop-down-t-shirt-yo-yo",
        "apple\nbanana\r\ngrape\n\nzebra\tdrop down\nt shirt\nyo yo\n",
        "\uff21\uff30\uff30\uff2c\uff25 banana grape zebra dropdown tshirt yo yo",
        "apple banana grape zebra drop-down t-shirt yo - yo",
    ],
)
def test_any_separators_and_any_case_read_as_one_codename(typed: str) -> None:
    assert codenames.normalize(typed) == SEVEN


def test_every_word_of_the_list_reads_as_itself() -> None:
    # "yoyo" and "yo-yo" are both words: reading one must never turn it into the other.
    for word in codenames.wordlist():
        assert codenames.normalize(" ".join([word] * 7)) == " ".join([word] * 7)
        assert codenames.normalize_part(word.upper(), codenames.WORDS) == word


def test_no_hyphenated_word_begins_with_a_word() -> None:
    # What makes putting "t shirt" back together as "t-shirt" safe: "t" alone is no word.
    words = set(codenames.wordlist())
    halves = [word.split("-")[0] for word in words if "-" in word]
    assert len(halves) == 4
    assert not set(halves) & words


def test_an_unknown_word_is_named_by_position_with_suggestions() -> None:
    with pytest.raises(UnknownWords) as caught:
        codenames.normalize("apple banana grape zebar drop-down t-shirt yo-yo")
    [unknown] = caught.value.unknown
    assert unknown.position == 4
    assert "zebra" in unknown.suggestions


def test_every_unknown_word_is_named() -> None:
    with pytest.raises(UnknownWords) as caught:
        codenames.normalize("appel banana grape zebra drop-down tshirtt qqqqqq")
    assert [word.position for word in caught.value.unknown] == [1, 6, 7]
    assert "apple" in caught.value.unknown[0].suggestions
    assert caught.value.unknown[2].suggestions == ()


def test_suggestions_are_bounded_for_a_long_paste() -> None:
    with pytest.raises(UnknownWords) as caught:
        codenames.normalize(" ".join(["applx"] * 40))
    assert len(caught.value.unknown) == 40
    assert sum(1 for word in caught.value.unknown if word.suggestions) == 3


@pytest.mark.parametrize(("typed", "count"), [("apple banana", 2), ("apple " * 6, 6)])
def test_too_few_words_say_how_many(typed: str, count: int) -> None:
    with pytest.raises(WrongLength) as caught:
        codenames.normalize(typed)
    assert (caught.value.kind, caught.value.count) == (codenames.WORDS, count)


@pytest.mark.parametrize("typed", ["", "   ", ",,, ;", "a" * 301])
def test_text_that_cannot_be_a_codename_is_refused(typed: str) -> None:
    with pytest.raises(CodenameMalformed) as caught:
        codenames.normalize(typed)
    assert type(caught.value) is CodenameMalformed


def test_a_word_with_digits_in_it_is_an_unknown_word() -> None:
    with pytest.raises(UnknownWords) as caught:
        codenames.normalize("app1e banana grape zebra drop-down t-shirt yo-yo")
    assert [word.position for word in caught.value.unknown] == [1]


# --- codenames of digits --------------------------------------------------------------


def test_digit_codenames_are_at_least_as_strong_as_seven_words() -> None:
    words_bits = codenames.CODENAME_WORDS * math.log2(len(codenames.wordlist()))
    assert codenames.CODENAME_DIGITS * math.log2(10) >= words_bits
    assert (codenames.CODENAME_DIGITS - 1) * math.log2(10) < words_bits
    digits = codenames.generate_digits()
    assert len(digits) == 28
    assert digits.isascii()
    assert digits.isdigit()
    assert codenames.generate_digits() != digits


def test_digits_are_shown_in_groups_in_the_language_digits() -> None:
    code = "0123456789012345678901234567"
    assert codenames.parts(code) == [code[i : i + 4] for i in range(0, 28, 4)]
    shown = " ".join(codenames.parts(code))
    assert codenames.localize(shown, "fa").startswith("\u06f0\u06f1\u06f2\u06f3 \u06f4")
    assert codenames.localize(shown, "my").startswith("\u1040\u1041\u1042\u1043 ")
    assert codenames.localize(shown, "th").startswith("\u0e50\u0e51\u0e52\u0e53 ")
    assert codenames.localize(shown, "ms") == codenames.localize(shown, "en") == shown
    # Dari and Pashto as in Afghanistan (extended Arabic-Indic), Arabic with its own digits.
    assert codenames.localize(shown, "prs") == codenames.localize(shown, "fa")
    assert codenames.localize(shown, "ps") == codenames.localize(shown, "fa")
    assert codenames.localize(shown, "ar").startswith("\u0660\u0661\u0662\u0663 \u0664")


@pytest.mark.parametrize("language", ["fa", "my", "th", "en", "ar", "ps"])
def test_digits_are_read_in_any_of_the_digit_sets(language: str) -> None:
    code = codenames.generate_digits()
    shown = codenames.localize(" ".join(codenames.parts(code)), language)
    assert codenames.normalize(shown) == code
    assert codenames.normalize(shown.replace(" ", "")) == code
    assert codenames.normalize(shown.replace(" ", "\u060c ")) == code


def test_digits_may_mix_digit_sets() -> None:
    code = "0123456789012345678901234567"
    mixed = "".join(
        codenames.localize(ch, ("fa", "my", "th", "en")[i % 4]) for i, ch in enumerate(code)
    )
    # Arabic-Indic digits, used on many Persian keyboards, too.
    assert codenames.normalize(mixed) == code
    assert codenames.normalize("\u0660" + code[1:]) == code


@pytest.mark.parametrize("count", [27, 29, 4])
def test_the_wrong_number_of_digits_says_how_many(count: int) -> None:
    with pytest.raises(WrongLength) as caught:
        codenames.normalize("1" * count)
    assert (caught.value.kind, caught.value.count) == (codenames.DIGITS, count)


def test_a_member_can_have_and_use_a_codename_of_digits(
    session: Session, config: service.AuthConfig
) -> None:
    account, codename, _keys = service.create_member(session, config, codenames.DIGITS)
    session.commit()
    assert codenames.is_digits(codename)
    assert len(codename) == 28
    persian = codenames.localize(" ".join(codenames.parts(codename)), "fa")
    found, _ = service.login_member(session, config, persian)
    assert found.id == account.id


# --- an answer that says nothing about accounts --------------------------------------


def test_unknown_words_are_refused_before_any_lookup(
    session: Session, config: service.AuthConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    derived: list[bytes] = []
    monkeypatch.setattr(keys, "derive_master_key", lambda s, *_: derived.append(s) or b"")
    statements: list[str] = []
    monkeypatch.setattr(session, "scalar", lambda query: statements.append(str(query)))
    with pytest.raises(UnknownWords):
        service.login_member(session, config, "apple banana grape zebar drop-down t-shirt yo-yo")
    assert derived == []
    assert statements == []


def test_unknown_and_wrong_account_codenames_fail_alike(
    app: Flask, session: Session, config: service.AuthConfig
) -> None:
    account, codename = make_member(app, session)
    other, other_codename = make_member(app, session)
    # A row found by lookup whose keys the codename does not open: the "wrong account".
    other.lookup_id = lookup_id(config.pepper, b"apple banana grape zebra drop-down t-shirt yo-yo")
    session.commit()
    words = codename.split()
    swapped = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    errors = []
    for typed in (codenames.generate(), swapped, SEVEN, other_codename):
        with pytest.raises(LoginFailed) as caught:
            service.login_member(session, config, typed)
        errors.append((type(caught.value), caught.value.args))
    assert len(set(errors)) == 1
    assert service.login_member(session, config, codename)[0].id == account.id


def test_every_wrong_codename_of_valid_words_spends_one_key_derivation(
    app: Flask, session: Session, config: service.AuthConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The timing equalisation: no account costs what a wrong account costs.
    account, _codename = make_member(app, session)
    real = keys.derive_master_key
    salts: list[bytes] = []

    def counting(secret: bytes, salt: bytes, params: object) -> bytes:
        salts.append(salt)
        return real(secret, salt, params)  # type: ignore[arg-type]

    monkeypatch.setattr(keys, "derive_master_key", counting)
    account.lookup_id = lookup_id(config.pepper, SEVEN.encode())
    session.commit()
    for typed in (codenames.generate(), SEVEN):
        with pytest.raises(LoginFailed):
            service.login_member(session, config, typed)
    assert len(salts) == 2


# --- practising a new codename --------------------------------------------------------


@pytest.mark.parametrize("kind", [codenames.WORDS, codenames.DIGITS])
def test_practice_accepts_the_two_parts_asked_for(config: service.AuthConfig, kind: str) -> None:
    codename = codenames.generate_kind(kind)
    parts = codenames.parts(codename)
    drill = service.practice(config, "account-1", codename)
    first, second = drill.positions
    assert 1 <= first < second <= 7
    assert drill.kind == kind
    right = (parts[first - 1], parts[second - 1])
    assert service.practice_passes(config, "account-1", kind, drill.positions, right, drill.check)
    # Typed leniently: capitals and spaces; digits in Persian.
    lenient = tuple(codenames.localize(f" {part.upper()} ", "fa") for part in right)
    assert service.practice_passes(config, "account-1", kind, drill.positions, lenient, drill.check)  # type: ignore[arg-type]


def test_practice_refuses_wrong_parts_positions_or_account(config: service.AuthConfig) -> None:
    codename = codenames.generate()
    parts = codenames.parts(codename)
    drill = service.practice(config, "account-1", codename)
    first, second = drill.positions
    right = (parts[first - 1], parts[second - 1])
    other = next(i for i in range(1, 8) if i not in drill.positions)
    passes = service.practice_passes
    assert not passes(config, "account-1", "words", drill.positions, right[::-1], drill.check)
    assert not passes(config, "account-1", "words", drill.positions, (right[0], ""), drill.check)
    assert not passes(config, "account-1", "words", (first, other), right, drill.check)
    assert not passes(config, "account-2", "words", drill.positions, right, drill.check)
    assert not passes(config, "account-1", "digits", drill.positions, right, drill.check)


def test_practice_positions_are_chosen_at_random(config: service.AuthConfig) -> None:
    codename = codenames.generate()
    seen = {service.practice(config, "a", codename).positions for _ in range(60)}
    assert len(seen) > 5


@pytest.mark.parametrize("text", ["", "2", "2,2", "0,3", "3,8", "1,2,3", "a,b", "٢,٥"])
def test_practice_positions_must_be_two_of_seven(text: str) -> None:
    assert service.parse_positions(text) is None


def test_practice_stores_nothing(session: Session, config: service.AuthConfig) -> None:
    account, codename, _ = service.create_member(session, config)
    session.commit()
    service.practice(config, account.id, codename)
    assert not session.new
    assert not session.dirty


# --- replacing a codename -------------------------------------------------------------


def _identity(
    session: Session, config: service.AuthConfig, codename: str, clock: Clock
) -> service.Identity:
    account, keys = service.login_member(session, config, codename)
    cookie = service.start_session(session, config, account, keys, clock.now)
    session.commit()
    return service.resume_session(session, config, cookie, clock.now)


@pytest.mark.parametrize("kind", [codenames.WORDS, codenames.DIGITS])
def test_replacing_a_codename(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock, kind: str
) -> None:
    account, old = make_member(app, session)
    other_session = _identity(session, config, old, clock)
    identity = _identity(session, config, old, clock)
    before = (account.lookup_id, account.kdf_salt, account.wrapped_private_key)
    new = service.replace_codename(session, config, identity, old.upper(), kind)
    session.commit()
    assert codenames.is_digits(new) == (kind == codenames.DIGITS)
    # The old lookup id is gone, the master key derived anew, the keys wrapped again.
    assert account.lookup_id == lookup_id(config.pepper, new.encode())
    assert account.lookup_id != before[0]
    assert account.kdf_salt != before[1]
    assert account.wrapped_private_key != before[2]
    assert session.scalar(select(Account).where(Account.lookup_id == before[0])) is None
    with pytest.raises(LoginFailed):
        service.login_member(session, config, old)
    found, keys = service.login_member(session, config, new)
    assert found.id == account.id
    assert keys == identity.keys
    # This session goes on; every other one has ended.
    cookie = sessions._cookie(
        config, identity.session_id, identity.session_key, sessions._minute(clock.now)
    )
    assert service.resume_session(session, config, cookie, clock.now).account.id == account.id
    with pytest.raises(SessionEnded):
        service.resume_session(
            session,
            config,
            sessions._cookie(
                config,
                other_session.session_id,
                other_session.session_key,
                sessions._minute(clock.now),
            ),
            clock.now,
        )


def test_replacing_needs_the_current_codename(
    app: Flask, session: Session, config: service.AuthConfig, clock: Clock
) -> None:
    account, old = make_member(app, session)
    _other, other_codename = make_member(app, session)
    identity = _identity(session, config, old, clock)
    before = account.lookup_id
    for typed in (codenames.generate(), other_codename):
        with pytest.raises(LoginFailed):
            service.replace_codename(session, config, identity, typed, codenames.WORDS)
    with pytest.raises(UnknownWords):
        service.replace_codename(session, config, identity, "zebar " * 7, codenames.WORDS)
    assert account.lookup_id == before
    assert service.login_member(session, config, old)[0].id == account.id
    assert (
        session.scalar(select(LoginSession.id_hash)) == hashlib.sha256(identity.session_id).digest()
    )
