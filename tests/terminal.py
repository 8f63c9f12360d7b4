"""Run a command with a pseudo-terminal as its stdout and stderr, as a person at a
shell would, to see what it shows there and not in a pipe."""

from __future__ import annotations

import os
import pty
from pathlib import Path


def run_in_terminal(command: list[str], cwd: Path) -> tuple[int, str]:
    """``command``'s exit code and everything it wrote to the terminal."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdout and stderr are the terminal
        os.chdir(cwd)
        os.execv(command[0], command)
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # the child is gone and the terminal closed
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(
        "utf-8", "replace"
    )
