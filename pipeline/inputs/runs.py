"""The offline commands as library functions: replay saved pages, queue them in Redis,
import legacy dumps. Each takes what its command's options say and returns what
happened; the CLI only parses options, shows progress and prints the summary."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.inputs.ingest import Feed, store_batch
from pipeline.inputs.legacy import read_dump
from pipeline.inputs.replay import ReplayError, input_files, iter_pages
from pipeline.inputs.workers import ExtractPool
from pipeline.normalize.layout import load_layout
from pipeline.normalize.stage import normalize
from pipeline.runstats import RunStats, utc_now
from pipeline.sources import Source, adhoc_source, load_sources
from pipeline.store.layouts import layout_for, open_store, planned
from pipeline.store.lock import output_lock

if TYPE_CHECKING:
    from pipeline.scale.fanout import FanOut


@dataclass
class ReplayJob:
    """What ``broadsheet replay`` was asked to do."""

    paths: list[Path]
    output_dir: Path
    source_name: str | None = None
    sources_file: Path | None = None
    layout_file: Path | None = None
    workers: int | None = None
    threshold: float = 0.8
    url_prefix: str | None = None


class Resolver:
    """Which source a saved page or a WARC record belongs to."""

    def __init__(self, sources_file: Path | None, source_name: str | None) -> None:
        self.sources = load_sources(sources_file)
        self.chosen: Source | None = None
        if source_name:
            self.chosen = self.sources.get(source_name) or adhoc_source(source_name)

    def source_of(self, name: str) -> Source | None:
        chosen = self.chosen
        return chosen if chosen and chosen.name == name else self.sources.get(name)

    def source_for(self, host: str) -> str | None:
        chosen = self.chosen
        if chosen is not None:
            return chosen.name if not chosen.domains or chosen.allows(host) else None
        return next((s.name for s in self.sources.values() if s.allows(host)), None)

    def all(self) -> list[Source]:
        return [*self.sources.values(), *([self.chosen] if self.chosen else [])]


@dataclass
class Replayed:
    """What a replay did: files read, one RunStats per source, the run's id."""

    files: int
    runs: list[RunStats]
    run_id: str


def replay_files(job: ReplayJob, advance: Callable[[], None] | None = None) -> Replayed:
    """Replay ``job.paths`` into ``job.output_dir``; pages not stored go to ``drops``."""
    run_id = f"{utc_now()} replay {secrets.token_hex(3)}"
    load_layout(job.layout_file)  # a bad layout file is refused before anything is made
    resolver = Resolver(job.sources_file, job.source_name)
    files = _files(job.paths)
    with output_lock(job.output_dir):
        # The layout first (the workers render in it), then the workers and the first
        # pages, then the store: its import and opening overlap their extraction.
        layout = planned(job.output_dir, job.layout_file) or layout_for(
            job.output_dir, job.layout_file
        )
        with ExtractPool(job.workers, layout=layout) as pool:
            pages = iter_pages(
                files, job.source_name, resolver.source_for, job.url_prefix
            )
            feed = Feed(pages, resolver.source_of, pool, advance=advance)
            with open_store(
                job.output_dir, job.layout_file, job.threshold, batch=store_batch()
            ) as store:
                if store.layout != layout:  # the lock is held: nothing can change it
                    raise ReplayError(f"the layout of {job.output_dir} changed")
                store.register_sources(resolver.all())
                runs = feed.into(store, run_id)
    return Replayed(len(files), list(runs.values()), run_id)


def queue_files(
    job: ReplayJob, redis_url: str, advance: Callable[[], None] | None = None
) -> tuple[int, FanOut]:
    """Push the pages of ``job.paths`` to Redis for ``broadsheet work``: (files, counts)."""
    from pipeline.scale.connection import Keys, patience_for
    from pipeline.scale.fanout import fan_out
    from pipeline.scale.queues import connect

    resolver = Resolver(job.sources_file, job.source_name)
    files = _files(job.paths)
    pages = iter_pages(files, job.source_name, resolver.source_for, job.url_prefix)
    client = connect(redis_url)
    counts = fan_out(
        pages,
        client,
        advance=advance or (lambda: None),
        keys=Keys.from_env(),
        patience=patience_for(redis_url),
    )
    return len(files), counts


def _files(paths: list[Path]) -> list[Path]:
    files = input_files(paths)
    if not files:
        raise ReplayError(
            f"no saved pages or WARC files under {', '.join(map(str, paths))}"
        )
    return files


def import_dumps(
    files: list[Path],
    source_name: str,
    output_dir: Path,
    url_prefix: str | None = None,
    sources_file: Path | None = None,
    layout_file: Path | None = None,
) -> RunStats:
    """Import legacy plain-text dumps of one source into ``output_dir``."""
    source = load_sources(sources_file).get(source_name) or adhoc_source(source_name)
    domain = source.domains[0] if source.domains else f"{source.name}.invalid"
    prefix = url_prefix or f"https://{domain}/imported/"
    stats = RunStats(source.name, command="import")
    load_layout(layout_file)  # a bad layout file is refused before anything is made
    with output_lock(output_dir), open_store(output_dir, layout_file) as store:
        for path in files:
            for article in read_dump(path, source.name, prefix):
                stats.pages += 1
                stats.count(store.add(normalize(article, store.layout)).kind)
    stats.finish()
    return stats
