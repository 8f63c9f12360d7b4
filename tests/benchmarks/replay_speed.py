"""Replay speed: ``broadsheet replay`` against a bare single-process trafilatura loop.

    python -m tests.benchmarks.replay_speed [--pages 2000] [--rounds 3] [--workers N] [--corpus DIR]

Writes ``--pages`` saved pages (the corpus cycled under distinct URLs, see
``tests.benchmarks.sample``) to a temporary folder, replays them with the
``broadsheet replay`` command in a fresh process (extraction pool, store, markdown
files: the whole pipeline), then runs ``trafilatura.extract`` over the same files,
read and decompressed the same way, in one fresh process of its own
(``tests.benchmarks.bare_loop``). Both are timed from launch to exit. Each of ``--rounds``
rounds runs both, the bare loop first in odd rounds and the replay first in even ones;
prints pages/s of both and their ratio for each round, then the median ratio (the
goal is >= 1.6 on 2 cores).
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import sys
from pathlib import Path

from tests.benchmarks.command import Run, broadsheet, mib, timed
from tests.benchmarks.machine import print_machine, usable_cores
from tests.benchmarks.sample import REPO, sample_parser, sampled


def bare_trafilatura(folder: Path) -> Run:
    """``trafilatura.extract`` over every page of ``folder``, in a process of its own."""
    command = [sys.executable, "-m", "tests.benchmarks.bare_loop", str(folder)]
    run = timed(command, cwd=REPO)
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


def replay(folder: Path, output: Path, workers: int | None) -> Run:
    args = ["replay", str(folder), "--source", "bench", "--output", str(output)]
    if workers is not None:
        args += ["--workers", str(workers)]
    run = broadsheet(*args)
    if run.returncode != 0:
        raise SystemExit(f"broadsheet replay failed:\n{run.stderr}")
    return run


def main(argv: list[str] | None = None) -> None:
    parser = sample_parser(__doc__, 2000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="pairs of runs, in alternating order"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    print_machine("replay_speed")
    workers = args.workers if args.workers is not None else usable_cores()
    ratios: list[float] = []
    with sampled(args) as (temp, folder):
        for number in range(1, args.rounds + 1):
            # Alternate which side runs first, so that a machine that speeds up or
            # slows down during the benchmark does not favour either side.
            if number % 2:
                bare_run = bare_trafilatura(folder)
            output = temp / f"output-{number}"
            run = replay(folder, output, args.workers)
            if not number % 2:
                bare_run = bare_trafilatura(folder)
            stored = outcomes(output / "broadsheet.db")
            shutil.rmtree(output)
            ratio = bare_run.seconds / run.seconds
            ratios.append(ratio)
            first = "bare first" if number % 2 else "replay first"
            print(
                f"round {number} ({first}); pages: {args.pages}; replay workers: {workers}; stored: {stored}"
            )
            print(
                f"  broadsheet replay: {run.seconds:.1f} s, {args.pages / run.seconds:.1f} pages/s, "
                f"peak memory of the process tree: RSS {mib(run.peak_rss)}, PSS {mib(run.peak_pss)}"
            )
            print(
                f"  bare trafilatura.extract, 1 process: {bare_run.seconds:.1f} s, "
                f"{args.pages / bare_run.seconds:.1f} pages/s"
            )
            # CPU time depends less on what else runs meanwhile: it gives the ratio
            # the cores could reach with nothing else running.
            replay_ms = 1000 * run.cpu_seconds / args.pages
            bare_ms = 1000 * bare_run.cpu_seconds / args.pages
            print(
                f"  ratio replay / bare: {ratio:.2f}x; CPU per page: replay {replay_ms:.0f} ms "
                f"(all processes), bare {bare_ms:.0f} ms"
            )
    listed = ", ".join(f"{r:.2f}x" for r in ratios)
    print(
        f"ratio replay / bare: median {statistics.median(ratios):.2f}x of {listed} "
        "(goal >= 1.6x on 2 cores)"
    )


if __name__ == "__main__":
    main()
