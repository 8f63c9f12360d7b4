"""The only module that writes the database and the markdown tree.

:meth:`Store.add` takes a normalized article (:mod:`pipeline.normalize.stage`: the
article as stored and its markdown) and decides first, then writes. The decision, in
order:

1. a URL of the article (canonical, fetched, redirects; any variant) is known ->
   the same story: ``unchanged``, or ``updated`` when its content changed (the
   previous content goes to ``versions`` and the file is rewritten);
2. the same normalised body is stored under another URL -> ``duplicate``: the URLs
   are added to ``urls``;
3. a near-duplicate body (MinHash LSH, exact Jaccard >= threshold) -> ``near-duplicate``:
   its own row with ``duplicate_of`` and ``similarity``, and no markdown file;
4. otherwise ``new``: a row and a markdown file.

Crash safety: a file is announced in ``pending_files`` in the transaction that
commits its row, then written through a temporary file and a rename; the
announcement is removed by the next transaction (or on close). A transaction may
group several writes (``batch``, :mod:`pipeline.store.batch`). Opening a store
settles whatever a killed process left announced: a file without its row is
deleted, a file whose row exists is rewritten from the row. So a rerun after
``kill -9`` equals an uninterrupted run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.items import Article
from pipeline.normalize.layout import Layout, load_layout
from pipeline.normalize.render import render
from pipeline.normalize.stage import Normalized
from pipeline.output import CONTENT, DB_NAME
from pipeline.runstats import utc_now
from pipeline.sources import Source
from pipeline.store import drops
from pipeline.store.batch import Batch
from pipeline.store.database import (
    CONTENT_FIELDS,
    VERSION_FIELDS,
    StoreError,
    article_from_row,
    article_record,
    crawl_recorded,
    open_database,
    source_record,
)
from pipeline.store.dedup import (
    Fingerprint,
    NearDuplicates,
    fingerprint,
    shingles,
    stored_article_id,
)
from pipeline.store.drops import Drop
from pipeline.store.paths import (
    relative_path,
    remove_pruning,
    resolve_inside,
    slug_for,
    temp_name,
    write_atomic,
)
from pipeline.urls import canonical_url


@dataclass(frozen=True)
class Outcome:
    kind: str  # new | updated | unchanged | duplicate | near-duplicate
    article_id: int
    path: str | None = None
    duplicate_of: int | None = None
    similarity: float | None = None


class Store:
    def __init__(
        self,
        output_dir: str | Path,
        layout: Layout | None = None,
        near_threshold: float = 0.8,
        batch: int = 1,
    ) -> None:
        """``batch``: writes per commit (see :mod:`pipeline.store.batch`); more than
        one suits replays, whose rerun stores again what a crash lost."""
        self.output = Path(output_dir)
        self.content = self.output / CONTENT
        try:
            self.content.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot write to output folder {self.output}: {error.strerror}"
            ) from None
        self.db = open_database(self.output / DB_NAME)
        self.layout = layout or load_layout()
        self.near = NearDuplicates(self.db, near_threshold)
        self.batch = Batch(self.db, self.content, batch)
        self._recover()

    # -- reading -------------------------------------------------------------

    def known(self, url: str) -> bool:
        """True when ``url``, in any variant, belongs to a stored article."""
        return stored_article_id(self.db.conn, url) is not None

    def _article_for_urls(self, urls: list[str]) -> dict[str, Any] | None:
        for url in urls:
            article_id = stored_article_id(self.db.conn, url)
            if article_id is not None:
                return self.row(article_id)
        return None

    def row(self, article_id: int) -> dict[str, Any]:
        # plain SQL: sqlite-utils' Table.get looks the table and its columns up first,
        # four statements more for every page seen before
        cursor = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,))
        found = cursor.fetchone()
        if found is None:
            raise StoreError(f"no article {article_id} in {self.output / DB_NAME}")
        names = [column[0] for column in cursor.description]
        return dict(zip(names, found, strict=True))

    def rows(self) -> Iterator[dict[str, Any]]:
        yield from self.db.query("SELECT * FROM articles ORDER BY id")

    # -- the decision --------------------------------------------------------

    def add_aliases(self, url: str, aliases: Iterable[str]) -> bool:
        """Record ``aliases`` (URLs that redirected to ``url``) as URLs of the article
        stored under ``url``; False, and nothing written, when none is stored there."""
        with self._writing():
            article_id = stored_article_id(self.db.conn, url)
            if article_id is None:
                return False
            with self._transaction():
                self._add_urls(article_id, [u for u in aliases if u], utc_now())
        return True

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write as a StoreError that names the database or the folder."""
        try:
            yield
        except sqlite3.OperationalError as error:
            raise StoreError(
                f"cannot write to {self.output / DB_NAME}: {error}"
            ) from None
        except OSError as error:
            raise StoreError(
                f"cannot write to {self.content}: {error.strerror or error}"
            ) from None

    def add(self, doc: Normalized, fingerprint_: Fingerprint | None = None) -> Outcome:
        """Store a normalized article; ``fingerprint_`` when it was computed already."""
        article = doc.article
        urls = [article.url, article.fetched_url, *article.seen_urls]
        urls = [u for u in dict.fromkeys(urls) if u]
        now = article.fetched_at or utc_now()
        found = fingerprint_ or fingerprint(article.text)
        with self._writing():
            existing = self._article_for_urls(urls)
            if existing is not None:
                return self._update(existing, doc, urls, found, now)
            same = self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1",
                (found.content_hash,),
            ).fetchone()
            if same:
                with self._transaction():
                    self._add_urls(same[0], urls, now)
                    self.db.execute(
                        "UPDATE articles SET last_seen = max(last_seen, ?) WHERE id = ?",
                        (now, same[0]),
                    )
                return Outcome("duplicate", same[0])
            return self._insert(doc, urls, found, now)

    def _insert(
        self, doc: Normalized, urls: list[str], found: Fingerprint, now: str
    ) -> Outcome:
        article = doc.article
        signature = (
            np.frombuffer(found.signature, dtype=np.uint64)
            if found.signature is not None
            else None
        )
        match = (
            self.near.best_match(lambda: shingles(article.text), signature)
            if signature is not None
            else None
        )
        record = article_record(doc, found.content_hash) | {
            "first_seen": now,
            "last_seen": now,
        }
        if match is not None:
            original, similarity = match
            with self._transaction():
                record |= {
                    "duplicate_of": original,
                    "similarity": round(similarity, 4),
                    "path": None,
                }
                article_id = self._insert_row("articles", record)
                self._add_urls(article_id, urls, now)
            return Outcome("near-duplicate", article_id, None, original, similarity)
        path = self._free_path(article, now)
        with self._transaction():
            article_id = self._insert_row("articles", record | {"path": path})
            self._add_urls(article_id, urls, now)
            if signature is not None:
                self.near.add(article_id, signature)
            self._announce(path, now)
        self._write_file(path, doc.markdown_first_seen(now, self.layout))
        return Outcome("new", article_id, path)

    def _update(
        self,
        row: dict[str, Any],
        doc: Normalized,
        urls: list[str],
        found: Fingerprint,
        now: str,
    ) -> Outcome:
        article = doc.article
        record = article_record(doc, found.content_hash)
        changed = any(record[key] != row[key] for key in CONTENT_FIELDS)
        if not changed:
            with self._transaction():
                self._add_urls(row["id"], urls, now)
                if article.fetched_at and article.fetched_at > row["last_seen"]:
                    self.db.execute(
                        "UPDATE articles SET last_seen = ? WHERE id = ?",
                        (article.fetched_at, row["id"]),
                    )
            return Outcome("unchanged", row["id"], row["path"])
        if article.fetched_at and article.fetched_at < row["last_seen"]:
            return self._older_copy(row, record, urls, now)
        path = row["path"]
        with self._transaction():
            self._insert_row(
                "versions",
                {key: row[key] for key in VERSION_FIELDS}
                | {
                    "article_id": row["id"],
                    "seen_from": row["first_seen"],
                    "seen_until": now,
                },
            )
            record.pop("url")
            record["last_seen"] = now
            assignments = ", ".join(f"[{key}] = ?" for key in record)
            self.db.execute(
                f"UPDATE articles SET {assignments} WHERE id = ?",
                [*record.values(), row["id"]],
            )
            self._add_urls(row["id"], urls, now)
            if path:
                self._announce(path, now)
        if path:
            self._write_file(
                path, doc.markdown_first_seen(row["first_seen"], self.layout)
            )
        return Outcome("updated", row["id"], path)

    def _older_copy(
        self, row: dict[str, Any], record: dict[str, Any], urls: list[str], now: str
    ) -> Outcome:
        """A copy fetched before the stored one (saved pages replayed out of order, or
        again after a crash): it never replaces newer content; its body is kept in
        ``versions`` once, so replaying the same pages twice changes nothing."""
        with self._transaction():
            self._add_urls(row["id"], urls, now)
            known = self.db.execute(
                "SELECT 1 FROM versions WHERE article_id = ? AND content_hash = ?",
                (row["id"], record["content_hash"]),
            ).fetchone()
            if not known and record["content_hash"] != row["content_hash"]:
                self._insert_row(
                    "versions",
                    {key: record[key] for key in VERSION_FIELDS}
                    | {"article_id": row["id"], "seen_from": now, "seen_until": now},
                )
        return Outcome("unchanged", row["id"], row["path"])

    # -- pieces --------------------------------------------------------------

    def _insert_row(self, table: str, record: dict[str, Any]) -> int:
        columns = ", ".join(f"[{key}]" for key in record)
        marks = ", ".join("?" * len(record))
        cursor = self.db.execute(
            f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(record.values())
        )
        return cursor.lastrowid

    def _free_path(self, article: Article, now: str) -> str:
        date = article.date_local or article.fetched_at or now
        slug = slug_for(article.url, article.title)
        for n in range(1, 10_000):
            path = relative_path(article.source, date, slug, "" if n == 1 else f"-{n}")
            taken = self.db.execute(
                "SELECT 1 FROM articles WHERE path = ?", (path,)
            ).fetchone()
            if not taken:
                return path
        raise StoreError(f"no free file name for {article.url}")

    def _announce(self, path: str, now: str) -> None:
        """Note, in the transaction that commits its row, that ``path`` is to be written."""
        self.db.execute(
            "INSERT OR REPLACE INTO pending_files (path, since) VALUES (?, ?)",
            (path, now),
        )

    def _write_file(self, path: str, markdown: str) -> None:
        self.batch.write_file(path, markdown)

    def _transaction(self) -> AbstractContextManager[None]:
        return self.batch.transaction()

    def flush(self) -> None:
        """Commit what is stored so far and write its files."""
        with self._writing():
            self.batch.flush()

    def _add_urls(self, article_id: int, urls: list[str], now: str) -> None:
        rows = {canonical_url(u) for u in urls} | set(urls)
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO urls (url, article_id, first_seen) VALUES (?, ?, ?)",
            [(u, article_id, now) for u in sorted(rows)],
        )

    def _recover(self) -> None:
        """Settle files announced by a process that died before committing."""
        for (path,) in self.db.execute("SELECT path FROM pending_files").fetchall():
            target = resolve_inside(self.content, path)
            temp_name(target).unlink(missing_ok=True)
            owner = self.db.execute(
                "SELECT id FROM articles WHERE path = ?", (path,)
            ).fetchone()
            if owner:
                write_atomic(target, self.render_row(self.row(owner[0])))
            else:
                target.unlink(missing_ok=True)
            with self._transaction():
                self.db.execute("DELETE FROM pending_files WHERE path = ?", (path,))

    # -- rendering from the database -----------------------------------------

    def render_row(self, row: dict[str, Any]) -> str:
        return render(article_from_row(row), self.layout)

    def register_sources(self, sources: Iterable[Source]) -> None:
        """Keep the ``sources`` table in step with the sources file in use."""
        rows = [source_record(source) for source in sources]
        with self._transaction():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO sources (name, domains, feeds, sitemaps, sections, lang) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def record_crawl(self, row: dict[str, Any], once: bool = False) -> bool:
        """A run's row in ``crawls``; with ``once``, not when the same run (run id,
        source, command, start) is recorded already. True when it was written."""
        with self._writing(), self._transaction():
            if once and crawl_recorded(self.db, row):
                return False
            self._insert_row("crawls", row)
        return True

    def record_drops(self, found: Iterable[Drop]) -> int:
        """Pages not stored, in the ``drops`` table (one path: crawl, replay, loader)."""
        with self._writing():
            return drops.record(self.db, found)

    def forget_drops(self, urls: Iterable[str]) -> None:
        """Pages stored after all leave the ``drops`` table."""
        with self._writing():
            drops.forget(self.db, urls)

    def save_feed_state(self, rows: Iterable[dict[str, str | None]]) -> None:
        """Remember the validators (ETag, Last-Modified) of feeds and sitemaps."""
        with self._writing(), self._transaction():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO feed_state (url, etag, last_modified, checked)"
                " VALUES (:url, :etag, :last_modified, :checked)",
                list(rows),
            )

    # -- the markdown tree, from the database --------------------------------

    def write_row_file(self, row: dict[str, Any]) -> None:
        """Write the markdown file of a stored row again (export, drift repair)."""
        with self._writing():
            write_atomic(
                resolve_inside(self.content, row["path"]), self.render_row(row)
            )

    def remove_file(self, relative: str) -> None:
        """Delete a file under content/ that no row owns, and folders left empty."""
        target = resolve_inside(self.content, relative)
        with self._writing():
            if self.db.execute(
                "SELECT 1 FROM articles WHERE path = ?", (relative,)
            ).fetchone():
                raise StoreError(f"{relative} belongs to a stored article")
            remove_pruning(target, self.content)

    def close(self) -> None:
        try:
            with self._writing():
                self.batch.close()
        finally:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
