"""``broadsheet load`` and ``broadsheet work``: the Redis side of a scaled-out run."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.base import (
    LAYOUT_OPTION,
    ONCE_OPTION,
    OUTPUT_OPTION,
    SOURCES_OPTION,
    THRESHOLD_OPTION,
    WORKERS_OPTION,
    cli,
    reporting,
)

REDIS_OPTION = click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    required=True,
    envvar="BROADSHEET_REDIS_URL",
    help="The Redis that crawlers, workers and the loader share "
    "(redis://[:PASSWORD@]HOST:PORT/DB; default $BROADSHEET_REDIS_URL)",
)


@cli.command()
@REDIS_OPTION
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
    from pipeline.scale.loader import run_loader
    from pipeline.sources import load_sources
    from pipeline.store.layouts import layout_for

    with reporting():
        if seed:
            from pipeline.output import DB_NAME
            from pipeline.scale.frontier import seed as seed_frontier
            from pipeline.scale.queues import connect

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
            layout_for(output_dir, layout_file),
            load_sources(sources_file),
            once,
            threshold,
        )


@cli.command()
@REDIS_OPTION
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
    from pipeline.scale.connection import Keys, patience_for
    from pipeline.scale.fanout import Worker
    from pipeline.scale.queues import connect
    from pipeline.sources import load_sources

    with reporting():
        sources = load_sources(sources_file)
        client = connect(redis_url)
        with ExtractPool(workers) as pool:
            worker = Worker(
                client,
                pool,
                name or socket.gethostname(),
                sources.get,
                keys=Keys.from_env(),
                patience=patience_for(redis_url),
            )
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda signum, frame: worker.stop())
            worker.run(once)
    done = worker.done
    click.echo(
        f"extracted {done['articles']} article(s), dropped {done['dropped']}, rejected {done['rejected']}",
        err=True,
    )
