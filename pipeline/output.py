"""An output folder: the SQLite database and the markdown tree beside it."""

from __future__ import annotations

from pathlib import Path

DATABASE_NAME = "broadsheet"  # Datasette names a database after its file's stem
DB_NAME = f"{DATABASE_NAME}.db"
CONTENT = "content"  # the markdown tree; articles.path is relative to it


def database_path(output_dir: str | Path) -> Path:
    """The database of an output folder."""
    return Path(output_dir) / DB_NAME
