"""The checks that warn a member, before they submit, about details that identify people."""

from __future__ import annotations

import pytest

from statements.text.checks import KINDS, identifying_details, latin_digits


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # Phone numbers, as people write them.
        ("Call me on +60 12-345 6789 after dark.", ("phone",)),
        ("His number is 012 345 6789", ("phone",)),
        ("(03) 2141 5678 is the office", ("phone",)),
        ("+66812345678", ("phone",)),
        ("โทร ๐๘๑-๒๓๔-๕๖๗๘ ได้เลย", ("phone",)),
        ("شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است", ("phone",)),
        ("ဖုန်း ၀၉-၄၅၆ ၇၈၉ ၁၂၃", ("phone",)),
        # Email addresses.
        ("write to aung.min+ngo@example.org please", ("email",)),
        ("مکاتبه: refugee_group@mail.co.uk", ("email",)),
        # Web addresses.
        ("See https://example.org/our-village for photos", ("url",)),
        ("our page www.facebook.com/groupname", ("url",)),
        ("on facebook.com/some.person", ("url",)),
        ("the site refugeevoices.org has it", ("url",)),
        # Long numbers: ID cards, UNHCR case numbers, passports.
        ("My card is 123456789012", ("id_number",)),
        ("UNHCR case 354-12C01234", ("id_number",)),
        ("เลขบัตร ๑๒๓๔๕๖๗๘๙๐๑๒๓", ("id_number",)),
        ("شماره پرونده ۱۲۳۴۵۶۷۸", ("id_number",)),
        ("ကတ်နံပါတ် ၁၂၃၄၅၆၇၈", ("id_number",)),
        # Dates of specific days, in words and in numbers, in several languages.
        ("They came on 12 March and took him.", ("date",)),
        ("on March 12th, at the camp", ("date",)),
        ("the raid of 3rd of June", ("date",)),
        ("On 5 May the police came", ("date",)),
        ("12/03/2025 was the day", ("date",)),
        ("since 2025-03-12", ("date",)),
        ("on 12.3.25 at night", ("date",)),
        ("arrested 12/03", ("date",)),
        ("pada 12 Ogos kami ditahan", ("date",)),
        ("เมื่อวันที่ 12 มีนาคมที่ผ่านมา", ("date",)),
        ("เมื่อวันที่ ๑๒ มีนาคม", ("date",)),
        ("در ۱۲ فروردین آمدند", ("date",)),
        ("روز ۳ مارس", ("date",)),
        ("မတ် ၁၂ ရက်နေ့", ("date",)),
        ("۱۲/۰۳/۲۰۲۵", ("date",)),
        # Several at once come back in a fixed order.
        (
            "On 12 March call +60 12-345 6789 or mail a@b.org, see b.org, case 12345678",
            ("phone", "email", "url", "id_number", "date"),
        ),
    ],
)
def test_identifying_details_are_found(text: str, kinds: tuple[str, ...]) -> None:
    assert identifying_details(text) == kinds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Refugees must have the right to work.",
        "More than 10,000 people are held; 1,250,000 live without papers.",
        "Between 2015-2020 detention doubled.",
        "In 2024, 3 in 10 children were out of school.",
        "Three people may be detained at any time.",
        "1 may hope for better",
        "Section 4.2 of the law, paragraph 12",
        "The meiosis of policy; mayday; marching on.",
        "e.g. this, i.e. that.",
        "ผู้ลี้ภัยต้องมีสิทธิทำงาน",
        "پناهندگان باید حق کار داشته باشند.",
        "ဒုက္ခသည်များ အလုပ်လုပ်ခွင့် ရှိရမည်။",
        "Pelarian mesti dibenarkan bekerja.",
        "In March, many were moved.",
    ],
)
def test_ordinary_text_raises_no_warning(text: str) -> None:
    assert identifying_details(text) == ()


def test_every_digit_set_reads_as_latin_digits_without_moving_the_text() -> None:
    samples = {"۰۱۲۳۴۵۶۷۸۹": "0123456789", "٠١٢٣": "0123", "၀၁၂၃": "0123", "๐๑๒๓": "0123"}
    for digits, latin in samples.items():
        assert latin_digits(digits) == latin
        assert latin_digits("a" + digits + "b") == "a" + latin + "b"
    assert latin_digits("no digits") == "no digits"


def test_kinds_are_the_ones_the_warning_can_name() -> None:
    assert set(KINDS) == {"phone", "email", "url", "id_number", "date"}
