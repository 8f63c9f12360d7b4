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
in full and requests those articles again.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    NoRouteError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from pipeline.crawl.listings import FeedError, Link, is_sitemap, listing_key, parse_feed
from pipeline.crawl.listings import parse_sitemap as read_sitemap
from pipeline.items import Hints, Page
from pipeline.sources import Source, SourceError, load_sources

# Failures meaning "the host cannot be reached at all", as opposed to an answer.
NETWORK_FAILURES = {"dns", "refused", "no-route", "connect", "tcp-timeout"}
# Failures a later request would meet again; every other one may pass.
LASTING_FAILURES = {"robots", "redirect-loop", "ignored"}


class NewsSpider(Spider):
    name = "news"

    def __init__(
        self, source: str | None = None, sources: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source_name = source
        self.sources_file = sources
        self.source: Source
        self.sitemap_max_age: timedelta | None = None
        self.network_failures = 0
        self.answered = False
        self.unfinished_listings: set[str] = set()

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
        crawler.signals.connect(spider.dropped, signal=signals.request_dropped)
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
        pattern = self.source.article_pattern
        if pattern and not re.search(pattern, link.url):
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
        """Requests for the links of a listing that the source wants."""
        listings = led_through(listing)
        for link in links:
            request = self.article(link, listings)
            if request:
                yield request

    # -- callbacks ------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        """A feed or a sitemap (whatever the source file called it): its links."""
        self.answered = True
        if response.status == 304:
            self.count("not-modified")
            return
        self.count("listings")
        try:
            if is_sitemap(response.body):
                yield from self.parse_sitemap(response)
            else:
                links = parse_feed(response.body, response.url)
                self.count("links", len(links))
                yield from self.articles(links, response)
        except FeedError as error:
            self.count("unreadable-listing")
            self.logger.warning(
                "%s: unreadable feed or sitemap: %s", response.url, error
            )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        sitemap = read_sitemap(response.body, response.url)
        fresh = [link for link in sitemap.links if self.fresh(link)]
        self.count("stale-sitemap-links", len(sitemap.links) - len(fresh))
        if sitemap.kind == "index":
            listings = led_through(response)
            for link in fresh:
                if self.source.allows(urlsplit(link.url).hostname or ""):
                    yield self.listing(
                        link.url, "sitemap", broadsheet_listings=listings
                    )
            return
        self.count("links", len(fresh))
        yield from self.articles(fresh, response)

    def parse_section(self, response: Response) -> Iterator[Request]:
        """A section page: its links that match the section's article pattern."""
        self.answered = True
        if response.status == 304:
            self.count("not-modified")
            return
        self.count("listings")
        pattern = re.compile(response.meta["pattern"])
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
            return  # an incremental or --limit skip, counted where it was decided
        reason = failure_reason(failure)
        self.count(f"failed/{reason}")
        if may_pass(reason):
            self.unfinished_listings.update(request.meta.get("broadsheet_listings", ()))
        if reason.startswith("http-"):
            self.answered = True
        message = (
            f"HTTP {reason[5:]}"
            if reason.startswith("http-")
            else failure.getErrorMessage()
        )
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
        if request.meta.get("broadsheet") == "article" and request.url in chain:
            self.count("failed/redirect-loop")
            self.logger.info("GET %s: redirect loop", chain[0])

    # -- helpers --------------------------------------------------------------

    def fresh(self, link: Link) -> bool:
        """False for a sitemap entry whose lastmod is older than BROADSHEET_SITEMAP_MAX_AGE."""
        if self.sitemap_max_age is None or not link.lastmod:
            return True
        try:
            when = datetime.fromisoformat(link.lastmod)
        except ValueError:
            return True
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return datetime.now(UTC) - when <= self.sitemap_max_age

    def count(self, key: str, value: int = 1) -> None:
        self.crawler.stats.inc_value(f"broadsheet/{key}", value)


def led_through(response: Response) -> tuple[str, ...]:
    """The listings that led to this listing's response, and the listing itself."""
    return (
        *response.meta.get("broadsheet_listings", ()),
        listing_key(response.request),
    )


def may_pass(reason: str) -> bool:
    """Whether a failure might not happen again: a timeout, a 5xx, a 429 may pass; a
    404, a robots.txt refusal or a redirect loop will not."""
    if reason in LASTING_FAILURES:
        return False
    if reason.startswith("http-4"):
        return reason in {"http-408", "http-429"}
    return True


def seen_urls(response: Response) -> tuple[str, ...]:
    """The URLs requested on the way to ``response`` (redirects), without its own."""
    chain = [*response.meta.get("redirect_urls", ()), response.request.url]
    urls: list[str] = []
    for url in chain:
        if url != response.url and url not in urls:
            urls.append(url)
    return tuple(urls)


def failure_reason(failure: Failure) -> str:
    """A short stable slug for a failed request: http-404, timeout, dns, robots ..."""
    error = failure.value
    if isinstance(error, HttpError):
        return f"http-{error.response.status}"
    if isinstance(error, IgnoreRequest):
        message = str(error).lower()
        if "robots" in message:
            return "robots"
        if "redirect" in message:
            return "redirect-loop"
        return "ignored"
    for kind, slug in (
        ((CannotResolveHostError, DNSLookupError), "dns"),
        ((DownloadConnectionRefusedError, ConnectionRefusedError), "refused"),
        (DownloadTimeoutError, "timeout"),
        (NoRouteError, "no-route"),
        (TCPTimedOutError, "tcp-timeout"),
        (TimeoutError, "timeout"),
        (ConnectError, "connect"),
    ):
        if isinstance(error, kind):
            return slug
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()
