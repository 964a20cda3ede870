"""The words of a statement as forwarded: one comparison key for Markdown, page, PDF, Word."""

from __future__ import annotations

import pytest

from crypto import plaintext

MARKDOWN = """\
# Refugees must be allowed to work

We call on **the government** to let refugees work, as the
[1951 Convention](https://example.org/convention) asks of it.

1. Issue work permits.
2. End the arrests at work\\*.

> Nobody is safe until everybody is safe &amp; free.

```text
keep = this_code
```

[ref]: https://example.org/hidden
"""

# As a reader copies it from the page, and as the PDF gives it back (wrapped lines,
# numbers, a printed link target, the page number already gone).
FROM_THE_PAGE = (
    "Refugees must be allowed to work\nWe call on the government to let refugees work, as "
    "the 1951 Convention asks of it.\nIssue work permits.\nEnd the arrests at work*.\n"
    "Nobody is safe until everybody is safe & free.\nkeep = this_code"
)
FROM_THE_PDF = (
    "Refugees must be allowed to work\nWe call on the government to let refugees\nwork, as "
    "the 1951 Convention (https://example.org/convention) asks of it.\n1. Issue work "
    "permits.\n2. End the arrests at work*.\nNobody is safe until everybody is safe &\n"
    "free.\nkeep = this_code"
)


def test_markdown_becomes_what_a_reader_sees() -> None:
    text = plaintext.markdown_text(MARKDOWN)
    assert text.split("\n\n") == [
        "Refugees must be allowed to work",
        "We call on the government to let refugees work, as the 1951 Convention asks of it.",
        "Issue work permits.",
        "End the arrests at work*.",
        "Nobody is safe until everybody is safe & free.",
        "keep = this_code",
    ]


@pytest.mark.parametrize("forwarded", [FROM_THE_PAGE, FROM_THE_PDF, MARKDOWN])
def test_every_forwarded_form_has_the_statement_s_key(forwarded: str) -> None:
    assert plaintext.statement_key(MARKDOWN) in plaintext.forwarded_keys(forwarded)


@pytest.mark.parametrize(
    "changed",
    [
        FROM_THE_PAGE.replace("Issue", "Refuse"),
        FROM_THE_PAGE.replace("1951", "1967"),
        FROM_THE_PAGE.replace("safe & free", "safe"),
    ],
)
def test_a_changed_word_or_number_changes_the_key(changed: str) -> None:
    key = plaintext.statement_key(MARKDOWN)
    for forwarded in plaintext.forwarded_keys(changed):
        assert plaintext.compare(key, forwarded) is None


def test_unicode_forms_and_invisible_characters_do_not_count() -> None:
    composed = "Réfugiés: نوشته\u200cها and ﬁnal words for the test of a long enough text"
    decomposed = "Re\u0301fugie\u0301s: نوشتهها and final words for the test of a long enough text"
    assert plaintext.forwarded_key(composed) == plaintext.forwarded_key(decomposed)


def test_whole_excerpt_and_minimum_length() -> None:
    key = plaintext.statement_key(MARKDOWN)
    whole = plaintext.compare(key, plaintext.forwarded_key("Title\n" + FROM_THE_PAGE + "\nPage 1"))
    assert whole == plaintext.Match("whole", extra=True)
    exact = plaintext.compare(key, plaintext.forwarded_key(FROM_THE_PAGE))
    assert exact == plaintext.Match("whole", extra=False)
    passage = "We call on the government to let refugees work, as the 1951 Convention asks"
    assert plaintext.compare(key, plaintext.forwarded_key(passage)) == plaintext.Match(
        "excerpt", extra=False
    )
    # A few words are in too many texts to say anything.
    assert plaintext.compare(key, plaintext.forwarded_key("let refugees work")) is None
    assert plaintext.compare("", "") is None


def test_a_contained_text_shares_its_sampled_stretches() -> None:
    key = plaintext.statement_key(MARKDOWN)
    part = plaintext.forwarded_key("We call on the government to let refugees work, as the")
    assert plaintext.shingles(part)
    assert plaintext.shingles(part) <= plaintext.shingles(key)


def test_word_changes_show_what_differs() -> None:
    lines = plaintext.word_changes("pay rent and food now", "pay rent, food and bribes now")
    assert lines == [
        "  ...pay",
        "- rent",
        "+ rent, food",
        "  ...pay rent and",
        "- food",
        "+ bribes",
    ]
