"""Counting what a run did, for its summary and its row in the ``crawls`` table."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

OUTCOMES = ("new", "updated", "unchanged", "duplicate", "near-duplicate")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunStats:
    """What happened to the pages of one source in one run."""

    source: str
    command: str = "crawl"
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    requests: int = 0
    pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    # failed requests by label: http-404, timeout, dns, connection-refused ...
    http_errors: Counter[str] = field(default_factory=Counter)
    message: str = ""

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    def drop(self, reason: str) -> None:
        self.dropped[reason] += 1

    def http_error(self, status: int | str) -> None:
        self.http_errors[f"http-{status}"] += 1

    @property
    def stored(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failing(self) -> bool:
        """No article came out of this run: nothing new, nothing already known."""
        return self.stored == 0

    def finish(self) -> None:
        self.finished = utc_now()

    def as_row(self, run_id: str) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "source": self.source,
            "command": self.command,
            "started": self.started,
            "finished": self.finished or utc_now(),
            "status": "failing" if self.failing else "ok",
            "requests": self.requests,
            "pages": self.pages,
            "new": self.outcomes["new"],
            "updated": self.outcomes["updated"],
            "duplicates": self.outcomes["duplicate"] + self.outcomes["near-duplicate"],
            "unchanged": self.outcomes["unchanged"],
            "dropped": sum(self.dropped.values()),
            "dropped_reasons": json.dumps(dict(sorted(self.dropped.items()))),
            "http_errors": json.dumps(dict(sorted(self.http_errors.items()))),
            "message": self.message,
        }


def summary_line(run: RunStats) -> str:
    """One line per source, readable in a terminal and in a cron mail alike."""
    outcomes = ", ".join(f"{run.outcomes[o]} {o}" for o in OUTCOMES)
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(run.dropped.items()))
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(run.http_errors.items()))
    parts = [f"{run.source}: {run.pages} pages", outcomes]
    parts.append(
        f"dropped {sum(run.dropped.values())}" + (f" ({dropped})" if dropped else "")
    )
    if errors:
        parts.append(f"failed {errors}")
    status = "FAILING" if run.failing else "ok"
    parts.append(f"{status}: {run.message}" if run.message else status)
    return "; ".join(parts)


def print_summary(
    runs: list[RunStats], title: str | None = None, console: Console | None = None
) -> None:
    """The runs' summary lines, on stdout unless ``console`` (a live display's) says
    otherwise: under ``title`` and indented when there is one, else one line per
    source. Printed as they are: a folder or source name with brackets in it is
    not read as rich markup."""
    lines = [title] if title else []
    lines += [("  " if title else "") + summary_line(run) for run in runs]
    for line in lines:
        if console is None:
            # plain lines need no rich, which would cost the end of every replay
            # its import
            print(line)
        else:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
