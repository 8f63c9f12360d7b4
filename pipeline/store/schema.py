"""The SQLite schema and its versioned migrations.

``PRAGMA user_version`` holds the schema version. :func:`migrate` applies every
migration above the database's version, each in its own transaction, so that a
database made by an older release upgrades in place. A database whose version is
newer than this release knows is refused with :class:`SchemaError` and left untouched.
:func:`check_database` refuses, before anything opens it for writing, a file that is
no SQLite database (truncated, overwritten), newer than this release, or corrupt
(``PRAGMA quick_check``), only reading it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlite_utils import Database


class SchemaError(Exception):
    """The database cannot be used by this release."""


def _v1(db: Database) -> None:
    """The first schema: articles and the URLs they were seen under."""
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "source": str,
            "title": str,
            "date": str,
            "date_local": str,
            "summary": str,
            "body_md": str,
            "text": str,
            "lang": str,
            "authors": str,
            "image": str,
            "word_count": int,
            "content_hash": str,
            "path": str,
            "first_seen": str,
            "last_seen": str,
            "duplicate_of": int,
        },
        pk="id",
        not_null={"url", "source", "title", "content_hash", "first_seen", "last_seen"},
        foreign_keys=[("duplicate_of", "articles", "id")],
    )
    db["articles"].create_index(["url"], unique=True)
    db["urls"].create(
        {"url": str, "article_id": int, "first_seen": str},
        pk="url",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["urls"].create_index(["article_id"])


def _v2(db: Database) -> None:
    """Versions, crawls, sources, richer metadata, near-duplicate index, full-text search."""
    articles = db["articles"]
    for column, kind in (
        ("modified", str),
        ("section", str),
        ("keywords", str),
        ("similarity", float),
        ("fetched_url", str),
    ):
        articles.add_column(column, kind)
    articles.create_index(["source"], if_not_exists=True)
    articles.create_index(["date"], if_not_exists=True)
    articles.create_index(["content_hash"], if_not_exists=True)
    articles.create_index(["duplicate_of"], if_not_exists=True)
    db["versions"].create(
        {
            "id": int,
            "article_id": int,
            "title": str,
            "date": str,
            "summary": str,
            "body_md": str,
            "text": str,
            "content_hash": str,
            "seen_from": str,
            "seen_until": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["versions"].create_index(["article_id"])
    db["crawls"].create(
        {
            "id": int,
            "run_id": str,
            "source": str,
            "command": str,
            "started": str,
            "finished": str,
            "status": str,
            "requests": int,
            "pages": int,
            "new": int,
            "updated": int,
            "duplicates": int,
            "unchanged": int,
            "dropped": int,
            "dropped_reasons": str,
            "http_errors": str,
            "message": str,
        },
        pk="id",
    )
    db["crawls"].create_index(["source", "started"])
    db["sources"].create(
        {
            "name": str,
            "domains": str,
            "feeds": str,
            "sitemaps": str,
            "sections": str,
            "lang": str,
        },
        pk="name",
    )
    db["minhashes"].create(
        {"article_id": int, "signature": bytes},
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["lsh_bands"].create({"band": int, "key": int, "article_id": int})
    db.execute("CREATE INDEX idx_lsh_bands_band_key ON lsh_bands (band, key)")
    db.execute("CREATE INDEX idx_lsh_bands_article ON lsh_bands (article_id)")
    db["pending_files"].create({"path": str, "since": str}, pk="path")
    db["settings"].create({"key": str, "value": str}, pk="key")
    db["feed_state"].create(
        {"url": str, "etag": str, "last_modified": str, "checked": str}, pk="url"
    )
    articles.enable_fts(
        ["title", "summary", "text"], create_triggers=True, tokenize="porter"
    )


def _v3(db: Database) -> None:
    """An index on articles.path: a free file name is found by lookup, not a table scan."""
    db["articles"].create_index(["path"], if_not_exists=True)


def _v4(db: Database) -> None:
    """The full-text index follows updates of the columns it indexes, and only those.

    The trigger sqlite-utils creates fires on any update, so every ``last_seen`` bump
    of a duplicate or re-crawled story re-tokenised its whole text twice.
    """
    db.execute("DROP TRIGGER IF EXISTS [articles_au]")
    db.execute(
        """
        CREATE TRIGGER [articles_au] AFTER UPDATE OF [title], [summary], [text]
        ON [articles] BEGIN
          INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [summary], [text])
            VALUES ('delete', old.rowid, old.[title], old.[summary], old.[text]);
          INSERT INTO [articles_fts] (rowid, [title], [summary], [text])
            VALUES (new.rowid, new.[title], new.[summary], new.[text]);
        END
        """
    )


def _v5(db: Database) -> None:
    """The ``drops`` table: every page not stored, by URL (pipeline.store.drops)."""
    from pipeline.store import drops

    drops.create(db)


MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3, _v4, _v5]
SCHEMA_VERSION = len(MIGRATIONS)


@contextmanager
def transaction(db: Database) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the block raises.

    Connections are opened in autocommit mode (``isolation_level=None``) so that
    this, not the sqlite3 module, decides where transactions begin and end.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    if db.conn.in_transaction:
        db.execute("COMMIT")


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def check_version(db: Database) -> int:
    """The database's schema version, or SchemaError when it is newer than this release."""
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema version {version} is newer than this broadsheet "
            f"understands ({SCHEMA_VERSION}): upgrade broadsheet to use it"
        )
    return version


def migrate(db: Database, upto: int = SCHEMA_VERSION) -> int:
    """Bring ``db`` to schema version ``upto``; return the version it had before."""
    before = check_version(db)
    for version in range(before + 1, upto + 1):
        with transaction(db):
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")
    return before


RECOVER = (
    "restore it from a backup, or move it aside and replay the saved pages "
    "(WARC or folders) into a new one"
)
_checked: dict[Path, tuple[int, int]] = {}  # path -> (size, mtime) found sound


def check_database(path: Path) -> None:
    """SchemaError, in one line, when the file at ``path`` cannot be used safely.

    The file is only read, and left byte for byte as it was. A missing or empty
    file is fine (it is about to be created); a file found sound is not checked again
    in this process until it changes.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return
    key, seen = path.resolve(), (stat.st_size, stat.st_mtime_ns)
    if stat.st_size == 0 or _checked.get(key) == seen:
        return
    try:
        # Not mode=ro: a read-only last connection leaves -wal and -shm files behind.
        with closing(sqlite3.connect(key, isolation_level=None)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"{path}: database schema version {version} is newer than this "
                    f"broadsheet understands ({SCHEMA_VERSION}): upgrade broadsheet "
                    "to use it"
                )
            quick_check(conn)
    except sqlite3.DatabaseError as error:
        if str(error) == "file is not a database":  # not a damaged database: no hint
            raise SchemaError(f"cannot use database {path}: {error}") from None
        reason = f"it is damaged ({error}); {RECOVER}"
        raise SchemaError(f"cannot use database {path}: {reason}") from None
    except DamagedError as error:
        raise SchemaError(f"cannot use database {path}: {error}") from None
    _checked[key] = seen


class DamagedError(SchemaError):
    """SQLite's own check found the database damaged."""


def quick_check(conn: sqlite3.Connection) -> None:
    """DamagedError when ``PRAGMA quick_check`` finds ``conn``'s database damaged."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as error:
        if str(error) == "file is not a database":
            raise
        problems = [str(error)]
    if problems != ["ok"]:
        raise DamagedError(f"it is damaged ({problems[0]}); {RECOVER}")
