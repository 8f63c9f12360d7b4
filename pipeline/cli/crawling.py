"""``broadsheet crawl`` and ``broadsheet demo``: live crawls."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.base import (
    LAYOUT_OPTION,
    OUTPUT_OPTION,
    SOURCES_OPTION,
    cli,
    reporting,
)

VERBOSE_OPTION = click.option(
    "-v",
    "--verbose",
    "verbosity",
    count=True,
    help="Scrapy's log at INFO (-v) or DEBUG (-vv); WARNING without",
)
LOG_FILE_OPTION = click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write Scrapy's log to this file instead of stderr",
)


def _say(line: str) -> None:
    click.echo(line, err=True)


@cli.command()
@click.option(
    "--source",
    "source_names",
    multiple=True,
    metavar="NAME",
    help="Source to crawl (repeatable; default: every source)",
)
@SOURCES_OPTION
@OUTPUT_OPTION
@LAYOUT_OPTION
@click.option(
    "--limit", type=click.IntRange(1), help="At most N article requests per source"
)
@click.option(
    "--refresh",
    is_flag=True,
    help="Fetch stored and dropped articles again and ignore feed ETags",
)
@click.option(
    "--record",
    "record_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write every response as WARC into this folder",
)
@click.option(
    "--every",
    metavar="INTERVAL",
    help="Repeat in the foreground every INTERVAL (30m, 2h, 90s)",
)
@click.option(
    "--rounds", type=click.IntRange(1), help="With --every: stop after N rounds"
)
@click.option(
    "-s",
    "--set",
    "setting_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Scrapy or BROADSHEET_ setting (repeatable)",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    envvar="BROADSHEET_REDIS_URL",
    help="Share the frontier in this Redis (redis://HOST:PORT/DB) and push articles there for `broadsheet load`",
)
@click.option(
    "--seed-from",
    "seed_from",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --redis: first mark every URL stored in this output folder as seen",
)
@VERBOSE_OPTION
@LOG_FILE_OPTION
def crawl(
    source_names: tuple[str, ...],
    sources_file: Path | None,
    output_dir: Path,
    layout_file: Path | None,
    limit: int | None,
    refresh: bool,
    record_dir: Path | None,
    every: str | None,
    rounds: int | None,
    setting_pairs: tuple[str, ...],
    redis_url: str | None,
    seed_from: Path | None,
    verbosity: int,
    log_file: Path | None,
) -> None:
    """Crawl the sources' feeds, sitemaps and sections into the output folder.

    Articles stored by earlier runs are not fetched again (--refresh does), and
    unchanged feeds are not downloaded twice. Exits non-zero when every source failed.

    \b
        broadsheet crawl
        broadsheet crawl --source business-standard --limit 20
        broadsheet crawl --every 30m --record warc/
        broadsheet crawl -s DOWNLOAD_DELAY=5 -s BROADSHEET_WORKERS=2
        broadsheet crawl --redis redis://queue:6379/0 --seed-from output/
    """
    from pipeline.crawl import runner

    with reporting():
        options = runner.CrawlOptions(
            output=output_dir,
            sources=list(source_names),
            sources_file=sources_file,
            limit=limit,
            refresh=refresh,
            record=record_dir,
            settings=runner.parse_overrides(setting_pairs),
            redis_url=redis_url,
            seed_from=seed_from,
            verbosity=verbosity,
            log_file=log_file,
            layout_file=layout_file,
        )
        if every:
            sys.exit(runner.repeat(options, runner.parse_interval(every), rounds))
        results = runner.run_crawl(options, _say)
    sys.exit(runner.exit_status(results, _say))


@cli.command()
@click.option(
    "--output",
    "output_dir",
    default=Path("output/demo"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo's broadsheet.db and content/",
)
@LAYOUT_OPTION
@VERBOSE_OPTION
@LOG_FILE_OPTION
def demo(
    output_dir: Path, layout_file: Path | None, verbosity: int, log_file: Path | None
) -> None:
    """Crawl a bundled sample news site served on 127.0.0.1: no network needed.

    Shows the whole pipeline (robots.txt, feed, news sitemap, extraction,
    deduplication, markdown, SQLite) in a few seconds.

    \b
        broadsheet demo
        broadsheet serve --output output/demo
    """
    from pipeline.crawl.demo import run_demo
    from pipeline.crawl.runner import CrawlOptions
    from pipeline.output import database_path

    options = CrawlOptions(
        output=output_dir,
        verbosity=verbosity,
        log_file=log_file,
        layout_file=layout_file,
    )
    with reporting():
        results = run_demo(options, _say)
    if any(status == "failing" for status, _ in results.values()):
        sys.exit(1)
    click.echo(f"markdown files: {output_dir / 'content'}")
    click.echo(f"database:       {database_path(output_dir)}")
    click.echo(f"explore it:     broadsheet serve --output {output_dir}")
