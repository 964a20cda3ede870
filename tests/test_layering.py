"""The layering the design promises: crypto/ is pure, services know nothing of the web."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "crypto").rglob("*.py")), ids=str)
def test_crypto_imports_neither_flask_nor_sqlalchemy(path: Path) -> None:
    forbidden = {"flask", "flask_login", "flask_wtf", "sqlalchemy", "statements"}
    assert not _imports(path) & forbidden


@pytest.mark.parametrize("path", sorted((ROOT / "statements").rglob("service.py")), ids=str)
def test_services_do_not_import_flask(path: Path) -> None:
    assert not {name for name in _imports(path) if name.startswith("flask")}


def test_there_are_services_to_check() -> None:
    assert list((ROOT / "statements").rglob("service.py"))
