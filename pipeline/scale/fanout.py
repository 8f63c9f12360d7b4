"""Replay on many machines: saved pages fanned out through Redis to extraction workers.

    broadsheet replay --redis URL saved/ crawl.warc.gz   (any machine that has the files)
    broadsheet work --redis URL                            (each extraction machine)
    broadsheet load --redis URL                            (the machine with the database)

:func:`fan_out` pushes each saved page, as JSON, to ``broadsheet:pages`` (waiting
while the list is long, so that Redis memory stays bounded); a saved response that is
not a page to extract (too large, an HTTP error in a WARC) goes straight to the
loader as a drop. :class:`Worker` takes pages, extracts and normalizes them in its
process pool and pushes each Article (or the reason it was dropped) to
``broadsheet:items``; the loader normalizes it again, as it trusts no message. A page
leaves the worker's processing list ``broadsheet:pages:processing:<name>`` only once
its result is pushed; a worker restarted under the same name takes back what it left.
Both wait for a Redis that went away up to the give-up time, then raise RedisGone.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis
from rich.console import Console

from pipeline.errors import Dropped
from pipeline.inputs.replay import Skipped
from pipeline.inputs.workers import ExtractPool
from pipeline.items import Page
from pipeline.scale.connection import Keys, Patience
from pipeline.scale.queues import (
    QueueError,
    ReliableList,
    article_message,
    decode,
    dropped_message,
    page_message,
)
from pipeline.sources import Source

log = logging.getLogger(__name__)
MAX_QUEUED = 2000  # pages waiting in Redis before fan_out waits for the workers
POLL_SECONDS = 1.0
CUT = {"worker-crashed", "timeout"}  # results of a pool stopped under the page


@dataclass
class FanOut:
    pages: Counter[str] = field(default_factory=Counter)  # per source
    skipped: Counter[str] = field(default_factory=Counter)


def fan_out(
    records: Iterable[Page | Skipped],
    client: redis.Redis,
    max_queued: int = MAX_QUEUED,
    advance: Callable[[], None] = lambda: None,
    keys: Keys | None = None,
    patience: Patience | None = None,
) -> FanOut:
    """Push every page to ``broadsheet:pages`` and every skipped record to the loader."""
    keys = keys or Keys()
    pages = ReliableList(client, keys.pages, patience=patience)
    items = ReliableList(client, keys.items, patience=patience)
    counts = FanOut()
    for record in records:
        if isinstance(record, Skipped):
            reason, _, detail = record.reason.partition(":")
            items.push(
                dropped_message(record.source, reason, record.url, detail.strip())
            )
            counts.skipped[record.source] += 1
        else:
            while len(pages) >= max_queued:
                time.sleep(0.2)
            pages.push(page_message(record))
            counts.pages[record.source] += 1
        advance()
    return counts


class Worker:
    """Pages from ``broadsheet:pages`` -> extraction -> ``broadsheet:items``."""

    def __init__(
        self,
        client: redis.Redis,
        pool: ExtractPool,
        name: str,
        source_of: Callable[[str], Source | None] = lambda name: None,
        batch: int | None = None,
        keys: Keys | None = None,
        patience: Patience | None = None,
    ) -> None:
        keys = keys or Keys()
        self.pages = ReliableList(client, keys.pages, name, patience)
        self.items = ReliableList(client, keys.items, patience=patience)
        self.pool = pool
        self.source_of = source_of
        self.batch = batch or max(4, 4 * pool.workers)
        self.done: Counter[str] = Counter()  # articles, dropped, rejected
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True

    def run(self, once: bool) -> None:
        """Work until the list is empty (``once``) or :meth:`stop` is called."""
        recovered = self.pages.recover()
        if recovered:
            log.info(
                "took back %d page(s) a stopped worker had not finished", recovered
            )
        while not self.stopping:
            taken = self.take(0 if once else POLL_SECONDS)
            if not taken:
                if once:
                    return
                continue
            self.process(taken)

    def take(self, timeout: float) -> list[tuple[bytes, Page]]:
        """Up to ``batch`` pages, waiting up to ``timeout`` for the first."""
        taken: list[tuple[bytes, Page]] = []
        while len(taken) < self.batch:
            raw = self.pages.take(timeout if not taken else 0)
            if raw is None:
                break
            try:
                taken.append((raw, decode(raw).page()))
            except (QueueError, TypeError, KeyError, ValueError) as error:
                log.warning(
                    "rejected a page message (kept in %s): %s",
                    self.pages.rejected,
                    error,
                )
                self.pages.reject(raw)
                self.done["rejected"] += 1
        return taken

    def process(self, taken: list[tuple[bytes, Page]]) -> None:
        jobs = ((raw, page, self.source_of(page.source)) for raw, page in taken)
        pages = dict(taken)
        for raw, result in self.pool.map(jobs, window=len(taken)):
            page = pages[raw]
            if self.stopping and isinstance(result, Dropped) and result.reason in CUT:
                continue  # Ctrl-C reached the pool too: the page stays for the next run
            if isinstance(result, Dropped):
                self.items.push(
                    dropped_message(page.source, result.reason, page.url, result.detail)
                )
                self.done["dropped"] += 1
            else:
                self.items.push(article_message(result.doc.article))
                self.done["articles"] += 1
            self.pages.ack(raw)


def print_fan_out(counts: FanOut, title: str, console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    console.print(title, highlight=False, markup=False)
    for source in sorted(set(counts.pages) | set(counts.skipped)):
        line = f"  {source}: {counts.pages[source]} pages queued for broadsheet work"
        if counts.skipped[source]:
            line += f", {counts.skipped[source]} skipped (counted by broadsheet load)"
        console.print(line, highlight=False, markup=False)
