"""The card image: its size, its words in their own script (never tofu), its bounds, its bytes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import uharfbuzz as hb
from PIL import Image, ImageChops, features

from statements.publishing import card
from statements.publishing.card import (
    FONT_DIR,
    HEIGHT,
    MARGIN,
    NAME_BASELINE,
    TITLE_BOTTOM,
    WIDTH,
    card_png,
    font_cmap,
    layout_title,
    runs,
)

ROOT = Path(__file__).resolve().parents[3]
NETWORK = "Asia Pacific Refugee Rights Network"
TITLES = {
    "my": "ဒုက္ခသည်များအတွက် အလုပ်လုပ်ခွင့်",
    "th": "สิทธิในการทำงานของผู้ลี้ภัยในประเทศไทย",
    "fa": "حق کار برای پناهندگان افغانستانی",
}
# Long enough that no size fits them whole: they must be cut, never spill.
LONG = {
    "en": "Refugee" * 60,
    "my": TITLES["my"] * 12,
    "th": TITLES["th"] * 12,
    "fa": (TITLES["fa"] + " ") * 12,
    "ar": "حق العمل للاجئين في المنطقة " * 20,
}
# Where the tallest scripts may reach past their box: Burmese stacks marks high and deep.
SLACK = 10


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _shaped_glyphs(run: card.Run, language: str) -> list[int]:
    """The glyph ids HarfBuzz picks for a run in its font (as libraqm does for Pillow)."""
    face = hb.Face(hb.Blob.from_file_path(str(FONT_DIR / run.font_file)))
    buffer = hb.Buffer()
    buffer.add_str(run.text)
    buffer.guess_segment_properties()
    buffer.language = language
    hb.shape(hb.Font(face), buffer)
    return [info.codepoint for info in buffer.glyph_infos]


def test_pillow_shapes_with_raqm() -> None:
    # Without libraqm, Pillow's basic layout draws Burmese and Arabic letters unjoined and
    # unordered: the card would be unreadable in exactly the languages it is for.
    assert features.check("raqm")


@pytest.mark.parametrize("language", sorted(TITLES))
def test_a_title_is_drawn_in_a_font_that_has_its_letters(language: str) -> None:
    title = TITLES[language]
    pieces = runs(title, language)
    assert "".join(run.text for run in pieces) == title
    for run in pieces:
        cmap = font_cmap(run.font_file)
        missing = [f"U+{ord(char):04X}" for char in run.text if ord(char) not in cmap]
        assert not missing, f"{run.font_file} lacks {missing}"
        glyphs = _shaped_glyphs(run, language)
        assert glyphs
        assert 0 not in glyphs, f"{run.font_file} shapes {run.text!r} with .notdef"
    expected = {"my": "NotoSansMyanmar", "th": "NotoSansThai", "fa": "NotoNaskhArabic"}[language]
    assert pieces[0].font_file.startswith(expected)
    assert pieces[0].direction == ("rtl" if language == "fa" else "ltr")


def test_the_check_would_see_tofu() -> None:
    # The same test, given Burmese in the Latin font, finds the .notdef glyph.
    wrong = card.Run(TITLES["my"], "NotoSans-Bold.ttf", "ltr")
    assert 0 in _shaped_glyphs(wrong, "my")


def test_a_latin_name_in_a_farsi_title_gets_the_latin_font() -> None:
    pieces = runs("گزارش UNHCR درباره کار", "fa")
    assert [(run.text, run.direction) for run in pieces] == [
        ("گزارش ", "rtl"),
        ("UNHCR", "ltr"),
        # The space between the two directions goes with the line's: it stays between.
        (" ", "rtl"),
        ("درباره کار", "rtl"),
    ]
    assert pieces[1].font_file == "NotoSans-Bold.ttf"
    assert pieces[0].font_file == pieces[3].font_file == "NotoNaskhArabic-Bold.ttf"


@pytest.mark.parametrize("language", sorted(TITLES))
def test_the_title_draws_ink(language: str) -> None:
    blank = _image(card_png("", language, ""))
    drawn = _image(card_png(TITLES[language], language, ""))
    assert drawn.size == (WIDTH, HEIGHT)
    box = ImageChops.difference(blank, drawn).getbbox()
    assert box is not None
    left, top, right, bottom = box
    assert top >= 90 - SLACK
    assert bottom <= TITLE_BOTTOM + SLACK
    if language == "fa":
        # Right to left: the line starts at the right margin.
        assert right > WIDTH - MARGIN - SLACK
        assert left > MARGIN
    else:
        assert left < MARGIN + SLACK


@pytest.mark.parametrize("language", sorted(LONG))
def test_a_long_title_wraps_and_never_spills(language: str) -> None:
    size, lines = layout_title(LONG[language], language)
    assert len(lines) > 1
    assert lines[-1].endswith("…")
    png = card_png(LONG[language], language, NETWORK * 5)
    image = _image(png)
    assert image.size == (WIDTH, HEIGHT)
    blank = _image(card_png("", language, ""))
    ink = ImageChops.difference(blank, image)
    left, _top, right, bottom = ink.getbbox() or (0, 0, 0, 0)
    assert left >= MARGIN - SLACK, (size, lines)
    assert right <= WIDTH - MARGIN + SLACK, (size, lines)
    assert bottom <= HEIGHT
    # Nothing between the title's box and the network's name: they never overlap.
    gap = ink.crop((0, TITLE_BOTTOM + SLACK, WIDTH, NAME_BASELINE - 50))
    assert gap.getbbox() is None


def test_a_word_wider_than_the_card_is_broken() -> None:
    _size, lines = layout_title("Refugee" * 20, "en")
    assert len(lines) > 1
    assert "".join(lines) == "Refugee" * 20


def test_thai_breaks_between_words_not_inside_them() -> None:
    _size, lines = layout_title(TITLES["th"] * 3, "th")
    # ICU's dictionary knows these words: every line ends where one does.
    words = ("สิทธิ", "ใน", "การ", "ทำงาน", "ของ", "ผู้ลี้ภัย", "ประเทศไทย", "ไทย")
    for line in lines[:-1]:
        assert line.endswith(words), line


def test_the_same_card_is_the_same_bytes() -> None:
    first = card_png(TITLES["my"], "my", NETWORK)
    second = card_png(TITLES["my"], "my", NETWORK)
    assert first == second
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert _image(first).size == (WIDTH, HEIGHT)
    # No chunk that could carry a time: only the image itself.
    assert b"tIME" not in first
    assert b"tEXt" not in first
    # In another process too: nothing depends on this one's caches or order of work.
    arguments = json.dumps(json.dumps([TITLES["my"], "my", NETWORK]))
    script = (
        "import sys, json\n"
        "from statements.publishing.card import card_png\n"
        f"sys.stdout.buffer.write(card_png(*json.loads({arguments})))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, check=True, timeout=120
    ).stdout
    assert other == first


def test_drawing_a_card_loads_its_tools_only_then() -> None:
    script = (
        "import sys\n"
        "from statements.publishing import card\n"
        "assert not {'PIL', 'fontTools', 'icu'} & set(sys.modules), 'loaded at import'\n"
        "card.card_png('Right to work', 'en', 'Network')\n"
        "assert {'PIL', 'fontTools', 'icu'} <= set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)
