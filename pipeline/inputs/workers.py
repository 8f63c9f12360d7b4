"""Extraction and normalizing off the main thread: worker processes, crash-isolated.

Extraction (lxml + trafilatura) is CPU-bound, and so is the normalize stage after it
(body cleaning, rendering) and the fingerprint deduplication needs (content hash,
MinHash): all pure, so :class:`ExtractPool` runs them where the page is, and the
storing process only decides and writes. It runs them in
``workers`` processes (pebble's ProcessPool): a page that crashes its worker or runs
past ``timeout`` seconds is dropped with the reason ``worker-crashed`` or
``timeout`` and the pool replaces the worker. :meth:`ExtractPool.map` returns results
in the order the pages went in, whatever order they finish in, so that what is stored
(and which copy of a story counts as the original) does not depend on timing.
With ``workers=0`` extraction runs in the calling process. :meth:`ExtractPool.map`
sends pages to the workers a few at a time (one task, one message each way, for
up to :data:`PAGES_PER_TASK` pages) and runs the pages of a task that timed out or
crashed again one by one, so that only the page at fault is dropped.

Workers detect the language of a page that declares none themselves: the language
model is mapped from its unpacked copy in the cache (``pipeline.extract.language``),
in a few milliseconds and shared between the workers, only by a worker that meets
such a page, and never by the storing process. They are forked after
:func:`warm_up` has frozen the objects alive at that moment out of the garbage
collector, so that a worker's collections neither walk them nor copy the pages they
live on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, TimeoutError
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from pipeline.errors import Dropped
from pipeline.extract import regexguard
from pipeline.extract.article import complete_lang, extract
from pipeline.items import Article, Page
from pipeline.normalize.layout import Layout, load_layout
from pipeline.normalize.stage import Normalized, finish, prepare
from pipeline.sources import Source
from pipeline.store.dedup import Fingerprint, fingerprint

T = TypeVar("T")
DEFAULT_TIMEOUT = 60.0

# Pages sent to a worker in one task by ExtractPool.map, at most. Each task costs
# both processes the same whatever its size (the futures, pebble's threads, a message
# each way, the memory trimmer's check): four pages a task took the storing process
# from 2.2 to 1.5-1.8 ms of CPU a page in a replay of small pages. Fewer when the
# window is narrow, so that every worker still has about four tasks to go on with.
PAGES_PER_TASK = 4
TASKS_PER_WORKER = 4


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


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """In a worker, as it starts: killed when the process that started it dies.

    A worker whose storing process was killed (``kill -9``) would otherwise finish the
    task it holds before it noticed, and a page that hangs would keep it running for
    good, since the time limit is kept by the process that died. Linux only (prctl);
    elsewhere workers notice when they next read from the pool.
    """
    if _LIBC is None or not hasattr(_LIBC, "prctl"):
        return
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def default_workers() -> int:
    return (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 1
    )


def warm_up() -> None:
    """Compile the guarded copies of trafilatura's expressions once for all workers
    (:mod:`pipeline.extract.regexguard`, about 7 ms), then freeze the heap before
    forking them (see the module docstring). No collection first: after the imports
    it finds next to no garbage, and would cost the start of every run 10-20 ms."""
    regexguard.swaps()
    gc.freeze()


def _guarded(
    step: Callable[[], tuple[str, object, object]],
) -> tuple[str, object, object]:
    """``step()``, or ``("dropped", reason, detail)`` when the page cannot go on."""
    try:
        return step()
    except Dropped as dropped:
        return "dropped", dropped.reason, dropped.detail
    except RecursionError:
        return "dropped", "too-deep", "nesting too deep to parse"
    except (ValueError, TypeError, LookupError, AttributeError) as error:
        # A page that trips extraction must not stop the run; it is counted by reason.
        return "dropped", "extract-error", f"{type(error).__name__}: {error}"


def extract_outcome(
    page: Page, source: Source | None, detect_language: bool = True
) -> tuple[str, object, str]:
    """``("article", Article, "")`` or ``("dropped", reason, detail)``: picklable either way."""
    return _guarded(lambda: ("article", extract(page, source, detect_language), ""))  # type: ignore[return-value]


def _normalized(article: Article, layout: Layout) -> tuple[str, object, object]:
    """``("article", Normalized, Fingerprint)``; the prepared Article instead of the
    Normalized when its language is left to the calling process."""
    prepared = prepare(article)
    done = finish(prepared, layout) if prepared.lang else prepared
    return "article", done, fingerprint(prepared.text)


def process_outcome(
    page: Page, source: Source | None, layout: Layout, detect_language: bool = True
) -> tuple[str, object, object]:
    """A page extracted and normalized (:func:`_normalized`), or why it was dropped."""

    def step() -> tuple[str, object, object]:
        return _normalized(extract(page, source, detect_language), layout)

    return _guarded(step)


def _in_worker(job: Callable[..., T], *args: object) -> T:
    """``job`` as a worker runs it: once the worker has grown by
    ``TRIM_AFTER_GROWTH_BYTES`` (after a large page, typically), the memory malloc
    freed is handed back to the system."""
    try:
        return job(*args)
    finally:
        _trim()


def _extract_in_worker(page: Page, source: Source | None) -> tuple[str, object, object]:
    return _in_worker(extract_outcome, page, source)


def _normalize_in_worker(
    article: Article, layout: Layout
) -> tuple[str, object, object]:
    return _in_worker(_guarded, lambda: _normalized(article, layout))


def _each_in_worker(
    job: Callable[..., tuple[str, object, object]],
    pages: list[tuple[Page, Source | None]],
    layout: Layout,
) -> list[tuple[str, object, object]]:
    """``job(page, source, layout)`` for each of ``pages``, in order, as one task."""
    return _in_worker(lambda: [job(page, source, layout) for page, source in pages])


@dataclass(frozen=True)
class Extracted:
    """A page through extraction and normalizing: what :meth:`Store.add` takes."""

    doc: Normalized
    fingerprint: Fingerprint


Result = Article | Dropped
Ready = Extracted | Dropped
Task = list[tuple[T, Page, Source | None]]  # pages sent to a worker together, tagged


class ExtractPool:
    """Extraction, and the normalize stage after it, in worker processes."""

    # what map() runs for each page, in a worker: pure, picklable by reference
    page_job: Callable[..., tuple[str, object, object]] = staticmethod(process_outcome)

    def __init__(
        self,
        workers: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        layout: Layout | None = None,
    ) -> None:
        self.workers = default_workers() if workers is None else workers
        self.timeout = timeout
        self.layout = layout or load_layout()
        self._pool = None
        if self.workers > 0:
            warm_up()
            self._pool = ProcessPool(
                max_workers=self.workers,
                initializer=_die_with_parent,
                initargs=(os.getpid(),),
            )

    def _schedule(self, job: Callable[..., T], *args: object) -> Future:
        if self._pool is None:
            future: Future = Future()
            future.set_result(job(*args))
            return future
        return self._pool.schedule(job, args=args, timeout=self.timeout)

    def submit(self, page: Page, source: Source | None) -> Future:
        """Extract ``page``; :meth:`result` reads the future."""
        return self._schedule(_extract_in_worker, page, source)

    def submit_normalize(self, article: Article) -> Future:
        """Normalize an extracted article; :meth:`ready` reads the future."""
        return self._schedule(_normalize_in_worker, article, self.layout)

    @staticmethod
    def _failed(error: Exception) -> tuple[str, object, object]:
        if isinstance(error, TimeoutError):
            return (
                "dropped",
                "timeout",
                "extraction took too long; the worker was replaced",
            )
        exitcode = getattr(error, "exitcode", None)
        return "dropped", "worker-crashed", f"worker exited with code {exitcode}"

    @classmethod
    def _outcome(cls, future: Future) -> tuple[str, object, object]:
        try:
            return future.result()
        except (TimeoutError, ProcessExpired) as error:
            return cls._failed(error)

    def result(self, future: Future, source: Source | None) -> Result:
        """The Article (its language detected here when needed) or the Dropped."""
        kind, value, detail = self._outcome(future)
        if kind == "article":
            return complete_lang(value, source)  # type: ignore[arg-type]
        return Dropped(str(value), str(detail))

    def ready(self, future: Future, source: Source | None) -> Ready:
        """The normalized article (its language detected and its markdown finished
        here when the worker could not) or the Dropped."""
        return self._ready(self._outcome(future), source)

    def _ready(
        self, outcome: tuple[str, object, object], source: Source | None
    ) -> Ready:
        kind, value, detail = outcome
        if kind != "article":
            return Dropped(str(value), str(detail))
        if isinstance(value, Article):
            value = finish(complete_lang(value, source), self.layout)
        return Extracted(value, detail)  # type: ignore[arg-type]

    def map(
        self, items: Iterable[tuple[T, Page, Source | None]], window: int | None = None
    ) -> Iterator[tuple[T, Ready]]:
        """Extract and normalize every page, yielding ``(tag, result)`` in input order.

        The first pages (all but one task's worth of the ``window``) go to the workers
        at once, when ``map`` is called, so that they are extracted while the caller
        gets ready to take the results (imports and opens the store, say). At most
        ``window`` pages are in flight, so memory stays bounded however many pages
        come in. The default, 16 a worker, is wide enough that a slow page at the head
        of the line (the slowest corpus pages take 20 times the median) or a pause of
        the storing process does not leave the other workers idle: it kept both cores
        2-3% busier than 4 a worker, for about 11 MiB more at the peak of a
        10,000-page replay.

        Pages travel in tasks of up to :data:`PAGES_PER_TASK`. A task that runs past
        the timeout or crashes its worker is run again a page a task, so that only
        the page at fault is dropped: a page that hangs costs twice the timeout.
        """
        window = window or max(4, 16 * self.workers)
        tasks_ahead = TASKS_PER_WORKER * max(1, self.workers)
        size = max(1, min(PAGES_PER_TASK, window // tasks_ahead))
        tasks = _chunks(iter(items), size)
        pending: deque[tuple[Task[T], Future]] = deque(
            (task, self._submit_task(task))
            for task in islice(tasks, max(0, window - size) // size)
        )
        return self._in_order(tasks, pending)

    def _submit_task(self, task: Task[T]) -> Future:
        pages = [(page, source) for _, page, source in task]
        return self._schedule(_each_in_worker, self.page_job, pages, self.layout)

    def _outcomes(
        self, task: Task[T], future: Future
    ) -> list[tuple[str, object, object]]:
        """The task's outcomes; its pages run again one a task if it failed."""
        try:
            return future.result()
        except (TimeoutError, ProcessExpired) as error:
            if len(task) == 1:
                return [self._failed(error)]
        alone = [([item], self._submit_task([item])) for item in task]
        return [self._outcomes(*again)[0] for again in alone]

    def _in_order(
        self,
        tasks: Iterator[Task[T]],
        pending: deque[tuple[Task[T], Future]],
    ) -> Iterator[tuple[T, Ready]]:
        for task in tasks:
            pending.append((task, self._submit_task(task)))
            yield from self._ready_in_order(*pending.popleft())
        while pending:
            yield from self._ready_in_order(*pending.popleft())

    def _ready_in_order(
        self, task: Task[T], future: Future
    ) -> Iterator[tuple[T, Ready]]:
        for (tag, _, source), outcome in zip(
            task, self._outcomes(task, future), strict=True
        ):
            yield tag, self._ready(outcome, source)

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


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    while chunk := list(islice(items, size)):
        yield chunk
