"""The ``drops`` table: every page that was not stored, with why, where and when.

One row per story URL (its canonical form, so tracking and AMP variants share it):
the URL as it was met, its source, the reason (``not-article``, ``no-text``,
``http-404``, ``robots`` ...), a detail, the run, the release that dropped it, and
when it was dropped first and last. A page stored later leaves the table.

A crawl does not request again, for ``BROADSHEET_DROP_MEMORY`` days, a URL dropped
for a lasting reason (:data:`LASTING`). A drop that extraction decided
(:data:`BY_CONTENT`) lasts only as long as the release that made it: a newer release
extracts differently, so it asks again. Passing failures (timeouts, 5xx, 429) are
not recorded here; the next run simply retries them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlite_utils import Database

from pipeline.errors import BroadsheetError
from pipeline.runstats import utc_now
from pipeline.settings import VERSION
from pipeline.store.schema import transaction
from pipeline.urls import canonical_url

TABLE = "drops"
BY_CONTENT = frozenset({"not-article", "no-text"})
LASTING = BY_CONTENT | {"http-404", "http-410", "robots"}
COLUMNS = (
    "key",
    "url",
    "source",
    "reason",
    "detail",
    "run_id",
    "command",
    "release",
    "first_dropped",
    "last_dropped",
    "times",
)


class DropsError(BroadsheetError):
    """The drops cannot be read."""


@dataclass(frozen=True)
class Drop:
    """A page that was not stored."""

    url: str
    source: str
    reason: str
    detail: str = ""
    run_id: str = ""
    command: str = ""
    when: str = field(default_factory=utc_now)


def create(db: Database) -> None:
    """The table and its indexes (a schema migration calls this)."""
    db[TABLE].create(
        {column: int if column == "times" else str for column in COLUMNS}, pk="key"
    )
    db[TABLE].create_index(["source", "last_dropped"])
    db[TABLE].create_index(["reason"])
    db[TABLE].create_index(["run_id"])


UPSERT = f"""
INSERT INTO {TABLE} ({", ".join(COLUMNS)})
VALUES (:key, :url, :source, :reason, :detail, :run_id, :command, :release,
        :when, :when, 1)
ON CONFLICT (key) DO UPDATE SET
  url = excluded.url, source = excluded.source, reason = excluded.reason,
  detail = excluded.detail, run_id = excluded.run_id, command = excluded.command,
  release = excluded.release, last_dropped = excluded.last_dropped,
  times = {TABLE}.times + 1
"""


def record(db: Database, drops: Iterable[Drop]) -> int:
    """Record ``drops`` in one transaction; how many."""
    rows = [
        {
            "key": canonical_url(d.url),
            "url": d.url,
            "source": d.source,
            "reason": d.reason,
            "detail": d.detail[:500],
            "run_id": d.run_id,
            "command": d.command,
            "release": VERSION,
            "when": d.when,
        }
        for d in drops
    ]
    if rows and db.conn.in_transaction:  # the store's open batch: in its commit
        db.conn.executemany(UPSERT, rows)
    elif rows:
        with transaction(db):
            db.conn.executemany(UPSERT, rows)
    return len(rows)


class DropWriter(Protocol):
    """Where a DropLog writes: the Store (:meth:`Store.record_drops`, ``forget_drops``)."""

    def record_drops(self, drops: Iterable[Drop]) -> int: ...

    def forget_drops(self, urls: Iterable[str]) -> None: ...


class DropLog:
    """Drops of one run, written through the store in batches; :meth:`flush` writes
    the rest. Crawls, replays and the Redis loader all record drops this way."""

    def __init__(
        self, store: DropWriter, run_id: str = "", command: str = "", batch: int = 200
    ) -> None:
        self.store = store
        self.run_id = run_id or utc_now()
        self.command = command
        self.batch = batch
        self.pending: list[Drop] = []
        self.written = 0

    def add(self, url: str, source: str, reason: str, detail: str = "") -> None:
        self.add_drop(Drop(url, source, reason, detail, self.run_id, self.command))

    def add_drop(self, drop: Drop) -> None:
        """A drop as it is (a message from another machine names its own run)."""
        self.pending.append(drop)
        if len(self.pending) >= self.batch:
            self.flush()

    def stored(self, *urls: str) -> None:
        """A page was stored: it is no drop, whatever an earlier run said."""
        self.pending = [d for d in self.pending if d.url not in urls]
        self.store.forget_drops(urls)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        self.written += self.store.record_drops(pending)


def forget(db: Database, urls: Iterable[str]) -> None:
    """A page stored after all: its URLs leave the table (within the caller's write)."""
    keys = sorted({canonical_url(u) for u in urls if u})
    if not keys:
        return
    marks = ",".join("?" * len(keys))
    found = db.execute(f"SELECT 1 FROM {TABLE} WHERE key IN ({marks})", keys)
    if found.fetchone():  # a read first: most stored pages were never dropped
        db.execute(f"DELETE FROM {TABLE} WHERE key IN ({marks})", keys)


def remembered(
    conn: sqlite3.Connection, url: str, days: float, now: datetime | None = None
) -> str | None:
    """The lasting reason ``url`` was dropped for within ``days``, if it should not be
    requested again; None when it should."""
    if days <= 0:
        return None
    row = conn.execute(
        f"SELECT reason, release, last_dropped FROM {TABLE} WHERE key = ?",
        [canonical_url(url)],
    ).fetchone()
    if row is None or row[0] not in LASTING:
        return None
    reason, release, last = row
    if reason in BY_CONTENT and release != VERSION:
        return None
    try:
        when = datetime.fromisoformat(last)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    fresh = (now or datetime.now(UTC)) - when <= timedelta(days=days)
    return reason if fresh else None


def listing(
    conn: sqlite3.Connection, run_id: str | None = None, limit: int = 100_000
) -> list[dict[str, Any]]:
    """The recorded drops (of one run when ``run_id``), newest first."""
    where, params = ("WHERE run_id = ?", [run_id]) if run_id else ("", [])
    cursor = conn.execute(
        f"SELECT url, reason, source, run_id, last_dropped, times, detail FROM {TABLE}"
        f" {where} ORDER BY last_dropped DESC, url LIMIT ?",
        [*params, limit],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def read_drops(database: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    """:func:`listing` of the database file at ``database``, read-only."""
    if not database.is_file():
        raise DropsError(f"no database at {database}")
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return listing(conn, run_id)
    except sqlite3.OperationalError:  # a database from before the table
        return []
    except sqlite3.DatabaseError as error:
        raise DropsError(f"cannot read {database}: {error}") from None
    finally:
        conn.close()


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Recorded drops by reason, most first."""
    try:
        rows = conn.execute(
            f"SELECT reason, count(*) FROM {TABLE} GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    except sqlite3.OperationalError:  # a database from before the table
        return {}
    return dict(rows)
