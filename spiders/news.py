"""The one generic spider: a source's feeds, sitemaps and section pages -> Page records.

    scrapy crawl news -a source=business-standard
    scrapy crawl news -a source=mysite -a sources=my-sources.toml

It discovers article URLs and fetches them; it never parses an article's body. What a
feed or news sitemap says about an article (title, date, keywords, language) travels
with the page as :class:`~pipeline.items.Hints`. Requests carry
``meta["broadsheet"]`` ("feed", "sitemap", "section" or "article") so that the
downloader middlewares can treat listings and articles differently, and
``meta["broadsheet_listings"]``, the listings that led to them. A listing one of whose
articles failed for a reason that may pass (a timeout, a 5xx) is left in
``unfinished_listings``: its validators are not remembered, so the next run reads it
in full and requests those articles again; so is a listing that could not be read.

Every run is bounded: article requests are built from a listing as Scrapy needs them
(the listing is read as a stream, filtered first), so memory does not follow a
listing's size and ``BROADSHEET_LIMIT`` ends the source once reached. Sitemaps followed
per run (``BROADSHEET_MAX_SITEMAPS``), their nesting (``BROADSHEET_SITEMAP_DEPTH``),
the entries read per sitemap (``BROADSHEET_SITEMAP_MAX_URLS``, the protocol's
50,000) and the source's time
(``BROADSHEET_SOURCE_BUDGET``) are capped; each cap reached is counted under
``broadsheet/bound/<name>`` for the run summary.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from pipeline.crawl.feeds import FeedReader
from pipeline.crawl.listings import (
    MAX_SITEMAP_URLS,
    FeedError,
    Link,
    SitemapReader,
    gunzip,
    is_sitemap,
    listing_key,
)
from pipeline.items import Hints, Page
from pipeline.sources import Source, SourceError, compile_pattern, load_sources
from spiders.backlog import BATCH, BoundedFlow
from spiders.failures import NETWORK_FAILURES, failure_reason, may_pass

__all__ = ["NewsSpider", "failure_reason", "may_pass", "seen_urls"]


class NewsSpider(BoundedFlow, Spider):
    name = "news"

    def __init__(
        self, source: str | None = None, sources: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source_name = source
        self.sources_file = sources
        self.source: Source
        self.sitemap_max_age: timedelta | None = None
        self.feed_max_age: timedelta | None = None
        self.network_failures = 0
        self.answered = False
        self.unfinished_listings: set[str] = set()
        self.article_re: Any = None
        self.backlog: deque[Iterator[Request]] = deque()
        self.fed = 0  # article requests handed to Scrapy
        self.settled = 0  # of which skipped as stored already, or refused as seen
        self.sitemaps = 0  # sitemaps followed from indexes
        self.budget_call: Any = None
        self.limit = 0  # BROADSHEET_LIMIT
        self.max_sitemaps = 200
        self.max_depth = 3
        self.max_urls = MAX_SITEMAP_URLS
        self.budget = 0.0  # seconds; 0: none

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        if not spider.source_name:
            raise SourceError("the news spider needs a source: -a source=NAME")
        path = spider.sources_file or settings.get("BROADSHEET_SOURCES") or None
        known = load_sources(path)
        if spider.source_name not in known:
            raise SourceError(
                f'unknown source "{spider.source_name}"; known sources: {", ".join(known)}'
            )
        spider.source = known[spider.source_name]
        spider.allowed_domains = list(spider.source.domains)
        days = settings.getfloat("BROADSHEET_SITEMAP_MAX_AGE", 0)
        spider.sitemap_max_age = timedelta(days=days) if days > 0 else None
        days = settings.getfloat("BROADSHEET_FEED_MAX_AGE", 0)
        spider.feed_max_age = timedelta(days=days) if days > 0 else None
        if spider.source.article_pattern:
            spider.article_re = compile_pattern(spider.source.article_pattern)
        spider.limit = settings.getint("BROADSHEET_LIMIT")
        spider.max_sitemaps = settings.getint("BROADSHEET_MAX_SITEMAPS", 200)
        spider.max_depth = settings.getint("BROADSHEET_SITEMAP_DEPTH", 3)
        spider.max_urls = settings.getint(
            "BROADSHEET_SITEMAP_MAX_URLS", MAX_SITEMAP_URLS
        )
        spider.budget = settings.getfloat("BROADSHEET_SOURCE_BUDGET", 0)
        for handler, signal in (
            (spider.dropped, signals.request_dropped),
            (spider.idle, signals.spider_idle),
            (spider.top_up, signals.response_received),
            (spider.opened, signals.spider_opened),
            (spider.closed_budget, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return spider

    # -- entry points ---------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        # Entry points are read on every run, a run resumed from a JOBDIR included,
        # whose seen-set already holds them.
        for url in self.source.feeds:
            yield self.listing(url, "feed").replace(dont_filter=True)
        for url in self.source.sitemaps:
            yield self.listing(url, "sitemap").replace(dont_filter=True)
        for section in self.source.sections:
            yield self.listing(section.url, "section", pattern=section.pattern).replace(
                dont_filter=True
            )

    @property
    def entry_points(self) -> int:
        source = self.source
        return len(source.feeds) + len(source.sitemaps) + len(source.sections)

    def listing(self, url: str, kind: str, **meta: Any) -> Request:
        return Request(
            url,
            callback=self.parse_section if kind == "section" else self.parse_listing,
            errback=self.failed,
            meta={"broadsheet": kind, "handle_httpstatus_list": [304], **meta},
        )

    def article(self, link: Link, listings: tuple[str, ...] = ()) -> Request | None:
        """A request for an article link, or None when the source does not want it."""
        host = urlsplit(link.url).hostname or ""
        if not self.source.allows(host):
            self.count("offsite")
            return None
        if self.article_re is not None and not self.article_re.search(link.url):
            self.count("not-article-url")
            return None
        return Request(
            link.url,
            callback=self.parse_article,
            errback=self.failed,
            meta={
                "broadsheet": "article",
                "hints": link.hints,
                "broadsheet_listings": listings,
            },
        )

    def articles(self, links: Iterable[Link], listing: Response) -> Iterator[Request]:
        """The first requests for the links of a listing that the source wants; the
        rest wait in the backlog until Scrapy has room for them."""
        listings = led_through(listing)
        self.backlog.append(
            request
            for link in links
            if (request := self.article(link, listings)) is not None
        )
        yield from self.take(BATCH)

    # -- callbacks ------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        """A feed or a sitemap (whatever the source file called it): its links."""
        self.answered = True
        if response.status == 304:
            self.count("not-modified")
            return
        self.count("listings")
        try:
            body = gunzip(response.body, partial=True)  # what fits is read
            if is_sitemap(body):
                yield from self.parse_sitemap(response, body)
            else:
                reader = FeedReader(body, response.url, self.max_urls)
                yield from self.articles(self.feed_links(reader, response), response)
        except FeedError as error:
            self.count("unreadable-listing")
            self.unfinished_listings.add(listing_key(response.request))
            self.logger.warning(
                "%s: unreadable feed or sitemap: %s", response.url, error
            )

    def parse_sitemap(self, response: Response, body: bytes) -> Iterator[Request]:
        reader = SitemapReader(body, response.url, self.max_urls)
        if reader.kind == "index":
            yield from self.child_sitemaps(reader, response)
        else:
            yield from self.articles(self.sitemap_links(reader, response), response)

    def sitemap_links(
        self, reader: SitemapReader, response: Response
    ) -> Iterator[Link]:
        """A sitemap's fresh links as they are read; counts what it skipped."""
        for link in reader:
            if self.fresh(link):
                self.count("links")
                yield link
            else:
                self.count("stale-sitemap-links")
        self.sitemap_read(reader, response)

    def feed_links(self, reader: FeedReader, response: Response) -> Iterator[Link]:
        """A feed's fresh links as they are read; counts what it skipped."""
        for link in reader:
            if self.fresh(link.hints.date, self.feed_max_age):
                self.count("links")
                yield link
            else:
                self.count("stale-feed-links")
        self.sitemap_read(reader, response, "feed-entries")

    def child_sitemaps(
        self, reader: SitemapReader, response: Response
    ) -> Iterator[Request]:
        """The fresh child sitemaps of an index, within the depth and count caps."""
        depth = response.meta.get("broadsheet_depth", 0) + 1
        listings = led_through(response)
        for link in reader:
            if not self.fresh(link):
                self.count("stale-sitemap-links")
            elif not self.source.allows(urlsplit(link.url).hostname or ""):
                self.count("offsite")
            elif depth > self.max_depth:
                self.count("bound/sitemap-depth")
                break
            elif self.sitemaps >= self.max_sitemaps:
                self.count("bound/sitemaps")
                break
            else:
                self.sitemaps += 1
                yield self.listing(
                    link.url,
                    "sitemap",
                    broadsheet_listings=listings,
                    broadsheet_depth=depth,
                )
        self.sitemap_read(reader, response)

    def sitemap_read(
        self,
        reader: SitemapReader | FeedReader,
        response: Response,
        bound: str = "sitemap-urls",
    ) -> None:
        """Count what reading a listing skipped, and whether it stopped early."""
        self.count("bad-entries", reader.skipped)
        if reader.truncated:
            self.count(f"bound/{bound}")
            self.logger.warning(
                "%s: more than %d entries, the rest is not read",
                response.url,
                reader.max_urls,
            )
        if reader.error:
            self.count("unreadable-listing")
            self.unfinished_listings.add(listing_key(response.request))
            self.logger.warning("%s: %s", response.url, reader.error)

    def parse_section(self, response: Response) -> Iterator[Request]:
        """A section page: its links that match the section's article pattern."""
        self.answered = True
        if response.status == 304:
            self.count("not-modified")
            return
        self.count("listings")
        pattern = compile_pattern(response.meta["pattern"])
        links: dict[str, Link] = {}
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip()).split("#")[0]
            if url not in links and pattern.search(url):
                links[url] = Link(url)
        self.count("links", len(links))
        yield from self.articles(links.values(), response)

    def parse_article(self, response: Response) -> Iterator[Page]:
        self.answered = True
        self.count("pages")
        yield Page(
            url=response.url,
            body=response.body,
            source=self.source.name,
            headers={
                key.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
                for key, values in response.headers.items()
            },
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            status=response.status,
            seen_urls=seen_urls(response),
            hints=response.meta.get("hints") or Hints(),
        )

    # -- failures -------------------------------------------------------------

    def failed(self, failure: Failure) -> None:
        """Count a request that produced no usable response, in one log line."""
        request = failure.request
        if request.meta.get("broadsheet_skipped"):
            # stored already, a variant of a story asked for, dropped for good lately
            self.settled += request.meta.get("broadsheet_skipped") != "limit"
            return  # an incremental or --limit skip, counted where it was decided
        reason = failure_reason(failure)
        if reason == "timeout" and request.meta.get("broadsheet_budget_cut"):
            return  # cut at the time budget, counted there; the site did not time out
        self.count(f"failed/{reason}")
        if may_pass(reason):
            self.unfinished_listings.update(request.meta.get("broadsheet_listings", ()))
        if reason.startswith("http-"):
            self.answered = True
        message = reason if reason.startswith("http-") else failure.getErrorMessage()
        if reason == "too-large":
            message = f"larger than {self.settings.getint('DOWNLOAD_MAXSIZE')} bytes"
        # counted in the run's summary line; one log line each with -v
        self.logger.info("%s %s: %s", request.method, request.url, message)
        if request.meta.get("broadsheet") != "article" and reason in NETWORK_FAILURES:
            self.network_failures += 1
            if not self.answered and self.network_failures >= self.entry_points:
                host = urlsplit(request.url).hostname
                reason = f"unreachable: {host}: {failure.getErrorMessage()}"
                deferred_from_coro(
                    self.crawler.engine.close_spider_async(reason=reason)
                )

    def dropped(self, request: Request) -> None:
        """A request the scheduler refused as already seen: counts redirect loops."""
        chain = request.meta.get("redirect_urls") or []
        if request.meta.get("broadsheet") == "article" and not chain:
            self.settled += 1  # listed twice: fetched once already
        if request.meta.get("broadsheet") == "article" and request.url in chain:
            self.count("failed/redirect-loop")
            self.logger.info("GET %s: redirect loop", chain[0])

    # -- helpers --------------------------------------------------------------

    def fresh(self, link: Link | str | None, max_age: timedelta | None = None) -> bool:
        """False for a sitemap entry whose lastmod is older than
        BROADSHEET_SITEMAP_MAX_AGE, or a feed entry's date (a string) older than
        ``max_age`` (BROADSHEET_FEED_MAX_AGE)."""
        if isinstance(link, Link):
            link, max_age = link.lastmod, self.sitemap_max_age
        if max_age is None or not link:
            return True
        try:
            when = datetime.fromisoformat(link)
        except ValueError:
            return True
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return datetime.now(UTC) - when <= max_age

    def count(self, key: str, value: int = 1) -> None:
        self.crawler.stats.inc_value(f"broadsheet/{key}", value)


def led_through(response: Response) -> tuple[str, ...]:
    """The listings that led to this listing's response, and the listing itself."""
    return (
        *response.meta.get("broadsheet_listings", ()),
        listing_key(response.request),
    )


def seen_urls(response: Response) -> tuple[str, ...]:
    """The URLs requested on the way to ``response`` (redirects), without its own."""
    chain = [*response.meta.get("redirect_urls", ()), response.request.url]
    urls: list[str] = []
    for url in chain:
        if url != response.url and url not in urls:
            urls.append(url)
    return tuple(urls)
