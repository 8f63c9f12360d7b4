"""Feeds and sitemaps -> article links: pure functions over the bytes of a response.

* :func:`parse_feed` reads RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed (feedparser,
  which also finds the charset of latin-1 feeds) and gives one :class:`Link` per entry,
  with what the feed says about it as :class:`~pipeline.items.Hints`.
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
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
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


# -- feeds --------------------------------------------------------------------


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """The entries of an RSS/Atom/RDF/JSON feed as links, in feed order, without repeats."""
    return read_feed(body, base_url)[0]


def read_feed(body: bytes, base_url: str) -> tuple[list[Link], int]:
    """(links, number of entries skipped because they could not be read)."""
    body = gunzip(body)
    if body.lstrip().startswith(b"{"):
        return _json_feed(body, base_url)
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a feed: {parsed.get('bozo_exception', 'no entries')}")
    feed_lang = language_code(parsed.feed.get("language"))
    links: list[Link] = []
    seen: set[str] = set()
    skipped = 0
    for entry in parsed.entries:
        try:
            url = _entry_url(entry, base_url)
            if not url:
                skipped += 1
                continue
            if url in seen:
                continue
            hints = Hints(
                title=_clean(entry.get("title")),
                date=_entry_date(entry),
                keywords=tuple(
                    term
                    for tag in entry.get("tags", ())
                    if (term := _clean(tag.get("term")))
                ),
                lang=language_code(entry.get("language")) or feed_lang,
            )
        except ENTRY_ERRORS:
            skipped += 1
            continue
        seen.add(url)
        links.append(Link(url, hints))
    return links, skipped


def _json_feed(body: bytes, base_url: str) -> tuple[list[Link], int]:
    """JSON Feed 1.x (https://jsonfeed.org/version/1.1)."""
    try:
        feed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"not a JSON feed: {error}") from None
    except RecursionError:
        raise FeedError("not a JSON feed: nested too deeply") from None
    if not isinstance(feed, dict) or not isinstance(feed.get("items"), list):
        raise FeedError("not a JSON feed: no items")
    feed_lang = language_code(feed.get("language"))
    links: list[Link] = []
    seen: set[str] = set()
    skipped = 0
    for item in feed["items"]:
        link = _json_item(item, base_url, feed_lang) if isinstance(item, dict) else None
        if link is None:
            skipped += 1
        elif link.url not in seen:
            seen.add(link.url)
            links.append(link)
    return links, skipped


def _json_item(item: dict, base_url: str, feed_lang: str | None) -> Link | None:
    """One JSON Feed item as a link, or None when it has no usable URL."""
    try:
        url = _web_url(item.get("url"), base_url) or _web_url(
            item.get("external_url"), base_url
        )
        if not url:
            return None
        raw_date = item.get("date_published") or item.get("date_modified")
        tags = item.get("tags")
        hints = Hints(
            title=_clean(item.get("title")),
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


def _entry_url(entry: feedparser.FeedParserDict, base_url: str) -> str | None:
    # FeedBurner wraps links in its redirector and keeps the real one aside.
    candidates = [entry.get("feedburner_origlink"), entry.get("link")]
    candidates += [link.get("href") for link in entry.get("links", ())]
    if entry.get("guidislink") or str(entry.get("id", "")).startswith("http"):
        candidates.append(entry.get("id"))
    for candidate in candidates:
        url = absolute(candidate, base_url)
        if url:
            return url
    return None


def _entry_date(entry: feedparser.FeedParserDict) -> str | None:
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict would map a missing "published" to "updated", warning
        raw = dict.get(entry, key)
        if raw:
            iso = iso_date(raw)
            if iso:
                return iso
        parsed = dict.get(entry, f"{key}_parsed")
        if parsed:
            return datetime(*parsed[:6], tzinfo=UTC).isoformat()
    return None


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
        self._events = etree.iterparse(
            io.BytesIO(gunzip(body)),
            events=("start", "end"),
            recover=True,
            resolve_entities=False,
            no_network=True,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            _event, root = next(self._events)
        except (StopIteration, etree.LxmlError) as error:
            raise FeedError(f"not XML: {error or 'empty'}") from None
        if _local(root) not in SITEMAP_ROOTS:
            raise FeedError("not a sitemap (no <urlset> or <sitemapindex> root)")
        self.root = root
        self.kind = "index" if _local(root) == "sitemapindex" else "urlset"

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
        broken = [
            e.message
            for e in self._events.error_log.filter_from_fatals()
            if "Entity" not in e.message  # an unknown entity costs nothing
        ]
        if broken:
            self.error = f"broken XML after {len(seen)} entries: {broken[-1]}"

    def _entry(self, element: etree._Element) -> Link | None:
        """The link of one <url> or <sitemap> element; None (counted) when unusable."""
        if _local(element) not in ("url", "sitemap"):
            return None
        try:
            fields = _children(element)
            url = _web_url(fields.get("loc"), self.base_url)
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
    news = next((e for e in entry.iter() if _local(e) == "news"), None)
    if news is None:
        return Hints()
    fields = _children(news, deep=True)
    keywords = tuple(
        word for k in (fields.get("keywords") or "").split(",") if (word := k.strip())
    )
    raw_date = fields.get("publication_date")
    return Hints(
        title=_clean(fields.get("title")),
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
        found.setdefault(_local(child), (child.text or "").strip())
    return found


def _local(element: etree._Element) -> str:
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


def _web_url(value: object, base_url: str) -> str | None:
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


def _clean(value: object) -> str | None:
    value = " ".join(value.split()) if isinstance(value, str) else ""
    return value or None


def listing_key(request: Any) -> str:
    """The URL a listing's validators are kept under: the first of a redirect chain.

    ``request`` is a Scrapy ``Request``; only its ``url`` and ``meta`` are read.
    """
    return request.meta.get("redirect_urls", [request.url])[0]
