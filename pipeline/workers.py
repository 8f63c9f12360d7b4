"""Extraction off the main thread: a pool of worker processes, crash-isolated.

Extraction (lxml + trafilatura) is CPU-bound. :class:`ExtractPool` runs it in
``workers`` processes (pebble's ProcessPool): a page that crashes its worker or runs
past ``timeout`` seconds is dropped with the reason ``worker-crashed`` or
``timeout`` and the pool replaces the worker. :meth:`ExtractPool.map` returns results
in the order the pages went in, whatever order they finish in, so that what is stored
(and which copy of a story counts as the original) does not depend on timing.
With ``workers=0`` extraction runs in the calling process.

Workers are forked from the calling process after :func:`warm_up`: the language model
(about 70 MB) is loaded once and shared by every worker instead of loaded by each, and
the objects alive at that moment are frozen out of the garbage collector, so that a
worker's collections neither walk them nor copy the pages they live on.
"""

from __future__ import annotations

import gc
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, TimeoutError
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from pipeline.errors import Dropped
from pipeline.extract import detect_lang, extract
from pipeline.items import Article, Page
from pipeline.sources import Source

T = TypeVar("T")
Result = Article | Dropped
DEFAULT_TIMEOUT = 60.0


def default_workers() -> int:
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1
    )


def warm_up() -> None:
    """Load what every extraction needs, then freeze the heap, before forking workers."""
    detect_lang("warm " * 60)  # loads and caches the language model
    gc.collect()
    gc.freeze()


def extract_outcome(page: Page, source: Source | None) -> tuple[str, object, str]:
    """``("article", Article, "")`` or ``("dropped", reason, detail)``: picklable either way."""
    try:
        return "article", extract(page, source), ""
    except Dropped as dropped:
        return "dropped", dropped.reason, dropped.detail
    except RecursionError:
        return "dropped", "too-deep", "nesting too deep to parse"
    except (ValueError, TypeError, LookupError, AttributeError) as error:
        # A page that trips extraction must not stop the run; it is counted by reason.
        return "dropped", "extract-error", f"{type(error).__name__}: {error}"


def _as_result(outcome: tuple[str, object, str]) -> Result:
    kind, value, detail = outcome
    if kind == "article":
        return value  # type: ignore[return-value]
    return Dropped(str(value), detail)


class ExtractPool:
    def __init__(
        self, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.workers = default_workers() if workers is None else workers
        self.timeout = timeout
        self._pool = None
        if self.workers > 0:
            warm_up()
            self._pool = ProcessPool(max_workers=self.workers)

    def submit(self, page: Page, source: Source | None) -> Future:
        if self._pool is None:
            future: Future = Future()
            future.set_result(extract_outcome(page, source))
            return future
        return self._pool.schedule(
            extract_outcome, args=(page, source), timeout=self.timeout
        )

    @staticmethod
    def result(future: Future) -> Result:
        try:
            return _as_result(future.result())
        except TimeoutError:
            return Dropped(
                "timeout", "extraction took too long; the worker was replaced"
            )
        except ProcessExpired as error:
            return Dropped(
                "worker-crashed", f"worker exited with code {error.exitcode}"
            )

    def map(
        self, items: Iterable[tuple[T, Page, Source | None]], window: int | None = None
    ) -> Iterator[tuple[T, Result]]:
        """Extract every page, yielding ``(tag, result)`` in input order.

        At most ``window`` pages are in flight, so memory stays bounded however many
        pages come in.
        """
        window = window or max(4, 4 * self.workers)
        pending: deque[tuple[T, Future]] = deque()
        for tag, page, source in items:
            pending.append((tag, self.submit(page, source)))
            if len(pending) >= window:
                done_tag, future = pending.popleft()
                yield done_tag, self.result(future)
        while pending:
            done_tag, future = pending.popleft()
            yield done_tag, self.result(future)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def terminate(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join()
            self._pool = None

    def __enter__(self) -> ExtractPool:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
