"""The ``broadsheet`` command."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="broadsheet")
def cli() -> None:
    "Crawl news sites into Hugo front-matter markdown and a deduplicated SQLite database."
