"""The ``broadsheet`` command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from pipeline.errors import BroadsheetError
from pipeline.sources import Source
from pipeline.store.lock import output_lock


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


def _progress(console: Console, label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
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
    from pipeline.inputs.ingest import ingest
    from pipeline.inputs.replay import input_files, iter_pages
    from pipeline.inputs.workers import ExtractPool
    from pipeline.normalize.render import load_layout
    from pipeline.runstats import print_summary
    from pipeline.sources import adhoc_source, load_sources
    from pipeline.store.writer import Store

    console = Console(stderr=True)
    with reporting():
        sources = load_sources(sources_file)
        chosen = None
        if source_name:
            chosen = sources.get(source_name) or adhoc_source(source_name)

        def source_of(name: str) -> Source | None:
            return chosen if chosen and chosen.name == name else sources.get(name)

        def source_for(host: str) -> str | None:
            if chosen is not None:
                return (
                    chosen.name if not chosen.domains or chosen.allows(host) else None
                )
            return next((s.name for s in sources.values() if s.allows(host)), None)

        files = input_files(list(paths))
        if not files:
            raise click.ClickException(
                f"no saved pages or WARC files under {', '.join(map(str, paths))}"
            )
        if redis_url:
            from pipeline.scale.fanout import fan_out, print_fan_out
            from pipeline.scale.queues import connect

            with _progress(console, "queueing") as progress:
                task = progress.add_task("pages", total=None)
                pages = iter_pages(files, source_name, source_for)
                counts = fan_out(
                    pages, connect(redis_url), advance=lambda: progress.advance(task)
                )
            print_fan_out(
                counts, f"queued {len(files)} file(s) in {redis_url}", console
            )
            return
        layout = load_layout(layout_file)
        with output_lock(output_dir), Store(output_dir, layout, threshold) as store:
            store.register_sources([*sources.values(), *([chosen] if chosen else [])])
            with (
                ExtractPool(workers) as pool,
                _progress(console, "replaying") as progress,
            ):
                task = progress.add_task("pages", total=None)
                runs = ingest(
                    iter_pages(files, source_name, source_for),
                    store,
                    source_of,
                    pool,
                    advance=lambda: progress.advance(task),
                )
        print_summary(
            list(runs.values()),
            f"replayed {len(files)} file(s) into {output_dir}",
            console,
        )


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
    from pipeline.inputs.legacy import read_dump
    from pipeline.normalize.render import load_layout
    from pipeline.runstats import RunStats, print_summary
    from pipeline.sources import adhoc_source, load_sources
    from pipeline.store.writer import Store

    console = Console(stderr=True)
    with reporting():
        source = load_sources(sources_file).get(source_name) or adhoc_source(
            source_name
        )
        domain = source.domains[0] if source.domains else f"{source.name}.invalid"
        prefix = url_prefix or f"https://{domain}/imported/"
        stats = RunStats(source.name, command="import")
        with (
            output_lock(output_dir),
            Store(output_dir, load_layout(layout_file)) as store,
        ):
            for path in files:
                for article in read_dump(path, source.name, prefix):
                    stats.pages += 1
                    stats.count(store.add(article).kind)
        stats.finish()
        print_summary(
            [stats], f"imported {len(files)} file(s) into {output_dir}", console
        )


@cli.command()
@OUTPUT_OPTION
@LAYOUT_OPTION
def export(output_dir: Path, layout_file: Path | None) -> None:
    """Rewrite every markdown file from the database (after changing the layout, say).

    \b
        broadsheet export --layout my-layout.toml
    """
    from pipeline.normalize.render import load_layout
    from pipeline.store.drift import export_all
    from pipeline.store.writer import Store

    with (
        reporting(),
        output_lock(output_dir),
        Store(output_dir, load_layout(layout_file)) as store,
    ):
        written = export_all(store)
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
    from pipeline.normalize.render import load_layout
    from pipeline.store.drift import find_drift, repair_drift
    from pipeline.store.writer import Store

    with (
        reporting(),
        output_lock(output_dir),
        Store(output_dir, load_layout(layout_file)) as store,
    ):
        drift = find_drift(store)
        for kind, path in drift:
            click.echo(f"{kind}\t{path}")
        if drift and repair:
            repair_drift(store, drift)
            click.echo(f"repaired {len(drift)} file(s)")
        elif drift:
            click.echo(
                f"{len(drift)} file(s) differ from the database; run with --repair to fix them",
                err=True,
            )
            sys.exit(1)
        else:
            click.echo("markdown tree and database agree")


@cli.command()
@OUTPUT_OPTION
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on"
)
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free port)",
)
@click.option("--open", "open_browser", is_flag=True, help="Open a web browser on it")
def serve(output_dir: Path, host: str, port: int, open_browser: bool) -> None:
    """Browse and search the database with Datasette (read-only, alongside a crawl).

    \b
        broadsheet serve
        broadsheet serve --output /srv/news --host 0.0.0.0 --port 8080
    """
    import os

    from pipeline.serve.datasette import (
        ServeError,
        database_path,
        datasette_command,
        open_readonly,
    )

    db_path = database_path(output_dir)
    try:
        open_readonly(db_path).close()
    except ServeError as error:
        raise click.ClickException(str(error)) from None
    command = datasette_command(db_path, host, port, open_browser)
    sys.stdout.flush()
    os.execv(command[0], command)  # Datasette takes over this process and its signals


@cli.command()
@OUTPUT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON")
def stats(output_dir: Path, as_json: bool) -> None:
    """Count articles, near-duplicates, URLs, versions, files and last crawls per source.

    \b
        broadsheet stats
        broadsheet stats --output /srv/news --json
    """
    import json

    from pipeline.serve.datasette import ServeError, collect_stats, print_stats

    try:
        figures = collect_stats(output_dir)
    except ServeError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print_stats(figures, Console())


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
@click.option(
    "--limit", type=click.IntRange(1), help="At most N article requests per source"
)
@click.option(
    "--refresh", is_flag=True, help="Fetch stored articles again and ignore feed ETags"
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
def crawl(
    source_names: tuple[str, ...],
    sources_file: Path | None,
    output_dir: Path,
    limit: int | None,
    refresh: bool,
    record_dir: Path | None,
    every: str | None,
    rounds: int | None,
    setting_pairs: tuple[str, ...],
    redis_url: str | None,
    seed_from: Path | None,
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
    from pipeline.crawl import runner as crawling
    from pipeline.sources import load_sources, select

    with reporting():
        overrides = crawling.parse_overrides(setting_pairs)
        chosen = select(load_sources(sources_file), list(source_names))
        if every:
            interval = crawling.parse_interval(every)
            arguments = [f"--source={name}" for name in source_names]
            arguments += [
                f"--output={output_dir}",
                *(f"-s{pair}" for pair in setting_pairs),
            ]
            arguments += [f"--sources={sources_file}"] if sources_file else []
            arguments += [f"--limit={limit}"] if limit else []
            arguments += ["--refresh"] if refresh else []
            arguments += [f"--redis={redis_url}"] if redis_url else []
            arguments += [f"--record={record_dir}"] if record_dir else []
            sys.exit(crawling.repeat(arguments, interval, rounds))
        settings = crawling.crawl_settings(
            output_dir, sources_file, limit, refresh, record_dir, overrides
        )
        if (
            redis_url
            or overrides.get("BROADSHEET_REDIS_URL")
            or overrides.get("REDIS_URL")
        ):
            from pipeline.scale.frontier import prepare_crawl

            seeded = prepare_crawl(settings, redis_url, seed_from, refresh)
            for name, count in seeded.items():
                click.echo(
                    f"{name}: {count} stored URL(s) marked as seen in Redis", err=True
                )
            results = crawling.crawl(chosen, settings)  # no local store: no lock
        elif seed_from:
            raise click.ClickException("--seed-from needs --redis URL")
        else:
            settings.set("BROADSHEET_LOCK_HELD", True, priority="cmdline")
            with output_lock(output_dir):
                results = crawling.crawl(chosen, settings)
    failing = {
        name: message
        for name, (status, message) in results.items()
        if status == "failing"
    }
    for name, message in failing.items():
        click.echo(f"{name}: failing: {message}", err=True)
    if failing and len(failing) == len(results):
        sys.exit(1)


@cli.command()
@click.option(
    "--output",
    "output_dir",
    default=Path("output/demo"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the demo's broadsheet.db and content/",
)
def demo(output_dir: Path) -> None:
    """Crawl a bundled sample news site served on 127.0.0.1: no network needed.

    Shows the whole pipeline (robots.txt, feed, news sitemap, extraction,
    deduplication, markdown, SQLite) in a few seconds.

    \b
        broadsheet demo
        broadsheet serve --output output/demo
    """
    import tempfile

    from pipeline.crawl import runner as crawling
    from pipeline.crawl.demo import QUIET_SETTINGS, serve_site, sources_file
    from pipeline.sources import load_sources

    with reporting(), tempfile.TemporaryDirectory() as folder, serve_site() as base:
        click.echo(
            f"serving the demo site at {base}/ and crawling it into {output_dir}",
            err=True,
        )
        path = sources_file(base, Path(folder))
        settings = crawling.crawl_settings(
            output_dir, path, overrides=dict(QUIET_SETTINGS)
        )
        settings.set("BROADSHEET_LOCK_HELD", True, priority="cmdline")
        settings.set("BROADSHEET_COMMAND", "broadsheet demo", priority="cmdline")
        with output_lock(output_dir):
            results = crawling.crawl(list(load_sources(path).values()), settings)
    if any(status == "failing" for status, _ in results.values()):
        sys.exit(1)
    click.echo(f"markdown files: {output_dir / 'content'}")
    click.echo(f"database:       {output_dir / 'broadsheet.db'}")
    click.echo(f"explore it:     broadsheet serve --output {output_dir}")


@cli.command()
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    required=True,
    envvar="BROADSHEET_REDIS_URL",
    help="Redis holding the items (redis://HOST:PORT/DB)",
)
@OUTPUT_OPTION
@LAYOUT_OPTION
@SOURCES_OPTION
@ONCE_OPTION
@click.option(
    "--seed",
    is_flag=True,
    help="First mark every URL stored in the output folder as seen in Redis",
)
@THRESHOLD_OPTION
def load(
    redis_url: str,
    output_dir: Path,
    layout_file: Path | None,
    sources_file: Path | None,
    once: bool,
    seed: bool,
    threshold: float,
) -> None:
    """Store the articles that crawlers and workers pushed to Redis: the single writer.

    Runs until Ctrl-C (or, with --once, until the list is empty). A message leaves
    Redis only once it is committed, so a killed loader loses nothing.

    \b
        broadsheet load --redis redis://queue:6379/0
        broadsheet load --redis redis://localhost:6379/0 --once --output /srv/news
    """
    from pipeline.normalize.render import load_layout
    from pipeline.scale.loader import run_loader
    from pipeline.sources import load_sources

    with reporting():
        if seed:
            from pipeline.scale.frontier import seed as seed_frontier
            from pipeline.scale.queues import connect
            from pipeline.store.writer import DB_NAME

            if (output_dir / DB_NAME).is_file():
                for name, count in seed_frontier(
                    output_dir / DB_NAME, connect(redis_url)
                ).items():
                    click.echo(
                        f"{name}: {count} stored URL(s) marked as seen in Redis",
                        err=True,
                    )
        run_loader(
            redis_url,
            output_dir,
            load_layout(layout_file),
            load_sources(sources_file),
            once,
            threshold,
        )


@cli.command()
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    required=True,
    envvar="BROADSHEET_REDIS_URL",
    help="Redis holding the pages (redis://HOST:PORT/DB)",
)
@SOURCES_OPTION
@WORKERS_OPTION
@click.option(
    "--name",
    help="This worker's name: a restarted worker takes back what its namesake left  [default: host name]",
)
@ONCE_OPTION
def work(
    redis_url: str,
    sources_file: Path | None,
    workers: int | None,
    name: str | None,
    once: bool,
) -> None:
    """Extract the pages `broadsheet replay --redis` queued, for `broadsheet load`.

    \b
        broadsheet work --redis redis://queue:6379/0
        broadsheet work --redis redis://queue:6379/0 --workers 8 --once
    """
    import signal
    import socket

    from pipeline.inputs.workers import ExtractPool
    from pipeline.scale.fanout import Worker
    from pipeline.scale.queues import connect
    from pipeline.sources import load_sources

    with reporting():
        sources = load_sources(sources_file)
        client = connect(redis_url)
        with ExtractPool(workers) as pool:
            worker = Worker(client, pool, name or socket.gethostname(), sources.get)
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda signum, frame: worker.stop())
            worker.run(once)
    done = worker.done
    click.echo(
        f"extracted {done['articles']} article(s), dropped {done['dropped']}, rejected {done['rejected']}",
        err=True,
    )
