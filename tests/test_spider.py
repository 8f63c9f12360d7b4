"""The news spider's callbacks on fake responses, as in Scrapy's own tests."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import HtmlResponse, Response, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
)
from twisted.python.failure import Failure

from pipeline.crawl.listings import Link
from pipeline.crawl.middlewares import retry_after
from pipeline.items import Hints, Page
from pipeline.sources import SourceError, load_sources
from spiders.news import NewsSpider, failure_reason, may_pass, seen_urls

SITE = Path(__file__).parent / "site"
FEEDS = Path(__file__).parent / "fixtures" / "feeds"
BASE = "http://127.0.0.1:8000"


def site_bytes(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{base}}", BASE.encode())


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f"""
[[source]]
name = "ledger"
domains = ["127.0.0.1"]
feeds = ["{BASE}/feeds/rss.xml", "{BASE}/feeds/atom.xml"]
sitemaps = ["{BASE}/sitemap-index.xml"]
sections = [{{ url = "{BASE}/section/world.html", pattern = '/news/[a-z-]+\\.html$' }}]

[[source]]
name = "picky"
domains = ["127.0.0.1"]
feeds = ["{BASE}/feeds/rss.xml"]
article_pattern = "/news/m[a-z-]+\\\\.html$"
""",
        encoding="utf-8",
    )
    return path


def make_spider(sources: Path, name: str = "ledger", **settings: object) -> NewsSpider:
    crawler = get_crawler(NewsSpider, {"BROADSHEET_SITEMAP_MAX_AGE": 3, **settings})
    crawler.spider = NewsSpider.from_crawler(crawler, source=name, sources=str(sources))
    crawler.stats.open_spider()
    return crawler.spider


def stat(spider: NewsSpider, key: str) -> int | None:
    return spider.crawler.stats.get_value(f"broadsheet/{key}")


def xml_response(
    url: str, body: bytes, status: int = 200, kind: str = "feed"
) -> Response:
    request = Request(url, meta={"broadsheet": kind})
    return XmlResponse(url=url, body=body, status=status, request=request)


def collect(start) -> list[Request]:
    async def run() -> list[Request]:
        return [request async for request in start]

    return asyncio.run(run())


def test_start_requests_every_feed_sitemap_and_section(sources: Path) -> None:
    spider = make_spider(sources)
    requests = collect(spider.start())
    assert [(r.url, r.meta["broadsheet"]) for r in requests] == [
        (f"{BASE}/feeds/rss.xml", "feed"),
        (f"{BASE}/feeds/atom.xml", "feed"),
        (f"{BASE}/sitemap-index.xml", "sitemap"),
        (f"{BASE}/section/world.html", "section"),
    ]
    assert all(r.meta["handle_httpstatus_list"] == [304] for r in requests)
    assert requests[3].callback == spider.parse_section
    assert spider.allowed_domains == ["127.0.0.1"]


def test_spider_needs_a_known_source(sources: Path) -> None:
    crawler = get_crawler(NewsSpider)
    with pytest.raises(SourceError, match="needs a source"):
        NewsSpider.from_crawler(crawler)
    with pytest.raises(SourceError, match='unknown source "nope"'):
        NewsSpider.from_crawler(crawler, source="nope", sources=str(sources))


def test_rss_feed_yields_article_requests_with_hints(sources: Path) -> None:
    spider = make_spider(sources)
    response = xml_response(f"{BASE}/feeds/rss.xml", site_bytes("feeds/rss.xml"))
    requests = list(spider.parse_listing(response))
    assert len(requests) == 9
    first = requests[0]
    assert first.url == f"{BASE}/news/markets-rally.html"
    assert first.meta["broadsheet"] == "article"
    assert first.meta["hints"].date == "2025-03-14T09:30:00+05:30"
    assert first.callback == spider.parse_article
    assert first.errback == spider.failed
    assert stat(spider, "links") == 9


def test_atom_feed_skips_links_outside_the_source_domains(sources: Path) -> None:
    spider = make_spider(sources)
    response = xml_response(f"{BASE}/feeds/atom.xml", site_bytes("feeds/atom.xml"))
    urls = [r.url for r in spider.parse_listing(response)]
    assert f"{BASE}/amp/news/markets-rally.html" in urls
    assert not any("elsewhere.invalid" in url for url in urls)
    assert stat(spider, "offsite") == 1


def test_article_pattern_filters_feed_links(sources: Path) -> None:
    spider = make_spider(sources, name="picky")
    response = xml_response(f"{BASE}/feeds/rss.xml", site_bytes("feeds/rss.xml"))
    urls = [r.url.rsplit("/", 1)[1] for r in spider.parse_listing(response)]
    assert urls == [
        "markets-rally.html",
        "monsoon-reservoirs.html",
        "metro-line-opens.html",
    ]


def test_rdf_feed_from_a_url_named_as_a_sitemap_is_still_read(sources: Path) -> None:
    spider = make_spider(sources)
    body = (FEEDS / "rdf-science.rss").read_bytes()
    response = xml_response(f"{BASE}/sitemap-index.xml", body, kind="sitemap")
    requests = list(spider.parse_listing(response))
    assert stat(spider, "links") == 69
    assert stat(spider, "offsite") == 69  # science.sciencemag.org is not the source's
    assert requests == []


def test_not_modified_listing_yields_nothing(sources: Path) -> None:
    spider = make_spider(sources)
    response = xml_response(f"{BASE}/feeds/rss.xml", b"", status=304)
    assert list(spider.parse_listing(response)) == []
    assert stat(spider, "not-modified") == 1
    assert stat(spider, "listings") is None


def test_unreadable_listing_is_counted_not_raised(sources: Path) -> None:
    spider = make_spider(sources)
    response = xml_response(f"{BASE}/feeds/rss.xml", b"\x1f\x8bnot really gzip")
    assert list(spider.parse_listing(response)) == []
    assert stat(spider, "unreadable-listing") == 1
    # never remembered as read: its validators are not kept, the next run reads it
    assert spider.unfinished_listings == {f"{BASE}/feeds/rss.xml"}


def test_a_sitemap_broken_midway_gives_its_links_and_is_read_again_next_run(
    sources: Path,
) -> None:
    spider = make_spider(sources, BROADSHEET_SITEMAP_MAX_AGE=0)
    entries = "".join(
        f"<url><loc>{BASE}/news/story-{n}.html</loc></url>" for n in range(20)
    )
    body = f"<urlset>{entries}</urlset>".encode()[:-40]
    url = f"{BASE}/sitemaps/broken.xml"
    requests = list(spider.parse_listing(xml_response(url, body, kind="sitemap")))
    assert len(requests) >= 18
    assert spider.unfinished_listings == {url}


def rss_of(count: int, days_old: int = 0) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(days=days_old))
    items = "".join(
        f"<item><link>{BASE}/news/story-{n}.html</link><pubDate>{when}</pubDate></item>"
        for n in range(count)
    )
    return f"<rss><channel>{items}</channel></rss>".encode()


def test_a_huge_feed_is_read_only_as_far_as_requests_are_taken(sources: Path) -> None:
    spider = make_spider(sources)
    response = xml_response(f"{BASE}/feeds/rss.xml", rss_of(5000))
    requests = list(spider.parse_listing(response))
    assert len(requests) == 64  # one batch; the rest waits in the backlog, unread
    assert stat(spider, "links") == 64
    assert len(spider.backlog) == 1
    assert len(list(spider.take(10_000))) == 5000 - 64
    assert stat(spider, "links") == 5000


def test_feed_entries_older_than_the_feed_age_limit_are_skipped(
    sources: Path,
) -> None:
    url = f"{BASE}/feeds/rss.xml"
    old = make_spider(sources, BROADSHEET_FEED_MAX_AGE=2)
    assert list(old.parse_listing(xml_response(url, rss_of(3, days_old=5)))) == []
    assert stat(old, "stale-feed-links") == 3
    fresh = make_spider(sources, BROADSHEET_FEED_MAX_AGE=2)
    assert len(list(fresh.parse_listing(xml_response(url, rss_of(3))))) == 3
    unlimited = make_spider(sources)  # no age limit by default
    assert len(list(unlimited.parse_listing(xml_response(url, rss_of(3, 5))))) == 3


def test_a_feed_broken_midway_gives_its_links_and_is_read_again_next_run(
    sources: Path,
) -> None:
    spider = make_spider(sources)
    url = f"{BASE}/feeds/rss.xml"
    body = rss_of(20)[:-60]
    requests = list(spider.parse_listing(xml_response(url, body)))
    assert len(requests) >= 18
    assert stat(spider, "unreadable-listing") == 1
    assert spider.unfinished_listings == {url}


def test_gzipped_news_sitemap_gives_article_requests_with_news_hints(
    sources: Path,
) -> None:
    spider = make_spider(sources)
    url = f"{BASE}/sitemaps/news.xml.gz"
    body = gzip.compress(site_bytes("sitemaps/news.xml"))
    response = Response(url=url, body=body, request=Request(url))
    requests = list(spider.parse_listing(response))
    assert [r.url.rsplit("/", 1)[1] for r in requests] == [
        "chess-championship.html",
        "library-reopens.html",
        "old-port-story.html",
    ]
    assert requests[0].meta["hints"] == Hints(
        title="Teenager wins national chess title with a round to spare",
        date="2025-05-18T20:15:00+05:30",
        keywords=("chess", "championship", "Chennai"),
        lang="en",
    )


def test_sitemap_index_follows_fresh_child_sitemaps_only(sources: Path) -> None:
    spider = make_spider(sources)
    response = xml_response(
        f"{BASE}/sitemap-index.xml", site_bytes("sitemap-index.xml")
    )
    requests = list(spider.parse_listing(response))
    assert [(r.url, r.meta["broadsheet"]) for r in requests] == [
        (f"{BASE}/sitemaps/news.xml.gz", "sitemap")
    ]
    assert stat(spider, "stale-sitemap-links") == 1


def test_sitemap_age_limit_can_be_turned_off(sources: Path) -> None:
    spider = make_spider(sources, BROADSHEET_SITEMAP_MAX_AGE=0)
    response = xml_response(
        f"{BASE}/sitemap-index.xml", site_bytes("sitemap-index.xml")
    )
    assert len(list(spider.parse_listing(response))) == 2


def test_section_page_yields_matching_links_once(sources: Path) -> None:
    spider = make_spider(sources)
    url = f"{BASE}/section/world.html"
    response = HtmlResponse(
        url=url,
        body=site_bytes("section/world.html"),
        request=Request(url, meta={"pattern": r"/news/[a-z-]+\.html$"}),
    )
    urls = [r.url for r in spider.parse_section(response)]
    assert urls == [
        f"{BASE}/news/port-expansion.html",
        f"{BASE}/news/chess-championship.html",
    ]


def test_article_response_becomes_a_page_with_hints_and_redirects(
    sources: Path,
) -> None:
    spider = make_spider(sources)
    hints = Hints(title="Port expansion", date="2025-03-30T13:10:00+05:30")
    final = f"{BASE}/news/port-expansion.html"
    request = Request(
        final,
        meta={
            "broadsheet": "article",
            "hints": hints,
            "redirect_urls": [f"{BASE}/news/old-port-story.html"],
        },
    )
    body = site_bytes("news/port-expansion.html")
    response = HtmlResponse(
        url=final,
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8", "ETag": '"x"'},
        request=request,
    )
    (page,) = spider.parse_article(response)
    assert isinstance(page, Page)
    assert page.url == final
    assert page.body == body
    assert page.source == "ledger"
    assert page.hints == hints
    assert page.seen_urls == (f"{BASE}/news/old-port-story.html",)
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["etag"] == '"x"'
    assert page.fetched_at.endswith("+00:00")
    assert stat(spider, "pages") == 1


def test_seen_urls_is_empty_without_redirects() -> None:
    url = f"{BASE}/news/a.html"
    assert seen_urls(HtmlResponse(url=url, body=b"", request=Request(url))) == ()


def failure(error: Exception, url: str = f"{BASE}/news/a.html") -> Failure:
    result = Failure(error)
    result.request = Request(url, meta={"broadsheet": "article"})
    return result


def test_failure_reasons_are_short_slugs() -> None:
    url = f"{BASE}/news/a.html"
    missing = HtmlResponse(url=url, status=404, body=b"", request=Request(url))
    assert failure_reason(failure(HttpError(missing, "Ignoring"))) == "http-404"
    assert failure_reason(failure(IgnoreRequest("Forbidden by robots.txt"))) == "robots"
    assert (
        failure_reason(failure(IgnoreRequest("max redirections reached")))
        == "redirect-loop"
    )
    assert failure_reason(failure(DownloadTimeoutError("took longer"))) == "timeout"
    assert failure_reason(failure(TCPTimedOutError())) == "connection-timeout"
    assert failure_reason(failure(DNSLookupError("no such host"))) == "dns"
    assert failure_reason(failure(ConnectionRefusedError())) == "connection-refused"
    too_big = DownloadCancelledError(
        "Received 20000000 bytes which is larger than download max size (16777216)"
    )
    assert failure_reason(failure(too_big)) == "too-large"
    moved = HtmlResponse(url=url, status=301, body=b"", request=Request(url))
    assert failure_reason(failure(HttpError(moved, "Ignoring"))) == (
        "redirect-not-followed"
    )
    assert failure_reason(failure(ValueError("odd"))) == "value-error"


def test_failed_request_is_counted_once(sources: Path) -> None:
    spider = make_spider(sources)
    spider.failed(failure(DownloadTimeoutError("took longer")))
    assert stat(spider, "failed/timeout") == 1
    skipped = failure(IgnoreRequest("skipped (known)"))
    skipped.request.meta["broadsheet_skipped"] = "known"
    spider.failed(skipped)
    assert stat(spider, "failed/ignored") is None


def test_retry_after_header() -> None:
    assert retry_after(b"7") == 7
    assert retry_after(None) is None
    assert retry_after(b"soon") is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= retry_after(format_datetime(later, usegmt=True).encode()) <= 31
    earlier = datetime.now(UTC) - timedelta(seconds=30)
    assert retry_after(format_datetime(earlier, usegmt=True).encode()) == 0


def failure_of(request: Request, reason: str) -> Failure:
    """A failure of ``request`` that :func:`failure_reason` calls ``reason``."""
    if reason.startswith("http-"):
        answer = HtmlResponse(request.url, status=int(reason[5:]), request=request)
        error: Exception = HttpError(answer, "Ignoring")
    else:
        error = {
            "timeout": DownloadTimeoutError("took longer"),
            "dns": DNSLookupError("no such host"),
            "robots": IgnoreRequest("Forbidden by robots.txt"),
            "redirect-loop": IgnoreRequest("max redirections reached"),
        }[reason]
    result = Failure(error)
    result.request = request
    assert failure_reason(result) == reason
    return result


@pytest.mark.parametrize(
    ("reason", "passes"),
    [
        ("timeout", True),
        ("http-500", True),
        ("http-503", True),
        ("http-429", True),
        ("http-408", True),
        ("dns", True),
        ("http-404", False),
        ("http-410", False),
        ("http-403", False),
        ("robots", False),
        ("redirect-loop", False),
    ],
)
def test_failures_that_may_pass_leave_their_listings_unfinished(
    sources: Path, reason: str, passes: bool
) -> None:
    assert may_pass(reason) is passes
    spider = make_spider(sources)
    feed = xml_response(f"{BASE}/feeds/rss.xml", site_bytes("feeds/rss.xml"))
    request = next(iter(spider.parse_listing(feed)))
    assert request.meta["broadsheet_listings"] == (f"{BASE}/feeds/rss.xml",)
    spider.failed(failure_of(request, reason))
    assert spider.unfinished_listings == (
        {f"{BASE}/feeds/rss.xml"} if passes else set()
    )


def test_articles_of_a_child_sitemap_name_the_index_too(sources: Path) -> None:
    spider = make_spider(sources, BROADSHEET_SITEMAP_MAX_AGE=0)
    index = xml_response(f"{BASE}/sitemap-index.xml", site_bytes("sitemap-index.xml"))
    child = next(iter(spider.parse_listing(index)))
    assert child.meta["broadsheet_listings"] == (f"{BASE}/sitemap-index.xml",)
    url = child.url
    body = gzip.compress(site_bytes("sitemaps/news.xml"))
    response = Response(url=url, body=body, request=child)
    article = next(iter(spider.parse_listing(response)))
    assert article.meta["broadsheet_listings"] == (f"{BASE}/sitemap-index.xml", url)


def test_a_backtracking_pattern_cannot_freeze_the_crawl(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "greedy"\ndomains = ["127.0.0.1"]\n'
        f'feeds = ["{BASE}/feed.xml"]\narticle_pattern = "(a+)+$"\n'
        f'sections = [{{ url = "{BASE}/s.html", pattern = "/news/([a-z0-9]+-?)+\\\\.html$" }}]\n'
    )
    spider = make_spider(path, name="greedy")
    started = time.monotonic()
    long_link = Link(f"{BASE}/" + "a" * 50_000 + "!")
    assert spider.article(long_link) is None
    slug = "-".join(["word"] * 2_000) + "!"
    section = HtmlResponse(
        url=f"{BASE}/s.html",
        body=f'<a href="/news/{slug}.html">x</a><a href="/news/a-b.html">y</a>'.encode(),
        request=Request(
            f"{BASE}/s.html", meta={"pattern": spider.source.sections[0].pattern}
        ),
    )
    spider.article_re = None
    assert [r.url for r in spider.parse_section(section)] == [f"{BASE}/news/a-b.html"]
    assert time.monotonic() - started < 2


def test_a_pattern_re2_refuses_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nname = "look"\ndomains = ["x.org"]\nfeeds = ["http://x.org/f"]\n'
        'article_pattern = "(?<!amp)/news/"\n'
    )
    with pytest.raises(SourceError, match="look-around and back-references"):
        load_sources(path)
