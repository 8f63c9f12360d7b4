"""Atom feeds of the articles a search, a table page or a canned query returns.

``/broadsheet/articles.atom?_search=monsoon`` is the search as a feed: one entry per
article, its rendered body as content, newest first as the page lists them. A canned
query is a feed when its rows name articles (``id`` of the articles table, or an
``article_id`` or ``story_id`` column). Results with datasette-atom's ``atom_id``,
``atom_title`` and ``atom_updated`` columns are left to datasette-atom, so hand-written
SQL can still make any feed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import datasette_atom
from datasette import __version__
from datasette.utils.asgi import Response
from datasette.views.base import DatasetteError
from datasette_render_markdown import render_markdown
from feedgen.feed import FeedGenerator

DATABASE = "broadsheet"
ARTICLE_COLUMNS = (
    "id, url, source, title, date, modified, first_seen, summary, body_md, authors"
)


def article_key(
    columns: Sequence[str], database: str | None, table: str | None
) -> str | None:
    """The column of the result that holds article ids, if there is one."""
    if database != DATABASE:
        return None
    if table == "articles":
        return "id" if "id" in columns else None
    candidates = ("article_id",) if table else ("story_id", "article_id", "id")
    return next((name for name in candidates if name in columns), None)


def can_render(columns: Sequence[str], database: str | None, table: str | None) -> bool:
    if datasette_atom.can_render_atom(columns):
        return True
    return article_key(columns, database, table) is not None


async def render(
    datasette: Any,
    request: Any,
    sql: str | None,
    columns: list[str],
    rows: list[Any],
    database: str,
    table: str | None,
    query_name: str | None,
    view_name: str,
    data: dict[str, Any],
) -> Response:
    if datasette_atom.can_render_atom(columns):
        return datasette_atom.render_atom(
            datasette, request, sql, columns, rows, database, table, query_name,
            view_name, data,
        )  # fmt: skip
    key = article_key(columns, database, table)
    if key is None:
        raise DatasetteError(
            "no Atom feed for this result: it names no articles (an id, article_id or "
            "story_id column) and has no atom_id, atom_title and atom_updated columns",
            status=400,
        )
    ids = list(dict.fromkeys(row[key] for row in rows if row[key] is not None))
    articles = await fetch_articles(datasette, ids)
    title = feed_title(datasette, request, database, table, query_name, data)
    return Response(
        feed_xml(request.url, title, articles),
        content_type="application/atom+xml; charset=utf-8",
    )


async def fetch_articles(datasette: Any, ids: list[Any]) -> list[dict[str, Any]]:
    """The articles of ``ids``, in that order."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    result = await datasette.get_database(DATABASE).execute(
        f"select {ARTICLE_COLUMNS} from articles where id in ({marks})", ids
    )
    found = {row["id"]: dict(row) for row in result.rows}
    return [found[id_] for id_ in ids if id_ in found]


def feed_title(
    datasette: Any,
    request: Any,
    database: str,
    table: str | None,
    query_name: str | None,
    data: dict[str, Any],
) -> str:
    if request.args.get("_feed_title"):
        return request.args["_feed_title"]
    if query_name:
        queries = (datasette.metadata(database=database) or {}).get("queries") or {}
        query = queries.get(query_name)
        named = query.get("title") if isinstance(query, dict) else None
        return f"{database}: {named or query_name}"
    title = f"{database}: {table}"
    if data.get("human_description_en"):
        title += " " + data["human_description_en"]
    return title


def feed_xml(url: str, title: str, articles: list[dict[str, Any]]) -> bytes:
    feed = FeedGenerator()
    feed.generator("Datasette", __version__, "https://datasette.io/")
    feed.id(url)
    feed.link(href=url, rel="self")
    feed.title(title)
    updated = [entry_time(article) for article in articles]
    feed.updated(max(updated, default=datetime.now(UTC)))
    for article, when in zip(reversed(articles), reversed(updated), strict=True):
        entry = feed.add_entry()  # feedgen puts the last added first
        entry.id(article["url"] or f"broadsheet:article:{article['id']}")
        entry.title(article["title"] or article["url"] or str(article["id"]))
        entry.updated(when)
        published = aware(article["date"])
        if published is not None:
            entry.published(published)
        if article["url"]:
            entry.link(href=article["url"])
        for name in author_names(article["authors"]):
            entry.author({"name": name})
        entry.category(term=article["source"])
        if article["summary"]:
            entry.summary(article["summary"])
        if article["body_md"]:
            entry.content(str(render_markdown(article["body_md"])), type="html")
    return feed.atom_str(pretty=True)


def entry_time(article: dict[str, Any]) -> datetime:
    """When the article last changed: modified, else its date, else when first stored."""
    for key in ("modified", "date", "first_seen"):
        moment = aware(article[key])
        if moment is not None:
            return moment
    return datetime.now(UTC)


def aware(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset; ``None`` for a date alone or anything else."""
    if not isinstance(value, str) or len(value) <= 10:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def author_names(authors: Any) -> list[str]:
    try:
        names = json.loads(authors) if authors else []
    except ValueError:
        return []
    if not isinstance(names, list):
        return []
    return [name for name in names if isinstance(name, str) and name.strip()]
