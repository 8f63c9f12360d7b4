"""A flood of 404s against ``broadsheet serve``: does it slow the normal pages?

    python -m tests.benchmarks.flood404 [--clients 4] [--seconds 10] [--samples 40]
                                        [--modes loopback,public]

Serves a small database (the one tests/test_stats.py builds) twice: on loopback as
by default, and with ``--public``. For each, times ``--samples`` requests of a normal
page (a full-text search) with nobody else asking, then again while ``--clients``
threads request ``/broadsheet/nope`` as fast as they are answered for ``--seconds``.
Prints the median and 95th percentile of the normal page both ways, the 404s served
per second, and the bytes the server logged (stdout and stderr) per 404.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

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
        self.base = f"http://127.0.0.1:{int(match.group(1))}"

    def get(self, path: str) -> int:
        """The status, or 0 when the server did not answer within TIMEOUT seconds."""
        try:
            with urlopen(self.base + path, timeout=TIMEOUT) as response:
                response.read()
                return response.status
        except HTTPError as error:
            error.read()
            return error.code
        except OSError:
            return 0

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
    served: Served, clients: int, stop: threading.Event, counts: list[int]
) -> None:
    def client(slot: int) -> None:
        while not stop.is_set():
            served.get(MISSING)
            counts[slot] += 1

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
        stop, counts = threading.Event(), [0] * args.clients
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
    missing = max(1, sum(counts))
    per_404 = (log.stat().st_size - logged) / missing
    label = " ".join(options) or "(loopback defaults)"
    print(f"serve {label}:")
    print(f"  normal page alone:        {summary(quiet)} ({len(quiet)} requests)")
    print(f"  normal page under flood:  {summary(busy)} ({len(busy)} requests)")
    print(
        f"  404s: {sum(counts)} from {args.clients} clients in {elapsed:.1f} s "
        f"({sum(counts) / elapsed:.0f}/s), {per_404:.0f} bytes logged per 404"
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
