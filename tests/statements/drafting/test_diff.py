"""Word-level differences between versions, and the HTML that shows them."""

from __future__ import annotations

import difflib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statements.text.diff import (
    MAX_STEPS,
    Budget,
    Piece,
    counts,
    diff_html,
    opcodes,
    word_diff,
)


def _old(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces if piece.kind != "inserted")


def _new(pieces: list[Piece]) -> str:
    return "".join(piece.text for piece in pieces if piece.kind != "deleted")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "We call on the authorities.",
            "We call on the government.",
            [
                Piece("same", "We call on the "),
                Piece("deleted", "authorities."),
                Piece("inserted", "government."),
            ],
            id="one-word-changed",
        ),
        pytest.param(
            "End pushbacks now.",
            "End all violent pushbacks now.",
            [
                Piece("same", "End"),
                Piece("inserted", " all violent"),
                Piece("same", " pushbacks now."),
            ],
            id="words-inserted",
        ),
        pytest.param(
            "End all violent pushbacks now.",
            "End pushbacks now.",
            [
                Piece("same", "End"),
                Piece("deleted", " all violent"),
                Piece("same", " pushbacks now."),
            ],
            id="words-deleted",
        ),
        pytest.param(
            "a b c d",
            "a x y d",
            [
                Piece("same", "a "),
                Piece("deleted", "b c"),
                Piece("inserted", "x y"),
                Piece("same", " d"),
            ],
            id="a-phrase-replaced-is-one-change",
        ),
        pytest.param(
            "first line\nsecond line\n\nthird",
            "first line\nsecond  row\n\nthird",
            [
                Piece("same", "first line\nsecond"),
                Piece("deleted", " line"),
                Piece("inserted", "  row"),
                Piece("same", "\n\nthird"),
            ],
            id="whitespace-and-newlines-preserved",
        ),
        pytest.param(
            "old one\nold two",
            "new one\nnew two",
            [
                Piece("deleted", "old"),
                Piece("inserted", "new"),
                Piece("same", " one\n"),
                Piece("deleted", "old"),
                Piece("inserted", "new"),
                Piece("same", " two"),
            ],
            id="changes-stay-line-by-line",
        ),
        pytest.param("Same text.\n", "Same text.\n", [Piece("same", "Same text.\n")], id="same"),
        pytest.param("", "New text", [Piece("inserted", "New text")], id="empty-old"),
        pytest.param("Old text", "", [Piece("deleted", "Old text")], id="empty-new"),
        pytest.param("", "", [], id="both-empty"),
    ],
)
def test_word_diff_examples(old: str, new: str, expected: list[Piece]) -> None:
    assert word_diff(old, new) == expected


def test_counts_counts_words_not_spaces() -> None:
    pieces = word_diff("End all pushbacks now.", "End pushbacks at every border now, please.")

    # Deleted "all" and "now."; inserted "at every border now, please."
    assert counts(pieces) == (5, 2)
    assert counts(word_diff("a  b", "a b")) == (0, 0)
    assert counts([]) == (0, 0)


def test_diff_html_marks_changes_with_words_as_well_as_tags() -> None:
    html = diff_html("We call on the authorities.", "We call on the government.")

    assert html == (
        "We call on the "
        '<del><span class="visually-hidden">deleted: </span>authorities.</del>'
        '<ins><span class="visually-hidden">inserted: </span>government.</ins>'
    )


def test_diff_html_escapes_both_texts() -> None:
    html = diff_html(
        '<script>alert("old")</script> & more',
        '<script>alert("new")</script> & <b>more</b>',
    )

    assert "<script" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#34;old&#34;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#34;new&#34;)&lt;/script&gt;" in html
    assert " &amp; " in html
    assert "<del>" in html
    assert "<ins>" in html


def test_diff_html_turns_newlines_into_line_breaks() -> None:
    html = diff_html("one\r\ntwo", "one\nthree\nfour")

    assert html == (
        "one<br>"
        '<del><span class="visually-hidden">deleted: </span>two</del>'
        '<ins><span class="visually-hidden">inserted: </span>three<br>four</ins>'
    )


def test_diff_html_takes_translated_labels_and_escapes_them() -> None:
    html = diff_html("a", "b", deleted_label="supprimé : ", inserted_label="<ajouté> : ")

    assert '<span class="visually-hidden">supprimé : </span>' in html
    assert '<span class="visually-hidden">&lt;ajouté&gt; : </span>' in html


def test_diff_html_of_identical_texts_has_no_marks() -> None:
    assert diff_html("Same <text>", "Same <text>") == "Same &lt;text&gt;"


# Few distinct words and spaces, so that the two texts share a lot and the diff has work.
_TEXT = st.lists(
    st.sampled_from(["we", "call", "on", "the", "<b>", "&", "é", " ", "  ", "\n", "\t"]),
    max_size=25,
).map("".join)

_SETTINGS = settings(max_examples=50, deadline=None, database=None)


@_SETTINGS
@given(_TEXT, _TEXT)
def test_same_and_deleted_pieces_give_the_old_text(old: str, new: str) -> None:
    assert _old(word_diff(old, new)) == old


@_SETTINGS
@given(_TEXT, _TEXT)
def test_same_and_inserted_pieces_give_the_new_text(old: str, new: str) -> None:
    assert _new(word_diff(old, new)) == new


@_SETTINGS
@given(_TEXT, _TEXT)
def test_pieces_are_non_empty_and_never_two_of_a_kind_in_a_row(old: str, new: str) -> None:
    pieces = word_diff(old, new)

    assert all(piece.text for piece in pieces)
    assert all(a.kind != b.kind for a, b in itertools.pairwise(pieces))


@_SETTINGS
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_text_round_trips(old: str, new: str) -> None:
    pieces = word_diff(old, new)

    assert (_old(pieces), _new(pieces)) == (old, new)


def test_long_changed_blocks_are_shown_whole_and_still_round_trip() -> None:
    old = " ".join(f"word{n}" for n in range(4000))
    new = " ".join(f"other{n}" for n in range(4000))
    pieces = word_diff(old, new)
    assert [p.kind for p in pieces] == ["deleted", "inserted"]
    assert "".join(p.text for p in pieces if p.kind != "inserted") == old
    assert "".join(p.text for p in pieces if p.kind != "deleted") == new


def test_unchanged_lines_around_a_long_draft_stay_shared() -> None:
    lines = [f"Paragraph {n} of a long statement.\n" for n in range(3000)]
    old = "".join(lines)
    new = "".join([*lines[:1500], "Paragraph 1500 of a longer statement.\n", *lines[1501:]])
    pieces = word_diff(old, new)
    assert [p.text for p in pieces if p.kind == "inserted"] == ["longer"]
    assert [p.text for p in pieces if p.kind == "deleted"] == ["long"]


# --- bounded work ---------------------------------------------------------------------
# These assert on the work the matcher was allowed to do (Budget.spent, Budget.refused),
# never on time: the same input spends the same budget on every machine.


def _round_trips(old: str, new: str, pieces: list[Piece]) -> bool:
    return (_old(pieces), _new(pieces)) == (old, new)


def test_one_letter_changed_in_a_huge_paragraph_is_found_for_almost_nothing() -> None:
    words = " ".join(f"w{n % 97}" for n in range(40_000))
    old = words[:100_000] + "a" + words[100_001:]
    new = words[:100_000] + "b" + words[100_001:]
    budget = Budget()

    pieces = word_diff(old, new, budget)

    assert _round_trips(old, new, pieces)
    assert [p.kind for p in pieces] == ["same", "deleted", "inserted", "same"]
    assert budget.spent < 100
    assert budget.refused == 0


def test_repetitive_text_changed_at_both_ends_is_shown_coarsely_within_the_budget() -> None:
    # Every token repeats thousands of times: difflib alone would compare each with each.
    middle = " ".join(["a"] * 30_000)
    old, new = f"x {middle} y", f"z {middle} w"
    budget = Budget()

    pieces = word_diff(old, new, budget)

    assert _round_trips(old, new, pieces)
    assert budget.refused >= 1
    assert budget.spent <= MAX_STEPS


def test_many_repeated_lines_changed_at_both_ends_stay_within_the_budget() -> None:
    body = "\n\n".join(["Same paragraph."] * 20_000)
    old, new = f"First.\n\n{body}\n\nLast.", f"Opening.\n\n{body}\n\nClosing."
    budget = Budget()

    pieces = word_diff(old, new, budget)

    assert _round_trips(old, new, pieces)
    assert budget.spent <= MAX_STEPS
    # autojunk: the repeated lines anchor nothing, so the line pass cost stays linear.
    assert budget.spent < 10 * 40_000


def test_a_spent_budget_shows_the_rest_replaced_whole_never_nothing() -> None:
    old = "We call on the authorities to end detention.\n\nSecond paragraph here."
    new = "We call upon the government to end detention now.\n\nSecond paragraph there."
    budget = Budget(0)

    pieces = word_diff(old, new, budget)

    assert _round_trips(old, new, pieces)
    assert budget.spent == 0
    assert budget.refused >= 1
    # Only the shared start was found (for free); the rest is one replaced stretch,
    # across the paragraph break, that no comparison was spent on.
    deleted = [p.text for p in pieces if p.kind == "deleted"]
    assert len(deleted) == 1
    assert "authorities to end detention.\n\nSecond paragraph here." in deleted[0]


def test_within_the_budget_the_diff_is_the_same_as_without_one() -> None:
    old = "We call on the authorities.\nEnd pushbacks now.\n"
    new = "We call on the government.\nEnd all violent pushbacks now.\n"

    assert word_diff(old, new, Budget(10**9)) == word_diff(old, new)


def test_opcodes_match_difflib_when_the_budget_suffices() -> None:
    a = list("the quick brown fox jumps over the lazy dog" * 3)
    b = list("a quick brown cat jumps over a lazy dog" * 3)

    ours = opcodes(a, b, Budget(10**9), autojunk=False)
    theirs = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()

    assert _apply(a, b, ours) == b
    assert sum(i2 - i1 for tag, i1, i2, _, _ in ours if tag == "equal") == sum(
        i2 - i1 for tag, i1, i2, _, _ in theirs if tag == "equal"
    )


def _apply(a: list[str], b: list[str], codes: list[tuple[str, int, int, int, int]]) -> list[str]:
    result: list[str] = []
    for tag, i1, i2, j1, j2 in codes:
        result.extend(a[i1:i2] if tag == "equal" else b[j1:j2])
    return result
