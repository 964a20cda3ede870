"""The stylesheet keeps any word people type from widening the page on a phone.

The browser check (tests/browser/test_long_words.py) measures it in Chromium; this one
reads the stylesheet and the base template, so it runs everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STYLE = (ROOT / "statements/static/style.css").read_text(encoding="utf-8")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
# Where whole words are kept on purpose: tables scroll, commands stay on their lines.
KEEPS_WORDS_WHOLE = {"main table", "pre.command code"}


def _rules() -> list[tuple[list[str], dict[str, str]]]:
    text = re.sub(r"/\*.*?\*/", "", STYLE, flags=re.DOTALL)
    # Media queries hold their own rules: only the top level matters here.
    text = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", text)
    rules = []
    for selectors, body in _RULE.findall(text):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        rules.append(([s.strip() for s in selectors.split(",")], declarations))
    return rules


def test_everything_in_main_wraps_long_words() -> None:
    assert any(
        "main" in selectors and declarations.get("overflow-wrap") == "anywhere"
        for selectors, declarations in _rules()
    )


def test_nothing_user_written_is_set_back_to_whole_words() -> None:
    for selectors, declarations in _rules():
        if declarations.get("overflow-wrap") in ("normal", "break-word"):
            assert set(selectors) <= KEEPS_WORDS_WHOLE, selectors
        if declarations.get("word-break") == "keep-all" or declarations.get("white-space") in (
            "nowrap",
            "pre",
        ):
            # Only what no one types: dates, commands, the visually hidden helper.
            assert set(selectors) <= {"time.date", "pre.command", ".visually-hidden"}, selectors


def test_every_page_s_content_is_inside_main() -> None:
    base = (ROOT / "templates/base.html").read_text(encoding="utf-8")
    main = base.index("<main")
    assert main < base.index("{% block main %}") < base.index("</main>")
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        blocks = set(re.findall(r"{%-?\s*block\s+(\w+)", text))
        if template.name in ("base.html", "_layout.html"):
            continue  # the layouts: their header and notices hold no user text
        # A page fills its tab title, links in <head>, and main (or the room, inside it).
        assert blocks <= {"title", "head", "main", "room"}, (template, blocks)
