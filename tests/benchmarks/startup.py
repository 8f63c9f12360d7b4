"""Start-up: how soon the first page of a replay reaches an extraction worker, and
how soon a crawl sends its first request.

    python -m tests.benchmarks.startup [--pages 20] [--rounds 5] [--workers N] [--corpus DIR]

Replays ``--pages`` saved pages (see ``tests.benchmarks.sample``) with the
``broadsheet replay`` command in a fresh process, ``--rounds`` times. An audit hook
(``sys.addaudithook``, set before broadsheet is imported and inherited by the forked
workers) watches the run without changing it: a worker unpickling a ``Page`` is the
first page reaching it, and opening the language model's file is loading the model.
Prints, for each round, the seconds from launch to the first page in a worker (the
goal is <= 0.5 s), to the first markdown file written (files are written once the
store's transaction holding their rows has committed: the first commit) and to exit, and which processes
loaded the language model (the goal: never the storing process when the workers can
decide the language); then the medians. For reference, the time a fresh process takes
to ``import trafilatura``: what the bare loop of ``replay_speed`` pays before its first
page. The hook costs a little time of its own, so these figures are upper bounds.

Each round then crawls the same pages from a loopback site (``crawl_speed``'s, with
throttling off) and prints the seconds from launch to the site's first request
(robots.txt), to its first article request and to exit.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.command import broadsheet, compile_bytecode, timed
from tests.benchmarks.crawl_speed import crawl
from tests.benchmarks.loopback import Site
from tests.benchmarks.machine import print_machine
from tests.benchmarks.sample import REPO, add_rounds, sample_parser, sampled

EVENTS = "BROADSHEET_BENCH_EVENTS"
GOAL = 0.5

# Run in the replay process before anything else: notes, once per process, the
# moment it first unpickles a Page, opens the language model or writes a markdown file.
HOOK = f"""
import os, sys, time
MAIN = os.getpid()
EVENTS = os.open(os.environ[{EVENTS!r}], os.O_WRONLY | os.O_APPEND)
noted = set()

def note(kind):
    key = (os.getpid(), kind)
    if key not in noted:
        noted.add(key)
        role = "main" if os.getpid() == MAIN else "worker"
        os.write(EVENTS, f"{{time.time()}} {{kind}} {{role}} {{os.getpid()}}\\n".encode())

def hook(event, args):
    if event == "pickle.find_class":
        if args == ("pipeline.items", "Page"):
            note("page")
    elif event == "open":
        name = str(args[0])
        if name.endswith(".npz.xz") or "/langid-" in name:  # packaged or unpacked
            note("model")
        elif name.endswith(".md.tmp"):
            note("stored")

sys.addaudithook(hook)
"""


@dataclass(frozen=True)
class Start:
    first_page: float | None  # seconds after launch; None: no page reached a worker
    first_stored: float | None
    seconds: float
    model: tuple[str, ...]  # "main" or "worker", once per process that loaded it


def read_events(path: Path, launched: float) -> Start:
    first: dict[str, float] = {}
    model = []
    for line in path.read_text(encoding="utf-8").splitlines():
        when, kind, role, _ = line.split()
        first[kind] = min(first.get(kind, float("inf")), float(when) - launched)
        if kind == "model":
            model.append(role)
    return Start(first.get("page"), first.get("stored"), 0.0, tuple(sorted(model)))


def replay_start(folder: Path, output: Path, workers: int | None) -> Start:
    events = output.parent / f"{output.name}-events"
    events.write_text("", encoding="utf-8")
    args = ["replay", str(folder), "--source", "bench", "--output", str(output)]
    if workers is not None:
        args += ["--workers", str(workers)]
    os.environ[EVENTS] = str(events)
    launched = time.time()
    run = broadsheet(*args, hook=HOOK)
    if run.returncode != 0:
        raise SystemExit(f"broadsheet replay failed:\n{run.stderr}")
    start = read_events(events, launched)
    return Start(start.first_page, start.first_stored, run.seconds, start.model)


@dataclass(frozen=True)
class CrawlStart:
    first_request: float | None  # seconds after launch
    first_article: float | None
    seconds: float


def crawl_start(site: Site, output: Path, workers: int | None) -> CrawlStart:
    site.clear()
    launched = time.time()
    run = crawl(site, output, workers)
    first = {kind: when - launched for kind, when in site.first.items()}
    return CrawlStart(
        min(first.values(), default=None), first.get("article"), run.seconds
    )


def import_trafilatura() -> float:
    return timed([sys.executable, "-c", "import trafilatura"], cwd=REPO).seconds


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def main(argv: list[str] | None = None) -> None:
    parser = sample_parser(__doc__, 20)
    add_rounds(parser, 5, "launches measured")
    args = parser.parse_args(argv)

    print_machine("startup")
    compile_bytecode()  # before the first launch is timed
    starts, imports, crawls = [], [], []
    with sampled(args) as (temp, folder), Site(folder) as site:
        for number in range(1, args.rounds + 1):
            start = replay_start(folder, temp / f"output-{number}", args.workers)
            starts.append(start)
            imports.append(import_trafilatura())
            crawls.append(crawl_start(site, temp / f"crawled-{number}", args.workers))
            print(
                f"round {number}: first page in a worker {seconds(start.first_page)}, "
                f"first markdown file {seconds(start.first_stored)}, "
                f"exit {start.seconds:.2f} s ({args.pages} pages); language model "
                f"loaded by: {', '.join(start.model) or 'no process'}; "
                f"import trafilatura alone: {imports[-1]:.2f} s; crawl: first request "
                f"{seconds(crawls[-1].first_request)}, first article "
                f"{seconds(crawls[-1].first_article)}, exit {crawls[-1].seconds:.2f} s"
            )
    firsts = [s.first_page for s in starts if s.first_page is not None]
    print(
        f"median: first page in a worker {seconds(median(firsts))} (goal <= {GOAL} s), "
        f"exit {median([s.seconds for s in starts]):.2f} s, "
        f"import trafilatura alone {median(imports):.2f} s"
    )
    requests = [c.first_request for c in crawls if c.first_request is not None]
    articles = [c.first_article for c in crawls if c.first_article is not None]
    print(
        f"median crawl: first request {seconds(median(requests))}, first article "
        f"{seconds(median(articles))}, exit {median([c.seconds for c in crawls]):.2f} s"
    )


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


if __name__ == "__main__":
    main()
