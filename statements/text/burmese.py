"""Burmese typed in the Zawgyi encoding, found and converted to Unicode before it is stored.

Zawgyi is a font that reuses the Unicode code points of the Myanmar block for other
letters and in visual order (the vowel sign E typed before its consonant, the medial RA
as a glyph of its own). It is still common on phones in Myanmar. Text typed with it
looks right only to readers who have the same font; everyone else, and the PDF, the
search and the signed bundle, sees it garbled. So it is converted once, when typed.

The detection is Google's myanmar-tools model (a Markov chain trained on both
encodings); the conversion is ICU's "Zawgyi-my" transliterator. Converting Unicode
Burmese as if it were Zawgyi would mangle it, so a paragraph is converted only when the
detector is all but certain: short or ambiguous text is left as typed.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import warnings
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import icu
    from myanmartools import ZawgyiDetector

# PyICU and myanmar-tools are loaded on first use, not with the app: most requests never
# meet a Burmese letter, and every idle worker would otherwise hold them.

# The detector's probability that the text is Zawgyi, above which it is converted. Unicode
# Burmese of a word or more scores far below it; fragments of a syllable can score 0.99.
ZAWGYI_CERTAINTY = 0.999


@cache
def _detector() -> ZawgyiDetector:
    # myanmar-tools reads its model with importlib.resources.open_binary, which Python
    # 3.11 and 3.12 call deprecated (3.13 keeps it); the warning is about the library.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        from myanmartools import ZawgyiDetector

        return ZawgyiDetector()


_local = threading.local()


def _to_unicode() -> icu.Transliterator:
    # One transliterator per thread: an ICU object is not to be shared between threads.
    transliterator = getattr(_local, "transliterator", None)
    if transliterator is None:
        import icu

        transliterator = _local.transliterator = icu.Transliterator.createInstance("Zawgyi-my")
    return transliterator


def _has_myanmar_letters(text: str) -> bool:
    # Digits are the same in both encodings: text of Latin letters and digits alone is
    # never looked at (a codename of Burmese digits, for one).
    return any("\u1000" <= ch <= "\u109f" and unicodedata.category(ch) != "Nd" for ch in text)


# Paragraphs are judged one by one: a member may paste a Unicode paragraph into text they
# type in Zawgyi, and each must come out right. Separators are kept as they were.
_PARAGRAPH_BREAK = re.compile(r"(\n[ \t]*\n)")


def _is_zawgyi_paragraph(text: str) -> bool:
    if not _has_myanmar_letters(text):
        return False
    return bool(_detector().get_zawgyi_probability(text) > ZAWGYI_CERTAINTY)


def is_zawgyi(text: str) -> bool:
    """True when the detector is all but certain that some paragraph's Burmese is Zawgyi."""
    return any(_is_zawgyi_paragraph(part) for part in _PARAGRAPH_BREAK.split(text)[::2])


def to_unicode(text: str) -> str:
    """The text with its Burmese in Unicode: each Zawgyi paragraph converted, the rest kept."""
    if not _has_myanmar_letters(text):
        return text
    parts = _PARAGRAPH_BREAK.split(text)
    for index in range(0, len(parts), 2):
        if _is_zawgyi_paragraph(parts[index]):
            parts[index] = str(_to_unicode().transliterate(parts[index]))
    return "".join(parts)
