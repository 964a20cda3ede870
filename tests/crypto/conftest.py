"""Fixtures shared by the crypto tests (which need no app)."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def minisign_tool() -> str:
    """The real minisign binary.

    CI installs it, and there a missing tool is a failure; on a developer's machine
    without it the interoperability tests are reported as skipped, with how to fix it,
    so `make test` still works on a machine that has only Python and make.
    """
    path = shutil.which("minisign")
    if path is None:
        message = (
            "the minisign binary is required for the interoperability tests: "
            "install it (Debian/Ubuntu: apt-get install minisign); CI does"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path
