"""``broadsheet replay`` and ``broadsheet import``: saved pages and dumps into the store."""

from __future__ import annotations

from pathlib import Path

import click

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
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
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
@click.option(
    "--url-prefix",
    metavar="URL",
    help="URLs for saved pages that have no urls.tsv entry and no canonical link: "
    "URL/<file name>",
)
@click.option(
    "--show-drops",
    is_flag=True,
    help="Print the pages not stored (URL, reason, source, time; TAB-separated) to "
    "stdout: this replay's, or without PATHS every one on record",
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
    url_prefix: str | None,
    show_drops: bool,
) -> None:
    """Run saved pages (HTML files, folders, WARC files) through the pipeline.

    A urls.tsv manifest beside saved pages (file name, TAB, URL) gives each page its
    URL; else its canonical link; else --url-prefix; a page with none is not stored. Replaying the same pages twice changes nothing. Pages not stored are
    recorded in the drops table; a later replay tries them again.

    \b
        broadsheet replay saved/ --source business-standard
        broadsheet replay crawl-2026-11-22.warc.gz
        broadsheet replay --redis redis://queue:6379/0 warc/
        broadsheet replay --show-drops > drops.tsv
    """
    from pipeline.inputs.replay import NO_URL_HINT
    from pipeline.inputs.runs import ReplayJob, queue_files, replay_files
    from pipeline.runstats import print_summary

    if not paths and show_drops:
        _print_drops(output_dir, None)
        return
    if not paths:
        raise click.UsageError("give saved pages, folders or WARC files to replay")
    job = ReplayJob(
        list(paths),
        output_dir,
        source_name,
        sources_file,
        layout_file,
        workers,
        threshold,
        url_prefix,
    )
    with reporting():
        if redis_url:
            from pipeline.scale.connection import redact
            from pipeline.scale.fanout import print_fan_out

            with counting("queueing") as advance:
                files, counts = queue_files(job, redis_url, advance)
            title = f"queued {files} file(s) in {redact(redis_url)}"
            print_fan_out(counts, title)
            return
        with counting("replaying") as advance:
            done = replay_files(job, advance)
    print_summary(done.runs, f"replayed {done.files} file(s) into {output_dir}")
    no_url = sum(run.dropped["no-url"] for run in done.runs)
    if no_url:
        click.echo(f"{no_url} saved page(s) not stored: {NO_URL_HINT}", err=True)
    if show_drops:
        _print_drops(output_dir, done.run_id)


def _print_drops(output_dir: Path, run_id: str | None) -> None:
    from pipeline.output import DB_NAME
    from pipeline.store.drops import read_drops

    with reporting():
        rows = read_drops(output_dir / DB_NAME, run_id)
    for row in rows:
        fields = (row["url"], row["reason"], row["source"], row["last_dropped"])
        click.echo("\t".join(str(f).replace("\t", " ") for f in fields))


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
    print_summary([stats], f"imported {len(files)} file(s) into {output_dir}")
