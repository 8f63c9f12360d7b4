"""Feeds and sitemaps -> article links: pure functions over the bytes of a response.

* :func:`parse_feed` reads RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed (feedparser,
  which also finds the charset of latin-1 feeds) and gives one :class:`Link` per entry,
  with what the feed says about it as :class:`~pipeline.items.Hints`.
* :func:`parse_sitemap` reads sitemap indexes, Google News sitemaps and plain
  sitemaps (lxml). Elements are matched on their local name: sites declare the
  sitemaps.org namespace over http or https, or not at all.
* :func:`gunzip` opens ``.xml.gz`` bodies, with a size limit.

Nothing here does I/O: the spider hands in bytes and gets links back.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
from lxml import etree

from pipeline import gzipped
from pipeline.errors import BroadsheetError
from pipeline.items import Hints
from pipeline.langs import language_code
from pipeline.urls import absolute

MAX_UNZIPPED = 64 * 1024 * 1024  # bytes: Google's limit for a sitemap is 50 MB
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


def gunzip(body: bytes, limit: int = MAX_UNZIPPED) -> bytes:
    """The body itself, or its gunzipped bytes when it starts with the gzip magic."""
    if not body.startswith(gzipped.GZIP_MAGIC):
        return body
    try:
        data = gzipped.decompress(body, limit)
    except gzipped.GzipError as error:
        raise FeedError(str(error)) from None
    if len(data) > limit:
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
    body = gunzip(body)
    if body.lstrip().startswith(b"{"):
        return _json_feed(body, base_url)
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if parsed.bozo and not parsed.entries:
        raise FeedError(f"not a feed: {parsed.get('bozo_exception', 'no entries')}")
    feed_lang = language_code(parsed.feed.get("language"))
    links: list[Link] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        url = _entry_url(entry, base_url)
        if not url or url in seen:
            continue
        seen.add(url)
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
        links.append(Link(url, hints))
    return links


def _json_feed(body: bytes, base_url: str) -> list[Link]:
    """JSON Feed 1.x (https://jsonfeed.org/version/1.1)."""
    try:
        feed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"not a JSON feed: {error}") from None
    if not isinstance(feed, dict) or not isinstance(feed.get("items"), list):
        raise FeedError("not a JSON feed: no items")
    feed_lang = language_code(feed.get("language"))
    links: list[Link] = []
    seen: set[str] = set()
    for item in feed["items"]:
        if not isinstance(item, dict):
            continue
        url = absolute(item.get("url") or item.get("external_url"), base_url)
        if not url or url in seen:
            continue
        seen.add(url)
        raw_date = item.get("date_published") or item.get("date_modified")
        hints = Hints(
            title=_clean(item.get("title")),
            date=iso_date(raw_date) if isinstance(raw_date, str) else None,
            keywords=tuple(t for t in item.get("tags", ()) if isinstance(t, str)),
            lang=language_code(item.get("language")) or feed_lang,
        )
        links.append(Link(url, hints))
    return links


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
    data = gunzip(body)
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=True
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.LxmlError as error:
        raise FeedError(f"not XML: {error}") from None
    if root is None or _local(root) not in SITEMAP_ROOTS:
        raise FeedError("not a sitemap (no <urlset> or <sitemapindex> root)")
    kind = "index" if _local(root) == "sitemapindex" else "urlset"
    links: list[Link] = []
    seen: set[str] = set()
    for entry in root:
        if not isinstance(entry.tag, str) or _local(entry) not in ("url", "sitemap"):
            continue
        fields = _children(entry)
        url = absolute(fields.get("loc"), base_url)
        if not url or url in seen:
            continue
        seen.add(url)
        lastmod = iso_date(fields["lastmod"]) if fields.get("lastmod") else None
        links.append(Link(url, _news_hints(entry), lastmod))
    return Sitemap(kind, tuple(links))


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
    return etree.QName(element).localname.lower()


# -- small shared helpers -----------------------------------------------------


def iso_date(raw: str) -> str | None:
    """ISO 8601 for an ISO or RFC 822 date string, keeping its offset; None otherwise."""
    raw = raw.strip()
    if DATE_ONLY.match(raw):
        return raw  # a day, not midnight: never invent a time
    try:
        return datetime.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(raw).isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _clean(value: object) -> str | None:
    value = " ".join(value.split()) if isinstance(value, str) else ""
    return value or None


def listing_key(request: Any) -> str:
    """The URL a listing's validators are kept under: the first of a redirect chain.

    ``request`` is a Scrapy ``Request``; only its ``url`` and ``meta`` are read.
    """
    return request.meta.get("redirect_urls", [request.url])[0]
