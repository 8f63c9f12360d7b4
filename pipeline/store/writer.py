"""The only module that writes the database and the markdown tree.

:meth:`Store.add` decides first, then writes. The decision, in order:

1. a URL of the article (canonical, fetched, redirects; any variant) is known ->
   the same story: ``unchanged``, or ``updated`` when its content changed (the
   previous content goes to ``versions`` and the file is rewritten);
2. the same normalised body is stored under another URL -> ``duplicate``: the URLs
   are added to ``urls``;
3. a near-duplicate body (MinHash LSH, exact Jaccard >= threshold) -> ``near-duplicate``:
   its own row with ``duplicate_of`` and ``similarity``, and no markdown file;
4. otherwise ``new``: a row and a markdown file.

Crash safety: a file is announced in ``pending_files`` (committed) before it is
written, written through a temporary file and a rename, and the row that owns it is
committed with the announcement removed. Opening a store settles whatever a killed
process left announced: a file without its row is deleted, a file whose row exists
is rewritten from the row. So a rerun after ``kill -9`` equals an uninterrupted run.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from pipeline.errors import BroadsheetError
from pipeline.items import Article
from pipeline.normalize import render as normalize
from pipeline.runstats import utc_now
from pipeline.sources import Source
from pipeline.store.dedup import (
    NearDuplicates,
    canonical_url,
    hash_normalised,
    normalise_text,
    shingles_normalised,
    stored_article_id,
)
from pipeline.store.paths import (
    relative_path,
    resolve_inside,
    slug_for,
    temp_name,
    write_atomic,
)
from pipeline.store.schema import (
    SchemaError,
    check_database,
    check_version,
    migrate,
    transaction,
)

DB_NAME = "broadsheet.db"
CONTENT = "content"
# Fields that make a story "changed" when they differ from the stored row.
CONTENT_FIELDS = (
    "title",
    "date",
    "date_local",
    "summary",
    "body_md",
    "text",
    "lang",
    "authors",
    "image",
)

VERSION_FIELDS = ("title", "date", "summary", "body_md", "text", "content_hash")


class StoreError(BroadsheetError):
    """The database or the content folder cannot be used or written."""


@dataclass(frozen=True)
class Outcome:
    kind: str  # new | updated | unchanged | duplicate | near-duplicate
    article_id: int
    path: str | None = None
    duplicate_of: int | None = None
    similarity: float | None = None


def open_database(path: Path) -> Database:
    """Open (creating) the SQLite file with broadsheet's pragmas, migrated."""
    try:
        check_database(path)  # a damaged file is refused before anything writes to it
    except SchemaError as error:
        raise StoreError(str(error)) from None
    try:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"cannot use database {path}: {error}") from None
    try:
        db = Database(conn)
        check_version(db)  # before anything, WAL included, changes the file
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        migrate(db)
    except sqlite3.DatabaseError as error:
        conn.close()  # a refused database keeps no -wal/-shm files beside it
        raise StoreError(f"cannot use database {path}: {error}") from None
    except SchemaError as error:
        conn.close()
        raise StoreError(f"{path}: {error}") from None
    return db


class Store:
    def __init__(
        self,
        output_dir: str | Path,
        layout: normalize.Layout | None = None,
        near_threshold: float = 0.8,
    ) -> None:
        self.output = Path(output_dir)
        self.content = self.output / CONTENT
        try:
            self.content.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot write to output folder {self.output}: {error.strerror}"
            ) from None
        self.db = open_database(self.output / DB_NAME)
        self.layout = layout or normalize.load_layout()
        self.near = NearDuplicates(self.db, near_threshold)
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
        return self.db["articles"].get(article_id)

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
            with transaction(self.db):
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

    def prepare(self, article: Article) -> Article:
        """The article as it is stored: canonical URL, clean body, summary filled in."""
        url = canonical_url(article.url)
        if urlsplit(url).path in ("", "/") and article.fetched_url:
            url = canonical_url(
                article.fetched_url
            )  # a canonical tag pointing at the home page
        body = normalize.clean_body(article.body_md, url)
        title = normalize.one_line(article.title) or normalize.derive_title(
            article.text
        )
        prepared = replace(article, url=url, body_md=body, title=title or "Untitled")
        summary = normalize.summary_for(prepared)
        return replace(prepared, summary=summary)

    def add(self, article: Article) -> Outcome:
        article = self.prepare(article)
        urls = [article.url, article.fetched_url, *article.seen_urls]
        urls = [u for u in dict.fromkeys(urls) if u]
        now = article.fetched_at or utc_now()
        normalised = normalise_text(article.text)  # hashed here, shingled if new
        text_hash = hash_normalised(normalised)
        with self._writing():
            existing = self._article_for_urls(urls)
            if existing is not None:
                return self._update(existing, article, urls, text_hash, now)
            same = self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? ORDER BY id LIMIT 1",
                (text_hash,),
            ).fetchone()
            if same:
                with transaction(self.db):
                    self._add_urls(same[0], urls, now)
                    self.db.execute(
                        "UPDATE articles SET last_seen = max(last_seen, ?) WHERE id = ?",
                        (now, same[0]),
                    )
                return Outcome("duplicate", same[0])
            return self._insert(article, urls, text_hash, now, normalised)

    def _insert(
        self,
        article: Article,
        urls: list[str],
        text_hash: str,
        now: str,
        normalised: str,
    ) -> Outcome:
        text_shingles = shingles_normalised(normalised)
        signature = self.near.signature(text_shingles)
        match = (
            self.near.best_match(text_shingles, signature)
            if signature is not None
            else None
        )
        record = self._record(article, text_hash) | {
            "first_seen": now,
            "last_seen": now,
        }
        if match is not None:
            original, similarity = match
            with transaction(self.db):
                record |= {
                    "duplicate_of": original,
                    "similarity": round(similarity, 4),
                    "path": None,
                }
                article_id = self._insert_row("articles", record)
                self._add_urls(article_id, urls, now)
            return Outcome("near-duplicate", article_id, None, original, similarity)
        path = self._free_path(article, now)
        self._announce(path, now)
        write_atomic(
            resolve_inside(self.content, path),
            self._render(self._with_first_seen(article, now)),
        )
        with transaction(self.db):
            article_id = self._insert_row("articles", record | {"path": path})
            self._add_urls(article_id, urls, now)
            if signature is not None:
                self.near.add(article_id, signature)
            self.db.execute("DELETE FROM pending_files WHERE path = ?", (path,))
        return Outcome("new", article_id, path)

    def _update(
        self,
        row: dict[str, Any],
        article: Article,
        urls: list[str],
        text_hash: str,
        now: str,
    ) -> Outcome:
        record = self._record(article, text_hash)
        changed = any(record[key] != row[key] for key in CONTENT_FIELDS)
        if not changed:
            with transaction(self.db):
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
        if path:
            self._announce(path, now)
            updated = self._with_first_seen(article, row["first_seen"])
            write_atomic(resolve_inside(self.content, path), self._render(updated))
        with transaction(self.db):
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
                self.db.execute("DELETE FROM pending_files WHERE path = ?", (path,))
        return Outcome("updated", row["id"], path)

    def _older_copy(
        self, row: dict[str, Any], record: dict[str, Any], urls: list[str], now: str
    ) -> Outcome:
        """A copy fetched before the stored one (saved pages replayed out of order, or
        again after a crash): it never replaces newer content; its body is kept in
        ``versions`` once, so replaying the same pages twice changes nothing."""
        with transaction(self.db):
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

    @staticmethod
    def _record(article: Article, text_hash: str) -> dict[str, Any]:
        return {
            "url": article.url,
            "source": article.source,
            "title": article.title,
            "date": article.date,
            "date_local": article.date_local,
            "modified": article.modified,
            "summary": article.summary,
            "body_md": article.body_md,
            "text": article.text,
            "lang": article.lang,
            "authors": json.dumps(list(article.authors), ensure_ascii=False),
            "image": article.image,
            "section": article.section,
            "keywords": json.dumps(list(article.keywords), ensure_ascii=False),
            "word_count": len(article.text.split()),
            "content_hash": text_hash,
            "fetched_url": article.fetched_url,
        }

    def _insert_row(self, table: str, record: dict[str, Any]) -> int:
        columns = ", ".join(f"[{key}]" for key in record)
        marks = ", ".join("?" * len(record))
        cursor = self.db.execute(
            f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(record.values())
        )
        return cursor.lastrowid

    @staticmethod
    def _with_first_seen(article: Article, first_seen: str) -> Article:
        """The date a dateless article is filed under is the day it was first seen."""
        return replace(article, fetched_at=first_seen)

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
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO pending_files (path, since) VALUES (?, ?)",
                (path, now),
            )

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
            with transaction(self.db):
                self.db.execute("DELETE FROM pending_files WHERE path = ?", (path,))

    # -- rendering from the database -----------------------------------------

    def _render(self, article: Article) -> str:
        """``normalize.render`` of a prepared article, without cleaning its body again.

        :meth:`prepare` ran ``clean_body`` already and ``clean_body`` is idempotent, so
        this gives the same bytes as ``normalize.render``; cleaning was half the cost
        of storing a new article.
        """
        body = article.body_md
        closing = normalize.source_line(article.source, article.url)
        return normalize.render_document(
            normalize.front_matter(article, self.layout),
            f"{body}\n\n{closing}" if body else closing,
        )

    def render_row(self, row: dict[str, Any]) -> str:
        return normalize.render(article_from_row(row), self.layout)

    def register_sources(self, sources: Iterable[Source]) -> None:
        """Keep the ``sources`` table in step with the sources file in use."""
        rows = [
            (
                source.name,
                json.dumps(list(source.domains)),
                json.dumps(list(source.feeds)),
                json.dumps(list(source.sitemaps)),
                json.dumps(
                    [{"url": s.url, "pattern": s.pattern} for s in source.sections]
                ),
                source.lang,
            )
            for source in sources
        ]
        with transaction(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO sources (name, domains, feeds, sitemaps, sections, lang) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def record_crawl(self, row: dict[str, Any]) -> None:
        with transaction(self.db):
            self._insert_row("crawls", row)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def article_from_row(row: dict[str, Any]) -> Article:
    return Article(
        url=row["url"],
        source=row["source"],
        title=row["title"],
        body_md=row["body_md"] or "",
        text=row["text"] or "",
        date=row["date"],
        date_local=row["date_local"],
        modified=row.get("modified"),
        summary=row["summary"] or "",
        lang=row["lang"] or "en",
        authors=tuple(json.loads(row["authors"] or "[]")),
        image=row["image"],
        section=row.get("section"),
        keywords=tuple(json.loads(row.get("keywords") or "[]")),
        fetched_url=row.get("fetched_url") or row["url"],
        fetched_at=row["first_seen"],
    )
