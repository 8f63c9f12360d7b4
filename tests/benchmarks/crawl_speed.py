"""Crawl speed: ``broadsheet crawl`` of a loopback site against a replay of its pages.

    python -m tests.benchmarks.crawl_speed [--pages 2000] [--workers N]

Serves the sample pages (see ``tests.benchmarks.sample``) from a loopback site with a
sitemap listing them all (``tests.benchmarks.loopback``), crawls it with politeness
throttling off (``-s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0``, 16 requests at
a time), then replays the same pages into a fresh output. Both run as the
``broadsheet`` command in a fresh process. Prints pages/s of each and the ratio crawl /
replay (the goal is >= 0.8), and, side by side, the peak memory of the crawl's
processes and the largest the crawl's ``broadsheet.db-wal`` grew
(sampled every 0.1 s; the goal is <= 64 MB for 2,000 articles: no read transaction
outlives a short query, so checkpoints keep resetting the WAL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.benchmarks.command import SAMPLE_EVERY, Run, broadsheet, mib
from tests.benchmarks.loopback import Site
from tests.benchmarks.machine import print_machine
from tests.benchmarks.replay_speed import outcomes, replay
from tests.benchmarks.sample import sample_arguments, sampled

UNTHROTTLED = (
    "AUTOTHROTTLE_ENABLED=False",
    "DOWNLOAD_DELAY=0",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "LOG_LEVEL=WARNING",
)


def crawl(site: Site, output: Path, workers: int | None = None) -> Run:
    """``broadsheet crawl`` of ``site`` into ``output``, unthrottled."""
    sources = output.parent / f"{output.name}-sources.toml"
    sources.write_text(site.sources_toml(), encoding="utf-8")
    settings = list(UNTHROTTLED)
    if workers is not None:
        settings.append(f"BROADSHEET_WORKERS={workers}")
    run = broadsheet(
        "crawl",
        "--sources",
        str(sources),
        "--source",
        "bench",
        "--output",
        str(output),
        *(f"-s{pair}" for pair in settings),
    )
    if run.returncode != 0:
        raise SystemExit(f"broadsheet crawl failed:\n{run.stderr[-4000:]}")
    return run


@contextmanager
def wal_watch(output: Path, every: float = 0.1) -> Iterator[list[int]]:
    """Samples the size of ``output/broadsheet.db-wal`` while the block runs; the
    yielded list holds the largest size seen, in bytes, once the block is over."""
    peak = [0]
    done = threading.Event()
    wal = output / "broadsheet.db-wal"

    def sample() -> None:
        while not done.wait(every):
            try:
                peak[0] = max(peak[0], wal.stat().st_size)
            except FileNotFoundError:
                pass

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    args = sample_arguments(__doc__, 2000, argv)

    print_machine("crawl_speed")
    with sampled(args) as (temp, folder):
        with Site(folder) as site, wal_watch(temp / "crawled") as wal:
            crawled = crawl(site, temp / "crawled", args.workers)
            requests = dict(site.requests)
        crawl_stored = outcomes(temp / "crawled" / "broadsheet.db")
        # watched as the crawl is, so that both pay the memory sampler alike
        replayed = replay(folder, temp / "replayed", args.workers, SAMPLE_EVERY)
        replay_stored = outcomes(temp / "replayed" / "broadsheet.db")
    crawl_rate = args.pages / crawled.seconds
    replay_rate = args.pages / replayed.seconds
    print(f"pages: {args.pages}; requests served: {requests}")
    print(f"stored by the crawl: {crawl_stored}; by the replay: {replay_stored}")
    print(
        f"broadsheet crawl:  {crawled.seconds:.1f} s, {crawl_rate:.1f} pages/s, "
        f"peak PSS {mib(crawled.peak_pss)}"
    )
    print(
        f"broadsheet replay: {replayed.seconds:.1f} s, {replay_rate:.1f} pages/s, "
        f"peak PSS {mib(replayed.peak_pss)}"
    )
    print(f"ratio crawl / replay: {crawl_rate / replay_rate:.2f}x (goal >= 0.8x)")
    print(
        f"peaks during the crawl: memory of the process tree PSS {mib(crawled.peak_pss)} "
        f"(RSS summed {mib(crawled.peak_rss)}), WAL {mib(wal[0])} (goal <= 64 MiB)"
    )
    print(
        f"CPU per page (all processes): crawl "
        f"{1000 * crawled.cpu_seconds / args.pages:.0f} ms, replay "
        f"{1000 * replayed.cpu_seconds / args.pages:.0f} ms; CPU ratio replay / crawl "
        f"{replayed.cpu_seconds / crawled.cpu_seconds:.2f}x"
    )


if __name__ == "__main__":
    main()
