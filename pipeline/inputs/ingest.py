"""Pages -> extraction pool -> store, counting every outcome: the offline pipeline.

``broadsheet replay`` feeds saved pages through :func:`ingest`; a live crawl feeds
the same functions from its item pipeline. Stored results keep the input order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from pipeline.errors import Dropped
from pipeline.inputs.replay import Skipped
from pipeline.inputs.workers import ExtractPool
from pipeline.items import Article, Page
from pipeline.runstats import RunStats
from pipeline.sources import Source
from pipeline.store.writer import Store

log = logging.getLogger(__name__)


def record(store: Store, stats: RunStats, result: Article | Dropped, url: str) -> None:
    """Store one extraction result (or count its drop) under ``stats``."""
    stats.pages += 1
    if isinstance(result, Dropped):
        stats.drop(result.reason)
        log.info("dropped %s: %s %s", url, result.reason, result.detail)
        return
    outcome = store.add(result)
    stats.count(outcome.kind)
    log.debug("%s %s", outcome.kind, url)


def ingest(
    items: Iterable[Page | Skipped],
    store: Store,
    source_of: Callable[[str], Source | None],
    pool: ExtractPool,
    command: str = "replay",
    advance: Callable[[], None] | None = None,
) -> dict[str, RunStats]:
    """Run every page through extraction and the store; one :class:`RunStats` per source."""
    runs: dict[str, RunStats] = {}

    def stats_for(name: str) -> RunStats:
        if name not in runs:
            runs[name] = RunStats(name, command=command)
        return runs[name]

    def tagged() -> Iterable[tuple[tuple[str, str], Page, Source | None]]:
        for item in items:
            if isinstance(item, Skipped):
                stats = stats_for(item.source)
                stats.pages += 1
                if item.status is not None:
                    stats.http_error(item.status)
                stats.drop(item.reason.split(":", 1)[0])
                if advance:
                    advance()
                continue
            yield (item.source, item.url), item, source_of(item.source)

    for (name, url), result in pool.map(tagged()):
        record(store, stats_for(name), result, url)
        if advance:
            advance()
    for stats in runs.values():
        stats.finish()
    return runs
