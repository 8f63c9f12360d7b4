"""The markdown tree against the database: export, drift and repair.

The database is the record; every markdown file can be rebuilt from its row. Drift
is a file that is ``missing`` (a row names it, the disk does not have it), ``stray``
(a markdown file in a source's folder of content/ that no row names: left by an older
run or layout) or ``changed`` (its text differs from what the row renders to), and
``temp`` for a temporary file left behind. Files outside the source folders
(``content/_index.md``, ``content/about.md``, a theme's pages) are not broadsheet's:
they are never drift, and never removed; reading is done here, and every write
goes through the :class:`~pipeline.store.writer.Store`.
"""

from __future__ import annotations

from pipeline.store.paths import resolve_inside
from pipeline.store.writer import Store


def export_all(store: Store) -> int:
    """Rewrite every article's markdown file from its row; return how many."""
    written = 0
    for row in store.rows():
        if row["path"]:
            store.write_row_file(row)
            written += 1
    return written


def find_drift(store: Store) -> list[tuple[str, str]]:
    """``(kind, path)`` for every file that does not match the database, sorted."""
    drift: list[tuple[str, str]] = []
    expected: set[str] = set()
    folders: set[str] = set()
    for row in store.rows():
        if not row["path"]:
            continue
        expected.add(row["path"])
        folders.add(row["path"].split("/", 1)[0])
        target = resolve_inside(store.content, row["path"])
        if not target.is_file():
            drift.append(("missing", row["path"]))
        elif target.read_text(encoding="utf-8") != store.render_row(row):
            drift.append(("changed", row["path"]))
    for path in sorted(store.content.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(store.content).as_posix()
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            drift.append(("temp", relative))
        elif (
            relative not in expected
            and path.suffix == ".md"
            and relative.split("/", 1)[0] in folders
            and "/" in relative
        ):
            drift.append(("stray", relative))
    return sorted(drift, key=lambda item: (item[1], item[0]))


def repair_drift(store: Store, drift: list[tuple[str, str]]) -> None:
    """Rewrite missing and changed files from the database; delete stray and temp
    files: all through the store, the only writer."""
    by_path = {row["path"]: row for row in store.rows() if row["path"]}
    for kind, relative in drift:
        if kind in ("missing", "changed"):
            store.write_row_file(by_path[relative])
        else:
            store.remove_file(relative)
