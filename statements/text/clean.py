"""Typed text as the drafting service stores it: normalised, measured and checked.

Every word anyone types passes through here before it is sealed: one normal form, one
kind of newline and one encoding of Burmese, so what is measured is what is stored (and
later signed).
"""

from __future__ import annotations

import unicodedata

from statements.text import burmese

MAX_NOTE = 2_000


class InvalidInput(ValueError):
    """A field is missing, too long or malformed; `field` names it, `reason` says how."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def normalise_text(value: str) -> str:
    """Typed text as it will be stored (and measured): NFC, one kind of newline, trimmed.

    Burmese typed in the Zawgyi encoding comes out in Unicode (see burmese.py).
    """
    text = burmese.to_unicode(value.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text).strip()


def converted_from_zawgyi(value: str) -> bool:
    """True when normalise_text converts Burmese typed in Zawgyi: its writer is told."""
    return burmese.is_zawgyi(value)


def clean_text(value: str, field_name: str, maximum: int, *, required: bool = True) -> str:
    """Typed text as stored: NFC, one kind of newline, trimmed; InvalidInput if empty or long."""
    text = normalise_text(value)
    if required and not text:
        raise InvalidInput(field_name, "required")
    if len(text) > maximum:
        raise InvalidInput(field_name, "too_long")
    return text


# Format characters a title may hold: the joiners that Farsi, Arabic, Burmese and Bengali
# spelling needs (ZWNJ, ZWJ) and the direction marks (LRM, RLM, ALM), which only place
# neutral characters. Every other one is refused: an override or an isolate reorders what
# readers see (U+202E makes "evil" read "live"), and the rest is invisible.
_TITLE_FORMAT_CHARACTERS = frozenset("\u200c\u200d\u200e\u200f\u061c")


def clean_line(value: str, field_name: str, maximum: int, *, required: bool = True) -> str:
    """A title or a name as stored and signed: clean_text, on one line, nothing invisible.

    The one rule for every title (room, publication, correction) and every signatory's
    name and country: InvalidInput "one_line" for a line break or other control
    character, "invisible" for a direction override or other hidden format character.
    """
    text = clean_text(value, field_name, maximum, required=required)
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):
            raise InvalidInput(field_name, "one_line")
        if category in ("Cf", "Co") and char not in _TITLE_FORMAT_CHARACTERS:
            raise InvalidInput(field_name, "invisible")
    return text
