"""Codenames: the only secret a member holds, drawn from the EFF large wordlist.

The EFF large wordlist (7,776 words, CC BY 3.0 US, Electronic Frontier Foundation) is
read from the xkcdpass package, which ships it. Seven words give about 90 bits.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from functools import cache
from importlib.resources import files

from statements.auth.errors import CodenameMalformed

CODENAME_WORDS = 7
MAX_CODENAME_CHARS = 300
_ALLOWED = re.compile(r"^[a-z]+(?:-[a-z]+)*(?: [a-z]+(?:-[a-z]+)*)*$")


@cache
def wordlist() -> tuple[str, ...]:
    """The 7,776 words codenames are drawn from."""
    text = files("xkcdpass").joinpath("static/eff-long").read_text(encoding="utf-8")
    words = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(words) != 7776:
        raise RuntimeError("the EFF large wordlist shipped by xkcdpass has changed")
    return words


def generate(words: int = CODENAME_WORDS) -> str:
    """A fresh codename of `words` words chosen uniformly with a CSPRNG."""
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def normalize(typed: str) -> str:
    """The canonical form of a typed codename: lower case, single spaces.

    Only the shape is checked here. A codename with a wrong or missing word is still
    well formed, and must fail later exactly like an unknown one.
    """
    if len(typed) > MAX_CODENAME_CHARS:
        raise CodenameMalformed("too long")
    text = " ".join(unicodedata.normalize("NFKC", typed).lower().split())
    if not text or not _ALLOWED.fullmatch(text):
        raise CodenameMalformed("only letters, hyphens and spaces")
    return text
