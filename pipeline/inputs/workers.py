"""Extraction off the main thread: a pool of worker processes, crash-isolated.

Extraction (lxml + trafilatura) is CPU-bound. :class:`ExtractPool` runs it in
``workers`` processes (pebble's ProcessPool): a page that crashes its worker or runs
past ``timeout`` seconds is dropped with the reason ``worker-crashed`` or
``timeout`` and the pool replaces the worker. :meth:`ExtractPool.map` returns results
in the order the pages went in, whatever order they finish in, so that what is stored
(and which copy of a story counts as the original) does not depend on timing.
With ``workers=0`` extraction runs in the calling process.

Workers leave language detection to the calling process (:func:`complete_lang`), so
the language model (about 70 MB) is loaded at most once, there, and only when a page
declares no language. They are forked after :func:`warm_up` has frozen the objects
alive at that moment out of the garbage collector, so that a worker's collections
neither walk them nor copy the pages they live on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, TimeoutError
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from pipeline.errors import Dropped
from pipeline.extract.article import complete_lang, extract
from pipeline.items import Article, Page
from pipeline.sources import Source

T = TypeVar("T")
Result = Article | Dropped
DEFAULT_TIMEOUT = 60.0


# A worker hands freed memory back to the system (glibc's malloc_trim) once its own
# resident memory has grown this much since it last did. Trimming after every page
# would cost more in page faults, as the next page allocates the memory again, than
# it saves.
TRIM_AFTER_GROWTH_BYTES = 16 * 1024 * 1024
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
try:
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 (glibc only)
except (OSError, AttributeError):
    _LIBC = None


def private_bytes() -> int:
    """Resident memory of this process not shared with others (0 where unknown)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            _, resident, shared = statm.read().split()[:3]
    except (OSError, ValueError):
        return 0
    return (int(resident) - int(shared)) * PAGE_SIZE


class MemoryTrimmer:
    """Calls ``malloc_trim`` when the process has grown by more than ``growth`` bytes
    of its own memory since the last trim (or since it was first called)."""

    def __init__(self, growth: int = TRIM_AFTER_GROWTH_BYTES) -> None:
        self.growth = growth
        self.floor: int | None = None

    def __call__(self) -> bool:
        """Trim if grown; True when it trimmed."""
        if _LIBC is None:
            return False
        private = private_bytes()
        if self.floor is None or private < self.floor:
            self.floor = private
        if private - self.floor <= self.growth:
            return False
        _LIBC.malloc_trim(0)
        self.floor = private_bytes()
        return True


_trim = MemoryTrimmer()


def default_workers() -> int:
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1
    )


def warm_up() -> None:
    """Freeze the heap before forking workers (see the module docstring)."""
    gc.collect()
    gc.freeze()


def extract_outcome(
    page: Page, source: Source | None, detect_language: bool = True
) -> tuple[str, object, str]:
    """``("article", Article, "")`` or ``("dropped", reason, detail)``: picklable either way."""
    try:
        return "article", extract(page, source, detect_language), ""
    except Dropped as dropped:
        return "dropped", dropped.reason, dropped.detail
    except RecursionError:
        return "dropped", "too-deep", "nesting too deep to parse"
    except (ValueError, TypeError, LookupError, AttributeError) as error:
        # A page that trips extraction must not stop the run; it is counted by reason.
        return "dropped", "extract-error", f"{type(error).__name__}: {error}"


def _extract_in_worker(page: Page, source: Source | None) -> tuple[str, object, str]:
    """:func:`extract_outcome` as a worker runs it: language left to the caller, and,
    once the worker has grown by ``TRIM_AFTER_GROWTH_BYTES`` (after a large page,
    typically), the memory malloc freed handed back to the system."""
    try:
        return extract_outcome(page, source, False)
    finally:
        _trim()


def _as_result(outcome: tuple[str, object, str], source: Source | None) -> Result:
    kind, value, detail = outcome
    if kind == "article":
        return complete_lang(value, source)  # type: ignore[arg-type]
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
            future.set_result(extract_outcome(page, source, False))
            return future
        return self._pool.schedule(
            _extract_in_worker, args=(page, source), timeout=self.timeout
        )

    @staticmethod
    def result(future: Future, source: Source | None) -> Result:
        """The Article (its language detected here when needed) or the Dropped."""
        try:
            return _as_result(future.result(), source)
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
        pages come in. The default, 16 a worker, is wide enough that a slow page at
        the head of the line (the slowest corpus pages take 20 times the median) or a
        pause of the storing process does not leave the other workers idle: it kept
        both cores 2-3% busier than 4 a worker, for about 11 MiB more at the peak of a
        10,000-page replay.
        """
        window = window or max(4, 16 * self.workers)
        pending: deque[tuple[T, Future, Source | None]] = deque()
        for tag, page, source in items:
            pending.append((tag, self.submit(page, source), source))
            if len(pending) >= window:
                done_tag, future, done_source = pending.popleft()
                yield done_tag, self.result(future, done_source)
        while pending:
            done_tag, future, done_source = pending.popleft()
            yield done_tag, self.result(future, done_source)

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
