"""The extraction pool: input order kept, and workers forked warm."""

from __future__ import annotations

import gc
import time

from pipeline.errors import Dropped
from pipeline.extract import detect_lang
from pipeline.items import Page
from pipeline.workers import ExtractPool

ENGLISH = (
    "The central bank kept its policy rate unchanged on Thursday and said inflation "
    "was moving back towards its target, while growth in the quarter slowed. "
) * 4


def first_detection_cost() -> tuple[float, int]:
    """CPU seconds of a worker's first language detection, and its frozen objects."""
    began = time.process_time()
    detect_lang(ENGLISH)
    return time.process_time() - began, gc.get_freeze_count()


def test_workers_share_the_language_model_and_a_frozen_heap() -> None:
    with ExtractPool(workers=1) as pool:
        future = pool._pool.schedule(first_detection_cost)
        cost, frozen = future.result(timeout=60)
    # Loading the model takes about half a second of CPU; a forked warm worker has it.
    assert cost < 0.1
    assert frozen > 0


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
