"""The layering the design promises: crypto/ is pure, services know nothing of the web,
and the drafting service's modules are layered, none importing one that imports it."""

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


# Service modules not named service.py: the publishing service's other capabilities, and
# the members' anonymous writes, which the app wires in through statements/mixing.py.
NAMED_SERVICES = (
    "publishing/endorsements.py",
    "publishing/signing_keys.py",
    "writes.py",
    "write_apply.py",
    "write_queues.py",
    "mixer.py",
)


@pytest.mark.parametrize("name", NAMED_SERVICES)
def test_other_service_modules_do_not_import_flask(name: str) -> None:
    path = ROOT / "statements" / name
    assert path.is_file()
    assert not {module for module in _imports(path) if module.startswith("flask")}


DRAFTING = ROOT / "statements" / "drafting"
# The web side of the drafting package; every other module of it is the service.
DRAFTING_WEB = {"__init__.py", "forms.py"}  # and the views/ package, which glob skips
DRAFTING_SERVICE = sorted(p for p in DRAFTING.glob("*.py") if p.name not in DRAFTING_WEB)


@pytest.mark.parametrize("path", DRAFTING_SERVICE, ids=lambda p: p.name)
def test_drafting_service_modules_do_not_import_flask(path: Path) -> None:
    assert not {name for name in _imports(path) if name.startswith("flask")}


def _drafting_imports(path: Path) -> set[str]:
    """The modules of the drafting package that a module imports, wherever it does so."""
    package = "statements.drafting"
    modules = {p.stem for p in DRAFTING.glob("*.py")}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            # "from statements.drafting import rooms" imports the module rooms.
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            if parts[:2] == ["statements", "drafting"] and len(parts) > 2 and parts[2] in modules:
                found.add(parts[2])
    found.discard(path.stem)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in graph, as the modules along it, or None."""
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> list[str] | None:
        if module in trail:
            return [*trail[trail.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*trail, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle:
            return cycle
    return None


def test_drafting_service_modules_import_each_other_without_a_cycle() -> None:
    graph = {path.stem: _drafting_imports(path) for path in DRAFTING_SERVICE}
    # The check sees the imports: moderation builds on contributions, which build on access.
    assert "contributions" in graph["moderation"]
    assert "access" in graph["contributions"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def _full_imports(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


FEATURES = ("auth", "admin", "drafting", "publishing", "main")


@pytest.mark.parametrize("feature", FEATURES)
def test_features_never_import_each_others_views(feature: str) -> None:
    others = [f"statements.{other}.views" for other in FEATURES if other != feature]
    for path in sorted((ROOT / "statements" / feature).rglob("*.py")):
        imported = _full_imports(path)
        wrong = sorted(name for name in imported for view in others if name.startswith(view))
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"


TEXT_TOOLS = sorted((ROOT / "statements" / "text").glob("*.py"))


@pytest.mark.parametrize("path", TEXT_TOOLS, ids=lambda p: p.name)
def test_the_shared_text_tools_know_no_feature_and_no_web(path: Path) -> None:
    """Markdown, diffs, cleaning and checks serve every feature, so depend on none."""
    imported = _full_imports(path)
    assert not {name for name in imported if name.startswith("flask")}
    features = tuple(f"statements.{feature}" for feature in FEATURES)
    assert not {name for name in imported if name.startswith(features)}


def test_the_view_checks_see_imports() -> None:
    imported = _full_imports(ROOT / "statements" / "publishing" / "views.py")
    assert "statements.pages" in imported
    assert len(TEXT_TOOLS) >= 4
