"""Statement drafts as Markdown: safe rendering, and sections with anchors that last.

A draft is cut into top-level blocks (a heading, a paragraph, a list, a quotation...).
Each block carries an anchor that stays the same from one version to the next while the
block is recognisably the same, so contributions and comments can point at a section.
"""

from __future__ import annotations

import difflib
import json
import re
import secrets
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import ceil

# bleach ships no type information, and the dev dependencies do not list types-bleach.
import bleach  # type: ignore[import-untyped]
from bleach.linkifier import LinkifyFilter  # type: ignore[import-untyped]
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from statements.text.diff import Budget, matched, opcodes

# \Z rather than $: "$" also matches before a trailing newline, which would let
# "s-0123abcd\n" through wherever the pattern is used with .match().
ANCHOR_PATTERN = re.compile(r"^s-[0-9a-f]{8}\Z")

# A replaced block keeps its anchor only if it is at least this similar to the old one.
SIMILAR_ENOUGH = 0.5

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "code", "pre",
        "blockquote", "ul", "ol", "li", "a", "hr",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"


@dataclass(frozen=True)
class Section:
    """One top-level block of a draft and its stable anchor."""

    anchor: str
    markdown: str


class _Renderer(RendererHTML):
    """HTML renderer that shows an image as its alt text."""

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """Render an image as its escaped alt text, so a draft never makes a reader fetch it."""
        # An <img> would make every reader's browser request a URL chosen by whoever
        # wrote the draft: a tracking pixel that can unmask anonymous members.
        children = tokens[idx].children or []
        return escapeHtml(self.renderInlineAsText(children, options, env))


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False}, renderer_cls=_Renderer)
    # html=False already turns raw HTML into text; disabling the rules says so twice.
    return md.disable(["html_block", "html_inline"])


# The parser holds no per-document state once configured, so one is shared.
_MD = _parser()


# bleach passes attributes keyed by (namespace, name), plus the link text under "_text".
_LinkAttributes = dict[tuple[str | None, str] | str, str]


def _link_attributes(attrs: _LinkAttributes, is_new: bool) -> _LinkAttributes | None:
    """Give every link the rel values; drop links without a target, and bare domains."""
    href = attrs.get((None, "href"))
    if not href:
        # The sanitizer removed a forbidden href (javascript:, data:): keep only the text.
        return None
    if is_new and not attrs.get("_text", "").lower().startswith(("http://", "https://")):
        # Linkify also matches bare names such as "policy.md" or "unhcr.org"; in a
        # statement those are words, not links, unless the author wrote the scheme.
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


def render(markdown: str) -> str:
    """Markdown to safe HTML."""
    html = _MD.render(markdown)
    # bleach is the second wall, in case the parser ever lets something through.
    # A Cleaner keeps parser state, so each call gets its own (bleach: not thread-safe).
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[_linkify_filter],
    )
    cleaned: str = cleaner.clean(html)
    return cleaned


def tokens(markdown: str) -> list[Token]:
    """The parser's tokens of a text, for renderers other than HTML (the Word document).

    The same parser as render(): raw HTML is text, and an image is only its alt text for
    whoever renders it. Links are whatever the author wrote; the renderer keeps only
    http, https and mailto targets, as render() does.
    """
    return _MD.parse(_normalise_newlines(markdown))


def _linkify_filter(source: Iterable[object]) -> LinkifyFilter:
    return LinkifyFilter(
        source=source,
        callbacks=[_link_attributes],
        skip_tags=["pre", "code"],
        parse_email=False,
    )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_sections(markdown: str) -> list[str]:
    """Split a document into its top-level blocks, each kept as verbatim Markdown source."""
    text = _normalise_newlines(markdown)
    lines = text.split("\n")
    spans: list[tuple[int, int]] = []
    for token in _MD.parse(text):
        if token.level == 0 and token.nesting >= 0 and token.map is not None:
            start, end = token.map
            spans.append((start, end))
    blocks: list[str] = []
    covered = 0
    for start, end in spans:
        # Lines no block claims (link reference definitions) are kept as a block of their
        # own, so joining the sections again loses nothing the author wrote.
        _append_block(blocks, lines[covered:start])
        _append_block(blocks, lines[start:end])
        covered = max(covered, end)
    _append_block(blocks, lines[covered:])
    return blocks


def _append_block(blocks: list[str], lines: Sequence[str]) -> None:
    # Only the end is stripped: leading spaces matter (indented code), and trailing
    # spaces inside a block are a hard line break.
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    block = "\n".join(lines[start:]).rstrip()
    if block:
        blocks.append(block)


def _fresh_anchor(taken: set[str]) -> str:
    while True:
        anchor = "s-" + secrets.token_hex(4)
        if anchor not in taken:
            taken.add(anchor)
            return anchor


def _similar(old: str, new: str, budget: Budget) -> bool:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    # The quick upper bounds save the costly comparison for blocks that cannot pass.
    if matcher.real_quick_ratio() < SIMILAR_ENOUGH or matcher.quick_ratio() < SIMILAR_ENOUGH:
        return False
    # Letter by letter while the shared budget allows; a long block, whose letters repeat
    # thousands of times, word by word, which costs far less; else it is not the same.
    old_items: Sequence[str] = old
    new_items: Sequence[str] = new
    for _attempt in range(2):
        refused = budget.refused
        total = len(old_items) + len(new_items)
        enough = ceil(SIMILAR_ENOUGH * total / 2)
        same = matched(old_items, new_items, budget, enough=enough)
        if budget.refused == refused:
            return 2 * same >= SIMILAR_ENOUGH * total
        old_items, new_items = old.split(), new.split()
    return False


def assign_anchors(
    previous: Sequence[Section], new_blocks: Sequence[str], budget: Budget | None = None
) -> list[Section]:
    """Anchor each new block, keeping the anchor of its match in the previous version.

    The comparisons share one budget (diff.Budget): past it, a block that changed keeps
    its anchor only if it is unchanged at its start and end, or moved whole.
    """
    budget = budget if budget is not None else Budget()
    old_texts = [section.markdown for section in previous]
    taken = {section.anchor for section in previous}
    used: set[str] = set()
    anchors: list[str | None] = [None] * len(new_blocks)

    def keep(j: int, anchor: str) -> None:
        # A malformed previous version may repeat an anchor; only its first use counts.
        if anchor not in used:
            used.add(anchor)
            anchors[j] = anchor

    for tag, i1, i2, j1, j2 in opcodes(old_texts, list(new_blocks), budget, autojunk=False):
        if tag == "equal":
            for offset in range(i2 - i1):
                keep(j1 + offset, previous[i1 + offset].anchor)
        elif tag == "replace":
            for offset in range(min(i2 - i1, j2 - j1)):
                if _similar(old_texts[i1 + offset], new_blocks[j1 + offset], budget):
                    keep(j1 + offset, previous[i1 + offset].anchor)

    # A block moved elsewhere shows up as a deletion plus an insertion; give it back
    # its anchor so what pointed at it still does.
    unclaimed: dict[str, deque[str]] = {}
    for section in previous:
        if section.anchor not in used:
            unclaimed.setdefault(section.markdown, deque()).append(section.anchor)
    for j, block in enumerate(new_blocks):
        candidates = unclaimed.get(block)
        while anchors[j] is None and candidates:
            keep(j, candidates.popleft())

    # Every anchor kept came from the previous version, so `taken` holds them all, and
    # _fresh_anchor adds each new one to it: one set, not a copy per block.
    sections = []
    for j, block in enumerate(new_blocks):
        anchor = anchors[j]
        if anchor is None:
            anchor = _fresh_anchor(taken)
            used.add(anchor)
        sections.append(Section(anchor=anchor, markdown=block))
    return sections


def sections_from_markdown(markdown: str, previous: Sequence[Section] = ()) -> list[Section]:
    """split_sections + assign_anchors."""
    return assign_anchors(previous, split_sections(markdown))


def join_sections(sections: Sequence[Section]) -> str:
    """The document again: blocks separated by one blank line, ending with a newline."""
    if not sections:
        return ""
    return "\n\n".join(section.markdown for section in sections) + "\n"


def sections_to_json(sections: Sequence[Section]) -> str:
    """Sections as a JSON list of {"anchor", "markdown"} objects."""
    return json.dumps(
        [{"anchor": section.anchor, "markdown": section.markdown} for section in sections]
    )


def sections_from_json(text: str) -> list[Section]:
    """Sections back from sections_to_json; ValueError if the JSON is not such a list."""
    try:
        data = json.loads(text)
    except RecursionError as exc:  # deeply nested input
        raise ValueError("sections JSON is nested too deeply") from exc
    if not isinstance(data, list):
        raise ValueError("sections JSON must be a list")
    sections = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        if not isinstance(item, dict) or set(item) != {"anchor", "markdown"}:
            raise ValueError(f"section {index} must have exactly 'anchor' and 'markdown'")
        anchor, markdown = item["anchor"], item["markdown"]
        if not isinstance(anchor, str) or not ANCHOR_PATTERN.match(anchor):
            raise ValueError(f"section {index} has a malformed anchor")
        if not isinstance(markdown, str):
            raise ValueError(f"section {index} has non-text markdown")
        if anchor in seen:
            raise ValueError(f"section {index} repeats anchor {anchor}")
        seen.add(anchor)
        sections.append(Section(anchor=anchor, markdown=markdown))
    return sections
