"""Thin Scrapy item pipelines over extract, normalize and store, and a log formatter.

    Page --Extract--> Article --Normalize--> Extracted --Store--> row + markdown file

:class:`Extract` runs :func:`pipeline.extract.article.extract` in the extraction pool
(``BROADSHEET_WORKERS`` processes; 0 runs it in the crawl process) and turns
``Dropped`` into ``DropItem`` with the reason. :class:`Normalize` runs the normalize
stage (:mod:`pipeline.normalize.stage`) and the article's fingerprint in the same
pool. :class:`Store` hands normalized articles to
:class:`pipeline.store.writer.Store`, records the pages not stored in ``drops`` and the
variants skipped as URLs of their story, and, when the spider closes, writes the run's
row in ``crawls`` and prints its summary. Crawlers of several sources in one process share
one Store (one SQLite writer, one near-duplicate index) and one pool.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Request, Response
from scrapy.logformatter import LogFormatter as ScrapyLogFormatter
from scrapy.logformatter import LogFormatterResult
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from pipeline.crawl.middlewares import DROPPED, LISTINGS_CHECKED, VARIANT
from pipeline.crawl.progress import summary_console
from pipeline.crawl.verdict import run_stats
from pipeline.errors import Dropped
from pipeline.inputs.workers import Extracted, ExtractPool, default_workers
from pipeline.items import Article, Page
from pipeline.runstats import print_summary, utc_now
from pipeline.store import writer as store_module
from pipeline.store.drops import DropLog
from pipeline.store.layouts import open_store
from pipeline.store.lock import output_lock
from pipeline.store.writer import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")
QUIET_OUTCOMES = {"duplicate", "near-duplicate"}


class Shared:
    """One instance of a resource per key in this process, reference-counted."""

    def __init__(self) -> None:
        self.open: dict[Any, tuple[Any, ExitStack, int]] = {}

    def acquire(self, key: Any, make: Callable[[ExitStack], Any]) -> Any:
        if key in self.open:
            value, stack, users = self.open[key]
            self.open[key] = (value, stack, users + 1)
            return value
        stack = ExitStack()
        try:
            value = make(stack)
        except BaseException:
            stack.close()
            raise
        self.open[key] = (value, stack, 1)
        return value

    def release(self, key: Any) -> None:
        value, stack, users = self.open.pop(key)
        if users > 1:
            self.open[key] = (value, stack, users - 1)
        else:
            stack.close()


STORES = Shared()
POOLS = Shared()


class PageDropped(DropItem):
    """A page extraction did not turn into an article, with the reason."""

    def __init__(self, url: str, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {url}", log_level="INFO")
        self.url, self.reason, self.detail = url, reason, detail


class Extract:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        workers = crawler.settings.get("BROADSHEET_WORKERS")
        self.workers = default_workers() if workers in (None, "") else int(workers)
        self.pool: ExtractPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Extract:
        return cls(crawler)

    def open_spider(self) -> None:
        self.pool = POOLS.acquire(
            self.workers,
            lambda stack: stack.enter_context(ExtractPool(self.workers)),
        )

    def close_spider(self) -> None:
        POOLS.release(self.workers)
        self.pool = None

    async def process_item(self, item: Page) -> Article:
        source = getattr(self.crawler.spider, "source", None)
        future = self.pool.submit(item, source)
        await asyncio.wrap_future(future)
        return self.passed(self.pool.result(future, source), item.url)

    def passed(self, result: T | Dropped, url: str) -> T:
        """``result``, or DropItem with the reason it was dropped (counted)."""
        if isinstance(result, Dropped):
            self.crawler.stats.inc_value(f"broadsheet/dropped/{result.reason}")
            raise PageDropped(url, result.reason, result.detail)
        return result


class Normalize(Extract):
    """The normalize stage, in the extraction pool (one pool per process, shared)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Normalize:
        return cls(crawler)

    async def process_item(self, item: Article) -> Extracted:
        source = getattr(self.crawler.spider, "source", None)
        future = self.pool.submit_normalize(item)
        await asyncio.wrap_future(future)
        return self.passed(self.pool.ready(future, source), item.url)


class Store:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.output = Path(settings.get("BROADSHEET_OUTPUT") or "output")
        self.key = self.output.resolve()
        self.lock = not settings.getbool("BROADSHEET_LOCK_HELD")
        self.command = settings.get("BROADSHEET_COMMAND") or "scrapy crawl"
        self.run_id = settings.get("BROADSHEET_RUN_ID") or utc_now()
        self.started = utc_now()
        self.store: store_module.Store | None = None
        # (article URL, the URLs that redirected to it) when the scheduler refused the
        # redirect because the article was already requested in this run
        self.redirects: list[tuple[str, list[str]]] = []
        self.drops: DropLog | None = None
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.redirected, signal=signals.request_dropped)
        crawler.signals.connect(self.page_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.url_dropped, signal=DROPPED)
        crawler.signals.connect(self.variant, signal=VARIANT)
        crawler.signals.connect(self.listings_checked, signal=LISTINGS_CHECKED)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Store:
        return cls(crawler)

    def open_spider(self) -> None:
        self.started = utc_now()
        self.store = STORES.acquire(self.key, self._open)
        self.drops = DropLog(self.store, self.run_id, self.command)
        source = getattr(self.crawler.spider, "source", None)
        if source is not None:
            self.store.register_sources([source])

    def _open(self, stack: ExitStack) -> store_module.Store:
        if self.lock:
            stack.enter_context(output_lock(self.output))
        layout = self.crawler.settings.get("BROADSHEET_LAYOUT") or None
        return stack.enter_context(open_store(self.output, layout and Path(layout)))

    def process_item(self, item: Extracted) -> Article:
        article = item.doc.article
        if self.crawler.stats.get_value("broadsheet/write-error"):
            raise DropItem(f"not stored: {article.url}", log_level="DEBUG")
        try:
            outcome = self.store.add(item.doc, item.fingerprint)
            self.drops.stored(article.url, article.fetched_url)
        except (StoreError, sqlite3.OperationalError) as error:
            self.write_failed(error)
            raise DropItem(f"not stored: {article.url}", log_level="DEBUG") from None
        self.crawler.stats.inc_value(f"broadsheet/outcome/{outcome.kind}")
        if outcome.kind in QUIET_OUTCOMES:
            raise DropItem(f"{outcome.kind}: {article.url}", log_level="INFO")
        log.info("%s: %s", outcome.kind, article.url)
        return article

    def write_failed(self, error: Exception) -> None:
        """Stop this source's crawl: nothing more is fetched that could not be kept."""
        message = str(error)
        if not isinstance(error, StoreError):  # the drop log's own write
            message = f"cannot write to {self.output / store_module.DB_NAME}: {error}"
        log.error("%s", message)
        self.crawler.stats.set_value("broadsheet/write-error", message)
        engine = self.crawler.engine
        deferred_from_coro(engine.close_spider_async(reason="write-failed"))

    def redirected(self, request: Request) -> None:
        """A redirect to an article this run already requested, refused as seen: the
        URLs that led to it are recorded at the end of the run, when it is stored."""
        chain = request.meta.get("redirect_urls") or []
        if request.meta.get("broadsheet") == "article" and chain:
            if request.url not in chain:  # a loop is a failure, counted by the spider
                self.redirects.append((request.url, list(chain)))

    def page_dropped(self, item: Any, exception: BaseException) -> None:
        if isinstance(exception, PageDropped):
            self._drop(exception.url, exception.reason, exception.detail)

    def url_dropped(self, url: str, reason: str, detail: str) -> None:
        self._drop(url, reason, detail)

    def _drop(self, url: str, reason: str, detail: str) -> None:
        if self.drops is not None:
            self.drops.add(url, self._source_name(), reason, detail)

    def variant(self, url: str, variant: str) -> None:
        """A variant of a story URL requested in this run: recorded as its URL too."""
        self.redirects.append((url, [variant]))

    def _source_name(self) -> str:
        spider = self.crawler.spider
        return getattr(getattr(spider, "source", None), "name", None) or spider.name

    def listings_checked(self, rows: list[dict[str, str | None]]) -> None:
        """Validators of the listings the run read in full (before :meth:`closed`:
        downloader middlewares connect to ``spider_closed`` before item pipelines)."""
        if self.store is not None:
            self.store.save_feed_state(rows)

    def closed(self, spider: Spider, reason: str) -> None:
        """The run's row in ``crawls``, its printed summary, and the store released."""
        if self.store is None:
            return
        stats = self.crawler.stats
        try:
            self.drops.flush()
            for url, chain in self.redirects:
                self.store.add_aliases(url, chain)
        except (StoreError, sqlite3.OperationalError) as error:
            if not stats.get_value("broadsheet/write-error"):
                self.write_failed(error)
            reason = "write-failed"
        self.redirects.clear()
        name = getattr(getattr(spider, "source", None), "name", spider.name)
        run = run_stats(name, stats.get_stats(), reason, self.command, self.started)
        stats.set_value("broadsheet/status", "failing" if run.failing else "ok")
        stats.set_value("broadsheet/message", run.message)
        try:
            self.store.record_crawl(run.as_row(self.run_id))
        except (StoreError, sqlite3.Error) as error:
            log.error("%s: the run could not be recorded in crawls: %s", name, error)
        print_summary([run], console=summary_console())
        STORES.release(self.key)
        self.store = None


class LogFormatter(ScrapyLogFormatter):
    """Scrapy's log lines without whole items in them (a Page holds its HTML)."""

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {
            **result,
            "msg": "dropped %(exception)s",
            "args": {"exception": exception},
        }

    def item_error(
        self,
        item: Any,
        exception: BaseException,
        response: Response | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        url = getattr(item, "url", "")
        return {**result, "msg": "error processing %(url)s", "args": {"url": url}}

    def scraped(
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        url = getattr(item, "url", "")
        return {"level": logging.DEBUG, "msg": "stored %(url)s", "args": {"url": url}}
