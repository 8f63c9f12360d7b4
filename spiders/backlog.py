"""The news spider's flow: article requests handed to Scrapy as it has room for
them, never past ``BROADSHEET_LIMIT``, and the source's time budget.

A listing's article requests wait in ``backlog`` (one lazy iterator per listing) and
are taken ``BATCH`` at a time when Scrapy's scheduler runs low or the spider is idle.
The time budget (``BROADSHEET_SOURCE_BUDGET``) sets ``deadline``; when it passes, the
backlog and the requests waiting in the downloader are given up and the spider
closes, and :class:`~pipeline.crawl.budget.BudgetedHTTP` caps each download's timeout
by the time left, so no request on the wire outlives the budget either.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from time import monotonic
from typing import Any

from scrapy import Request
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

BATCH = 64  # article requests handed to Scrapy at a time from a listing's backlog


class BoundedFlow:
    """Mixed into the news spider: its backlog, ``--limit`` and time budget."""

    backlog: deque[Iterator[Request]]
    fed: int  # article requests handed to Scrapy
    settled: int  # of which skipped as stored already, or refused as seen
    limit: int  # BROADSHEET_LIMIT; 0: none
    budget: float  # seconds; 0: none
    budget_call: Any = None
    deadline: float | None = None  # time.monotonic() when the budget runs out
    crawler: Any
    logger: Any
    source: Any

    count: Any  # the spider's stats counter: count(key, value=1)

    def take(self, count: int) -> Iterator[Request]:
        """Up to ``count`` requests from the backlog, never past BROADSHEET_LIMIT."""
        while self.backlog and count > 0:
            if self.limit and self.fed - self.settled >= self.limit:
                return
            request = next(self.backlog[0], None)
            if request is None:
                self.backlog.popleft()
                continue
            self.fed += 1
            count -= 1
            yield request

    def top_up(self) -> None:
        """More article requests when the scheduler runs low (on each response)."""
        scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
        if not self.backlog or scheduler is None or len(scheduler) >= BATCH:
            return
        for request in self.take(BATCH):
            self.crawler.engine.crawl(request)

    def idle(self) -> None:
        """Nothing left to fetch: take from the backlog, or stop at the limit."""
        requests = list(self.take(BATCH))
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider
        if self.backlog:  # every request settled and the limit reached
            self.count("bound/limit")
            self.backlog.clear()

    def opened(self) -> None:
        if self.budget > 0:
            from twisted.internet import reactor  # the one Scrapy installed

            self.deadline = monotonic() + self.budget
            self.budget_call = reactor.callLater(self.budget, self.out_of_time)

    def out_of_time(self) -> None:
        self.budget_call = None
        self.count("bound/time-budget")
        self.logger.warning(
            "%s: stopped at its time budget of %.0f s", self.source.name, self.budget
        )
        self.backlog.clear()
        self.drop_queued_downloads("time-budget")
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="time-budget"))

    def drop_queued_downloads(self, reason: str) -> None:
        """Give up the requests waiting in the downloader for a free connection:
        closing waits for them otherwise. The ones on the wire end by the deadline:
        their download timeout was capped by the time left when they started."""
        downloader = getattr(self.crawler.engine, "downloader", None)
        for slot in getattr(downloader, "slots", {}).values():
            queue = getattr(slot, "queue", None)  # Scrapy's downloader slot, if so
            while queue:
                request, waiting = queue.popleft()
                request.meta["broadsheet_skipped"] = reason
                waiting.errback(Failure(IgnoreRequest(f"skipped ({reason})")))

    def time_left(self) -> float | None:
        """Seconds left in the source's budget (at most 0), or None without one."""
        return None if self.deadline is None else self.deadline - monotonic()

    def closed_budget(self) -> None:
        if self.budget_call is not None and self.budget_call.active():
            self.budget_call.cancel()
        self.budget_call = None
