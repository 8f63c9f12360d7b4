"""RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed -> article links, read as a stream.

:class:`FeedReader` reads an XML feed with lxml's ``iterparse``, one ``<item>`` or
``<entry>`` at a time, and frees each once read, so memory does not follow the feed's
size and a caller that stops early (``--limit``) stops the reading too. The parser
never resolves entities, never touches the network and keeps libxml2's limits on
text-node size and nesting depth (``huge_tree`` off): a billion-laughs document, a
deeply nested one or a huge text node stops the reading there, with the entries read
before it kept. One bad entry (a comment, a processing instruction or an entity inside
it, a URL or a date that cannot be read) is skipped and counted in ``skipped``.

feedparser is kept for what it does best: reading the many date formats found in the
wild (its ``_parse_date``), after ISO 8601 and RFC 822, which keep their offset.
JSON Feed (https://jsonfeed.org/version/1.1) is read with the standard library: the
body is already in memory, bounded by the unzip limit.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.entities import html5

from feedparser.datetimes import _parse_date as feedparser_date
from lxml import etree

from pipeline.crawl.listings import (
    ENTRY_ERRORS,
    FEED_ROOTS,
    MAX_SITEMAP_URLS,
    FeedError,
    Link,
    clean_text,
    fatal_error,
    gunzip,
    iso_date,
    local_name,
    open_xml,
    web_url,
)
from pipeline.items import Hints
from pipeline.langs import language_code

ENTRIES = {"item", "entry"}
MAX_ENTRY_ELEMENTS = 5_000  # elements inside one entry: more is no news item
DATES = (
    ("published", "pubdate", "issued", "date"),
    ("updated", "modified"),
    ("created",),
)
DECLARED = re.compile(
    rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})"""
)
TAGS = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^<>]{0,2000}>")
BLOCK_TAGS = {"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
UTF8_CHUNK = 1 << 20


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """The entries of an RSS/Atom/RDF/JSON feed as links, in feed order, without repeats."""
    return read_feed(body, base_url)[0]


def read_feed(body: bytes, base_url: str) -> tuple[list[Link], int]:
    """(links, number of entries skipped because they could not be read)."""
    reader = FeedReader(body, base_url)
    return list(reader), reader.skipped


class FeedReader:
    """A feed read as a stream: iterate for its links, one entry at a time.

    FeedError when the body is no feed. After iteration, ``skipped`` counts the
    entries that could not be read, ``truncated`` says whether more than ``max_urls``
    entries were there, and ``error`` holds what stopped the reading early (broken
    XML past the entries read), if anything.
    """

    def __init__(
        self, body: bytes, base_url: str, max_urls: int = MAX_SITEMAP_URLS
    ) -> None:
        self.base_url = base_url
        self.max_urls = max_urls
        self.skipped = 0
        self.truncated = False
        self.error: str | None = None
        self.lang: str | None = None  # the feed's language, once read
        self._json: list | None = None
        body = gunzip(body)
        if body[:1000].lstrip()[:1] in (b"{", b"["):
            self._json, self.lang = _json_items(body)
            return
        try:
            self._events, root = open_xml(
                body, huge_tree=False, encoding=_override_encoding(body)
            )
        except FeedError as error:
            raise FeedError(f"not a feed: {error}") from None
        if local_name(root) not in FEED_ROOTS:
            raise FeedError(f"not a feed (its root is <{local_name(root)}>)")
        self.lang = language_code(root.get(XML_LANG))

    def __iter__(self) -> Iterator[Link]:
        seen: set[str] = set()
        for link in self._json_links() if self._json is not None else self._links():
            if link.url in seen:
                continue
            if len(seen) >= self.max_urls:
                self.truncated = True
                return
            seen.add(link.url)
            yield link

    def _links(self) -> Iterator[Link]:
        inside = 0  # elements open inside the current entry
        size = 0  # elements seen in the current entry
        try:
            for event, element in self._events:
                if event == "start":
                    if inside or local_name(element) in ENTRIES:
                        inside += 1
                        size += 1
                    continue
                if inside > 1:  # the end of an element inside an entry
                    inside -= 1
                    if size > MAX_ENTRY_ELEMENTS:
                        _free(element)
                    continue
                if inside == 1:  # the end of an entry
                    link = self._entry(element) if size <= MAX_ENTRY_ELEMENTS else None
                    inside = size = 0
                    _free(element)
                    if link is None:
                        self.skipped += 1
                    else:
                        yield link
                    continue
                self._channel(element)
        except etree.LxmlError as error:
            self.error = f"broken XML: {error}"
            return
        if broken := fatal_error(self._events):
            self.error = f"broken XML: {broken}"

    def _channel(self, element: etree._Element) -> None:
        """An element outside the entries: its language, if it is one; then freed."""
        name = local_name(element)
        if name in ("channel", "rdf", "rss", "feed") or not name:
            return
        if name == "language" and self.lang is None:
            self.lang = language_code(_text(element))
        _free(element)

    def _entry(self, entry: etree._Element) -> Link | None:
        """The link of one <item> or <entry>; None when it has no usable URL."""
        try:
            fields: dict[str, list[etree._Element]] = {}
            for child in entry.iterchildren():
                fields.setdefault(local_name(child), []).append(child)
            url = self._entry_url(entry, fields)
            if not url:
                return None
            keywords = [
                clean_text(tag.get("term") or _text(tag))
                for tag in fields.get("category", []) + fields.get("subject", [])
            ]
            lang = fields.get("language")
            hints = Hints(
                title=_title(fields.get("title")),
                date=_entry_date(fields),
                keywords=tuple(k for k in keywords if k),
                lang=language_code(_text(lang[0]) if lang else entry.get(XML_LANG))
                or self.lang,
            )
        except ENTRY_ERRORS:
            return None
        return Link(url, hints)

    def _entry_url(
        self, entry: etree._Element, fields: dict[str, list[etree._Element]]
    ) -> str | None:
        """The first usable of: FeedBurner's original link (it wraps links in its
        redirector), the link, the alternate links, a permalink guid, the id."""
        links = fields.get("link", [])
        candidates = [_text(e) for e in fields.get("origlink", [])]
        candidates += [_text(e) for e in links if e.get("href") is None]
        candidates += [
            e.get("href") for e in links if e.get("rel", "alternate") == "alternate"
        ]
        candidates += [e.get("href") for e in links]
        for guid in fields.get("guid", []):
            if guid.get("isPermaLink", "true").lower() != "false":
                candidates.append(_text(guid))
        candidates += [_text(e) for e in fields.get("id", [])]
        candidates.append(
            entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        )
        for candidate in candidates:
            if candidate and (url := web_url(candidate.strip(), self.base_url)):
                if url.startswith("http"):
                    return url
        return None

    def _json_links(self) -> Iterator[Link]:
        for item in self._json or ():
            link = (
                _json_item(item, self.base_url, self.lang)
                if isinstance(item, dict)
                else None
            )
            if link is None:
                self.skipped += 1
            else:
                yield link


def _free(element: etree._Element) -> None:
    """Drop an element read already, and its earlier siblings: memory stays flat."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _text(element: etree._Element) -> str:
    """The element's text, an unresolved HTML entity (&nbsp;) as its character."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child, etree._Entity):
            parts.append(html5.get(child.text[1:], child.text))
        elif isinstance(child.tag, str):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _title(elements: list[etree._Element] | None) -> str | None:
    if not elements:
        return None
    title = elements[0]
    text = _text(title)
    if title.get("type") in ("html", "text/html") or "<" in text:
        text = html.unescape(TAGS.sub(_tag_space, text))  # markup, escaped in the feed
    return clean_text(text)


def _tag_space(tag: re.Match) -> str:
    """A tag in a title: a space where it breaks a line, nothing where it is inline."""
    return " " if tag.group(2).lower() in BLOCK_TAGS else ""


def _entry_date(fields: dict[str, list[etree._Element]]) -> str | None:
    for names in DATES:
        for name in names:
            for element in fields.get(name, ()):
                raw = _text(element).strip()
                if iso := feed_date(raw):
                    return iso
    return None


def feed_date(raw: str) -> str | None:
    """ISO 8601 of a feed's date: ISO or RFC 822 keep their offset; the other formats
    feedparser knows give UTC."""
    if not raw:
        return None
    iso = iso_date(raw)
    if iso:
        return iso
    parsed = feedparser_date(raw[:100])
    # feedparser is lenient: "9999999-99" is a date to it; a feed's is never that far
    if parsed is None or not 1970 <= parsed[0] <= datetime.now(UTC).year + 1:
        return None
    return datetime(*parsed[:6], tzinfo=UTC).isoformat()


def _override_encoding(body: bytes) -> str | None:
    """The encoding to read a feed in when its declaration is wrong, else None (lxml
    reads the declaration or BOM).

    A body that is valid UTF-8 with non-ASCII bytes is UTF-8 whatever it declares
    (sites declare ISO-8859-1 over UTF-8 text); one that is not valid UTF-8 and
    declares nothing or UTF-8 is windows-1252, as feedparser falls back.
    """
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return None
    found = DECLARED.match(body[:300])
    declared = found.group(1).lower().replace(b"_", b"-") if found else b"utf-8"
    if b"16" in declared or b"32" in declared or b"ucs" in declared:
        return None
    utf8 = declared in (b"utf-8", b"utf8")
    if _valid_utf8(body):
        return None if utf8 or body.isascii() else "utf-8"
    return "windows-1252" if utf8 else None


def _valid_utf8(body: bytes) -> bool:
    """Whether ``body`` decodes as UTF-8, checked a megabyte at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(body), UTF8_CHUNK):
            decoder.decode(body[start : start + UTF8_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# -- JSON Feed ----------------------------------------------------------------


def _json_items(body: bytes) -> tuple[list, str | None]:
    """The items of a JSON Feed 1.x and its language."""
    try:
        feed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"not a JSON feed: {error}") from None
    except RecursionError:
        raise FeedError("not a JSON feed: nested too deeply") from None
    if not isinstance(feed, dict) or not isinstance(feed.get("items"), list):
        raise FeedError("not a JSON feed: no items")
    return feed["items"], language_code(feed.get("language"))


def _json_item(item: dict, base_url: str, feed_lang: str | None) -> Link | None:
    """One JSON Feed item as a link, or None when it has no usable URL."""
    try:
        url = web_url(item.get("url"), base_url) or web_url(
            item.get("external_url"), base_url
        )
        if not url:
            return None
        raw_date = item.get("date_published") or item.get("date_modified")
        tags = item.get("tags")
        hints = Hints(
            title=clean_text(item.get("title")),
            date=iso_date(raw_date) if isinstance(raw_date, str) else None,
            keywords=tuple(
                t
                for t in (tags if isinstance(tags, list) else ())
                if isinstance(t, str)
            ),
            lang=language_code(item.get("language")) or feed_lang,
        )
    except ENTRY_ERRORS:
        return None
    return Link(url, hints)
