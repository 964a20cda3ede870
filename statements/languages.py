"""Facts about the languages statements are written in, shared by pages and PDFs."""

from __future__ import annotations

# Languages written right to left: their statements are laid out with dir="rtl".
RTL_LANGUAGES = frozenset({"ar", "fa", "prs", "ur", "ps", "ckb", "sd", "ug"})


def direction(language: str) -> str:
    """The writing direction of a language, as HTML's dir attribute wants it."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"
