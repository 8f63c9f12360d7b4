"""Memory of a long replay: peak RSS and PSS of the process tree as pages go through.

    python -m tests.benchmarks.memory [--pages 10000] [--workers N]

Replays ``--pages`` saved pages (the corpus cycled, see ``tests.benchmarks.sample``)
through the same functions as ``broadsheet replay`` (``iter_pages`` -> ``ingest`` ->
``ExtractPool`` -> ``Store``) in this process, and samples the memory of this process
and its pool workers every 10 pages. Prints the peak so far at 1/4, 1/2 and all of the
pages (2,500 / 5,000 / 10,000 by default): the goal is < 400 MB, not growing with the
number of pages. RSS sums count the pages a forked worker shares with the parent
once per process; PSS counts them once.
"""

from __future__ import annotations

import psutil

from pipeline.inputs.ingest import ingest
from pipeline.inputs.replay import input_files, iter_pages
from pipeline.inputs.workers import ExtractPool
from pipeline.sources import adhoc_source
from pipeline.store.writer import Store
from tests.benchmarks.command import mib, tree_memory
from tests.benchmarks.machine import print_machine
from tests.benchmarks.sample import sample_arguments, sampled

EVERY = 10


def main(argv: list[str] | None = None) -> None:
    args = sample_arguments(__doc__, 10_000, argv)

    print_machine("memory")
    marks = sorted({max(1, args.pages // 4), max(1, args.pages // 2), args.pages})
    me = psutil.Process()
    done = 0
    peak = [0, 0]
    report: list[tuple[int, int, int]] = []

    def advance() -> None:
        nonlocal done
        done += 1
        if done % EVERY == 0 or done in marks:
            rss, pss = tree_memory(me)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
        if done in marks:
            report.append((done, peak[0], peak[1]))

    source = adhoc_source("bench")
    with sampled(args) as (temp, folder):
        pages = iter_pages(input_files([folder]), "bench", lambda host: None)
        with Store(temp / "output") as store, ExtractPool(args.workers) as pool:
            ingest(pages, store, lambda name: source, pool, advance=advance)
    print(f"pages: {args.pages}; workers: {pool.workers}")
    print("| pages replayed | peak RSS, tree summed | peak PSS, tree |")
    print("|---:|---:|---:|")
    for count, rss, pss in report:
        print(f"| {count:,} | {mib(rss)} | {mib(pss)} |")


if __name__ == "__main__":
    main()
