"""``broadsheet serve``, ``broadsheet stats`` and ``broadsheet site``: reading the output."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.base import OUTPUT_OPTION, SOURCES_OPTION, cli
from pipeline.errors import BroadsheetError


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
@click.option(
    "--public",
    is_flag=True,
    help="Serve to anyone (implied by a --host other than loopback): no arbitrary SQL, a SQL time limit, no paths, one log line per error, 429 for a client that keeps erring",
)
@click.option(
    "--allow-sql", is_flag=True, help="Public, yet let visitors run their own SQL"
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    nargs=2,
    metavar="NAME VALUE",
    help="Datasette setting, passed through (repeatable), e.g. --setting sql_time_limit_ms 500",
)
def serve(
    output_dir: Path,
    host: str,
    port: int,
    open_browser: bool,
    public: bool,
    allow_sql: bool,
    settings: tuple[tuple[str, str], ...],
) -> None:
    """Browse and search the database with Datasette (read-only, alongside a crawl).

    \b
        broadsheet serve
        broadsheet serve --output /srv/news --host 0.0.0.0 --port 8080
        broadsheet serve --public   (behind a reverse proxy on this machine)
    """
    import os

    from pipeline.output import database_path
    from pipeline.serve.datasette import (
        ServeError,
        datasette_command,
        open_readonly,
    )

    db_path = database_path(output_dir)
    try:
        open_readonly(db_path).close()
    except ServeError as error:
        raise click.ClickException(str(error)) from None
    _check_port(host, port)
    command = datasette_command(
        db_path,
        host,
        port,
        open_browser,
        public=public,
        allow_sql=allow_sql,
        settings=settings,
    )
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
    from pipeline.store.schema import SchemaError, check_database
    from pipeline.store.writer import DB_NAME

    try:
        check_database(output_dir / DB_NAME)
        figures = collect_stats(output_dir)
    except (ServeError, SchemaError) as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        from rich.console import Console

        print_stats(figures, Console())


@cli.command()
@click.argument("site_dir", type=click.Path(file_okay=False, path_type=Path))
@OUTPUT_OPTION
@SOURCES_OPTION
@click.option("--time-zone", help="IANA time zone of the site (default: most stories')")
@click.option("--title", default="broadsheet", show_default=True, help="Site title")
@click.option("--base-url", default="/", show_default=True, help="Hugo's baseURL")
def site(
    site_dir: Path, output_dir: Path, sources_file: Path | None, **options
) -> None:
    """Write a Hugo site (DIR/hugo.toml, Mainroad theme) around the markdown tree.

    \b
        broadsheet site site/
        git clone --depth 1 https://github.com/Vimux/Mainroad.git site/themes/mainroad
        hugo server -s site/
    """
    from pipeline.serve.hugosite import make_site

    try:
        for line in make_site(site_dir, output_dir, sources_file, **options):
            click.echo(line, err=line.startswith("warning"))
    except BroadsheetError as error:
        raise click.ClickException(str(error)) from None


def _check_port(host: str, port: int) -> None:
    """ClickException in one line when ``host:port`` cannot be listened on (a busy
    port, an address of another machine), before Datasette starts."""
    import socket

    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        reason = error.strerror or str(error)
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {reason}; give another --port "
            "(0 picks a free one)"
        ) from None
