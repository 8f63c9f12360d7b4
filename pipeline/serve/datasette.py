"""Reading the database without changing it: Datasette's command line, and the stats report.

Both open ``<output>/broadsheet.db`` read-only while a crawl may be writing it (WAL), and
neither migrates it: a database from another release is refused with a message saying
what to do.

Served beyond the loopback interface (or with ``public``), Datasette runs with
:data:`PUBLIC_SETTINGS` (no arbitrary SQL unless allowed, a SQL time limit, no
database download) and the plugin in ``public/public.py`` (one log line per error,
no machine paths, a budget of errors per client, the dashboard's own SQL allowed).
Settings given by the user come last and win.
"""

from __future__ import annotations

import ipaddress
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from pipeline.errors import BroadsheetError
from pipeline.output import CONTENT, database_path
from pipeline.store.drops import counts as drop_counts
from pipeline.store.schema import SCHEMA_VERSION

METADATA_PATH = Path(__file__).with_name("metadata.yml")
PLUGINS_DIR = Path(__file__).with_name("public")
PUBLIC_SETTINGS = {
    "default_allow_sql": "off",  # canned queries, tables, facets and search still work
    "sql_time_limit_ms": "1000",
    "allow_download": "off",
    "suggest_facets": "off",  # dozens of trial queries on every table page
}


class ServeError(BroadsheetError):
    """The database cannot be read: missing, not broadsheet's, or another schema version."""


def open_readonly(db_path: Path) -> sqlite3.Connection:
    """Open ``db_path`` read-only after checking that this release can read its schema."""
    if not db_path.is_file():
        raise ServeError(
            f"no database at {db_path}: run broadsheet crawl or replay first"
        )
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as error:
        conn.close()
        raise ServeError(f"{db_path} is not an SQLite database: {error}") from error
    if version != SCHEMA_VERSION:
        conn.close()
        raise ServeError(_version_message(db_path, version))
    return conn


def _version_message(db_path: Path, version: int) -> str:
    if version == 0:
        return f"{db_path} is not a broadsheet database (no schema version)"
    if version > SCHEMA_VERSION:
        return (
            f"{db_path} has schema version {version}, newer than this broadsheet "
            f"understands ({SCHEMA_VERSION}): upgrade broadsheet to read it"
        )
    return (
        f"{db_path} has schema version {version}, older than this broadsheet's "
        f"({SCHEMA_VERSION}): run broadsheet crawl or replay once to upgrade it"
    )


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def datasette_command(
    db_path: Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    open_browser: bool = False,
    metadata: Path = METADATA_PATH,
    public: bool = False,
    allow_sql: bool = False,
    settings: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """The command line that serves ``db_path`` (mutable: a crawl may write it) with Datasette.

    ``public`` (implied by a host other than loopback) adds the public settings and
    plugin; ``allow_sql`` keeps arbitrary SQL on; ``settings`` are Datasette's own
    ``--setting NAME VALUE``, passed last.
    """
    command = [sys.executable, "-m", "datasette", "serve", str(db_path)]
    command += ["--metadata", str(metadata), "--host", host, "--port", str(port)]
    if public or not is_loopback(host):
        command += ["--plugins-dir", str(PLUGINS_DIR)]
        for name, value in PUBLIC_SETTINGS.items():
            if not (allow_sql and name == "default_allow_sql"):
                command += ["--setting", name, value]
    for name, value in settings:
        command += ["--setting", name, value]
    if open_browser:
        command.append("--open")
    return command


def collect_stats(output_dir: Path) -> dict[str, Any]:
    """Counts of an output directory's database and markdown files, for ``broadsheet stats``."""
    db_path = database_path(output_dir)
    conn = open_readonly(db_path)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("BEGIN")  # one snapshot for every count, while a crawl writes
        total, stories = conn.execute(
            "select count(*), count(*) - count(duplicate_of) from articles"
        ).fetchone()
        updated = conn.execute("select count(distinct article_id) from versions")
        return {
            "database": str(db_path),
            "articles": {
                "total": total,
                "stories": stories,
                "near_duplicates": total - stories,
            },
            "urls": _scalar(conn, "select count(*) from urls"),
            "versions": {
                "rows": _scalar(conn, "select count(*) from versions"),
                "updated_stories": updated.fetchone()[0],
            },
            "files": _file_counts(conn, output_dir),
            "langs": dict(
                conn.execute(
                    "select coalesce(lang, ''), count(*) from articles"
                    " group by 1 order by 2 desc, 1"
                ).fetchall()
            ),
            "sources": _source_stats(conn),
            "drops": drop_counts(conn),
        }
    finally:
        conn.close()


def _scalar(conn: sqlite3.Connection, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def _file_counts(conn: sqlite3.Connection, output_dir: Path) -> dict[str, int]:
    """Markdown files on disk against the rows that name one."""
    content = output_dir / CONTENT
    on_disk = {path.resolve() for path in content.rglob("*.md")}
    rows = conn.execute("select path from articles where coalesce(path, '') != ''")
    named = {(content / row[0]).resolve() for row in rows}
    return {
        "on_disk": len(on_disk),
        "rows_with_file": len(named),
        "missing": len(named - on_disk),
        "without_row": len(on_disk - named),
    }


SOURCES_SQL = """
with names as (
  select name from sources union select source from articles union select source from crawls
),
last as (
  select *, row_number() over (partition by source order by started desc, id desc) as rank
  from crawls
)
select
  n.name,
  (select count(*) from articles a where a.source = n.name) as articles,
  (select count(*) from articles a where a.source = n.name and a.duplicate_of is null)
    as stories,
  l.started, l.finished, l.status, l.pages, l.new, l.updated, l.dropped, l.message,
  (select coalesce(sum(e.value), 0) from json_each(
    case when json_valid(l.http_errors) then l.http_errors else '{}' end) e) as http_errors
from names n left join last l on l.source = n.name and l.rank = 1
order by n.name
"""


def _source_stats(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    sources = []
    for row in conn.execute(SOURCES_SQL):
        crawl = None
        if row["started"] is not None:
            crawl = {
                key: row[key]
                for key in ("started", "finished", "status", "pages", "new", "updated")
            }
            crawl |= {
                "dropped": row["dropped"],
                "http_errors": row["http_errors"],
                "message": row["message"],
            }
        sources.append(
            {
                "name": row["name"],
                "articles": row["articles"],
                "stories": row["stories"],
                "near_duplicates": row["articles"] - row["stories"],
                "last_crawl": crawl,
            }
        )
    return sources


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


TABLE_STYLE: dict[str, Any] = {
    "box": box.SIMPLE_HEAD,
    "show_edge": False,
    "pad_edge": False,
    "title_justify": "left",
}


def print_stats(stats: dict[str, Any], console: Console) -> None:
    """Print :func:`collect_stats`' figures as rich tables."""
    articles, files, versions = stats["articles"], stats["files"], stats["versions"]
    summary = Table(
        title=f"broadsheet: {stats['database']}", show_header=False, **TABLE_STYLE
    )
    summary.add_row("Articles", str(articles["total"]))
    summary.add_row("  stories", str(articles["stories"]))
    summary.add_row("  near-duplicates", str(articles["near_duplicates"]))
    summary.add_row("URLs", str(stats["urls"]))
    updated = versions["updated_stories"]
    summary.add_row("Versions", f"{versions['rows']} ({updated} updated stories)")
    summary.add_row("Markdown files", str(files["on_disk"]))
    summary.add_row("  rows with a file", str(files["rows_with_file"]))
    summary.add_row("  missing files", str(files["missing"]))
    summary.add_row("  files without a row", str(files["without_row"]))
    langs = ", ".join(
        f"{lang or '?'} {count}" for lang, count in stats["langs"].items()
    )
    summary.add_row("Languages", langs)
    drops = stats.get("drops", {})
    summary.add_row(
        "Pages not stored",
        f"{sum(drops.values())}"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in drops.items()) + ")"
            if drops
            else ""
        ),
    )
    console.print(summary)
    for table in _sources_tables(stats["sources"]):
        console.print()
        console.print(table)
    for source in stats["sources"]:
        crawl = source["last_crawl"]
        if crawl and crawl["status"] != "ok" and crawl["message"]:
            console.print(
                f"[red]{source['name']}[/]: {crawl['message']}", highlight=False
            )


def _sources_tables(sources: list[dict[str, Any]]) -> tuple[Table, Table]:
    """Articles per source, and each source's last crawl: two tables that fit 80 columns."""
    articles = Table(
        "Source",
        "Articles",
        "Stories",
        "Near-dup.",
        title="Articles per source",
        **TABLE_STYLE,
    )
    crawls = Table("Source", "Last crawl", "Status", title="Last crawls", **TABLE_STYLE)
    crawls.columns[0].no_wrap = crawls.columns[1].no_wrap = True
    for heading in ("Pages", "New", "Upd.", "HTTP err."):
        crawls.add_column(heading, justify="right")
    for column in articles.columns[1:]:
        column.justify = "right"
    for source in sources:
        counts = [
            str(source[key]) for key in ("articles", "stories", "near_duplicates")
        ]
        articles.add_row(source["name"], *counts)
        crawl = source["last_crawl"]
        if crawl is None:
            crawls.add_row(source["name"], "never")
            continue
        status = crawl["status"] or ""
        style = "green" if status == "ok" else "red"
        figures = [
            _cell(crawl[key]) for key in ("pages", "new", "updated", "http_errors")
        ]
        when = (crawl["started"] or "")[:16].replace("T", " ")
        crawls.add_row(source["name"], when, f"[{style}]{status}[/]", *figures)
    return articles, crawls
