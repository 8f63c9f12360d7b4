"""The yardstick of the replay benchmark: a bare loop of ``trafilatura.extract``.

    python -m tests.benchmarks.bare_loop FOLDER

Reads every page of a sample folder (``urls.tsv`` and gzipped pages, see
``tests.benchmarks.sample``) and extracts it with ``trafilatura.extract`` and its
defaults, one page after the other, in this one process. ``replay_speed`` runs it as
a command of its own, so that it is timed as ``broadsheet replay`` is: from launch to
exit, imports included.
"""

from __future__ import annotations

import sys
from pathlib import Path

import trafilatura

from tests.benchmarks.sample import iter_bodies


def extract_all(folder: Path) -> int:
    """Pages extracted (every page of ``folder``, in file-name order)."""
    count = 0
    for url, body in iter_bodies(folder):
        trafilatura.extract(body, url=url)
        count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.split("\n\n")[1].strip())
    extract_all(Path(sys.argv[1]))
