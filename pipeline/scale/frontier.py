"""Many crawler processes, one frontier: scrapy-redis wired for broadsheet.

Set ``BROADSHEET_REDIS_URL`` (``broadsheet crawl --redis URL``, or ``-s`` with
``scrapy crawl`` and scrapyd; scrapy-redis's own ``REDIS_URL`` works too) and the
:class:`~pipeline.scale.addon.RedisFrontier` add-on switches the crawl over:

* :class:`~pipeline.scale.scheduler.SourceScheduler` (scrapy-redis's Scheduler, ``SCHEDULER_PERSIST``): one
  request queue per source, ``broadsheet:<source>:requests``, shared by every process
  crawling that source, on any machine;
* :class:`ArticleDupeFilter`: article requests are checked against the source's
  seen-set in Redis, ``broadsheet:<source>:seen``, which outlives runs, so an article
  is requested once across processes and runs; feeds, sitemaps and section pages are
  checked only against an in-memory set of the process, so every run reads them;
* :class:`PushItems` replaces the Store pipeline: each extracted Article is pushed,
  as JSON, to ``broadsheet:items`` for ``broadsheet load``, the single SQLite writer,
  and so is each page not stored (dropped by extraction, a 404/410, a robots.txt
  refusal), which the loader records in ``drops``; the crawler opens no database for
  writing and takes no output lock;
* :class:`ForgetFailed` takes an article out of the seen-set again when it was not
  fetched for a passing reason (``--limit``, timeout, network error, 5xx, 429).

The seen-set holds :func:`fingerprint` of each article URL: one value for every
variant of a URL (scheme, ``www.``, tracking parameters, AMP), as the store matches
them. :func:`seed` fills it from an existing database.

Queued requests are JSON (:mod:`pipeline.scale.serializer`, scrapy-redis's
``SCHEDULER_SERIALIZER``), never pickle: :class:`JsonQueue` sets aside, in
``<queue>:rejected``, a message that is not a request broadsheet wrote, counts it
(``broadsheet/redis/rejected``) and logs one line. Keys start with
``BROADSHEET_REDIS_PREFIX``. When Redis stops answering, the crawler holds what it
would push and waits (:class:`Outage`) up to ``BROADSHEET_REDIS_GIVE_UP`` seconds,
then closes with reason ``redis-unreachable`` (a failing run).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings, Settings
from scrapy.statscollectors import StatsCollector
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter

from pipeline.crawl.middlewares import DROPPED
from pipeline.crawl.pipelines import PageDropped
from pipeline.crawl.runner import NO_LISTING, run_stats
from pipeline.errors import BroadsheetError
from pipeline.items import Article
from pipeline.output import DB_NAME
from pipeline.runstats import RunStats, print_summary, utc_now
from pipeline.scale.addon import redis_url
from pipeline.scale.connection import LOST, Keys
from pipeline.scale.outage import (
    Outage,
    hand_over,
    keys_of,
    spill,
)
from pipeline.scale.queues import article_message, connect, dropped_message
from pipeline.scale.queues import crawl_message as run_message
from pipeline.store.dedup import url_variants

log = logging.getLogger(__name__)
QUEUE_KEY = Keys().queue_template
SEEN_KEY = Keys().seen_template
SEED_BATCH = 1000
NOTHING_FETCHED = "no article fetched"  # pipeline.crawl.runner.verdict's last word


def frontier_name(spider: Spider) -> str:
    """The source a spider crawls (its queue and seen-set are per source)."""
    source = getattr(spider, "source", None)
    return getattr(source, "name", None) or spider.name


def seen_key(source: str, settings: BaseSettings | None = None) -> str:
    template = (settings.get("SCHEDULER_DUPEFILTER_KEY") if settings else None) or (
        SEEN_KEY
    )
    return template % {"spider": source}


def fingerprint(url: str) -> str:
    """One value for every variant of an article URL, as the store matches them."""
    return hashlib.sha1(min(url_variants(url)).encode()).hexdigest()


class ArticleDupeFilter(RFPDupeFilter):
    """Articles: the source's seen-set in Redis. Listings: this process only."""

    def __init__(
        self,
        server: redis.Redis,
        key: str,
        debug: bool = False,
        stats: StatsCollector | None = None,
    ) -> None:
        super().__init__(server, key, debug)
        self.listings: set[str] = set()
        self.stats = stats

    @classmethod
    def from_spider(cls, spider: Spider) -> ArticleDupeFilter:
        settings = spider.settings
        return cls(
            get_redis_from_settings(settings),
            key=seen_key(frontier_name(spider), settings),
            debug=settings.getbool("DUPEFILTER_DEBUG"),
            stats=spider.crawler.stats,
        )

    def request_seen(self, request: Request) -> bool:
        if request.meta.get("broadsheet") == "article":
            seen = self.server.sadd(self.key, fingerprint(request.url)) == 0
            if seen and self.stats is not None:
                self.stats.inc_value("broadsheet/skipped/seen")
            return seen
        key = self.request_fingerprint(request)
        if key in self.listings:
            return True
        self.listings.add(key)
        return False

    def close(self, reason: str = "") -> None:
        """Keep the seen-set: it is what makes the next run incremental."""


class ForgetFailed:
    """Downloader middleware: an article not fetched for a passing reason is
    removed from the seen-set, so that a later run requests it again."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ForgetFailed:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= 500 or response.status == 429:
            self.forget(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, IgnoreRequest):
            self.forget(request)  # timeout, network: the retries gave up
        elif request.meta.get("broadsheet_skipped") == "limit":
            self.forget(request)

    def forget(self, request: Request) -> None:
        if request.meta.get("broadsheet") != "article":
            return
        urls = {request.url, *request.meta.get("redirect_urls", ())}
        key = seen_key(frontier_name(self.crawler.spider), self.crawler.settings)
        prints = [fingerprint(url) for url in urls]
        outage = Outage.of(self.crawler)
        if outage.guard(lambda: self.server.srem(key, *prints), None) is None:
            outage.unsent.append(json.dumps({"forget": [key, *prints]}))
        self.crawler.stats.inc_value("broadsheet/forgotten")


def shared_verdict(run: RunStats, queued: int, seen: int) -> None:
    """``run``'s verdict for a crawler that shares its queue with others: it may have
    found nothing new, or its peers may have read the feeds it queued, and be well."""
    if queued and not run.message:
        run.message = f"{queued} articles queued for broadsheet load"
    elif run.broken and queued and run.message.startswith(NO_LISTING):
        run.broken = False  # the peers popped the feeds; it fetched their articles
        run.message = (
            f"{queued} articles queued for broadsheet load (peers read the feeds)"
        )
    elif run.broken and not run.pages and seen and run.message == NOTHING_FETCHED:
        run.broken = False  # its links were fetched by another crawler, or earlier
        run.message = f"nothing new: every article was seen already ({seen} links)"


class PushItems:
    """Item pipeline in place of Store: articles to ``broadsheet:items``, then the
    run's ``crawls`` row, which ``broadsheet load`` writes with the articles."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.server = get_redis_from_settings(settings)
        self.key = keys_of(settings).items
        self.outage = Outage.of(crawler)
        self.held: list[bytes] = []  # messages waiting for Redis to come back
        command = settings.get("BROADSHEET_COMMAND") or "scrapy crawl"
        self.command = command if "redis" in command else f"{command} --redis"
        # Crawlers on several machines start runs at the same second: say which one.
        run_id = settings.get("BROADSHEET_RUN_ID") or utc_now()
        self.run_id = f"{run_id} {socket.gethostname()}:{os.getpid()}"
        self.started = utc_now()
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.page_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.url_dropped, signal=DROPPED)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PushItems:
        return cls(crawler)

    def open_spider(self) -> None:
        self.started = utc_now()

    def push(self, message: bytes) -> None:
        self.held.append(message)
        if self.outage.guard(lambda: self.server.rpush(self.key, *self.held), None):
            self.held = []

    def process_item(self, item: Article) -> Article:
        self.push(article_message(item))
        self.crawler.stats.inc_value("broadsheet/outcome/queued")
        return item

    def page_dropped(self, item: Any, exception: BaseException) -> None:
        """A page extraction dropped: on record in the loader's ``drops`` table."""
        if isinstance(exception, PageDropped):
            self.url_dropped(exception.url, exception.reason, exception.detail)

    def url_dropped(self, url: str, reason: str, detail: str) -> None:
        """An article answered 404/410 or refused by robots.txt, likewise."""
        source = frontier_name(self.crawler.spider)
        self.push(
            dropped_message(
                source, reason, url, detail, self.run_id, self.command, counted=True
            )
        )

    def closed(self, spider: Spider, reason: str) -> None:
        name = frontier_name(spider)
        stats = self.crawler.stats
        run = run_stats(name, stats.get_stats(), reason, self.command, self.started)
        queued = run.outcomes.pop("queued", 0)
        seen = stats.get_value("broadsheet/skipped/seen", 0)
        shared_verdict(run, queued, seen)
        self.held.append(run_message(run.as_row(self.run_id)))
        try:  # one last try, whatever the outage said
            self.server.rpush(self.key, *self.held)
            self.held = []
        except LOST as error:
            log.debug("run row not pushed: %s", error)
        self.outage.unsent += [
            json.dumps({"push": m.decode(), "key": self.key}) for m in self.held
        ]
        if self.outage.unsent:
            path = spill(self.crawler.settings, name, self.outage.unsent)
            run.message += f"; what Redis did not get is kept in {path}"
        stats.set_value("broadsheet/status", "failing" if run.broken else "ok")
        stats.set_value("broadsheet/message", run.message)
        print_summary([run], title=f"broadsheet crawl: {name} (into Redis)")


# -- broadsheet crawl --redis ----------------------------------------------------


class FrontierError(BroadsheetError):
    """A crawl into Redis cannot start."""


def prepare_crawl(
    settings: Settings, url: str | None, seed_from: Path | None, refresh: bool
) -> dict[str, int]:
    """Point ``settings`` at Redis, check it answers, seed it; URLs seeded per source."""
    url = url or redis_url(settings)
    if refresh:
        raise FrontierError(
            "--refresh cannot be used with --redis: the seen-set in Redis decides what "
            "is fetched; to fetch a source's articles again, delete broadsheet:<source>:seen"
        )
    settings.set("BROADSHEET_REDIS_URL", url, priority="cmdline")
    client = connect(url)
    output = Path(settings.get("BROADSHEET_OUTPUT") or "output")
    handed = hand_over(output, client)
    if handed:
        log.warning("handed %d message(s) earlier crawlers kept over to Redis", handed)
    if seed_from is None:
        return {}
    database = seed_from / DB_NAME
    if not database.is_file():
        raise FrontierError(f"--seed-from {seed_from}: no {DB_NAME} there")
    return seed(database, client, keys=keys_of(settings))


# -- seeding ------------------------------------------------------------------


def seed(
    database: Path,
    client: redis.Redis,
    sources: set[str] | None = None,
    keys: Keys | None = None,
) -> dict[str, int]:
    """Put every URL stored in ``database`` into its source's seen-set (keys under
    ``keys``' prefix, by default ``BROADSHEET_REDIS_PREFIX``'s).

    Returns how many URLs were added per source (already present ones not counted).
    """
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT u.url, a.source FROM urls u JOIN articles a ON a.id = u.article_id"
        )
        by_source: dict[str, set[str]] = defaultdict(set)
        for url, source in rows:
            if sources is None or source in sources:
                by_source[source].add(fingerprint(url))
    finally:
        conn.close()
    template = (keys or Keys.from_env()).seen_template
    added: dict[str, int] = {}
    for source, prints in sorted(by_source.items()):
        values = sorted(prints)
        added[source] = 0
        for start in range(0, len(values), SEED_BATCH):
            added[source] += client.sadd(
                template % {"spider": source}, *values[start : start + SEED_BATCH]
            )
    return added
