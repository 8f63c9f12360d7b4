"""The extraction pool: input order kept, workers forked warm, memory handed back."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from pipeline.errors import Dropped
from pipeline.extract.article import _identifier, extract
from pipeline.inputs.workers import (
    _LIBC,
    Extracted,
    ExtractPool,
    MemoryTrimmer,
    extract_outcome,
    private_bytes,
    process_outcome,
)
from pipeline.items import Page
from pipeline.normalize.stage import normalize
from pipeline.store.dedup import fingerprint

ENGLISH = (
    "The central bank kept its policy rate unchanged on Thursday and said inflation "
    "was moving back towards its target, while growth in the quarter slowed. "
) * 4


def model_loaded_after_extracting(page: Page) -> tuple[bool, int]:
    """In a worker: extract the page as the pool does; was the language model loaded?"""
    _identifier.cache_clear()  # a worker forked after the parent loaded it shares it
    extract_outcome(page, None)
    return _identifier.cache_info().currsize > 0, gc.get_freeze_count()


def undeclared_page() -> Page:
    body = f"<html><head><title>Rates</title></head><body><article><p>{ENGLISH}</p>"
    return Page(
        url="https://example.com/rates",
        body=(body + "</article></body></html>").encode(),
        source="s",
        headers={"content-type": "text/html"},
        fetched_at="2026-01-02T03:04:05+00:00",
    )


def test_workers_detect_the_language_and_the_storing_process_never_loads_the_model():
    _identifier.cache_clear()
    with ExtractPool(workers=1) as pool:
        loaded, frozen = pool._pool.schedule(
            model_loaded_after_extracting, args=(undeclared_page(),)
        ).result(timeout=60)
        ((_, result),) = list(pool.map([(0, undeclared_page(), None)]))
    # the worker that met a page without a language loaded the model, this process
    # did not; the worker's heap was frozen before the fork
    assert loaded
    assert _identifier.cache_info().currsize == 0
    assert frozen > 0
    assert result.doc.article.lang == "en"
    assert 'lang:\n  - "en"' in result.doc.markdown


def test_without_workers_the_language_is_detected_as_well() -> None:
    with ExtractPool(workers=0) as pool:
        ((_, result),) = list(pool.map([(0, undeclared_page(), None)]))
    assert result.doc.article.lang == "en"


def test_the_pool_normalizes_as_the_stage_does_in_this_process() -> None:
    page = replace(
        undeclared_page(),
        body=undeclared_page()
        .body.replace(b"<html>", b'<html lang="en-GB">')
        .replace(b"</p>", b' <a href="/more?a=1&amp;b=2">More</a></p>'),
        fetched_at="2026-01-02T03:04:05+00:00",
    )
    expected = normalize(extract(page, None))
    with ExtractPool(workers=1) as pool:
        ((_, result),) = list(pool.map([(0, page, None)]))
    assert result.doc == expected
    assert result.fingerprint == fingerprint(expected.article.text)
    assert "(https://example.com/more?a=1&b=2)" in result.doc.markdown


def test_results_come_back_in_input_order() -> None:
    pages = [
        Page(url=f"https://example.com/{n}", body=b"<html></html>", source="s")
        for n in range(6)
    ]
    with ExtractPool(workers=2) as pool:
        tags = [
            tag for tag, result in pool.map((n, p, None) for n, p in enumerate(pages))
        ]
        results = [result for _, result in pool.map((0, p, None) for p in pages)]
    assert tags == list(range(6))
    assert all(isinstance(result, Dropped) for result in results)


def test_the_first_pages_go_to_the_workers_when_map_is_called() -> None:
    pulled: list[int] = []

    def items():
        for n in range(10):
            pulled.append(n)
            page = Page(
                url=f"https://example.com/{n}", body=b"<html></html>", source="s"
            )
            yield n, page, None

    with ExtractPool(workers=1) as pool:
        results = pool.map(items(), window=4)
        # in flight before the caller reads a result: what it does meanwhile (open
        # the store) overlaps their extraction; the window is never exceeded
        assert pulled == [0, 1, 2]
        assert [tag for tag, _ in results] == list(range(10))


def hangs_or_crashes(page: Page, source, layout):
    """The pool's job, except that a page ending in /hangs never finishes and one
    ending in /crashes kills its worker."""
    if page.url.endswith("/hangs"):
        time.sleep(600)
    if page.url.endswith("/crashes"):
        os._exit(3)
    return process_outcome(page, source, layout)


class FragilePool(ExtractPool):
    page_job = staticmethod(hangs_or_crashes)


def test_only_the_page_that_hangs_or_crashes_its_worker_is_dropped() -> None:
    ends = ["0", "hangs", "2", "3", "4", "crashes", "6", "7", "8"]
    pages = [
        replace(undeclared_page(), url=f"https://example.com/{end}") for end in ends
    ]
    # window 16 for one worker: pages travel four to a task, so the page at fault
    # shares its task with others
    with FragilePool(workers=1, timeout=1.5) as pool:
        results = list(pool.map(((n, p, None) for n, p in enumerate(pages)), 16))
    assert [tag for tag, _ in results] == list(range(len(pages)))
    dropped = {
        tag: result.reason for tag, result in results if isinstance(result, Dropped)
    }
    assert dropped == {1: "timeout", 5: "worker-crashed"}
    for tag, result in results:
        if tag not in dropped:
            assert isinstance(result, Extracted)
            assert result.doc.article.url == pages[tag].url


# Starts a pool whose one worker hangs on its page, says so, and waits to be killed.
HANGING_POOL = """
import sys, time
from dataclasses import replace
from tests.test_workers import FragilePool, undeclared_page
pool = FragilePool(workers=1, timeout=600)
page = replace(undeclared_page(), url="https://example.com/hangs")
results = pool.map([(0, page, None)])
time.sleep(1)
print("hanging", flush=True)
time.sleep(600)
"""


def test_workers_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    """Killed with -9, the storing process leaves no worker behind, not even one on
    a page that hangs: the time limit was the dead process's to keep."""
    root = Path(__file__).resolve().parents[1]
    errors = tmp_path / "stderr"
    with errors.open("w") as stderr:
        holder = subprocess.Popen(
            [sys.executable, "-c", HANGING_POOL],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        line = holder.stdout.readline().strip()
        assert line == "hanging", f"the pool did not start: {errors.read_text()}"
        workers = psutil.Process(holder.pid).children()
        assert workers
    finally:
        holder.kill()
        holder.wait(timeout=30)
    _, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:
        worker.kill()
    assert alive == []


MIB = 1024 * 1024


def grow_and_free(total: int, block: int = 64 * 1024) -> list[int]:
    """malloc ``total`` bytes in blocks, touch them, free all but every 16th block:
    freed memory glibc keeps resident. Returns the blocks still held."""
    _LIBC.malloc.restype = ctypes.c_void_p
    _LIBC.free.argtypes = [ctypes.c_void_p]
    blocks = [_LIBC.malloc(block) for _ in range(total // block)]
    for address in blocks:
        ctypes.memset(address, 1, block)
    for n, address in enumerate(blocks):
        if n % 16:
            _LIBC.free(address)
    return blocks[::16]


def trim_after_growth() -> None:
    """The trimmer's whole story, asserted; run in a fresh interpreter (below)."""
    trimmer = MemoryTrimmer(growth=16 * MIB)
    assert trimmer() is False  # the first call only notes where the process stands
    held = grow_and_free(4 * MIB)
    assert trimmer() is False  # a little growth: no trim, no page faults after it
    held += grow_and_free(96 * MIB)
    grown = private_bytes()
    assert trimmer() is True
    assert grown - private_bytes() > 48 * MIB
    assert trimmer() is False
    for address in held:
        _LIBC.free(address)


@pytest.mark.skipif(_LIBC is None, reason="malloc_trim is glibc's")
def test_memory_is_handed_back_only_after_the_process_grew() -> None:
    # a fresh interpreter: memory that earlier tests left free in this process's heap
    # would serve the mallocs without growing the process, leaving nothing to trim
    root = str(Path(__file__).resolve().parents[1])  # the code under test, not a copy
    env = {**os.environ, "PYTHONPATH": root}
    run = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, timeout=120, env=env
    )
    assert run.returncode == 0, run.stderr
    assert "trimmed" in run.stdout


if __name__ == "__main__":
    trim_after_growth()
    print("trimmed")
