"""Details in a member's text that often identify someone, found before they submit it.

Pure and local: the text is only matched against patterns here, never sent anywhere.
The checks warn and never block, so they lean towards finding too much: a false alarm
costs the member a second look, a miss can cost them their safety.
"""

from __future__ import annotations

import re
import unicodedata

# What the checks can find, in the order a warning lists them.
KINDS = ("phone", "email", "url", "id_number", "date")

# Months in the interface languages (English, Malay, Thai, Burmese, Farsi), Gregorian and,
# for Farsi, the Solar Hijri months people in Iran and Afghanistan date events by.
MONTHS: tuple[str, ...] = (
    # English, with the usual abbreviations.
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    # Malay.
    "januari",
    "februari",
    "mac",
    "mei",
    "julai",
    "ogos",
    "oktober",
    "disember",
    # Thai.
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
    # Burmese.
    "ဇန်နဝါရီ",
    "ဖေဖော်ဝါရီ",
    "မတ်",
    "ဧပြီ",
    "မေ",
    "ဇွန်",
    "ဇူလိုင်",
    "ဩဂုတ်",
    "သြဂုတ်",
    "စက်တင်ဘာ",
    "အောက်တိုဘာ",
    "နိုဝင်ဘာ",
    "ဒီဇင်ဘာ",
    # Farsi: Gregorian, then Solar Hijri.
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "مه",
    "ژوئن",
    "ژوئیه",
    "اوت",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)

# "May" only with its capital: "3 may be held" is not a date.
_MONTH = (
    "(?:(?-i:May)|" + "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True)) + ")"
)
# Day numbers, with English ordinals ("12th"); the month may come before or after.
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"
# So "mei" in "meiosis" is not a month. Only Latin and Arabic letters count: Thai and
# Burmese write words without spaces, so a month there runs straight into the next word.
_NOT_LETTER_BEFORE = r"(?<![a-z\u0600-\u06ff])"
_NOT_LETTER_AFTER = r"(?![a-z\u0600-\u06ff])"
_NOT_DIGIT_BEFORE = r"(?<![0-9])"
_NOT_DIGIT_AFTER = r"(?![0-9])"

_DATE_WORDS = re.compile(
    rf"{_NOT_DIGIT_BEFORE}{_DAY}(?:\s+of)?[\s,.-]*{_MONTH}{_NOT_LETTER_AFTER}"
    rf"|{_NOT_LETTER_BEFORE}{_MONTH}[\s,.-]*{_DAY}{_NOT_DIGIT_AFTER}",
    re.IGNORECASE,
)
# 12/03/2025, 12-3-25, 12.03.2025, 2025-03-12, and a day and month alone such as 12/03.
_DATE_NUMBERS = re.compile(
    rf"{_NOT_DIGIT_BEFORE}(?:"
    r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
    r"|[0-9]{1,2}[-/.][0-9]{1,2}[-/.](?:[0-9]{4}|[0-9]{2})"
    r"|[0-9]{1,2}/[0-9]{1,2}"
    rf"){_NOT_DIGIT_AFTER}(?![-./][0-9])"
)
# Each match starts where a run of its characters starts (the lookbehind), and a URL's
# scheme is at most 32 characters: otherwise a long run with no "@" or "://" is scanned
# again from each of its characters, and 10,000 of them cost seconds per preview.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TLDS = (
    "com|org|net|info|biz|io|me|co|app|gov|edu|int|ngo|ly|tv|xyz|online|site|"
    "th|my|mm|ir|af|id|bd|pk|in|lk|np|kh|la|vn|ph|sg|au|nz|uk|us|ca|de|fr|ch|nl|se|eu"
)
_URL = re.compile(
    r"(?:[a-z][a-z0-9+.-]{0,31}://|www\.)\S+"
    rf"|(?<![\w@.-])(?:[a-z0-9-]+\.)+(?:{_TLDS})(?:/\S*)?(?![\w-])",
    re.IGNORECASE,
)
# A phone number: digits in groups, perhaps with a leading + or a bracketed area code.
# Commas are not separators (10,000,000 is a count) and slashes make dates, not phones.
_PHONE = re.compile(
    rf"{_NOT_DIGIT_BEFORE}(?:\+|00)?\(?[0-9]{{1,4}}\)?(?:[ .-]?\(?[0-9]{{1,5}}\)?){{2,6}}"
    rf"{_NOT_DIGIT_AFTER}"
)
_YEAR_RANGE = re.compile(r"(?:1[89]|20)[0-9]{2}\s*[-\u2013]\s*(?:1[89]|20)?[0-9]{2}")
# A run of digits, or a code mixing them with letters and hyphens (A1234567, 354-12C01234).
_CODE = re.compile(r"[a-z0-9][a-z0-9/-]*", re.IGNORECASE)
MIN_ID_DIGITS = 6
MIN_PHONE_DIGITS = 7


def latin_digits(text: str) -> str:
    """The text with every decimal digit (Persian, Burmese, Thai, …) as 0-9, same length."""
    return "".join(
        str(unicodedata.digit(ch)) if ch > "\x7f" and unicodedata.category(ch) == "Nd" else ch
        for ch in text
    )


def _blank(text: str, match: re.Match[str]) -> str:
    """Cover what a check found, so a later check does not find it again as another kind."""
    start, end = match.span()
    return text[:start] + " " * (end - start) + text[end:]


def identifying_details(text: str) -> tuple[str, ...]:
    """The kinds of identifying detail (see KINDS) the text seems to hold, in KINDS order."""
    work = latin_digits(unicodedata.normalize("NFC", text))
    found: set[str] = set()
    for kind, pattern in (
        ("email", _EMAIL),
        ("url", _URL),
        ("date", _DATE_WORDS),
        ("date", _DATE_NUMBERS),
    ):
        for match in list(pattern.finditer(work)):
            found.add(kind)
            work = _blank(work, match)
    for match in list(_YEAR_RANGE.finditer(work)):
        work = _blank(work, match)
    for match in list(_PHONE.finditer(work)):
        digits = sum(ch.isdigit() for ch in match.group())
        grouped = not match.group().isdigit()
        if digits >= MIN_PHONE_DIGITS and (grouped or match.group().startswith("+")):
            found.add("phone")
            work = _blank(work, match)
    if any(sum(ch.isdigit() for ch in code) >= MIN_ID_DIGITS for code in _CODE.findall(work)):
        found.add("id_number")
    return tuple(kind for kind in KINDS if kind in found)
