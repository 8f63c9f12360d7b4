"""CPU per page of an extraction worker against ``trafilatura.extract``, page by page.

    python -m tests.benchmarks.worker_cpu [--pages N] [--rounds 1] [--corpus DIR]

Runs, in this one process, what a replay's worker does with each corpus page
(extract, normalize, fingerprint: ``process_outcome``, the language detected where
the page declares none) and ``trafilatura.extract`` with its defaults, alternating
which goes first page after page, and adds up the process CPU time of each. Both
sides meet the same load of the machine at the same moments, so their ratio holds
on a shared machine, where wall times do not. On 2 cores a replay reaches 1.6 times
the bare loop only when all its CPU per page (workers and storing process together)
is within about 1.25 times the bare loop's. Prints ms per page of each side and
their ratio, on all pages and on the smaller half by HTML size.
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import trafilatura

from pipeline.inputs.workers import process_outcome
from pipeline.items import Page
from pipeline.normalize.layout import load_layout
from tests.benchmarks.machine import print_machine
from tests.benchmarks.sample import saved_pages


def measure(
    pages: list[tuple[str, bytes]], rounds: int
) -> dict[tuple[str, bool], float]:
    """CPU seconds of each side, ``(side, page in the smaller half)``."""
    sizes = sorted(len(body) for _, body in pages)
    cut = sizes[(len(sizes) - 1) // 2]
    layout = load_layout()
    spent = {(side, small): 0.0 for side in ("broadsheet", "bare") for small in (1, 0)}
    clock = time.process_time
    for number, (url, body) in enumerate(pages * rounds):
        page = Page(url=url, body=body, source="bench", fetched_at="2026-01-01T00:00")
        sides = ("bare", "broadsheet") if number % 2 else ("broadsheet", "bare")
        for side in sides:
            began = clock()
            if side == "bare":
                trafilatura.extract(body, url=url)
            else:
                process_outcome(page, None, layout)
            spent[side, len(body) <= cut] += clock() - began
    return spent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, help="the first N pages (default: all)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--corpus", type=Path, help="default: ../shared/corpus")
    args = parser.parse_args(argv)
    print_machine("worker_cpu")
    pages = [
        (saved.url, gzip.decompress(saved.path.read_bytes()))
        for saved in saved_pages(args.corpus)
    ]
    if args.pages:
        pages = pages[: args.pages]
    spent = measure(pages[:5], 1)  # warm: caches, lazy imports, the language model
    spent = measure(pages, args.rounds)
    sizes = sorted(len(body) for _, body in pages)
    small = sum(len(body) <= sizes[(len(sizes) - 1) // 2] for _, body in pages)
    for label, halves, count in (
        ("all pages", (1, 0), len(pages)),
        ("smaller half", (1,), small),
    ):
        n = count * args.rounds
        ours = 1000 * sum(spent["broadsheet", h] for h in halves) / n
        bare = 1000 * sum(spent["bare", h] for h in halves) / n
        print(
            f"{label}: {count} pages; CPU per page: worker {ours:.1f} ms, "
            f"trafilatura.extract {bare:.1f} ms; ratio {ours / bare:.2f}"
        )


if __name__ == "__main__":
    main()
