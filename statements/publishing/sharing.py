"""What a statement looks like where it is shared: its description, its card's words.

No flask here: the views (share_views.py) and the statement page call these.
"""

from __future__ import annotations

import gettext
import html
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

# Messengers show about two lines of a description; search engines cut near 160.
DESCRIPTION_CHARS = 200
ELLIPSIS = "…"

# Raw HTML stays text, as on the page; only the words matter here.
_MD = MarkdownIt("commonmark", {"html": False})


def _plain(inline: Token) -> str:
    """The words of an inline token: text, code, link text and image descriptions."""
    words: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
        elif child.type == "image":
            words.append(_plain(child))
    return "".join(words)


def first_paragraph(markdown: str, limit: int = DESCRIPTION_CHARS) -> str:
    """A statement's first paragraph as plain text on one line, cut at a word to `limit`.

    A text with no paragraph (only headings or lists) gives its first words of any kind.
    """
    tokens = _MD.parse(markdown)
    inlines = [
        tokens[index + 1]
        for index, token in enumerate(tokens[:-1])
        if token.type == "paragraph_open" and tokens[index + 1].type == "inline"
    ] or [token for token in tokens if token.type == "inline"]
    text = ""
    for inline in inlines:
        text = " ".join(_plain(inline).split())
        if text:
            break
    return shorten(text, limit)


def shorten(text: str, limit: int) -> str:
    """Text of at most `limit` characters, cut at a space when there is one, marked with …"""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-\u2013\u2014\u060c\u061b") + ELLIPSIS


def embed_code(embed_url: str, title: str) -> str:
    """The HTML another site pastes to show a statement's embed page (escaped here; the
    page escapes it once more to show it as text)."""
    return (
        f'<iframe src="{html.escape(embed_url)}" title="{html.escape(title)}" '
        'width="100%" height="360" style="border:0" loading="lazy"></iframe>'
    )


def og_locale(language: str) -> str:
    """A statement's language as Open Graph writes a locale: fa_AF, not fa-AF."""
    parts = language.replace("-", "_").split("_")
    return "_".join([parts[0].lower(), *(part.upper() for part in parts[1:])])


def card_words(
    statement: Mapping[str, Any], network_name: str, words: gettext.NullTranslations
) -> tuple[str, str]:
    """The card's title and name line, in the statement's language (`words` is its
    catalogue): a card is shared onwards as it is, like the PDF."""
    title = str(statement["title"])
    if statement["status"] == "retracted":
        title = words.gettext("Retracted: %(title)s") % {"title": title}
    return title, network_name or words.gettext("Joint statements")
