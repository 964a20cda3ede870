"""Attacks on the newest safety features: each test here failed before its fix."""

from __future__ import annotations

import time

import pytest

from statements.drafting.contributions import MAX_CONTRIBUTION
from statements.text_checks import identifying_details

# Text a member may preview (the form allows MAX_CONTRIBUTION characters) that made the
# e-mail and URL patterns rescan a run from each of its characters: seconds of CPU each.
HOSTILE = {
    "letters": "a" * MAX_CONTRIBUTION,
    "dotted": "a." * (MAX_CONTRIBUTION // 2),
    "hyphenated digits": "1-" * (MAX_CONTRIBUTION // 2),
    "letters and digits": "a1" * (MAX_CONTRIBUTION // 2),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_identifying_detail_check_takes_linear_time_on_hostile_text(text: str) -> None:
    started = time.perf_counter()
    found = identifying_details(text)
    elapsed = time.perf_counter() - started
    # About 0.02 s once linear; over a second while quadratic.
    assert elapsed < 0.4, f"{elapsed:.2f} s"
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
