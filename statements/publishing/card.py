"""A statement's card: the 1200 x 630 picture messengers and social sites show beside a link.

Drawn here, from the fonts this project ships for its PDFs (static/fonts), so that sharing
a statement sends nobody to a third party, and in the statement's own script: Burmese,
Thai and the Arabic-script languages are shaped by libraqm (HarfBuzz and FriBidi) through
Pillow. A title mixing scripts (a Latin name in a Farsi title) is cut into runs, each in
the font that has its letters; lines break where ICU says a line may break, which matters
for Thai and Burmese, written without spaces between words.

Pillow, fontTools and PyICU are imported when a card is drawn, never at start-up: an idle
worker should not hold them (tests/statements/test_lazy_imports.py).

The same words give the same bytes: PNG without a timestamp or any other chunk that
would change between runs.
"""

from __future__ import annotations

import functools
import io
import itertools
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from statements.languages import RTL_LANGUAGES

if TYPE_CHECKING:
    from PIL import ImageDraw
    from PIL.ImageFont import FreeTypeFont

FONT_DIR = Path(__file__).resolve().parents[1] / "static" / "fonts"
WIDTH, HEIGHT = 1200, 630
MARGIN = 80
# The title's box: below the top band, above the network's name.
TITLE_TOP, TITLE_BOTTOM = 90, 470
NAME_BASELINE = 565
TITLE_SIZES = (68, 60, 52, 46, 40)
NAME_SIZE = 32
ELLIPSIS = "…"

BACKGROUND = (250, 248, 243)
INK = (25, 25, 25)
MUTED = (80, 80, 80)
BAND = (0, 70, 140)

# Each family's file, in the order a character looks for a font that has it. The title is
# drawn bold where the family has a bold face.
FONT_FILES: dict[str, tuple[str, str]] = {  # family -> (title file, name file)
    "sans": ("NotoSans-Bold.ttf", "NotoSans-Regular.ttf"),
    "naskh": ("NotoNaskhArabic-Bold.ttf", "NotoNaskhArabic-Regular.ttf"),
    "thai": ("NotoSansThai-Regular.ttf", "NotoSansThai-Regular.ttf"),
    "myanmar": ("NotoSansMyanmar-Regular.ttf", "NotoSansMyanmar-Regular.ttf"),
    "khmer": ("NotoSansKhmer-Regular.ttf", "NotoSansKhmer-Regular.ttf"),
    "bengali": ("NotoSansBengali-Regular.ttf", "NotoSansBengali-Regular.ttf"),
}
# The family a language's own letters are in: tried first for every character.
LANGUAGE_FAMILIES = {"th": "thai", "my": "myanmar", "km": "khmer", "bn": "bengali"}
_STRONG_RTL = frozenset({"R", "AL"})
_EDGE_NEUTRALS = " \u00a0\u200c\u200d.,;:!?-\u2013\u2014()\"'\u060c\u061b\u061f"


@dataclass(frozen=True)
class Run:
    """A piece of a line drawn with one font in one direction."""

    text: str
    font_file: str
    direction: str  # "ltr" or "rtl"


def base_language(language: str) -> str:
    """The language subtag of a tag: "fa" of "fa_AF"."""
    return language.replace("_", "-").split("-")[0].lower()


def text_direction(language: str) -> str:
    """The direction a statement in this language is written in."""
    return "rtl" if base_language(language) in RTL_LANGUAGES else "ltr"


def _families(language: str) -> list[str]:
    base = base_language(language)
    first = "naskh" if base in RTL_LANGUAGES else LANGUAGE_FAMILIES.get(base, "sans")
    return [first, *(family for family in FONT_FILES if family != first)]


@functools.cache
def font_cmap(font_file: str) -> frozenset[int]:
    """The characters a bundled font has a glyph for."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    with TTFont(FONT_DIR / font_file, lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.lru_cache(maxsize=64)
def _font(font_file: str, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT_DIR / font_file), size, layout_engine=ImageFont.Layout.RAQM)


def _is_neutral(char: str) -> bool:
    """Spaces, digits, punctuation and marks: they go with the run they sit in."""
    category = unicodedata.category(char)
    return category[0] in "ZPNSM" or category in ("Cf", "Cc")


def _run_direction(text: str, base: str) -> str:
    kinds = {unicodedata.bidirectional(char) for char in text}
    if kinds & _STRONG_RTL:
        return "rtl"
    if "L" in kinds:
        return "ltr"
    return base


def runs(text: str, language: str, *, title: bool = True) -> list[Run]:
    """Text cut into runs of one font each (logical order), for this language."""
    families = _families(language)
    files = [FONT_FILES[family][0 if title else 1] for family in families]
    base = text_direction(language)
    pieces: list[tuple[str, str]] = []  # (font file, text)
    for char in text:
        point = ord(char)
        current = pieces[-1][0] if pieces else None
        if current is not None and _is_neutral(char) and point in font_cmap(current):
            chosen = current
        else:
            chosen = next((file for file in files if point in font_cmap(file)), files[0])
        if pieces and pieces[-1][0] == chosen:
            pieces[-1] = (chosen, pieces[-1][1] + char)
        else:
            pieces.append((chosen, char))
    cut: list[Run] = []
    for file, piece in pieces:
        direction = _run_direction(piece, base)
        if direction == base:
            cut.append(Run(piece, file, direction))
            continue
        # Spaces and punctuation at the edges of a run against the line's direction
        # belong to the line (the bidi algorithm's rule for neutrals between directions).
        core = piece.strip(_EDGE_NEUTRALS)
        start = piece.index(core) if core else len(piece)
        for text, its in (
            (piece[:start], base),
            (core, direction),
            (piece[start + len(core) :], base),
        ):
            if text:
                cut.append(Run(text, file, its))
    return cut


def _visual(line: Sequence[Run], base: str) -> list[Run]:
    """The runs in the order they are drawn from the start edge: runs against the line's
    direction are reversed as a group (the two levels of the bidi algorithm that titles
    need; within a run, libraqm applies the whole algorithm)."""
    ordered: list[Run] = []
    group: list[Run] = []
    for run in line:
        if run.direction != base:
            group.append(run)
            continue
        ordered.extend(reversed(group))
        group = []
        ordered.append(run)
    ordered.extend(reversed(group))
    return ordered


def _run_width(run: Run, size: int, language: str) -> float:
    return float(
        _font(run.font_file, size).getlength(run.text, direction=run.direction, language=language)
    )


def line_width(text: str, size: int, language: str, *, title: bool = True) -> float:
    """How wide a line of text is drawn at this size."""
    return sum(_run_width(run, size, language) for run in runs(text, language, title=title))


def _utf16_to_index(text: str) -> dict[int, int]:
    mapping, offset = {0: 0}, 0
    for index, char in enumerate(text, start=1):
        offset += 2 if ord(char) > 0xFFFF else 1
        mapping[offset] = index
    return mapping


def _boundaries(text: str, language: str, *, lines: bool) -> list[int]:
    """Where ICU allows a line break (or, lines=False, where a character ends)."""
    import icu

    locale = icu.Locale(base_language(language))
    breaker = (
        icu.BreakIterator.createLineInstance(locale)
        if lines
        else icu.BreakIterator.createCharacterInstance(locale)
    )
    breaker.setText(text)
    mapping = _utf16_to_index(text)
    points = [mapping[offset] for offset in breaker if offset in mapping]
    return sorted({0, *points, len(text)})


def _pieces(text: str, language: str, *, lines: bool) -> list[str]:
    cuts = _boundaries(text, language, lines=lines)
    return [text[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def wrap(text: str, size: int, width: int, language: str) -> list[str]:
    """Lines of text no wider than width, broken where the language allows."""

    def fits(candidate: str) -> bool:
        return line_width(candidate.rstrip(), size, language) <= width

    lines: list[str] = []
    line = ""
    for piece in _pieces(text, language, lines=True):
        if fits(line + piece):
            line += piece
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = piece.lstrip()
        if fits(line):
            continue
        # One word wider than the card: broken between its characters.
        word, line = line, ""
        for cluster in _pieces(word, language, lines=False):
            if fits(line + cluster):
                line += cluster
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = cluster
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _shorten(text: str, size: int, width: int, language: str, *, title: bool = True) -> str:
    """Text cut to fit width, with an ellipsis if anything was cut."""
    if line_width(text, size, language, title=title) <= width:
        return text
    clusters = _pieces(text, language, lines=False)
    while clusters:
        clusters.pop()
        shortened = "".join(clusters).rstrip() + ELLIPSIS
        if line_width(shortened, size, language, title=title) <= width:
            return shortened
    return ELLIPSIS


def _line_metrics(line: str, size: int, language: str, title: bool) -> tuple[int, int]:
    """The tallest ascent and descent of the fonts a line uses."""
    pieces = runs(line, language, title=title) or runs(" ", language, title=title)
    metrics = [_font(run.font_file, size).getmetrics() for run in pieces]
    return max(a for a, _ in metrics), max(d for _, d in metrics)


def layout_title(title: str, language: str) -> tuple[int, list[str]]:
    """The size and lines the title is drawn in: the largest size at which it fits in its
    box; at the smallest, as many lines as fit, the last one ending in an ellipsis."""
    width = WIDTH - 2 * MARGIN
    height = TITLE_BOTTOM - TITLE_TOP
    lines: list[str] = []
    for size in TITLE_SIZES:
        lines = wrap(title, size, width, language) or [""]
        if _lines_height(lines, size, language) <= height:
            return size, lines
    size = TITLE_SIZES[-1]
    kept: list[str] = []
    for line in lines:
        if _lines_height([*kept, line], size, language) > height:
            break
        kept.append(line)
    if not kept:
        kept = [lines[0]]
    kept[-1] = _shorten(kept[-1] + ELLIPSIS, size, width, language)
    return size, kept


def _lines_height(lines: Sequence[str], size: int, language: str) -> int:
    return sum(sum(_line_metrics(line, size, language, True)) for line in lines)


def _draw_line(
    draw: ImageDraw.ImageDraw,
    line: str,
    size: int,
    language: str,
    baseline: int,
    *,
    title: bool,
) -> None:
    fill = INK if title else MUTED
    base = text_direction(language)
    visual = _visual(runs(line, language, title=title), base)
    widths = [_run_width(run, size, language) for run in visual]
    x = float(MARGIN) if base == "ltr" else float(WIDTH - MARGIN)
    for run, width in zip(visual, widths, strict=True):
        left = x if base == "ltr" else x - width
        draw.text(
            (left, baseline),
            run.text,
            font=_font(run.font_file, size),
            fill=fill,
            anchor="ls",
            direction=run.direction,
            language=language,
        )
        x = x + width if base == "ltr" else x - width


# One card drawn at a time per process: the fonts are shared, and a FreeType face is not
# safe to use from two threads at once.
_DRAWING = threading.Lock()


def card_png(title: str, language: str, network: str) -> bytes:
    """The card of a statement: its title and the network's name, as a 1200 x 630 PNG."""
    with _DRAWING:
        return _card_png(title, language, network)


def _card_png(title: str, language: str, network: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH - 1, 17), fill=BAND)
    size, lines = layout_title(" ".join(title.split()), language)
    y = TITLE_TOP
    for line in lines:
        ascent, descent = _line_metrics(line, size, language, True)
        _draw_line(draw, line, size, language, y + ascent, title=True)
        y += ascent + descent
    name = _shorten(" ".join(network.split()), NAME_SIZE, WIDTH - 2 * MARGIN, language, title=False)
    if name:
        _draw_line(draw, name, NAME_SIZE, language, NAME_BASELINE, title=False)
    buffer = io.BytesIO()
    # No metadata chunks: Pillow writes none unless given pnginfo, so the same card is the
    # same bytes, and its ETag and every cache downstream agree.
    image.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()
