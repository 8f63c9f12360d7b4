"""Replay speed: ``broadsheet replay`` against a bare single-process trafilatura loop.

    python -m tests.benchmarks.replay_speed [--pages 2000] [--short 500] [--rounds 3]
        [--sample all|smaller|both] [--workers N] [--corpus DIR]

Writes saved pages (the corpus cycled under distinct URLs, see
``tests.benchmarks.sample``) to temporary folders, replays each with the
``broadsheet replay`` command in a fresh process (extraction pool, store, markdown
files: the whole pipeline), then runs ``trafilatura.extract`` over the same files,
read and decompressed the same way, in one fresh process of its own
(``tests.benchmarks.bare_loop``). Both are timed from launch to exit.

Four samples by default: every corpus page and the smaller half of them by HTML size
(typical article pages, on which the fixed costs of the pipeline weigh more), each as
a long run of ``--pages`` pages and a short one of ``--short`` pages (where start-up
weighs more). Each of ``--rounds`` rounds runs both sides on every sample, the bare
loop first in odd rounds and the replay first in even ones; prints pages/s of both and
their ratio for each, then a table of the median ratio per sample (the goal is >= 1.6
on 2 cores, on each). The timed runs are not watched; after the rounds, one more
replay of each sample, untimed, has its process tree's peak memory sampled (reading
every process's memory map takes CPU from the cores the replay needs).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.benchmarks.command import SAMPLE_EVERY, Run, broadsheet, mib, timed
from tests.benchmarks.machine import print_machine, usable_cores
from tests.benchmarks.sample import (
    REPO,
    Saved,
    add_rounds,
    html_size,
    sample_parser,
    sampled,
    saved_pages,
    smaller_half,
    write_sample,
)

GOAL = 1.6


@dataclass
class Sample:
    """One sample folder and the runs of both sides on it, round after round."""

    label: str
    folder: Path
    pages: int
    replays: list[Run] = field(default_factory=list)
    bares: list[Run] = field(default_factory=list)
    memory: Run | None = None  # a replay of its own, its memory sampled

    @property
    def ratios(self) -> list[float]:
        return [
            b.seconds / r.seconds for b, r in zip(self.bares, self.replays, strict=True)
        ]


def bare_trafilatura(folder: Path) -> Run:
    """``trafilatura.extract`` over every page of ``folder``, in a process of its own."""
    command = [sys.executable, "-m", "tests.benchmarks.bare_loop", str(folder)]
    run = timed(command, cwd=REPO, every=None)
    if run.returncode != 0:
        raise SystemExit(f"the bare trafilatura loop failed:\n{run.stderr}")
    return run


def outcomes(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        (articles,) = db.execute("SELECT count(*) FROM articles").fetchone()
        (near,) = db.execute(
            "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL"
        ).fetchone()
        (urls,) = db.execute("SELECT count(*) FROM urls").fetchone()
    return {"articles": articles, "near-duplicates": near, "urls": urls}


def replay(
    folder: Path, output: Path, workers: int | None, every: float | None = None
) -> Run:
    """``broadsheet replay`` of ``folder``; its memory sampled every ``every``
    seconds, or, by default, not at all: a timed replay keeps both cores busy, and the
    sampler's reads would slow it while the single-process bare loop has a core to
    spare for them."""
    args = ["replay", str(folder), "--source", "bench", "--output", str(output)]
    if workers is not None:
        args += ["--workers", str(workers)]
    run = broadsheet(*args, every=every)
    if run.returncode != 0:
        raise SystemExit(f"broadsheet replay failed:\n{run.stderr}")
    return run


def median_html(pages: list[Saved]) -> str:
    return (
        f"median HTML {statistics.median(html_size(p) for p in pages) / 1024:.0f} KiB"
    )


def make_samples(
    args: argparse.Namespace, temp: Path, everything: Path
) -> list[Sample]:
    """The samples asked for: ``everything`` (already written) and the others."""
    pages = saved_pages(args.corpus)
    halves: list[tuple[str, list[Saved] | None]] = []
    if args.sample in ("all", "both"):
        halves.append(("all pages", None))
        print(f"all pages: {len(pages)} corpus pages, {median_html(pages)}")
    if args.sample in ("smaller", "both"):
        small, cut = smaller_half(pages)
        halves.append(("smaller half", small))
        print(
            f"smaller half: {len(small)} corpus pages of at most {cut / 1024:.0f} KiB "
            f"of HTML, {median_html(small)}"
        )
    lengths = [args.pages] + ([args.short] if 0 < args.short < args.pages else [])
    samples = []
    for label, chosen in halves:
        for count in lengths:
            if chosen is None and count == args.pages:
                folder = everything
            else:
                name = f"{'small' if chosen else 'all'}-{count}"
                folder = write_sample(temp / name, count, args.corpus, chosen)
            samples.append(Sample(label, folder, count))
    return samples


def run_round(sample: Sample, number: int, temp: Path, workers: int | None) -> None:
    """Both sides on ``sample``, in the order of round ``number``, and their lines."""
    # Alternate which side runs first, so that a machine that speeds up or slows
    # down during the benchmark does not favour either side.
    if number % 2:
        sample.bares.append(bare_trafilatura(sample.folder))
    output = temp / f"output-{number}"
    run = replay(sample.folder, output, workers)
    sample.replays.append(run)
    if not number % 2:
        sample.bares.append(bare_trafilatura(sample.folder))
    stored = outcomes(output / "broadsheet.db")
    shutil.rmtree(output)
    bare, pages = sample.bares[-1], sample.pages
    first = "bare first" if number % 2 else "replay first"
    print(f"round {number} ({first}); {sample.label}, {pages} pages; stored: {stored}")
    print(
        f"  broadsheet replay: {run.seconds:.1f} s, {pages / run.seconds:.1f} pages/s"
    )
    print(
        f"  bare trafilatura.extract, 1 process: {bare.seconds:.1f} s, "
        f"{pages / bare.seconds:.1f} pages/s"
    )
    # CPU time depends less on what else runs meanwhile: it gives the ratio the
    # cores could reach with nothing else running.
    print(
        f"  ratio replay / bare: {sample.ratios[-1]:.2f}x; CPU per page: replay "
        f"{1000 * run.cpu_seconds / pages:.0f} ms (all processes), "
        f"bare {1000 * bare.cpu_seconds / pages:.0f} ms"
    )


def measure_memory(sample: Sample, temp: Path, workers: int | None) -> None:
    """One more replay of ``sample``, untimed, its process tree's memory sampled."""
    output = temp / "output-memory"
    run = sample.memory = replay(sample.folder, output, workers, every=SAMPLE_EVERY)
    shutil.rmtree(output)
    print(
        f"memory run; {sample.label}, {sample.pages} pages: peak memory of the "
        f"process tree: RSS {mib(run.peak_rss)}, PSS {mib(run.peak_pss)}"
    )


def summary(samples: list[Sample]) -> None:
    print(
        "| sample | pages | median ratio replay / bare | rounds | replay pages/s "
        "| bare pages/s | CPU per page, replay / bare | replay peak PSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for s in samples:
        ratios, n = s.ratios, s.pages
        rounds = ", ".join(f"{r:.2f}x" for r in ratios)
        rates = [n / r.seconds for r in s.replays], [n / b.seconds for b in s.bares]
        cpu = [
            1000 * statistics.median(r.cpu_seconds for r in runs) / n
            for runs in (s.replays, s.bares)
        ]
        print(
            f"| {s.label} | {n} | **{statistics.median(ratios):.2f}x** | {rounds} | "
            f"{min(rates[0]):.1f}-{max(rates[0]):.1f} | {min(rates[1]):.1f}-{max(rates[1]):.1f} "
            f"| {cpu[0]:.0f} / {cpu[1]:.0f} ms "
            f"| {mib(s.memory.peak_pss) if s.memory else '-'} |"
        )
    worst = min(statistics.median(s.ratios) for s in samples)
    print(f"lowest median ratio: {worst:.2f}x (goal >= {GOAL}x on 2 cores, on each)")


def main(argv: list[str] | None = None) -> None:
    parser = sample_parser(__doc__, 2000)
    add_rounds(parser, 3)
    parser.add_argument(
        "--short", type=int, default=500, help="pages of the short run (0: none)"
    )
    parser.add_argument("--sample", choices=("all", "smaller", "both"), default="both")
    args = parser.parse_args(argv)

    print_machine("replay_speed")
    workers = args.workers if args.workers is not None else usable_cores()
    print(f"replay workers: {workers}")
    with sampled(args) as (temp, folder):
        samples = make_samples(args, temp, folder)
        for number in range(1, args.rounds + 1):
            for sample in samples:
                run_round(sample, number, temp, args.workers)
        for sample in samples:
            measure_memory(sample, temp, args.workers)
    summary(samples)


if __name__ == "__main__":
    main()
