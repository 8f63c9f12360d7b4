"""The ``broadsheet`` click group and what its commands share: options, error
reporting and the progress display."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from pipeline.errors import BroadsheetError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="broadsheet")
def cli() -> None:
    "Crawl news sites into Hugo front-matter markdown and a deduplicated SQLite database."


OUTPUT_OPTION = click.option(
    "--output",
    "output_dir",
    default="output",
    show_default=True,
    envvar="BROADSHEET_OUTPUT",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder holding broadsheet.db and content/",
)
SOURCES_OPTION = click.option(
    "--sources",
    "sources_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="BROADSHEET_SOURCES",
    help="Sources file to use instead of the packaged one",
)
LAYOUT_OPTION = click.option(
    "--layout",
    "layout_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="BROADSHEET_LAYOUT",
    help="TOML file overriding the front-matter layout defaults",
)
WORKERS_OPTION = click.option(
    "--workers",
    type=click.IntRange(0),
    help="Extraction processes (default: one per CPU; 0: in this process)",
)
THRESHOLD_OPTION = click.option(
    "--threshold",
    default=0.8,
    show_default=True,
    type=click.FloatRange(0.01, 1.0),
    help="Near-duplicate Jaccard threshold",
)
ONCE_OPTION = click.option(
    "--once", is_flag=True, help="Stop when the list is empty (for cron and tests)"
)


@contextmanager
def reporting() -> Iterator[None]:
    """Turn broadsheet's own errors into one clear message and a non-zero exit."""
    try:
        yield
    except BroadsheetError as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        click.echo(
            "interrupted: what was committed is kept; run the command again to go on",
            err=True,
        )
        sys.exit(130)


def _may_be_terminal(stream: object) -> bool:
    """False where rich would find no terminal either (not a tty, and neither
    ``FORCE_COLOR`` nor ``TTY_COMPATIBLE`` set): rich need not be imported to know."""
    if "FORCE_COLOR" in os.environ or os.environ.get("TTY_COMPATIBLE"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


@contextmanager
def counting(label: str) -> Iterator[Callable[[], None]]:
    """A transient progress display on stderr, over an unknown total, when stderr is
    a terminal; yields the function that advances it.

    Off a terminal there is no display and rich is not imported at all. On one, the
    display, and rich with it, starts at the first advance: a replay's extraction
    workers are started by then, so the storing process imports rich while they
    extract their first pages instead of before.
    """
    if not _may_be_terminal(sys.stderr):
        yield lambda: None
        return
    bar = task = None

    def advance() -> None:
        nonlocal bar, task
        if bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(stderr=True)
            bar = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=not console.is_terminal,
                transient=True,
            )
            bar.start()
            task = bar.add_task("pages", total=None)
        bar.advance(task)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.stop()
