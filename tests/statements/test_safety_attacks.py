"""Attacks on the newest safety features: each test here failed before its fix."""

from __future__ import annotations

import pytest

from statements.drafting.contributions import MAX_CONTRIBUTION
from statements.text import checks as text_checks
from statements.text.checks import identifying_details

# Text a member may preview (the form allows MAX_CONTRIBUTION characters) that made the
# e-mail and URL patterns rescan a run from each of its characters: seconds of CPU each.
HOSTILE = {
    "letters": "a" * MAX_CONTRIBUTION,
    "dotted": "a." * (MAX_CONTRIBUTION // 2),
    "hyphenated digits": "1-" * (MAX_CONTRIBUTION // 2),
    "letters and digits": "a1" * (MAX_CONTRIBUTION // 2),
}


def test_no_pattern_rescans_a_run_from_each_of_its_characters() -> None:
    """The guard that keeps the check linear, tested as what it is rather than timed (a
    timed test would be flaky): an e-mail starts only where a run of its characters
    starts, and a URL's scheme is bounded. Without either, HOSTILE costs seconds."""
    assert text_checks._EMAIL.pattern.startswith(r"(?<![\w.+-])")
    assert r"[a-z0-9+.-]{0,31}://" in text_checks._URL.pattern


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_holds_no_address(text: str) -> None:
    found = identifying_details(text)
    assert "email" not in found
    assert "url" not in found


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to x.y+z@mail.example.org now", "email"),
        ("...a.b@mail.org", "email"),
        ("see xhttps://evil.example/a", "url"),
        ("1http://10.0.0.1/x", "url"),
        ("(https://example.org)", "url"),
    ],
)
def test_what_the_faster_patterns_still_find(text: str, kind: str) -> None:
    assert kind in identifying_details(text)
