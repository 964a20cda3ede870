"""Draft versions: a coordinator's edit never overwrites another's."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statements.auth.service import Identity
from statements.drafting import service as drafting
from statements.drafting.errors import MergeNeeded
from tests.support import app_today, staff_identity


def test_two_coordinators_never_overwrite_each_other(
    app: Flask, session: Session, coordinator: Identity, room_id: str
) -> None:
    second = staff_identity(app, session, "second")
    drafting.add_coordinator(session, drafting.open_room(session, room_id, coordinator), "second")
    first_access = drafting.open_room(session, room_id, coordinator)
    second_access = drafting.open_room(session, room_id, second)
    base = drafting.version(session, first_access).markdown
    drafting.edit_draft(
        session, first_access, base + "\nFirst coordinator.\n", "One", 1, app_today()
    )
    # Both added a paragraph at the same place: the merge is shown, never saved unseen.
    with pytest.raises(MergeNeeded) as conflict:
        drafting.edit_draft(
            session, second_access, base + "\nSecond coordinator.\n", "Two", 1, app_today()
        )
    assert conflict.value.number == 2
    assert "First coordinator." in conflict.value.merge.merged
    assert "Second coordinator." in conflict.value.merge.merged
    assert "First coordinator." in drafting.version(session, second_access).markdown
