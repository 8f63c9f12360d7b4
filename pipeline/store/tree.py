"""``export`` and ``check`` as library functions: the markdown tree against the database.

Both refuse a folder without a database (a mistyped ``--output`` would otherwise look
like an empty, agreeing tree). ``check`` without ``repair`` only reads: it takes no
lock and opens the database read-only, so it works on a read-only copy and beside a
running crawl.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from pipeline.errors import BroadsheetError
from pipeline.items import Article
from pipeline.normalize.layout import Layout
from pipeline.normalize.render import render
from pipeline.output import CONTENT, DB_NAME
from pipeline.store import layouts
from pipeline.store.database import article_from_row
from pipeline.store.drift import export_all, find_drift, repair_drift
from pipeline.store.lock import output_lock
from pipeline.store.schema import (
    SCHEMA_VERSION,
    SchemaError,
    check_version,
    quick_check,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100


class TreeError(BroadsheetError):
    """The output folder holds no database to compare with."""


def require_database(output_dir: Path) -> Path:
    """The database of ``output_dir``, or TreeError when there is none, it is not an
    SQLite file, or a newer release made it: said before anything touches it."""
    path = output_dir / DB_NAME
    if not path.is_file():
        raise TreeError(
            f"no {DB_NAME} in {output_dir}: give the --output folder a crawl, "
            "replay or import wrote"
        )
    with open(path, "rb") as handle:
        header = handle.read(HEADER_BYTES)
    if len(header) == HEADER_BYTES and header.startswith(SQLITE_MAGIC):
        version = int.from_bytes(header[60:64], "big")  # PRAGMA user_version
        if version > SCHEMA_VERSION:
            raise TreeError(
                f"{path}: database schema version {version} is newer than this "
                f"broadsheet understands ({SCHEMA_VERSION}): upgrade broadsheet to use it"
            )
    elif header:
        raise TreeError(f"cannot use database {path}: file is not a database")
    return path


def export_tree(output_dir: Path, layout_file: Path | None = None) -> int:
    """Rewrite every markdown file of ``output_dir`` from its row, in ``layout_file``'s
    layout (recorded as the folder's from now on) or the recorded one; how many."""
    require_database(output_dir)
    with (
        output_lock(output_dir),
        layouts.open_store(output_dir, layout_file, change=True) as store,
    ):
        return export_all(store)


def check_tree(
    output_dir: Path, layout_file: Path | None = None, repair: bool = False
) -> list[tuple[str, str]]:
    """The drift of ``output_dir``'s markdown tree, repaired when ``repair``."""
    path = require_database(output_dir)
    if not repair:
        with ReadOnlyTree(output_dir, path, layout_file) as tree:
            return find_drift(tree)  # type: ignore[arg-type]
    with output_lock(output_dir), layouts.open_store(output_dir, layout_file) as store:
        drift = find_drift(store)
        if drift:
            repair_drift(store, drift)
        return drift


class ReadOnlyTree:
    """What :func:`find_drift` reads of a Store, from a read-only connection."""

    def __init__(self, output: Path, database: Path, layout_file: Path | None) -> None:
        self.content = output / CONTENT
        uri = database.resolve().as_uri()
        try:
            self.conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:  # a read-only folder: no -shm can be made
            self.conn = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        except sqlite3.DatabaseError as error:  # truncated, overwritten
            self.conn.close()
            raise TreeError(f"cannot use database {database}: {error}") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("BEGIN")  # one snapshot for the whole comparison
            check_version(Database(self.conn))
            quick_check(self.conn)  # a damaged database is said, not crashed on
            self.layout: Layout = layouts.read_only(self.conn, layout_file, output)
        except sqlite3.DatabaseError as error:
            self.conn.close()
            raise TreeError(f"cannot use database {database}: {error}") from None
        except SchemaError as error:
            self.conn.close()
            raise TreeError(f"{database}: {error}") from None
        except BroadsheetError:
            self.conn.close()
            raise

    def rows(self) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute("SELECT * FROM articles ORDER BY id"):
            yield dict(row)

    def render_row(self, row: dict[str, Any]) -> str:
        article: Article = article_from_row(row)
        return render(article, self.layout)

    def sources(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT source FROM articles")]

    def __enter__(self) -> ReadOnlyTree:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.conn.close()
