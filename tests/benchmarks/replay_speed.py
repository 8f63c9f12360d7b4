"""Replay speed: ``broadsheet replay`` against a bare single-process trafilatura loop.

    python -m tests.benchmarks.replay_speed [--pages 2000] [--workers N] [--corpus DIR]

Writes ``--pages`` saved pages (the corpus cycled under distinct URLs, see
``tests.benchmarks.sample``) to a temporary folder, replays them with the
``broadsheet replay`` command in a fresh process (extraction pool, store, markdown
files: the whole pipeline), then runs ``trafilatura.extract`` over the same files,
read and decompressed the same way, in one fresh process of its own
(``tests.benchmarks.bare_loop``). Both are timed from launch to exit. Prints pages/s
of both and the ratio (the goal is >= 1.6 on 2 cores).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from tests.benchmarks.command import Run, broadsheet, mib, timed
from tests.benchmarks.machine import print_machine, usable_cores
from tests.benchmarks.sample import REPO, sample_arguments, sampled


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
    args = sample_arguments(__doc__, 2000, argv)

    print_machine("replay_speed")
    with sampled(args) as (temp, folder):
        output = temp / "output"
        run = replay(folder, output, args.workers)
        stored = outcomes(output / "broadsheet.db")
        bare_run = bare_trafilatura(folder)
    bare, bare_cpu = bare_run.seconds, bare_run.cpu_seconds
    replay_rate = args.pages / run.seconds
    bare_rate = args.pages / bare
    workers = args.workers if args.workers is not None else usable_cores()
    print(f"pages: {args.pages}; replay workers: {workers}; stored: {stored}")
    print(
        f"broadsheet replay: {run.seconds:.1f} s, {replay_rate:.1f} pages/s, "
        f"peak memory of the process tree: RSS {mib(run.peak_rss)}, PSS {mib(run.peak_pss)}"
    )
    print(f"bare trafilatura.extract, 1 process: {bare:.1f} s, {bare_rate:.1f} pages/s")
    print(
        f"ratio replay / bare: {replay_rate / bare_rate:.2f}x (goal >= 1.6x on 2 cores)"
    )
    # CPU time hardly depends on what else runs on the machine meanwhile: it gives
    # the ratio the cores could reach with nothing else running.
    replay_ms = 1000 * run.cpu_seconds / args.pages
    bare_ms = 1000 * bare_cpu / args.pages
    print(
        f"CPU per page: replay {replay_ms:.0f} ms (all processes), bare {bare_ms:.0f} ms; "
        f"ratio on {workers} idle cores at most {workers * bare_ms / replay_ms:.2f}x"
    )


if __name__ == "__main__":
    main()
