"""One writer per output folder, across processes.

The lock is an ``flock`` on ``<output>/.broadsheet.lock``: the kernel releases it when
the holder exits, however it exits, so a lock left by a killed run never blocks the
next one. The file keeps the holder's PID and command only to make the message useful.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import BroadsheetError

LOCK_NAME = ".broadsheet.lock"


class LockedError(BroadsheetError):
    """Another broadsheet process is writing to the same output folder."""


@contextmanager
def output_lock(output_dir: str | Path) -> Iterator[Path]:
    output_dir = Path(output_dir)
    path = output_dir / LOCK_NAME
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")
    except OSError as error:
        raise BroadsheetError(
            f"cannot write to output folder {output_dir}: {error.strerror}"
        ) from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockedError(
                f"{output_dir} is in use by {holder}; wait for it to finish "
                f"or use another --output folder"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"pid {os.getpid()} ({' '.join(Path(a).name for a in sys.argv[:2])})\n"
        )
        handle.flush()
        yield path
    finally:
        handle.close()
