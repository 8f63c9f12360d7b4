"""``broadsheet load``: the single writer that drains ``broadsheet:items`` into the store.

Crawlers and replay workers on any number of machines push messages (articles, drops,
their run rows) to one Redis list; one loader takes them, in order, into SQLite and
the markdown tree with the same normalize stage and :meth:`Store.add` as a local
crawl (a message is untrusted input: its article is normalized again here). A message is
moved to ``broadsheet:items:processing`` when taken and removed only after the store
committed it; on start the loader puts back whatever a killed loader left there.
Applying a message twice is harmless: the second ``Store.add`` is ``unchanged``, a
drop lands on the same ``drops`` row (one per story URL), and a run row already
recorded is not recorded again. A ``dropped`` message goes into the ``drops`` table
through the same :class:`Store` methods as a local crawl's drops, under the run that
sent it.

One loader per Redis database: it claims ``broadsheet:loader`` (host and PID, expiring
unless renewed), besides holding the output folder's lock.

When Redis goes away the loader waits for it up to the give-up time
(``BROADSHEET_REDIS_GIVE_UP``), then records the runs it applied in ``crawls`` and
stops with RedisGone; what it had taken but not committed stays in the processing list
for the next loader.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
from rich.console import Console

from pipeline.errors import BroadsheetError
from pipeline.normalize.layout import Layout
from pipeline.normalize.stage import normalize
from pipeline.runstats import RunStats, print_summary, utc_now
from pipeline.scale.connection import (
    Keys,
    Patience,
    RedisGone,
    patience_for,
    redact,
)
from pipeline.scale.queues import (
    ITEMS,
    Message,
    QueueError,
    ReliableList,
    connect,
    decode,
)
from pipeline.sources import Source
from pipeline.store.drops import Drop
from pipeline.store.lock import output_lock
from pipeline.store.writer import Store

log = logging.getLogger(__name__)
CLAIM_KEY = Keys().claim
CLAIM_SECONDS = 10
POLL_SECONDS = 1.0


class LoaderBusy(BroadsheetError):
    """Another loader is draining the same Redis database."""


# -- one loader per Redis database --------------------------------------------


def _holder_is_dead(holder: str) -> bool:
    """True when ``holder`` ("host pid") names a process of this host that has exited."""
    host, _, pid = holder.rpartition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Claim:
    """``broadsheet:loader`` set to this loader's host and PID, renewed while it runs."""

    def __init__(
        self,
        client: redis.Redis,
        url: str,
        key: str = CLAIM_KEY,
        patience: Patience | None = None,
    ) -> None:
        self.client = client
        self.url = redact(url)
        self.key = key
        self.call = patience or Patience()
        self.me = f"{socket.gethostname()} {os.getpid()}"
        self.renewed = 0.0

    def holder(self) -> str:
        return (self.call(self.client.get, self.key) or b"").decode()

    def take(self) -> None:
        if self.call(self.client.set, self.key, self.me, nx=True, ex=CLAIM_SECONDS):
            self.renewed = time.monotonic()
            return
        holder = self.holder()
        if holder and _holder_is_dead(holder):
            self.call(self.client.set, self.key, self.me, ex=CLAIM_SECONDS)
            self.renewed = time.monotonic()
            return
        raise LoaderBusy(
            f"another broadsheet load ({holder or 'unknown'}) is draining {self.url}; "
            f"run one loader per Redis database (a killed one's claim expires "
            f"within {CLAIM_SECONDS} s)"
        )

    def renew(self) -> None:
        if time.monotonic() - self.renewed < CLAIM_SECONDS / 3:
            return
        if self.holder() not in ("", self.me):
            raise LoaderBusy(f"another loader took over {self.url}; stopping")
        self.call(self.client.set, self.key, self.me, ex=CLAIM_SECONDS)
        self.renewed = time.monotonic()

    def release(self) -> None:
        """Give the claim back, if Redis answers (else it expires by itself)."""
        try:
            if (self.client.get(self.key) or b"").decode() == self.me:
                self.client.delete(self.key)
        except redis.RedisError as error:
            log.debug("claim not released (it expires): %s", error)


# -- the loop -----------------------------------------------------------------


class Loader:
    """Takes messages off ``broadsheet:items`` and applies them to a Store."""

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        source_of: Callable[[str], Source | None] = lambda name: None,
        command: str = "broadsheet load",
        keys: Keys | None = None,
        patience: Patience | None = None,
    ) -> None:
        self.queue = ReliableList(client, (keys or Keys()).items, patience=patience)
        self.store = store
        self.source_of = source_of
        self.command = command
        self.runs: dict[str, RunStats] = {}
        self.run_id = utc_now()
        self.registered: set[str] = set()
        self.recorded: list[RunStats] = []
        self.crawl_rows = 0
        self.rejected = 0
        self.stopping = False

    def drain(self, once: bool, tick: Callable[[], None] = lambda: None) -> None:
        """Apply messages until the list is empty (``once``) or :meth:`stop` is called.

        Whenever the list runs dry, the runs so far are recorded in ``crawls``; when
        Redis has gone away for good, too, before RedisGone is raised.
        """
        try:
            recovered = self.queue.recover()
            if recovered:
                log.info(
                    "took back %d message(s) a stopped loader had not committed",
                    recovered,
                )
            while not self.stopping:
                tick()
                raw = self.queue.take(0 if once else POLL_SECONDS)
                if raw is None:
                    self.record()
                    if once:
                        break
                    continue
                self.apply(raw)
        finally:
            self.record()

    def stop(self) -> None:
        self.stopping = True

    def apply(self, raw: bytes) -> None:
        try:
            message = decode(raw)
            self._apply(message)
        except (QueueError, TypeError, KeyError, ValueError) as error:
            log.warning(
                "rejected a message (kept in %s): %s", self.queue.rejected, error
            )
            self.queue.reject(raw)
            self.rejected += 1
            return
        self.queue.ack(raw)

    def _apply(self, message: Message) -> None:
        if message.kind == "article":
            article = message.article()
            run = self.run(article.source)
            run.pages += 1
            run.count(self.store.add(normalize(article, self.store.layout)).kind)
            self.store.forget_drops([article.url, article.fetched_url])
        elif message.kind == "dropped":
            self.apply_drop(*message.dropped())
        elif message.kind == "crawl":
            self.record_crawl(message.crawl_row())
        else:
            raise QueueError(f"a {message.kind} message does not belong in {ITEMS}")

    def apply_drop(self, drop: Drop, counted: bool) -> None:
        """A page not stored, on record in ``drops`` as a local crawl records it;
        counted in the loader's run unless the sender's own run row counts it."""
        if not counted:
            run = self.run(drop.source)
            run.pages += 1
            run.drop(drop.reason)
        if drop.url:
            run_id = drop.run_id or self.run_id
            command = drop.command or self.command
            self.store.record_drops([replace(drop, run_id=run_id, command=command)])

    def run(self, source: str) -> RunStats:
        if not self.runs:
            self.run_id = utc_now()  # the crawls rows and drops of this stretch
        if source not in self.runs:
            self.runs[source] = RunStats(source, command=self.command)
            known = self.source_of(source)
            if known is not None and source not in self.registered:
                self.store.register_sources([known])
                self.registered.add(source)
        return self.runs[source]

    def record_crawl(self, row: dict[str, Any]) -> None:
        """A crawler's run row, once (a replayed message finds it recorded)."""
        if self.store.record_crawl(row, once=True):
            self.crawl_rows += 1

    def record(self) -> None:
        """The loader's own rows in ``crawls`` for what it applied since the last one."""
        if not self.runs:
            return
        for run in self.runs.values():
            run.finish()
            self.store.record_crawl(run.as_row(self.run_id))
        self.recorded.extend(self.runs.values())
        self.runs = {}


# -- the command --------------------------------------------------------------


@contextmanager
def stop_on_signals(loader: Loader) -> Iterator[None]:
    """Ctrl-C and SIGTERM finish the message in hand, record the run, and exit."""

    def handler(signum: int, frame: object) -> None:
        loader.stop()

    previous = {
        sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_loader(
    url: str,
    output: Path,
    layout: Layout | None = None,
    sources: dict[str, Source] | None = None,
    once: bool = False,
    threshold: float = 0.8,
    console: Console | None = None,
) -> Loader:
    """``broadsheet load``: claim the Redis list, hold the output lock, drain, summarise.

    Raises RedisGone (after recording what was applied) when Redis stays away longer
    than ``BROADSHEET_REDIS_GIVE_UP`` seconds.
    """
    client = connect(url)
    keys = Keys.from_env()
    patience = patience_for(url)
    claim = Claim(client, url, keys.claim, patience)
    with output_lock(output), Store(output, layout, threshold) as store:
        claim.take()
        loader = Loader(
            client, store, (sources or {}).get, keys=keys, patience=patience
        )
        try:
            with stop_on_signals(loader):
                loader.drain(once, tick=claim.renew)
        except RedisGone as error:
            print_summary(merge(loader.recorded), f"loaded into {output}", console)
            raise RedisGone(
                f"{error}: stopped; what was loaded is committed, the rest stays in "
                "Redis for the next broadsheet load"
            ) from None
        finally:
            claim.release()
    totals = ", ".join(
        f"{n} {what}"
        for n, what in (
            (loader.crawl_rows, "crawler run rows"),
            (loader.rejected, "rejected"),
        )
        if n
    )
    title = f"loaded {redact(url)} into {output}" + (f" ({totals})" if totals else "")
    print_summary(merge(loader.recorded), title, console)
    return loader


def merge(runs: list[RunStats]) -> list[RunStats]:
    """One RunStats per source out of several drains, for the printed summary."""
    merged: dict[str, RunStats] = {}
    for run in runs:
        total = merged.setdefault(
            run.source, RunStats(run.source, run.command, run.started)
        )
        total.pages += run.pages
        total.outcomes.update(run.outcomes)
        total.dropped.update(run.dropped)
        total.http_errors.update(run.http_errors)
        total.finished = run.finished
    return list(merged.values())
