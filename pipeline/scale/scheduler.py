"""The crawler's side of the shared queue: scrapy-redis's scheduler and queue, JSON only.

:class:`JsonQueue` is scrapy-redis's priority queue (a sorted set per source) read
through :mod:`pipeline.scale.serializer`: a message that is not a request broadsheet
wrote is moved to ``<queue>:rejected``, counted (``broadsheet/redis/rejected``) and
logged in one line, never run. :class:`SourceScheduler` names the queue after the
source and keeps crawling through a Redis outage (:class:`~pipeline.scale.outage.Outage`).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from typing import Any

import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from pipeline.scale import serializer as json_requests
from pipeline.scale.frontier import fingerprint, frontier_name
from pipeline.scale.outage import Outage

log = logging.getLogger(__name__)
REJECTED_KEPT = 1000  # newest rejected requests kept for a look


class JsonQueue(PriorityQueue):
    """scrapy-redis's priority queue, JSON only: a message that is not a broadsheet
    request is moved to ``<key>:rejected``, counted and logged, never run."""

    def __init__(
        self, server: redis.Redis, spider: Spider, key: str, serializer: Any = None
    ) -> None:
        if serializer is not None and serializer is not json_requests:
            log.warning("SCHEDULER_SERIALIZER ignored: Redis requests are JSON")
        super().__init__(server, spider, key, serializer=json_requests)
        self.rejected = 0

    def pop(self, timeout: int = 0) -> Request | None:
        """The next request that reads as one (rejecting those that do not)."""
        while True:
            before = self.rejected
            request = super().pop(timeout)
            if request is not None or self.rejected == before:
                return request

    def _decode_request(self, encoded_request: bytes) -> Request | None:
        try:
            request = super()._decode_request(encoded_request)
            pattern = request.meta.get("pattern")
            if pattern is not None and pattern not in section_patterns(self.spider):
                raise ValueError(
                    f"a section pattern the source lacks: {pattern[:40]!r}"
                )
        except (json_requests.BadRequestMessage, TypeError, ValueError) as error:
            self.reject(encoded_request, error)  # e.g. a callback the spider lacks
            return None
        return request

    def reject(self, raw: bytes, error: Exception) -> None:
        self.rejected += 1
        self.spider.crawler.stats.inc_value("broadsheet/redis/rejected")
        log.warning(
            "rejected a queued request (kept in %s:rejected): %s", self.key, error
        )
        with self.server.pipeline(transaction=False) as pipe:
            pipe.rpush(f"{self.key}:rejected", raw)
            pipe.ltrim(f"{self.key}:rejected", -REJECTED_KEPT, -1)
            pipe.execute()


def section_patterns(spider: Spider) -> set[str]:
    """The article patterns of the spider's section pages (a queued request may only
    name one of them: the spider compiles it)."""
    source = getattr(spider, "source", None)
    return {section.pattern for section in getattr(source, "sections", ())}


class SourceScheduler(Scheduler):
    """scrapy-redis's Scheduler with its queue named after the source, not the spider
    (and its stats kept without the ``spider`` argument current Scrapy deprecates).

    While Redis is away it hands out no request, keeps the requests it is given in a
    local backlog and pushes them once Redis is back (:class:`Outage`)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceScheduler:
        scheduler = cls.from_settings(crawler.settings)
        scheduler.crawler_stats = crawler.stats
        scheduler.outage = Outage.of(crawler)
        scheduler.backlog: deque[tuple[Request, bool]] = deque()
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        if self.backlog or self.outage.down:
            self.backlog.append((request, False))
            return True
        return self._push(request, False)

    def _push(self, request: Request, checked: bool) -> bool:
        """Check against the seen-set (once) and queue; held back if Redis is away."""
        state = {"checked": checked}

        def push() -> bool:
            if not state["checked"] and not request.dont_filter:
                if self.df.request_seen(request):
                    self.df.log(request, self.spider)
                    return False
            state["checked"] = True
            self.queue.push(request)
            self.crawler_stats.inc_value("scheduler/enqueued/redis")
            return True

        result = self.outage.guard(push, None)
        if result is None:
            self.backlog.appendleft((request, state["checked"]))
            return True
        return result

    def flush_backlog(self) -> None:
        while self.backlog and not self.outage.down:
            self._push(*self.backlog.popleft())

    def next_request(self) -> Request | None:
        if self.outage.down:  # is it back?
            self.outage.guard(self.server.ping, None)
        self.flush_backlog()
        if self.backlog:
            return None
        request = self.outage.guard(
            lambda: self.queue.pop(self.idle_before_close), None
        )
        if request is not None:
            self.crawler_stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.outage.closing:
            return False
        if self.backlog:
            return True
        return self.outage.guard(lambda: len(self.queue) > 0, True)

    def close(self, reason: str) -> None:
        """The queue stays in Redis; articles held back but already marked seen are
        left for the next crawl to forget (:func:`~pipeline.scale.outage.spill`)."""
        for request, checked in self.backlog:
            if checked and request.meta.get("broadsheet") == "article":
                forget = [self.df.key, fingerprint(request.url)]
                self.outage.unsent.append(json.dumps({"forget": forget}))

    def open(self, spider: Spider) -> None:
        self.spider = spider
        name = frontier_name(spider).replace("%", "%%")
        self.queue = load_object(self.queue_cls)(
            server=self.server,
            spider=spider,
            key=self.queue_key % {"spider": name},
            serializer=self.serializer,
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        if len(self.queue):
            spider.logger.info("resuming: %d requests queued in Redis", len(self.queue))
