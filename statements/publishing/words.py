"""Facts about languages that the pages and the PDF share."""

from __future__ import annotations

# Languages written right to left: their statements are laid out with dir="rtl".
RTL_LANGUAGES = frozenset({"ar", "fa", "ur", "ps", "ckb", "sd", "ug"})
