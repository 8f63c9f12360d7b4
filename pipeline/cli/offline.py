"""``broadsheet replay`` and ``broadsheet import``: saved pages and dumps into the store."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from pipeline.cli.base import (
    LAYOUT_OPTION,
    OUTPUT_OPTION,
    SOURCES_OPTION,
    THRESHOLD_OPTION,
    WORKERS_OPTION,
    cli,
    counting,
    reporting,
)


@cli.command()
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--source",
    "source_name",
    help="Source the saved HTML pages belong to (WARC records: by host when omitted)",
)
@SOURCES_OPTION
@OUTPUT_OPTION
@LAYOUT_OPTION
@WORKERS_OPTION
@THRESHOLD_OPTION
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Push the pages to this Redis (redis://HOST:PORT/DB) for `broadsheet work`",
)
def replay(
    paths: tuple[Path, ...],
    source_name: str | None,
    sources_file: Path | None,
    output_dir: Path,
    layout_file: Path | None,
    workers: int | None,
    threshold: float,
    redis_url: str | None,
) -> None:
    """Run saved pages (HTML files, folders, WARC files) through the pipeline.

    A urls.tsv manifest beside saved pages (file name, TAB, URL) gives each page its
    URL. Replaying the same pages twice changes nothing.

    \b
        broadsheet replay saved/ --source business-standard
        broadsheet replay crawl-2026-11-22.warc.gz
        broadsheet replay --redis redis://queue:6379/0 warc/
    """
    from pipeline.inputs.runs import ReplayJob, queue_files, replay_files
    from pipeline.runstats import print_summary

    console = Console(stderr=True)
    job = ReplayJob(
        list(paths),
        output_dir,
        source_name,
        sources_file,
        layout_file,
        workers,
        threshold,
    )
    with reporting():
        if redis_url:
            from pipeline.scale.fanout import print_fan_out

            with counting(console, "queueing") as advance:
                files, counts = queue_files(job, redis_url, advance)
            print_fan_out(counts, f"queued {files} file(s) in {redis_url}", console)
            return
        with counting(console, "replaying") as advance:
            files, runs = replay_files(job, advance)
    print_summary(runs, f"replayed {files} file(s) into {output_dir}", console)


@cli.command(name="import")
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--source", "source_name", required=True, help="Source the dumps belong to"
)
@click.option(
    "--url-prefix", help="Prefix of the URLs made up for records that have none"
)
@SOURCES_OPTION
@OUTPUT_OPTION
@LAYOUT_OPTION
def import_(
    files: tuple[Path, ...],
    source_name: str,
    url_prefix: str | None,
    sources_file: Path | None,
    output_dir: Path,
    layout_file: Path | None,
) -> None:
    """Import legacy plain-text dumps (' date YYYY-MM-DD ' then the body).

    \b
        broadsheet import legacy-text-hindustantimes.txt --source hindustantimes
    """
    from pipeline.inputs.runs import import_dumps
    from pipeline.runstats import print_summary

    with reporting():
        stats = import_dumps(
            list(files), source_name, output_dir, url_prefix, sources_file, layout_file
        )
    print_summary(
        [stats],
        f"imported {len(files)} file(s) into {output_dir}",
        Console(stderr=True),
    )
