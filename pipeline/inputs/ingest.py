"""Pages -> extraction pool (extract, normalize) -> store, counting every outcome.

``broadsheet replay`` feeds saved pages through :func:`ingest`; a live crawl feeds
the same functions from its item pipeline. Stored results keep the input order.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from pipeline.errors import BroadsheetError, Dropped
from pipeline.inputs.replay import Skipped
from pipeline.inputs.workers import Extracted, ExtractPool
from pipeline.items import Page
from pipeline.runstats import RunStats, utc_now
from pipeline.sources import Source
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
    runs: dict[str, RunStats] = {}
    drops = DropLog(store, run_id or utc_now(), command)

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
                reason, _, detail = item.reason.partition(":")
                stats.drop(reason)
                drops.add(item.url, item.source, reason, detail.strip())
                if advance:
                    advance()
                continue
            yield (item.source, item.url), item, source_of(item.source)

    for (name, url), result in pool.map(tagged()):
        record(store, stats_for(name), result, url, drops)
        if advance:
            advance()
    drops.flush()
    for stats in runs.values():
        stats.finish()
    return runs
