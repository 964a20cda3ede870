"""A statement's words as a reader forwards them, and whether forwarded text matches.

People forward a statement as text copied from its page, as its PDF or as a Word file,
not as its bundle. To say which published version such a text is, both sides are brought
to one form: the statement's Markdown becomes the plain text a reader sees (no `#`, `*`,
link targets or list numbers), and both are compared as their *words*: Unicode NFKC,
with spacing, punctuation, symbols, list markers and invisible format characters left
out. So a paste from the web page, the text taken out of the PDF (wrapped lines, page
numbers, bullets, link targets printed in brackets) and a Word file all give the same
comparison key as the version's Markdown. Changing a word, a number or a letter changes
the key; changing only punctuation or spacing does not, which is why a match says "the
words match" and the bundle stays the proof of the exact text.

Pure Python, standard library only: the offline verifier (statement-verify) and the web
app use this one module, so both give the same answer for the same text.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
import zlib
from dataclasses import dataclass

# A forwarded excerpt must hold at least this many letters and digits: fewer match too
# many texts by chance ("the right to work") to say anything about one statement.
MIN_EXCERPT = 60

_NEWLINES = re.compile(r"\r\n?")
# Markdown's own syntax, line by line.
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*$")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+.*$")
_CONTAINER = re.compile(r"^(?:\s*>)+\s?")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s+|$)|\s+#+\s*$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)\s*$")
_RULE = re.compile(r"^ {0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
# A list marker at the start of a line: Markdown's (- * + 1. 1)), and what a PDF or a
# browser prints in their place (a bullet, an en dash and, in right-to-left lines taken
# out of a PDF, ".1" with the number after its dot). Escapes keep the source ASCII.
_BULLETS = "\u2022\u25e6\u25aa\u2023\u2013\u2014"
_DIGITS = "0-9\u06f0-\u06f9\u0660-\u0669"  # and the Persian and Arabic-Indic digits
_MARKER = re.compile(
    rf"^\s*(?:[-*+{_BULLETS}]\s+|[{_BULLETS}]|\(?[{_DIGITS}]{{1,9}}[.)]\s+|"
    rf"\.[{_DIGITS}]{{1,9}}(?=\S))\s*"
)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
# A link target printed after its words, as the site's PDF does: "(https://...)".
_PRINTED_TARGET = re.compile(r"\(\s*(?:https?://[^\s()]+|mailto:[^\s()]+|[^\s()@]+@[^\s()@]+)\s*\)")
# Emphasis and code delimiters, where they open or close a stretch (not inside a word:
# snake_case keeps its underscores).
_EMPHASIS = re.compile(r"(?<![\w\\])(?:[*_]{1,3}|`+)(?=\S)|(?<=\S)(?:[*_]{1,3}|`+)(?!\w)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# Escaped characters wait in the Private Use Area while the syntax is taken out.
_ESCAPED = 0xE000
_SET_ASIDE = re.compile("[\ue000-\ue07f]")


def markdown_text(markdown: str) -> str:
    """The plain text a reader sees of a statement's Markdown, one block a paragraph."""
    lines: list[str] = []
    fenced = False
    for raw in _NEWLINES.sub("\n", markdown).split("\n"):
        line = _CONTAINER.sub("", raw)
        if _FENCE.match(line):
            fenced = not fenced
            lines.append("")
            continue
        if fenced:
            lines.append(line)
            continue
        if _REFERENCE.match(line) or _RULE.match(line) or _SETEXT.match(line):
            lines.append("")
            continue
        line = _HEADING.sub(" ", line)
        if _MARKER.match(line):
            # Each list item reads as a line of its own.
            lines.append("")
            line = _MARKER.sub("", line)
        # An escaped character is text, not syntax: set aside until the syntax is gone.
        line = _ESCAPE.sub(lambda found: chr(_ESCAPED + ord(found.group(1))), line)
        line = _IMAGE.sub(r"\1", line)
        line = _LINK.sub(r"\1", line)
        line = _AUTOLINK.sub(r"\1", line)
        line = _EMPHASIS.sub("", line)
        line = _SET_ASIDE.sub(lambda found: chr(ord(found.group()) - _ESCAPED), line)
        lines.append(html.unescape(line))
    return _paragraphs("\n".join(lines))


def _paragraphs(text: str) -> str:
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(block for block in blocks if block)


def readable(text: str) -> str:
    """Forwarded text tidied for showing and diffing: NFC, no list markers or printed link
    targets, one space between words, a blank line between paragraphs."""
    text = unicodedata.normalize("NFC", _NEWLINES.sub("\n", text))
    text = "".join(char for char in text if char in "\n\t" or unicodedata.category(char) != "Cc")
    lines = [_MARKER.sub("", line) for line in text.split("\n")]
    return _paragraphs(_PRINTED_TARGET.sub(" ", "\n".join(lines)))


def key(text: str) -> str:
    """The comparison key of readable text: its letters, marks and digits, in order."""
    return "".join(char for char, _ in _keyed(text))


def _keyed(text: str) -> list[tuple[str, int]]:
    """Each character of the key, with where in `text` it comes from."""
    hidden = bytearray(len(text))
    for target in _PRINTED_TARGET.finditer(text):
        hidden[target.start() : target.end()] = b"\x01" * (target.end() - target.start())
    keyed = []
    for index, char in enumerate(text):
        if hidden[index]:
            continue
        # Character by character, so each character of the key has one place in the text.
        for folded in unicodedata.normalize("NFKC", char):
            if unicodedata.category(folded)[0] in "LMN":
                keyed.append((folded, index))
    return keyed


def around(readable_text: str, version_key: str) -> tuple[str, str]:
    """The words of a readable text before and after a version's text inside it."""
    keyed = _keyed(readable_text)
    start = "".join(char for char, _ in keyed).find(version_key)
    if start < 0 or not version_key:
        return "", ""
    first, last = keyed[start][1], keyed[start + len(version_key) - 1][1]
    before = readable_text[:first]
    after = readable_text[last + 1 :]
    # The punctuation that closes the statement's last sentence belongs to it.
    after = after.lstrip(".,;:!?)»”\"'")
    return " ".join(before.split()), " ".join(after.split())


def statement_key(markdown: str) -> str:
    """The comparison key of a statement's Markdown."""
    return key(markdown_text(markdown))


def forwarded_key(text: str) -> str:
    """The comparison key of forwarded text (a paste, or what a PDF or Word file holds)."""
    return key(readable(text))


def forwarded_keys(text: str) -> list[str]:
    """The keys to try for forwarded text: as text, and as Markdown (statement.md itself,
    or a paste of it, holds syntax a reader never sees: entities, link definitions)."""
    keys = [forwarded_key(text)]
    as_markdown = statement_key(text)
    return keys if as_markdown == keys[0] else [*keys, as_markdown]


@dataclass(frozen=True)
class Match:
    """How forwarded text stands to a version: "whole" holds all its words (perhaps with
    a title, signatories or page numbers around them), "excerpt" is a stretch of them."""

    kind: str  # "whole" | "excerpt"
    extra: bool  # whole only: the forwarded text holds words around the statement's


def compare(version_key: str, forwarded: str) -> Match | None:
    """Whether forwarded text (its key) is this version's text, whole or an excerpt."""
    if not version_key or not forwarded:
        return None
    if version_key in forwarded:
        return Match("whole", extra=len(forwarded) > len(version_key))
    if len(forwarded) >= MIN_EXCERPT and forwarded in version_key:
        return Match("excerpt", extra=False)
    return None


def shingles(text_key: str, size: int = 12, sample: int = 8) -> set[int]:
    """A sample of the key's overlapping stretches of `size` characters, as hashes.

    The sample is chosen by each stretch's own content (its hash), not by its place, so
    a text contained in another has its sampled stretches among the other's: candidates
    for a match are found by counting shared stretches, before any exact comparison.
    """
    found: set[int] = set()
    for start in range(max(0, len(text_key) - size + 1)):
        # crc32: the same on every run and machine (hash() is salted per process).
        value = zlib.crc32(text_key[start : start + size].encode("utf-8"))
        if value % sample == 0:
            found.add(value)
    return found


def word_changes(old: str, new: str, context: int = 4, most: int = 30) -> list[str]:
    """The words that differ between two texts, as "- old words" / "+ new words" lines,
    each change after a few words of what comes before it."""
    old_words, new_words = old.split(), new.split()
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    lines: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if len(lines) >= 3 * most:
            lines.append("...")
            break
        before = " ".join(old_words[max(0, i1 - context) : i1])
        lines.append(f"  ...{before}" if before else "  (start)")
        if i2 > i1:
            lines.append("- " + " ".join(old_words[i1:i2]))
        if j2 > j1:
            lines.append("+ " + " ".join(new_words[j1:j2]))
    return lines
