"""Codenames: the only secret a member holds, of words from the EFF list or of digits.

The EFF large wordlist (7,776 words, CC BY 3.0 US, Electronic Frontier Foundation) is
read from the xkcdpass package, which ships it. Seven words give 7 * log2(7776) ≈ 90.5
bits. A codename of digits has 28 of them: 28 * log2(10) ≈ 93.0 bits, the fewest digits
that give at least what the words give (see the README's threat model).

What is typed is read leniently, because the people who type it are often frightened,
on a phone, and not writing in their own language: any letter case, and anything that
is neither a letter nor a digit (spaces, commas of any script, dots, hyphens, new lines)
between the words. Digits may be typed in any script (Persian, Burmese, Thai, Latin…).
Every check here is against the word list and the shape alone, before any account is
looked up, so what it answers says nothing about which accounts exist.
"""

from __future__ import annotations

import difflib
import secrets
import unicodedata
from functools import cache
from importlib.resources import files

from statements.auth.errors import CodenameMalformed, UnknownWord, UnknownWords, WrongLength

CODENAME_WORDS = 7
CODENAME_DIGITS = 28
DIGIT_GROUP = 4
WORDS = "words"
DIGITS = "digits"
MAX_CODENAME_CHARS = 300
KINDS = (WORDS, DIGITS)
# Suggestions are looked for only this often per attempt, and only for tokens no longer
# than the longest word could be mistyped into: a long paste must not cost much time.
_MAX_SUGGESTED = 3
_MAX_SUGGESTED_LENGTH = 16

# The first digit ("zero") of the digit sets codenames are shown in, by language.
# Dari and Pashto are written, in Afghanistan as in Iran, with the extended Arabic-Indic
# digits (۰۱۲…); Arabic with the Arabic-Indic ones (٠١٢…), which readers from Syria,
# Iraq, Sudan or Yemen expect. Any of them is accepted when typed (see _digit).
_ZERO_BY_LANGUAGE = {
    "fa": "\u06f0",
    "prs": "\u06f0",
    "ps": "\u06f0",
    "ar": "\u0660",
    "my": "\u1040",
    "th": "\u0e50",
}


@cache
def wordlist() -> tuple[str, ...]:
    """The 7,776 words codenames are drawn from."""
    text = files("xkcdpass").joinpath("static/eff-long").read_text(encoding="utf-8")
    words = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(words) != 7776:
        raise RuntimeError("the EFF large wordlist shipped by xkcdpass has changed")
    return words


@cache
def _words() -> frozenset[str]:
    return frozenset(wordlist())


@cache
def _unhyphenated() -> dict[str, str]:
    """Hyphenated words (drop-down, felt-tip, t-shirt) typed without the hyphen.

    Not yo-yo: "yoyo" is a word of its own in the list, and stays itself.
    """
    words = _words()
    joined = {word.replace("-", ""): word for word in wordlist() if "-" in word}
    return {typed: word for typed, word in joined.items() if typed not in words}


def generate(words: int = CODENAME_WORDS) -> str:
    """A fresh codename of `words` words chosen uniformly with a CSPRNG."""
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def generate_digits(digits: int = CODENAME_DIGITS) -> str:
    """A fresh codename of `digits` decimal digits chosen uniformly with a CSPRNG."""
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def generate_kind(kind: str) -> str:
    """A fresh codename of the kind asked for (words or digits)."""
    if kind == DIGITS:
        return generate_digits()
    if kind == WORDS:
        return generate()
    raise ValueError(f"unknown codename kind {kind!r}")


def is_digits(codename: str) -> bool:
    """True for a codename of digits (in its canonical, ASCII form)."""
    return codename.isascii() and codename.isdigit()


def parts(codename: str) -> list[str]:
    """What a person reads and types: the words, or the digits in groups of four."""
    if is_digits(codename):
        return [codename[i : i + DIGIT_GROUP] for i in range(0, len(codename), DIGIT_GROUP)]
    return codename.split(" ")


def digits_for(language: str) -> str:
    """The ten digits, zero first, a codename is shown in for this interface language."""
    zero = _ZERO_BY_LANGUAGE.get(language, "0")
    return "".join(chr(ord(zero) + value) for value in range(10))


def localize(text: str, language: str) -> str:
    """Write the ASCII digits of text in the digits of the interface language."""
    digits = digits_for(language)
    return "".join(digits[int(ch)] if "0" <= ch <= "9" else ch for ch in text)


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _digit(ch: str) -> int | None:
    if unicodedata.category(ch) != "Nd":
        return None
    return unicodedata.decimal(ch, None)


def _tokens(text: str) -> list[str]:
    """Runs of letters and digits; everything else is a separator."""
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        if _is_letter(ch) or _digit(ch) is not None:
            current.append(ch)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


def _join_hyphenated(tokens: list[str]) -> list[str]:
    """Put back together the hyphenated words a hyphen separator split in two.

    Unambiguous: the first half of each (drop, felt, t, yo) is not itself a word, so a
    pair that spells a hyphenated word can never have been meant as two words.
    """
    words = _words()
    joined: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and f"{tokens[i]}-{tokens[i + 1]}" in words:
            joined.append(f"{tokens[i]}-{tokens[i + 1]}")
            i += 2
            continue
        joined.append(_unhyphenated().get(tokens[i], tokens[i]))
        i += 1
    return joined


def suggestions(typed: str) -> tuple[str, ...]:
    """The word-list entries closest to a mistyped word, closest first."""
    if len(typed) > _MAX_SUGGESTED_LENGTH:
        return ()
    return tuple(difflib.get_close_matches(typed, wordlist(), n=3, cutoff=0.6))


def _digits_only(tokens: list[str]) -> str | None:
    """The digits as ASCII, if every token is made of digits; None otherwise."""
    values: list[str] = []
    for token in tokens:
        for ch in token:
            value = _digit(ch)
            if value is None:
                return None
            values.append(str(value))
    return "".join(values)


def normalize(typed: str) -> str:
    """The canonical form of a typed codename: words in lower case with single spaces,
    or the digits in ASCII with nothing between them.

    Raises CodenameMalformed for text that cannot be a codename at all, UnknownWords
    (naming the positions) for words not in the word list, WrongLength for too few words
    or the wrong number of digits. A codename of right words that belongs to no account
    is well formed here, and fails later exactly like any other wrong one.
    """
    if len(typed) > MAX_CODENAME_CHARS:
        raise CodenameMalformed("too long")
    tokens = _tokens(unicodedata.normalize("NFKC", typed).lower())
    if not tokens:
        raise CodenameMalformed("empty")
    digits = _digits_only(tokens)
    if digits is not None:
        if len(digits) != CODENAME_DIGITS:
            raise WrongLength(DIGITS, len(digits))
        return digits
    words = _join_hyphenated(tokens)
    known = _words()
    unknown: list[UnknownWord] = []
    for position, word in enumerate(words, start=1):
        if word not in known:
            close = suggestions(word) if len(unknown) < _MAX_SUGGESTED else ()
            unknown.append(UnknownWord(position, close))
    if unknown:
        raise UnknownWords(unknown)
    # More words than a codename has today may still be one made when codenames were
    # longer; fewer never are.
    if len(words) < CODENAME_WORDS:
        raise WrongLength(WORDS, len(words))
    return " ".join(words)


def normalize_part(typed: str, kind: str) -> str:
    """One word, or one group of digits, as typed in the practice step, made canonical."""
    tokens = _tokens(unicodedata.normalize("NFKC", typed[:MAX_CODENAME_CHARS]).lower())
    if kind == DIGITS:
        return _digits_only(tokens) or ""
    return " ".join(_join_hyphenated(tokens))
