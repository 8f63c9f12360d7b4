"""Write transactions grouped into fewer commits, crash safety kept.

Each write of the store (one article, say) is a SAVEPOINT inside a transaction that
stays open for up to ``size`` writes or ``seconds``, then commits: a commit, and the
full-text index's segment flush with it, costs as much as storing an article. A
failed write rolls back to its own savepoint only.

A markdown file is written only once the transaction that announced it in
``pending_files`` (with its row) has committed; its announcement is removed by the
next transaction. A process killed before a commit loses the writes since the last
one, rows and files together, and nothing else: a rerun stores them again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from pipeline.store.paths import resolve_inside, write_atomic


class Batch:
    def __init__(
        self, db: Database, content: Path, size: int = 1, seconds: float = 2.0
    ) -> None:
        if size < 1:
            raise ValueError(f"a batch holds at least one write, not {size}")
        self.db = db
        self.content = content
        self.size = size
        self.seconds = seconds
        self.writes = 0  # committed-to-be writes in the open transaction
        self.began = 0.0
        self.files: list[tuple[str, str]] = []  # to write once committed
        self.written: list[str] = []  # written, still in pending_files

    @property
    def open(self) -> bool:
        return self.db.conn.in_transaction

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write: a savepoint in the open transaction (begun when none is)."""
        if not self.open:
            self.db.execute("BEGIN IMMEDIATE")
            self.began = time.monotonic()
            self._settle()
        self.db.execute("SAVEPOINT write")
        try:
            yield
        except BaseException:
            if self.open:
                self.db.execute("ROLLBACK TO write")
                self.db.execute("RELEASE write")
            else:  # SQLite rolled the whole transaction back: its files go too
                self.files, self.writes = [], 0
            raise
        self.db.execute("RELEASE write")
        self.writes += 1
        if self.writes >= self.size or time.monotonic() - self.began > self.seconds:
            self.flush()

    def write_file(self, path: str, markdown: str) -> None:
        """Write a file announced in ``pending_files``, once that is committed."""
        if self.open:
            self.files.append((path, markdown))
        else:
            self._write(path, markdown)

    def flush(self) -> None:
        """Commit the open transaction, then write the files it announced."""
        if self.open:
            self.db.execute("COMMIT")
        self.writes = 0
        files, self.files = self.files, []
        for path, markdown in files:
            self._write(path, markdown)

    def close(self) -> None:
        """Commit, write, and clear every announcement of a file now written."""
        self.flush()
        if self.written:
            with self.transaction():
                pass
            self.flush()

    def _write(self, path: str, markdown: str) -> None:
        write_atomic(resolve_inside(self.content, path), markdown)
        self.written.append(path)

    def _settle(self) -> None:
        if self.written:
            self.db.conn.executemany(
                "DELETE FROM pending_files WHERE path = ?",
                [(path,) for path in self.written],
            )
            self.written = []
