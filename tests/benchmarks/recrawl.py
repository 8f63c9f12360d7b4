"""Incremental re-crawl: a second ``broadsheet crawl`` of an unchanged site.

    python -m tests.benchmarks.recrawl [--pages 2000] [--workers N]

Crawls the loopback site (``tests.benchmarks.loopback``, throttling off) into a fresh
output, then crawls it again into the same output. Articles already stored are not
requested again and the unchanged sitemap answers 304, so the second run should make
a handful of requests and take a fraction of the first one's time. Prints the requests
the site answered and the wall time of both runs.
"""

from __future__ import annotations

from collections import Counter

from tests.benchmarks.crawl_speed import crawl
from tests.benchmarks.loopback import Site
from tests.benchmarks.machine import print_machine
from tests.benchmarks.replay_speed import outcomes
from tests.benchmarks.sample import sample_arguments, sampled


def main(argv: list[str] | None = None) -> None:
    args = sample_arguments(__doc__, 2000, argv)

    print_machine("recrawl")
    with sampled(args) as (temp, folder):
        output = temp / "output"
        with Site(folder) as site:
            first = crawl(site, output, args.workers)
            first_requests = Counter(site.requests)
            after_first = outcomes(output / "broadsheet.db")
            site.clear()
            second = crawl(site, output, args.workers)
            second_requests = Counter(site.requests)
        after_second = outcomes(output / "broadsheet.db")
    print(f"pages: {args.pages}")
    print(
        f"first crawl:  {first.seconds:.1f} s, {sum(first_requests.values())} requests "
        f"{dict(first_requests)}; stored {after_first}"
    )
    print(
        f"second crawl: {second.seconds:.1f} s, {sum(second_requests.values())} requests "
        f"{dict(second_requests)}; stored {after_second}"
    )
    print(f"CPU: first {first.cpu_seconds:.1f} s, second {second.cpu_seconds:.1f} s")
    print(
        f"second / first: time {second.seconds / first.seconds:.2f}x, requests "
        f"{sum(second_requests.values()) / max(1, sum(first_requests.values())):.3f}x"
    )


if __name__ == "__main__":
    main()
