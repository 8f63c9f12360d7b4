"""``export`` and ``check`` as library functions: the markdown tree against the database."""

from __future__ import annotations

from pathlib import Path

from pipeline.normalize.render import load_layout
from pipeline.store.drift import export_all, find_drift, repair_drift
from pipeline.store.lock import output_lock
from pipeline.store.writer import Store


def export_tree(output_dir: Path, layout_file: Path | None = None) -> int:
    """Rewrite every markdown file of ``output_dir`` from its row; return how many."""
    with output_lock(output_dir), Store(output_dir, load_layout(layout_file)) as store:
        return export_all(store)


def check_tree(
    output_dir: Path, layout_file: Path | None = None, repair: bool = False
) -> list[tuple[str, str]]:
    """The drift of ``output_dir``'s markdown tree, repaired when ``repair``."""
    with output_lock(output_dir), Store(output_dir, load_layout(layout_file)) as store:
        drift = find_drift(store)
        if drift and repair:
            repair_drift(store, drift)
        return drift
