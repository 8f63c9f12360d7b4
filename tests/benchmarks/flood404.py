"""A flood of 404s against ``broadsheet serve``: does it slow the normal pages?

    python -m tests.benchmarks.flood404 [--clients 4] [--seconds 10] [--samples 40]
                                        [--modes loopback,public]

Serves a small database (the one tests/test_stats.py builds) twice: on loopback as
by default, and with ``--public``. For each, times ``--samples`` requests of a normal
page (a full-text search) with nobody else asking, then again while ``--clients``
threads request ``/broadsheet/nope`` as fast as they are answered for ``--seconds``.
Each flooding thread is a client of its own, as it would be on the internet: it
connects from its own loopback address (127.0.0.2, 127.0.0.3 ...), the normal page from
127.0.0.1. Prints the median and 95th percentile of the normal page both ways, the
flood's answers per second by status, and the bytes the server logged (stdout and
stderr, leaving out the normal page's access log lines) per flood request.
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from tests.benchmarks.machine import print_machine
from tests.test_stats import build_output

NORMAL = "/broadsheet/articles?_search=repo+rates"
MISSING = "/broadsheet/nope"
TIMEOUT = 30
LISTENING = re.compile(rb"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class Served:
    """``broadsheet serve --port 0`` with its output in a file."""

    def __init__(self, output: Path, log: Path, *options: str) -> None:
        self.log = log
        self.handle = open(log, "wb")
        command = [sys.executable, "-m", "pipeline", "serve", "--output", str(output)]
        self.process = subprocess.Popen(
            [*command, "--port", "0", *options],
            stdout=self.handle,
            stderr=self.handle,
        )
        deadline = time.monotonic() + 30
        while not (match := LISTENING.search(log.read_bytes())):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text())
            time.sleep(0.1)
        self.port = int(match.group(1))

    def get(self, path: str, source: str = "127.0.0.1") -> int:
        """The status, asked from address ``source`` on a new connection; 0 when the
        server did not answer within TIMEOUT seconds."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=TIMEOUT, source_address=(source, 0)
        )
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status
        except OSError:
            return 0
        finally:
            connection.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.handle.close()


def timings(served: Served, samples: int, failed: list[int]) -> list[float]:
    """Seconds per request of the normal page (an unanswered one counts its wait)."""
    seconds = []
    for _ in range(samples):
        started = time.perf_counter()
        if served.get(NORMAL) != 200:
            failed.append(1)
        seconds.append(time.perf_counter() - started)
    return seconds


def flood(
    served: Served, clients: int, stop: threading.Event, counts: list[Counter]
) -> None:
    def client(slot: int) -> None:
        source = f"127.0.0.{2 + slot}"
        while not stop.is_set():
            counts[slot][served.get(MISSING, source)] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join()


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def measure(output: Path, log: Path, args: argparse.Namespace, *options: str) -> None:
    served = Served(output, log, *options)
    try:
        served.get(NORMAL)  # warm
        failed: list[int] = []
        quiet = timings(served, args.samples, failed)
        logged = log.stat().st_size
        stop = threading.Event()
        counts: list[Counter] = [Counter() for _ in range(args.clients)]
        flooder = threading.Thread(
            target=flood, args=(served, args.clients, stop, counts)
        )
        started = time.monotonic()
        flooder.start()
        busy: list[float] = []
        try:
            while time.monotonic() - started < args.seconds or not busy:
                busy += timings(served, 1, failed)
        finally:
            stop.set()
            flooder.join()
        elapsed = time.monotonic() - started
    finally:
        served.stop()
    statuses = sum(counts, Counter())
    answers = sum(statuses.values())
    with open(log, "rb") as handle:
        handle.seek(logged)
        flood_log = sum(len(line) for line in handle if NORMAL.encode() not in line)
    per_404 = flood_log / max(1, answers)
    label = " ".join(options) or "(loopback defaults)"
    print(f"serve {label}:")
    print(f"  normal page alone:        {summary(quiet)} ({len(quiet)} requests)")
    print(f"  normal page under flood:  {summary(busy)} ({len(busy)} requests)")
    by_status = ", ".join(
        f"{count} {status or 'unanswered'} ({count / elapsed:.0f}/s)"
        for status, count in sorted(statuses.items())
    )
    print(
        f"  flood: {by_status} from {args.clients} clients in {elapsed:.1f} s, "
        f"{per_404:.0f} bytes logged per request"
    )
    if failed:
        print(f"  normal page unanswered within {TIMEOUT} s: {len(failed)} times")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--modes", default="loopback,public")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    print_machine("flood404")
    with tempfile.TemporaryDirectory() as folder:
        temp = Path(folder)
        output = temp / "output"
        output.mkdir()
        build_output(output).close()
        if "loopback" in modes:
            measure(output, temp / "loopback.log", args)
        if "public" in modes:
            measure(output, temp / "public.log", args, "--public")


if __name__ == "__main__":
    main()
