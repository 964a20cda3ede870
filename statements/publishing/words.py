"""Words and facts about languages that the pages, the feed and the PDF share."""

from __future__ import annotations

# Languages written right to left: their statements are laid out with dir="rtl".
RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug"})


def anonymous_sentence(count: int) -> str:
    """The words for organisations counted but not named."""
    if count == 1:
        return "and 1 organisation that cannot be named for its safety"
    return f"and {count} organisations that cannot be named for their safety"
