"""Burmese typed in the Zawgyi encoding, found and converted to Unicode before it is stored.

Zawgyi is a font that reuses the Unicode code points of the Myanmar block for other
letters and in visual order (the vowel sign E typed before its consonant, the medial RA
as a glyph of its own). It is still common on phones in Myanmar. Text typed with it
looks right only to readers who have the same font; everyone else, and the PDF, the
search and the signed bundle, sees it garbled. So it is converted once, when typed.

The detection is Google's myanmar-tools model (a Markov chain trained on both
encodings); the conversion is ICU's "Zawgyi-my" transliterator. Converting Unicode
Burmese as if it were Zawgyi would mangle it, so text is converted only when the
detector is all but certain: short or ambiguous text is left as typed.
"""

from __future__ import annotations

import unicodedata
import warnings
from functools import cache

import icu
from myanmartools import ZawgyiDetector

# The detector's probability that the text is Zawgyi, above which it is converted. Unicode
# Burmese of a word or more scores far below it; fragments of a syllable can score 0.99.
ZAWGYI_CERTAINTY = 0.999


@cache
def _detector() -> ZawgyiDetector:
    # myanmar-tools reads its model with importlib.resources.open_binary, which Python
    # 3.11 and 3.12 call deprecated (3.13 keeps it); the warning is about the library.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "open_binary is deprecated", DeprecationWarning)
        return ZawgyiDetector()


@cache
def _to_unicode() -> icu.Transliterator:
    # Transliterating is a const operation in ICU: one instance serves every thread.
    return icu.Transliterator.createInstance("Zawgyi-my")


def _has_myanmar_letters(text: str) -> bool:
    # Digits are the same in both encodings: text of Latin letters and digits alone is
    # never looked at (a codename of Burmese digits, for one).
    return any("\u1000" <= ch <= "\u109f" and unicodedata.category(ch) != "Nd" for ch in text)


def is_zawgyi(text: str) -> bool:
    """True when the detector is all but certain that text's Burmese is in Zawgyi."""
    if not _has_myanmar_letters(text):
        return False
    return bool(_detector().get_zawgyi_probability(text) > ZAWGYI_CERTAINTY)


def to_unicode(text: str) -> str:
    """The text with its Burmese in Unicode: converted if it is Zawgyi, else unchanged."""
    if not is_zawgyi(text):
        return text
    return str(_to_unicode().transliterate(text))
