"""Run a command in a fresh process: wall time, CPU and peak memory of its tree.

Before the first command, broadsheet's modules (and these benchmarks') are compiled to
bytecode, as installing a wheel does and as Python's first import does unless
``PYTHONDONTWRITEBYTECODE`` is set: otherwise, where it is set, every launch of
broadsheet would compile its own source again while trafilatura, installed by pip,
runs from bytecode, and the comparison would measure that instead.
"""

from __future__ import annotations

import compileall
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

CLI = "from pipeline.cli import cli; cli()"
SAMPLE_EVERY = 0.25  # seconds between two samples of a command's memory
REPO = Path(__file__).resolve().parents[2]
COMPILED = ("pipeline", "spiders", "tests")
_compiled = False


@dataclass(frozen=True)
class Run:
    """A finished command. Memory in bytes, summed over the process and its children
    at the worst moment: RSS (pages shared after fork counted once per process) and
    PSS (shared pages split among their sharers). CPU: user + system seconds of the
    process and of the children it waited for."""

    seconds: float
    peak_rss: int
    peak_pss: int
    cpu_seconds: float
    returncode: int
    stderr: str


def tree_memory(process: psutil.Process) -> tuple[int, int]:
    """(RSS, PSS) of ``process`` and every descendant, summed, in bytes.

    Summed RSS counts the pages a forked worker shares with its parent once per
    process; PSS splits them among the sharers, so its sum is what the tree really uses.
    """
    rss = pss = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for member in members:
        try:
            info = member.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss, pss


def broadsheet(
    *args: str,
    cwd: Path | None = None,
    every: float | None = SAMPLE_EVERY,
    hook: str = "",
) -> Run:
    """``broadsheet ARGS`` in a subprocess (see :func:`timed`), running the Python
    code ``hook`` first, before broadsheet is imported."""
    return timed([sys.executable, "-c", f"{hook}\n{CLI}", *args], cwd, every)


def compile_bytecode() -> None:
    """Compile the checkout's Python modules to bytecode (``__pycache__``), once."""
    global _compiled
    if not _compiled:
        for folder in COMPILED:
            compileall.compile_dir(REPO / folder, quiet=2)
        _compiled = True


def timed(
    argv: list[str], cwd: Path | None = None, every: float | None = SAMPLE_EVERY
) -> Run:
    """``argv`` in a subprocess, from launch to exit, sampling its memory every
    ``every`` seconds; with ``every=None`` not at all (peaks of 0).

    Each sample reads ``/proc/PID/smaps_rollup`` of every process of the tree: about
    10 ms of CPU for a replay and its two workers, so 4% of a core at the default
    rate, taken from the cores the command runs on. A command that keeps every core
    busy is timed without sampling and its memory measured in a run of its own."""
    compile_bytecode()
    peak_rss = peak_pss = 0
    with tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        watched = psutil.Process(child.pid)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_rss, peak_pss
            while True:  # once at launch, so that a short run has a figure too
                rss, pss = tree_memory(watched)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
                if done.wait(every):
                    return

        sampler = (
            None if every is None else threading.Thread(target=sample, daemon=True)
        )
        if sampler:
            sampler.start()
        returncode = child.wait()
        seconds = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        done.set()
        if sampler:
            sampler.join()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(seconds, peak_rss, peak_pss, cpu, returncode, stderr)


def mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"
