"""The front-matter layout an output folder is written in, recorded in its database.

The first command that writes markdown into a folder records the layout in force
(``--layout`` / ``$BROADSHEET_LAYOUT``, else the packaged defaults) in the
``settings`` table. Later commands use the recorded layout when given none, and
refuse one that differs from it: changing the layout of a folder is an explicit
``broadsheet export --layout NEW``, which rewrites every file and records the new one.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import BroadsheetError
from pipeline.normalize.layout import Layout, load_layout
from pipeline.output import DB_NAME

# The store's modules are imported where they are used: a replay reads the layout
# with :func:`planned` and starts its workers before it imports the store.
if TYPE_CHECKING:
    from sqlite_utils import Database

    from pipeline.store.writer import Store

KEY = "layout"


class LayoutMismatch(BroadsheetError):
    """A layout that differs from the one the output folder was written in."""


def encode(layout: Layout) -> str:
    return json.dumps(layout.as_metadata(), sort_keys=True, ensure_ascii=False)


def decode(text: str) -> Layout | None:
    """The recorded layout, or None when the record is not one this release reads."""
    try:
        values = json.loads(text)
        return Layout(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        )
    except (TypeError, ValueError):
        return None


def recorded(conn: sqlite3.Connection) -> Layout | None:
    """The layout recorded in the database, if any."""
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", [KEY]).fetchone()
    except sqlite3.OperationalError:  # no settings table yet
        return None
    return decode(row[0]) if row else None


def settle(
    db: Database,
    layout_file: Path | None,
    output: Path,
    change: bool = False,
) -> Layout:
    """The layout to write ``output`` in: the recorded one, or ``layout_file``'s, which
    is recorded when nothing is yet or when ``change``; LayoutMismatch when it differs
    from the recorded one and ``change`` is not set."""
    before = recorded(db.conn)
    if layout_file is None:
        if before is not None:
            return before
        layout = load_layout()
    else:
        layout = load_layout(layout_file)
        if before is not None and layout != before and not change:
            raise _mismatch(output, layout_file)
    if before != layout:
        from pipeline.store.schema import transaction

        with transaction(db):
            db["settings"].upsert({"key": KEY, "value": encode(layout)}, pk="key")
    return layout


def _mismatch(output: Path, layout_file: Path) -> LayoutMismatch:
    return LayoutMismatch(
        f"{output} is written in another layout than {layout_file}; "
        f"to change it, run: broadsheet export --output {output} --layout "
        f"{layout_file}"
    )


def planned(output: Path, layout_file: Path | None) -> Layout | None:
    """The layout :func:`settle` will settle on for ``output`` (LayoutMismatch where
    it would refuse), read without writing or importing the store; None when the
    database cannot be read so, for :func:`layout_for` to say why."""
    path = output / DB_NAME
    if not path.is_file():
        return load_layout(layout_file)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            before = recorded(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if layout_file is None:
        return before or load_layout()
    layout = load_layout(layout_file)
    if before is not None and layout != before:
        raise _mismatch(output, layout_file)
    return layout


def read_only(
    conn: sqlite3.Connection, layout_file: Path | None, output: Path
) -> Layout:
    """:func:`settle` without writing: the recorded layout (the defaults when none is)."""
    before = recorded(conn)
    if layout_file is None:
        return before or load_layout()
    layout = load_layout(layout_file)
    if before is not None and layout != before:
        raise LayoutMismatch(
            f"{output} is written in another layout than {layout_file}; "
            f"leave --layout out to check against the recorded one"
        )
    return layout


def layout_for(output: Path, layout_file: Path | None, change: bool = False) -> Layout:
    """:func:`settle` on ``output``'s database (made when there is none yet)."""
    from pipeline.store.database import StoreError, open_database

    if layout_file is not None:
        load_layout(layout_file)  # a bad file is refused before anything is made
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"cannot write to output folder {output}: {error.strerror}"
        ) from None
    db = open_database(output / DB_NAME)
    try:
        return settle(db, layout_file, output, change)
    finally:
        db.close()


def open_store(
    output: Path,
    layout_file: Path | None = None,
    threshold: float = 0.8,
    change: bool = False,
    batch: int = 1,
) -> Store:
    """A Store of ``output`` writing in the layout :func:`layout_for` settles on."""
    from pipeline.store.writer import Store

    return Store(output, layout_for(output, layout_file, change), threshold, batch)
