"""The machine a benchmark ran on, printed before its figures so that runs compare.

The load average is printed too: figures taken while other work shares the cores
are lower than the machine can do, and are only comparable within one run.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = (
    "broadsheet",
    "trafilatura",
    "lxml",
    "scrapy",
    "twisted",
    "sqlite-utils",
    "numpy",
    "pebble",
)


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def ram_gib() -> float:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0.0
    return pages / 2**30


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def describe(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and the versions that matter, as printable strings."""
    facts = {
        "cpu": cpu_model(),
        "cores": f"{usable_cores()} usable of {os.cpu_count()}",
        "ram": f"{ram_gib():.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    facts |= {name: package_version(name) for name in (*PACKAGES, *extra)}
    return facts


def print_machine(title: str, extra: tuple[str, ...] = ()) -> None:
    print(f"# {title}")
    print("machine: " + "; ".join(f"{k} {v}" for k, v in describe(extra).items()))
