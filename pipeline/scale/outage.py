"""A crawler and a Redis that goes away: wait, hold what it would push, give up.

:class:`Outage` (one per crawler) runs the crawler's Redis calls. While Redis does not
answer it returns a fallback, and the scheduler and the item pipeline hold what they
would push; once Redis has been away ``BROADSHEET_REDIS_GIVE_UP`` seconds (default
60) it closes the spider with reason ``redis-unreachable``, a failing run. What the
crawler still holds then is written by :func:`spill` under the output folder, and
the next ``broadsheet crawl --redis`` of that folder hands it to Redis
(:func:`hand_over`): the articles it fetched and the URLs to fetch again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import redis
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from pipeline.scale.addon import redis_url
from pipeline.scale.connection import (
    GIVE_UP_SECONDS,
    LOST,
    PREFIX_ENV,
    Keys,
    redact,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
UNREACHABLE = "redis-unreachable"


def keys_of(settings: BaseSettings) -> Keys:
    prefix = settings.get("BROADSHEET_REDIS_PREFIX") or os.environ.get(PREFIX_ENV)
    return Keys(prefix) if prefix else Keys()


class Outage:
    """One per crawler: whether Redis answers, and the end of the wait when it does not.

    ``guard(call, fallback)`` runs a Redis call; while Redis is away it returns
    ``fallback`` instead, and once Redis has been away ``BROADSHEET_REDIS_GIVE_UP``
    seconds it closes the spider (reason ``redis-unreachable``), logging one line.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.give_up = settings.getfloat("BROADSHEET_REDIS_GIVE_UP", GIVE_UP_SECONDS)
        self.where = f"Redis at {redact(redis_url(settings))}"
        self.since: float | None = None
        self.closing = False
        self.unsent: list[str] = []  # spill lines: what Redis could not be told

    @classmethod
    def of(cls, crawler: Crawler) -> Outage:
        outage = getattr(crawler, "_broadsheet_outage", None)
        if outage is None:
            outage = cls(crawler)
            crawler._broadsheet_outage = outage  # type: ignore[attr-defined]
        return outage

    @property
    def down(self) -> bool:
        return self.since is not None

    def guard(self, call: Callable[[], T], fallback: T) -> T:
        if self.closing:
            return fallback
        try:
            result = call()
        except LOST as error:
            self.failed(error)
            return fallback
        if self.since is not None:
            log.warning("%s is back", self.where)
            self.since = None
        return result

    def failed(self, error: Exception) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            log.warning(
                "lost %s (%s): waiting up to %g s", self.where, error, self.give_up
            )
        if now - self.since >= self.give_up and not self.closing:
            self.closing = True
            log.error(
                "%s unreachable for %.0f s: stopping this crawler",
                self.where,
                now - self.since,
            )
            self.crawler.stats.set_value("broadsheet/redis/unreachable", 1)
            engine = self.crawler.engine
            if engine is not None:
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(engine.close_spider_async(reason=UNREACHABLE))


SPILL_FOLDER = "redis-unsent"


def spill(settings: BaseSettings, source: str, lines: list[str]) -> Path:
    """Write ``lines`` where the next ``broadsheet crawl --redis`` of this output
    folder hands them over (:func:`hand_over`)."""
    folder = Path(settings.get("BROADSHEET_OUTPUT") or "output") / SPILL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{source}-{socket.gethostname()}-{os.getpid()}.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    log.error("Redis did not get %d message(s): kept in %s", len(lines), path)
    return path


def hand_over(output: Path, client: redis.Redis) -> int:
    """Push the messages, and forget the URLs, that earlier crawlers left in
    ``output``; each file is removed once Redis has it all. Returns the lines."""
    done = 0
    for path in sorted((output / SPILL_FOLDER).glob("*.jsonl")):
        with client.pipeline(transaction=True) as pipe:
            for line in path.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                if "push" in entry:
                    pipe.rpush(entry["key"], entry["push"].encode())
                else:
                    pipe.srem(entry["forget"][0], *entry["forget"][1:])
                done += 1
            pipe.execute()
        path.unlink()
    return done
