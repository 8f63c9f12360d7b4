"""The database: opening it, and the rows of the ``articles`` table.

:func:`open_database` opens (creating and migrating) ``broadsheet.db`` with
broadsheet's pragmas; :func:`article_record` is the row of a normalized article and
:func:`article_from_row` the article a row holds, to render its file again.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.errors import BroadsheetError
from pipeline.items import Article
from pipeline.normalize.stage import Normalized
from pipeline.sources import Source
from pipeline.store.schema import SchemaError, check_database, check_version, migrate


class StoreError(BroadsheetError):
    """The database or the content folder cannot be used or written."""


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


def article_record(doc: Normalized, text_hash: str) -> dict[str, Any]:
    """The ``articles`` row of a normalized article (without path and dates)."""
    article = doc.article
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
        "word_count": doc.word_count,
        "content_hash": text_hash,
        "fetched_url": article.fetched_url,
    }


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


def source_record(source: Source) -> tuple[str, str, str, str, str, str]:
    """The ``sources`` row of a source: name, domains, feeds, sitemaps, sections, lang."""
    return (
        source.name,
        json.dumps(list(source.domains)),
        json.dumps(list(source.feeds)),
        json.dumps(list(source.sitemaps)),
        json.dumps([{"url": s.url, "pattern": s.pattern} for s in source.sections]),
        source.lang,
    )


def crawl_recorded(db: Database, row: dict[str, Any]) -> bool:
    """True when ``crawls`` holds the run of ``row`` (run id, source, command, start)."""
    keys = ("run_id", "source", "command", "started")
    return (
        db.execute(
            "SELECT 1 FROM crawls WHERE run_id = ? AND source = ?"
            " AND command = ? AND started = ?",
            [row.get(key) for key in keys],
        ).fetchone()
        is not None
    )
