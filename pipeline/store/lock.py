"""One writer per output folder, across processes.

The lock is an ``flock`` on ``<output>/.broadsheet.lock``: the kernel releases it when
the holder exits, however it exits, so a lock left by a killed run never blocks the
next one. A process forked while the lock is held (an extraction worker) would share
it, and keep it after the holder was killed until it finished its page: its copy of the
lock's descriptor is pointed at /dev/null as it starts. The file keeps the holder's
PID and command only to make the message useful.
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

_held: set[int] = set()  # descriptors of the locks this process holds


def _let_go_in_child() -> None:
    """In a forked child: its descriptors of the held locks now read /dev/null."""
    if not _held:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _held:
        os.dup2(null, fd)
    os.close(null)
    _held.clear()


os.register_at_fork(after_in_child=_let_go_in_child)


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
        _held.add(handle.fileno())
        yield path
    finally:
        _held.discard(handle.fileno())
        handle.close()
