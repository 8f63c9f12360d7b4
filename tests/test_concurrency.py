"""Readers and writers side by side: WAL readers never block a replay, one writer per
output folder across processes, and a lock left by a killed process blocks nothing.

A plain sqlite3 connection holding a read transaction and a real Datasette
(``broadsheet serve``) are open on the database while ``broadsheet replay`` loads 40
pages in a subprocess.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from test_crash import BROADSHEET, assert_sound, build_pages, progress, replay_command
from test_datasette import Server

from pipeline.store.writer import Store

pytestmark = pytest.mark.slow
COUNT = "/broadsheet/articles.json?_size=1"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    build_pages(folder)
    return folder


def created(output: Path) -> Path:
    """An output folder with an empty, migrated database (as after a first run)."""
    Store(output).close()
    return output


def contents(output: Path) -> dict[str, bytes]:
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and p.name != ".broadsheet.lock"
    }


def wait_for_progress(process: subprocess.Popen, output: Path, rows: int) -> None:
    deadline = time.monotonic() + 60
    while progress(output) < rows:
        assert process.poll() is None, "the replay ended before it was under way"
        assert time.monotonic() < deadline, "the replay made no progress"
        time.sleep(0.01)


class Reader(threading.Thread):
    """Counts articles in fresh read transactions, as a Datasette page would, until stopped."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.counts: list[int] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        uri = f"file:{self.database}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as db:
            while not self.stop.is_set():
                try:
                    count = db.execute("SELECT count(*) FROM articles").fetchone()[0]
                    db.execute(
                        "SELECT id, title, text FROM articles ORDER BY id"
                    ).fetchall()
                except sqlite3.Error as error:
                    self.errors.append(str(error))
                else:
                    self.counts.append(count)
                time.sleep(0.02)


def test_readers_neither_block_nor_break_a_replay(pages: Path, tmp_path: Path) -> None:
    output = created(tmp_path / "out")
    database = output / "broadsheet.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN")
    assert holder.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    reader = Reader(database)
    reader.start()
    started = time.monotonic()
    done = subprocess.run(
        replay_command(pages, output),
        capture_output=True,
        text=True,
        timeout=120,
        # commits of 4 articles, so that the 40 pages make several for the reader
        env={**os.environ, "BROADSHEET_STORE_BATCH": "4"},
    )
    elapsed = time.monotonic() - started
    reader.stop.set()
    reader.join()
    # The long read transaction still sees its snapshot, then the whole load.
    assert holder.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    holder.execute("COMMIT")
    final = holder.execute("SELECT count(*) FROM articles").fetchone()[0]
    holder.close()
    assert done.returncode == 0, done.stderr
    assert "news: 40 pages" in done.stdout
    assert elapsed < 90
    assert reader.errors == []
    assert reader.counts == sorted(reader.counts)  # never goes back
    assert reader.counts[-1] == final
    assert len(set(reader.counts)) > 2  # it read while the load went on
    assert_sound(output)


def test_datasette_serves_during_a_replay(pages: Path, tmp_path: Path) -> None:
    output = created(tmp_path / "out")
    server = Server(output)
    try:
        process = subprocess.Popen(
            replay_command(pages, output),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        counts = []
        while process.poll() is None:
            counts.append(server.json(COUNT)["filtered_table_rows_count"])
            time.sleep(0.05)
        _, stderr = process.communicate(timeout=60)
        last = server.json(COUNT)["filtered_table_rows_count"]
    finally:
        server.stop()
    assert process.returncode == 0, stderr
    assert counts == sorted(counts)
    with closing(sqlite3.connect(output / "broadsheet.db")) as db:
        assert last == db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert len(counts) > 3
    assert_sound(output)


HOLDER = """
import sys, time
from pipeline.store.lock import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize(
    "second",
    [
        ["replay", "{pages}", "--source", "news", "--workers", "0"],
        ["import", "{legacy}", "--source", "hindustantimes"],
        ["export"],
        ["check", "--repair"],
    ],
    ids=["replay", "import", "export", "check"],
)
def test_a_second_writer_exits_at_once_with_the_lock_message(
    second: list[str], pages: Path, tmp_path: Path
) -> None:
    output = created(tmp_path / "out")
    before = contents(output)
    legacy = (
        Path(__file__).parent / "fixtures" / "legacy" / "legacy-text-hindustantimes.txt"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(output)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        args = [a.format(pages=pages, legacy=legacy) for a in second]
        started = time.monotonic()
        blocked = subprocess.run(
            [*BROADSHEET, *args, "--output", str(output)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
    assert blocked.returncode == 1
    assert "Traceback" not in blocked.stderr
    lines = [line for line in blocked.stderr.splitlines() if line.startswith("Error:")]
    assert lines == [
        f"Error: {output} is in use by pid {holder.pid} (-c {output.name}); wait for it"
        " to finish or use another --output folder"
    ]
    assert elapsed < 15  # at once: it does not wait for the lock
    assert contents(output) == before


def test_a_lock_left_by_a_killed_run_blocks_nothing(
    pages: Path, tmp_path: Path
) -> None:
    output = created(tmp_path / "out")
    first = subprocess.Popen(
        replay_command(pages, output), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wait_for_progress(first, output, 5)
    os.kill(first.pid, signal.SIGKILL)  # its worker processes are not told
    first.wait()
    assert (output / ".broadsheet.lock").read_text().startswith(f"pid {first.pid} ")
    done = subprocess.run(
        replay_command(pages, output), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "in use" not in done.stderr
    assert_sound(output)


# Takes the lock, forks a child that goes on working (as an extraction worker does in
# the middle of a page when the storing process is killed) and waits to be killed.
# The child says its pid: os.fork() returns in it only after the at-fork handlers ran.
HOLD_AND_FORK = """
import os, sys, time
from pipeline.store.lock import output_lock
with output_lock(sys.argv[1]):
    if os.fork() == 0:
        print(os.getpid(), flush=True)
        time.sleep(60)
        os._exit(0)
    time.sleep(60)
"""


def test_a_killed_runs_forked_workers_do_not_keep_its_lock(tmp_path: Path) -> None:
    from pipeline.store.lock import output_lock

    errors = tmp_path / "stderr"
    with errors.open("w") as stderr:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_AND_FORK, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    child = None
    try:
        line = holder.stdout.readline()
        assert line, f"the lock holder did not start: {errors.read_text()}"
        child = int(line)
        holder.kill()  # SIGKILL
        holder.wait(timeout=30)
        os.kill(child, 0)  # the child still runs
        with output_lock(tmp_path):  # and the lock is free at once
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if child is not None:
            os.kill(child, signal.SIGKILL)
