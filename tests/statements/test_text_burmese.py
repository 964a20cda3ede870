"""Burmese typed in Zawgyi is stored in Unicode; Unicode Burmese is never touched."""

from __future__ import annotations

import icu
import pytest

from statements.text import burmese
from statements.text.clean import clean_line, converted_from_zawgyi, normalise_text

# Pairs of (as a Zawgyi keyboard types it, the same words in Unicode). Zawgyi keeps visual
# order: the vowel sign E (U+1031) and the medial RA (U+103B in Zawgyi) come before their
# consonant, the killer is U+1039, and stacked or contracted forms have code points of
# their own (U+1060-U+1097). The Universal Declaration's first article, a line of a
# statement, and single words of the kind a title holds.
PAIRS = [
    ("ျမန္မာ", "မြန်မာ"),
    ("ေၾကညာခ်က္", "ကြေညာချက်"),
    ("ျပည္ေထာင္စု", "ပြည်ထောင်စု"),
    (
        "လူတိုင္းသည္ တူညီ လြတ္လပ္ေသာ ဂုဏ္သိကၡာျဖင့္ လည္းေကာင္း၊ တူညီ လြတ္လပ္ေသာ "
        "အခြင့္အေရးမ်ားျဖင့္ လည္းေကာင္း ေမြးဖြားလာသူမ်ား ျဖစ္သည္။",
        "လူတိုင်းသည် တူညီ လွတ်လပ်သော ဂုဏ်သိက္ခာဖြင့် လည်းကောင်း၊ တူညီ လွတ်လပ်သော "
        "အခွင့်အရေးများဖြင့် လည်းကောင်း မွေးဖွားလာသူများ ဖြစ်သည်။",
    ),
    (
        "ကြၽႏ္ုပ္တို႔သည္ ဒုကၡသည္မ်ား၏ အခြင့္အေရးမ်ားကို ကာကြယ္ရန္ ေတာင္းဆိုပါသည္။",
        "ကျွန်ုပ်တို့သည် ဒုက္ခသည်များ၏ အခွင့်အရေးများကို ကာကွယ်ရန် တောင်းဆိုပါသည်။",
    ),
    # From myanmar-tools' own compatibility list: Zawgyi inside English.
    ("ascii mixed with ဘဂၤလားေဒရွ္႕ zawgyi", "ascii mixed with ဘင်္ဂလားဒေရှ့် zawgyi"),
]
UNICODE = [unicode for _zawgyi, unicode in PAIRS] + [
    "နေကောင်းလား",
    "စင်္ကာပူမှာ",
    "## အပိုင်း ၂\n\nRefugees ဒုက္ခသည်များ **must** have the right to work.",
]


@pytest.mark.parametrize(("zawgyi", "unicode"), PAIRS)
def test_zawgyi_is_converted_to_unicode(zawgyi: str, unicode: str) -> None:
    assert burmese.is_zawgyi(zawgyi)
    assert normalise_text(zawgyi) == unicode
    assert converted_from_zawgyi(zawgyi)


@pytest.mark.parametrize("text", UNICODE)
def test_unicode_burmese_is_never_touched(text: str) -> None:
    assert not converted_from_zawgyi(text)
    assert normalise_text(text) == text


def test_converting_unicode_blindly_would_mangle_it() -> None:
    # Why the detector is asked first: the transliterator alone garbles Unicode Burmese.
    blind = icu.Transliterator.createInstance("Zawgyi-my")
    assert all(str(blind.transliterate(text)) != text for text in UNICODE[:3])


@pytest.mark.parametrize(
    "text",
    [
        "Refugees must have the right to work.",
        "حق کار برای پناهندگان",
        "၁၂၃၄ ၅၆၇၈ ၉၀၁၂",  # digits are the same in both encodings
        "၏လွ",  # a fragment of Unicode that the detector finds Zawgyi-like (0.993)
        "",
    ],
)
def test_text_the_detector_is_not_sure_of_is_left_as_typed(text: str) -> None:
    assert not converted_from_zawgyi(text)
    assert normalise_text(text) == text


def test_each_paragraph_is_judged_on_its_own() -> None:
    # A Unicode paragraph pasted into text typed in Zawgyi, and the other way round.
    zawgyi, unicode = PAIRS[4]
    quoted = UNICODE[5]
    assert normalise_text(f"{zawgyi}\n\n{quoted}") == f"{unicode}\n\n{quoted}"
    assert normalise_text(f"{quoted}\r\n\r\n{zawgyi}") == f"{quoted}\n\n{unicode}"
    assert normalise_text(f"# {PAIRS[0][0]}\n \n- {zawgyi}") == f"# {PAIRS[0][1]}\n \n- {unicode}"


def test_titles_and_names_are_converted_too() -> None:
    assert clean_line("  ျမန္မာ ဒုကၡသည္မ်ား  ", "title", 200) == "မြန်မာ ဒုက္ခသည်များ"
