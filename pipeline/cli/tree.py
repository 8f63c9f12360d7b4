"""``broadsheet export`` and ``broadsheet check``: the markdown tree against the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.base import LAYOUT_OPTION, OUTPUT_OPTION, cli, reporting


@cli.command()
@OUTPUT_OPTION
@LAYOUT_OPTION
def export(output_dir: Path, layout_file: Path | None) -> None:
    """Rewrite every markdown file from the database (after changing the layout, say).

    \b
        broadsheet export --layout my-layout.toml
    """
    from pipeline.store.tree import export_tree

    with reporting():
        written = export_tree(output_dir, layout_file)
    click.echo(f"wrote {written} markdown file(s) under {output_dir / 'content'}")


@cli.command()
@OUTPUT_OPTION
@LAYOUT_OPTION
@click.option("--repair", is_flag=True, help="Fix the drift from the database")
def check(output_dir: Path, layout_file: Path | None, repair: bool) -> None:
    """Compare the markdown tree with the database: missing, stray and changed files.

    Exits 1 when there is drift (and --repair was not given).

    \b
        broadsheet check
        broadsheet check --repair
    """
    from pipeline.store.tree import check_tree

    with reporting():
        drift = check_tree(output_dir, layout_file, repair)
    for kind, path in drift:
        click.echo(f"{kind}\t{path}")
    if drift and repair:
        click.echo(f"repaired {len(drift)} file(s)")
    elif drift:
        click.echo(
            f"{len(drift)} file(s) differ from the database; run with --repair to fix them",
            err=True,
        )
        sys.exit(1)
    else:
        click.echo("markdown tree and database agree")
