"""Pages -> extraction pool (extract, normalize) -> store, counting every outcome.

``broadsheet replay`` feeds saved pages through a :class:`Feed` (:func:`ingest`); a
live crawl feeds the same functions from its item pipeline. Stored results keep the
input order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from pipeline.errors import BroadsheetError, Dropped
from pipeline.inputs.replay import Skipped
from pipeline.inputs.workers import Extracted, ExtractPool
from pipeline.items import Page
from pipeline.runstats import RunStats, utc_now
from pipeline.sources import Source

if TYPE_CHECKING:  # the store is imported once the first pages are with the workers
    from pipeline.store.drops import DropLog
    from pipeline.store.writer import Store

log = logging.getLogger(__name__)
# Articles per commit of a replay's store: a rerun stores again what a crash lost.
STORE_BATCH = 64
BATCH_VARIABLE = "BROADSHEET_STORE_BATCH"


def store_batch() -> int:
    """Articles per commit for a replay: ``$BROADSHEET_STORE_BATCH``, else 64."""
    value = os.environ.get(BATCH_VARIABLE, "").strip()
    if not value:
        return STORE_BATCH
    if not value.isdigit() or int(value) < 1:
        raise BroadsheetError(
            f"{BATCH_VARIABLE} must be a whole number >= 1: {value!r}"
        )
    return int(value)


def record(
    store: Store,
    stats: RunStats,
    result: Extracted | Dropped,
    url: str,
    drops: DropLog | None = None,
) -> None:
    """Store one extracted and normalized page (or count and record its drop) under
    ``stats``."""
    stats.pages += 1
    if isinstance(result, Dropped):
        stats.drop(result.reason)
        log.info("dropped %s: %s %s", url, result.reason, result.detail)
        if drops is not None:
            drops.add(url, stats.source, result.reason, result.detail)
        return
    outcome = store.add(result.doc, result.fingerprint)
    stats.count(outcome.kind)
    if drops is not None:
        drops.stored(url, result.doc.article.url)
    log.debug("%s %s", outcome.kind, url)


class Feed:
    """Pages on their way through the pool, counted by source; :meth:`into` stores
    what comes out.

    Made before the store is open: the first pages reach the workers at once and are
    extracted while the storing process still imports and opens the store. Pages
    skipped before that are recorded in the ``drops`` table once it is open.
    """

    def __init__(
        self,
        items: Iterable[Page | Skipped],
        source_of: Callable[[str], Source | None],
        pool: ExtractPool,
        command: str = "replay",
        advance: Callable[[], None] | None = None,
    ) -> None:
        self.runs: dict[str, RunStats] = {}
        self.command = command
        self.advance = advance
        self.drops: DropLog | None = None
        self.early_drops: list[tuple[str, str, str, str]] = []
        self.results = pool.map(self._tagged(items, source_of))

    def stats_for(self, name: str) -> RunStats:
        if name not in self.runs:
            self.runs[name] = RunStats(name, command=self.command)
        return self.runs[name]

    def _tagged(
        self, items: Iterable[Page | Skipped], source_of: Callable[[str], Source | None]
    ) -> Iterator[tuple[tuple[str, str], Page, Source | None]]:
        for item in items:
            if isinstance(item, Skipped):
                stats = self.stats_for(item.source)
                stats.pages += 1
                if item.status is not None:
                    stats.http_error(item.status)
                reason, _, detail = item.reason.partition(":")
                stats.drop(reason)
                drop = (item.url, item.source, reason, detail.strip())
                if self.drops is None:
                    self.early_drops.append(drop)
                else:
                    self.drops.add(*drop)
                if self.advance:
                    self.advance()
                continue
            yield (item.source, item.url), item, source_of(item.source)

    def into(self, store: Store, run_id: str = "") -> dict[str, RunStats]:
        """Store every result, in input order; one :class:`RunStats` per source.
        Every page not stored is recorded in the ``drops`` table under ``run_id``."""
        from pipeline.store.drops import DropLog

        drops = self.drops = DropLog(store, run_id or utc_now(), self.command)
        for drop in self.early_drops:
            drops.add(*drop)
        self.early_drops.clear()
        for (name, url), result in self.results:
            record(store, self.stats_for(name), result, url, drops)
            if self.advance:
                self.advance()
        drops.flush()
        for stats in self.runs.values():
            stats.finish()
        return self.runs


def ingest(
    items: Iterable[Page | Skipped],
    store: Store,
    source_of: Callable[[str], Source | None],
    pool: ExtractPool,
    command: str = "replay",
    advance: Callable[[], None] | None = None,
    run_id: str = "",
) -> dict[str, RunStats]:
    """Run every page through extraction, normalizing and the store; one
    :class:`RunStats` per source. Every page not stored is recorded in the ``drops``
    table under ``run_id``."""
    return Feed(items, source_of, pool, command, advance).into(store, run_id)
