"""The Atom feed (RFC 4287) of publications, corrections and retractions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
XML = "http://www.w3.org/XML/1998/namespace"
MAX_ENTRIES = 100


@dataclass(frozen=True)
class Entry:
    """One published version, as a feed entry."""

    id: str
    title: str
    url: str
    updated: date
    summary: str
    # The language of the entry's own text (its title), when it is not the feed's.
    language: str | None = None


def _stamp(day: date) -> str:
    # Atom wants a date-time; a version is dated by its day, so midnight UTC.
    return datetime.combine(day, time(), UTC).isoformat().replace("+00:00", "Z")


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element


def atom(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    site_url: str,
    entries: Sequence[Entry],
    language: str = "en",
) -> bytes:
    """The feed document, UTF-8 XML, its own words in `language`."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {f"{{{XML}}}lang": language})
    _text(root, "id", feed_id)
    _text(root, "title", title)
    newest = max((entry.updated for entry in entries), default=date(2000, 1, 1))
    _text(root, "updated", _stamp(newest))
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "href": self_url})
    ET.SubElement(root, f"{{{ATOM}}}link", {"rel": "alternate", "href": site_url})
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", title)
    for item in entries:
        element = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(element, "id", item.id)
        if item.language is None:
            _text(element, "title", item.title)
        else:
            _text(element, "title", item.title, **{f"{{{XML}}}lang": item.language})
        _text(element, "updated", _stamp(item.updated))
        ET.SubElement(element, f"{{{ATOM}}}link", {"rel": "alternate", "href": item.url})
        _text(element, "summary", item.summary)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
