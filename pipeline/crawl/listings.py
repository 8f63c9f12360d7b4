"""Feeds and sitemaps -> article links: pure functions over the bytes of a response.

* Feeds (RSS, Atom, JSON Feed) are read by :mod:`pipeline.crawl.feeds`, with the
  helpers here.
* :class:`SitemapReader` reads sitemap indexes, Google News sitemaps and plain
  sitemaps (lxml) as a stream, one entry at a time, at most the protocol's 50,000
  entries; :func:`parse_sitemap` gives all of them at once. Elements are matched on
  their local name: sites declare the sitemaps.org namespace over http or https, or not
  at all.

One bad entry (a comment, a processing instruction or an entity inside it, a URL or a
date that cannot be read, a value of the wrong JSON type) costs that entry, never its
listing: it is skipped and counted in ``skipped``.
* :func:`gunzip` opens ``.xml.gz`` bodies, with a size limit.

Nothing here does I/O: the spider hands in bytes and gets links back.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from pipeline import gzipped
from pipeline.errors import BroadsheetError
from pipeline.items import Hints
from pipeline.langs import language_code
from pipeline.urls import absolute

MAX_UNZIPPED = 64 * 1024 * 1024  # bytes: Google's limit for a sitemap is 50 MB
MAX_SITEMAP_URLS = 50_000  # the sitemaps.org protocol's limit per sitemap
# What a malformed entry can raise while it is read; it costs that entry only.
ENTRY_ERRORS = (ValueError, TypeError, AttributeError, OverflowError, KeyError)
SITEMAP_ROOTS = {"urlset", "sitemapindex"}
FEED_ROOTS = {"rss", "rdf", "feed"}
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FeedError(BroadsheetError):
    """A feed or sitemap body that cannot be read at all."""


@dataclass(frozen=True)
class Link:
    """An article (or child sitemap) URL found in a feed or sitemap."""

    url: str
    hints: Hints = field(default_factory=Hints)
    lastmod: str | None = None  # sitemaps: when the target last changed, ISO 8601


@dataclass(frozen=True)
class Sitemap:
    kind: str  # "index" (links are sitemaps) or "urlset" (links are pages)
    links: tuple[Link, ...]


def gunzip(body: bytes, limit: int = MAX_UNZIPPED, partial: bool = False) -> bytes:
    """The body itself, or its gunzipped bytes when it starts with the gzip magic.

    Past ``limit`` bytes: FeedError, or with ``partial`` the first ``limit`` bytes
    (a listing cut there still gives the entries before the cut).
    """
    if not body.startswith(gzipped.GZIP_MAGIC):
        return body
    try:
        data = gzipped.decompress(body, limit)
    except gzipped.GzipError as error:
        raise FeedError(str(error)) from None
    if len(data) > limit:
        if partial:
            return data[:limit]
        raise FeedError(f"more than {limit} bytes once unzipped")
    return data


def root_name(body: bytes) -> str | None:
    """Local name of the document's root element ("rss", "feed", "urlset" ...), lower-case."""
    body = gunzip(body).lstrip()
    if body.startswith((b"{", b"[")):
        return "json"
    try:
        for _event, element in etree.iterparse(
            io.BytesIO(body),
            events=("start",),
            recover=True,
            resolve_entities=False,
            no_network=True,
        ):
            return etree.QName(element).localname.lower()
    except etree.LxmlError:
        return None
    return None


def is_sitemap(body: bytes) -> bool:
    return root_name(body) in SITEMAP_ROOTS


# -- sitemaps -----------------------------------------------------------------


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    """A sitemap index's child sitemaps, or a (news) sitemap's page URLs with hints."""
    reader = SitemapReader(body, base_url)
    return Sitemap(reader.kind, tuple(reader))


class SitemapReader:
    """A sitemap read as a stream: iterate for its links, one entry at a time.

    ``kind`` is known once constructed (FeedError when the body is no sitemap).
    After iteration, ``skipped`` counts entries that could not be read, ``truncated``
    says whether more than ``max_urls`` entries were there, and ``error`` holds what
    stopped the reading early (broken XML past the entries read), if anything.
    """

    def __init__(
        self, body: bytes, base_url: str, max_urls: int = MAX_SITEMAP_URLS
    ) -> None:
        self.base_url = base_url
        self.max_urls = max_urls
        self.skipped = 0
        self.truncated = False
        self.error: str | None = None
        self._events, root = open_xml(gunzip(body), huge_tree=True)
        if local_name(root) not in SITEMAP_ROOTS:
            raise FeedError("not a sitemap (no <urlset> or <sitemapindex> root)")
        self.root = root
        self.kind = "index" if local_name(root) == "sitemapindex" else "urlset"

    def __iter__(self) -> Iterator[Link]:
        seen: set[str] = set()
        depth = 1  # inside the root
        try:
            for event, element in self._events:
                depth += 1 if event == "start" else -1
                if event != "end" or depth != 1:
                    continue
                link = self._entry(element)
                element.clear()
                while element.getprevious() is not None:
                    del self.root[0]  # entries already read: memory stays flat
                if link is None or link.url in seen:
                    continue
                if len(seen) >= self.max_urls:
                    self.truncated = True
                    return
                seen.add(link.url)
                yield link
        except etree.LxmlError as error:
            self.error = f"broken XML after {len(seen)} entries: {error}"
            return
        if broken := fatal_error(self._events):
            self.error = f"broken XML after {len(seen)} entries: {broken}"

    def _entry(self, element: etree._Element) -> Link | None:
        """The link of one <url> or <sitemap> element; None (counted) when unusable."""
        if local_name(element) not in ("url", "sitemap"):
            return None
        try:
            fields = _children(element)
            url = web_url(fields.get("loc"), self.base_url)
            if url:
                lastmod = fields.get("lastmod")
                return Link(
                    url, _news_hints(element), iso_date(lastmod) if lastmod else None
                )
        except ENTRY_ERRORS:
            pass
        self.skipped += 1
        return None


def _news_hints(entry: etree._Element) -> Hints:
    news = next((e for e in entry.iter() if local_name(e) == "news"), None)
    if news is None:
        return Hints()
    fields = _children(news, deep=True)
    keywords = tuple(
        word for k in (fields.get("keywords") or "").split(",") if (word := k.strip())
    )
    raw_date = fields.get("publication_date")
    return Hints(
        title=clean_text(fields.get("title")),
        date=(iso_date(raw_date) or raw_date) if raw_date else None,
        keywords=keywords,
        lang=language_code(fields.get("language")),
    )


def _children(element: etree._Element, deep: bool = False) -> dict[str, str]:
    """Local name -> stripped text of the (first) child elements."""
    found: dict[str, str] = {}
    for child in element.iter() if deep else element:
        if child is element or not isinstance(child.tag, str):
            continue
        found.setdefault(local_name(child), (child.text or "").strip())
    return found


def open_xml(
    body: bytes, huge_tree: bool, encoding: str | None = None
) -> tuple[Any, etree._Element]:
    """(events, root) of ``body`` read as a stream of start and end events: entities
    never resolved, no network, comments and processing instructions left out, errors
    recovered from. FeedError when not even the root can be read."""
    events = etree.iterparse(
        io.BytesIO(body),
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=huge_tree,
        remove_comments=True,
        remove_pis=True,
        encoding=encoding,
    )
    try:
        _event, root = next(events)
    except (StopIteration, etree.LxmlError) as error:
        raise FeedError(f"not XML: {error or 'empty'}") from None
    return events, root


def fatal_error(events: Any) -> str | None:
    """The last fatal error of a stream read to its end, if any (an unknown entity
    costs nothing and is not one)."""
    broken = [
        e.message
        for e in events.error_log.filter_from_fatals()
        if "Entity" not in e.message
    ]
    return broken[-1] if broken else None


def local_name(element: etree._Element) -> str:
    """The element's local name, lower-case; "" for a comment, PI or entity node."""
    if not isinstance(element.tag, str):
        return ""
    return etree.QName(element).localname.lower()


# -- small shared helpers -----------------------------------------------------


def iso_date(raw: str) -> str | None:
    """ISO 8601 for an ISO or RFC 822 date string, keeping its offset; None otherwise."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if DATE_ONLY.match(raw):
        return raw  # a day, not midnight: never invent a time
    try:
        return datetime.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def web_url(value: object, base_url: str) -> str | None:
    """``value`` as an absolute http(s) URL with a host, or None (a number, a bad URL)."""
    url = absolute(value if isinstance(value, str) else None, base_url)
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return url if parts.hostname else None


def clean_text(value: object) -> str | None:
    value = " ".join(value.split()) if isinstance(value, str) else ""
    return value or None


def listing_key(request: Any) -> str:
    """The URL a listing's validators are kept under: the first of a redirect chain.

    ``request`` is a Scrapy ``Request``; only its ``url`` and ``meta`` are read.
    """
    return request.meta.get("redirect_urls", [request.url])[0]
