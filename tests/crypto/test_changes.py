"""The signed summary of changes (bundle format 2), held to the truth."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crypto.changes import ChangesError, compare, make_changes, read_changes

V1: dict[str, Any] = {
    "version": 1,
    "status": "published",
    "signatories": [
        {"name": "A", "country": ""},
        {"name": "B", "country": "Thailand"},
    ],
    "anonymous_signatories": 2,
}


def _next(signatories: list[dict[str, str]], anonymous: int, **kw: Any) -> dict[str, Any]:
    statement = {
        "version": 2,
        "status": kw.pop("status", "corrected"),
        "signatories": signatories,
        "anonymous_signatories": anonymous,
    }
    statement.update(
        make_changes(
            V1, status=statement["status"], signatories=signatories, anonymous=anonymous, **kw
        )
    )
    return statement


def test_a_true_summary_passes_and_a_lying_one_fails() -> None:
    v2 = _next([{"name": "B", "country": "Thailand"}, {"name": "C", "country": ""}], 5, reason="r")
    assert compare(V1, v2) == []
    changes = read_changes(v2)
    assert changes.added == (("C", ""),)
    assert changes.removed == (("A", ""),)
    assert (changes.anonymous_before, changes.anonymous_after) == (2, 5)
    for mutate in (
        lambda s: s["changes"].update(signatories_removed=[]),
        lambda s: s["changes"].update(anonymous_before=7),
        lambda s: s["changes"].update(removed_for_safety=1),
    ):
        lying = copy.deepcopy(v2)
        mutate(lying)
        assert compare(V1, lying)


def test_safety_removals_are_counted_not_named() -> None:
    v2 = _next([{"name": "B", "country": "Thailand"}], 2, reason="safety", for_safety=True)
    assert v2["changes"]["signatories_removed"] == []
    assert v2["changes"]["removed_for_safety"] == 1
    assert "A" not in str(v2["changes"])
    assert compare(V1, v2) == []


def test_bad_shapes_and_missing_reasons_are_refused() -> None:
    with pytest.raises(ChangesError):
        make_changes(V1, status="corrected", signatories=[], anonymous=0, reason="  ")
    v2 = _next([], 0, reason="r")
    for mutate in (
        lambda s: s.update(reason=""),
        lambda s: s.update(status="published"),
        lambda s: s["changes"].update(previous_version=5),
        lambda s: s["changes"].update(removed_for_safety=-1),
        lambda s: s["changes"].update(signatories_added=[{"name": "Z", "country": ""}]),
        lambda s: s["changes"].pop("anonymous_before"),
        lambda s: s["changes"].update(signatories_removed=[{"name": 3, "country": ""}]),
    ):
        broken = copy.deepcopy(v2)
        mutate(broken)
        with pytest.raises(ChangesError):
            read_changes(broken)
