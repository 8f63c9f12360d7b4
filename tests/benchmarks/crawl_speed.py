"""Crawl speed: ``broadsheet crawl`` of a loopback site against a replay of its pages.

    python -m tests.benchmarks.crawl_speed [--pages 2000] [--rounds 3] [--workers N]

Serves the sample pages (see ``tests.benchmarks.sample``) from a loopback site with a
sitemap listing them all (``tests.benchmarks.loopback``), crawls it with politeness
throttling off (``-s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0``, 16 requests at
a time), then replays the same pages into a fresh output. Both run as the
``broadsheet`` command in a fresh process. Prints pages/s of each and the ratio crawl /
replay (the goal is >= 0.8), and, side by side, the peak memory of the crawl's
processes and the largest the crawl's ``broadsheet.db-wal`` grew
(sampled every 0.1 s; the goal is <= 64 MB for 2,000 articles: no read transaction
outlives a short query, so checkpoints keep resetting the WAL). Each of ``--rounds``
rounds runs both, the crawl first in odd rounds and the replay first in even ones;
the last line gives the median ratio (a single pair swings by a tenth and more on a
shared machine) and the largest peaks of all the crawls.
"""

from __future__ import annotations

import shutil
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.command import SAMPLE_EVERY, Run, broadsheet, mib
from tests.benchmarks.loopback import Site
from tests.benchmarks.machine import print_machine
from tests.benchmarks.replay_speed import outcomes, replay
from tests.benchmarks.sample import add_rounds, sample_parser, sampled

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


@dataclass(frozen=True)
class Round:
    crawled: Run
    replayed: Run
    wal_peak: int  # bytes
    requests: dict[str, int]
    crawl_stored: dict[str, int]
    replay_stored: dict[str, int]

    @property
    def ratio(self) -> float:
        """Pages/s of the crawl over pages/s of the replay."""
        return self.replayed.seconds / self.crawled.seconds


def crawl_round(
    site: Site, temp: Path, folder: Path, number: int, workers: int | None
) -> Round:
    """A crawl and a replay of the same pages, in the order of round ``number``."""
    crawled_to, replayed_to = temp / f"crawled-{number}", temp / f"replayed-{number}"
    runs: dict[str, Run] = {}
    # Alternate which side runs first, so that a machine that speeds up or slows
    # down during the benchmark does not favour either side.
    for side in ("crawl", "replay") if number % 2 else ("replay", "crawl"):
        if side == "crawl":
            site.clear()
            with wal_watch(crawled_to) as wal:
                runs[side] = crawl(site, crawled_to, workers)
        else:
            # watched as the crawl is, so that both pay the memory sampler alike
            runs[side] = replay(folder, replayed_to, workers, SAMPLE_EVERY)
    done = Round(
        runs["crawl"],
        runs["replay"],
        wal[0],
        dict(site.requests),
        outcomes(crawled_to / "broadsheet.db"),
        outcomes(replayed_to / "broadsheet.db"),
    )
    shutil.rmtree(crawled_to)
    shutil.rmtree(replayed_to)
    return done


def report(number: int, done: Round, pages: int) -> None:
    crawled, replayed = done.crawled, done.replayed
    first = "crawl first" if number % 2 else "replay first"
    print(f"round {number} ({first}); requests served: {done.requests}")
    print(
        f"  stored by the crawl: {done.crawl_stored}; by the replay: {done.replay_stored}"
    )
    print(
        f"  broadsheet crawl:  {crawled.seconds:.1f} s, {pages / crawled.seconds:.1f} "
        f"pages/s, peak PSS {mib(crawled.peak_pss)} (RSS summed "
        f"{mib(crawled.peak_rss)}), WAL peak {mib(done.wal_peak)}"
    )
    print(
        f"  broadsheet replay: {replayed.seconds:.1f} s, "
        f"{pages / replayed.seconds:.1f} pages/s, peak PSS {mib(replayed.peak_pss)}"
    )
    print(
        f"  ratio crawl / replay: {done.ratio:.2f}x; CPU per page (all processes): "
        f"crawl {1000 * crawled.cpu_seconds / pages:.0f} ms, replay "
        f"{1000 * replayed.cpu_seconds / pages:.0f} ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = sample_parser(__doc__, 2000)
    add_rounds(parser, 3)
    args = parser.parse_args(argv)

    print_machine("crawl_speed")
    rounds = []
    with sampled(args) as (temp, folder), Site(folder) as site:
        for number in range(1, args.rounds + 1):
            rounds.append(crawl_round(site, temp, folder, number, args.workers))
            report(number, rounds[-1], args.pages)
    ratios = [done.ratio for done in rounds]
    print(
        f"pages: {args.pages}; median ratio crawl / replay over {len(rounds)} rounds: "
        f"{statistics.median(ratios):.2f}x (goal >= 0.8x); rounds: "
        + ", ".join(f"{r:.2f}x" for r in ratios)
    )
    print(
        f"peaks during the crawls: memory of the process tree PSS "
        f"{mib(max(d.crawled.peak_pss for d in rounds))} (RSS summed "
        f"{mib(max(d.crawled.peak_rss for d in rounds))}), WAL "
        f"{mib(max(d.wal_peak for d in rounds))} (goal <= 64 MiB)"
    )


if __name__ == "__main__":
    main()
