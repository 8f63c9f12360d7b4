"""broadsheet's Datasette plugin, loaded through the ``datasette`` entry point.

It only acts on the ``broadsheet`` database: the story view of an article's row page
(``templates/row-broadsheet-articles.html``), Atom feeds of article searches and canned
queries (:mod:`pipeline.serve.plugin.atom`), facets asked for in the URL that the
metadata already declares (served once, not twice), and the column descriptions of a
table folded under a summary line.

May import: Datasette, its plugins, and :mod:`pipeline.serve.plugin.atom`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from datasette import hookimpl

from pipeline.serve.plugin import atom

DATABASE = "broadsheet"
FACET_KEYS = {"_facet": "column", "_facet_date": "date", "_facet_array": "array"}

ASGIApp = Callable[..., Awaitable[None]]


@hookimpl(trylast=True)  # called last, so this "atom" replaces datasette-atom's own
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    return {"extension": "atom", "render": atom.render, "can_render": atom.can_render}


@hookimpl
def extra_template_vars(
    database: str | None,
    table: str | None,
    view_name: str,
    request: Any,
    datasette: Any,
) -> Callable[[], Awaitable[dict[str, Any]]] | dict[str, Any]:
    """The story a near-duplicate copies, for the article row page."""
    if (database, table, view_name) != (DATABASE, "articles", "row"):
        return {}

    async def original() -> dict[str, Any]:
        pks = request.url_vars.get("pks", "")
        db = datasette.get_database(DATABASE)
        result = await db.execute(
            "select o.id, o.title, o.source, a.similarity from articles a"
            " join articles o on o.id = a.duplicate_of where a.id = ?",
            [unquote(pks)],
        )
        row = result.first()
        return {"original": dict(row) if row else None}

    return original


COLUMN_DESCRIPTIONS_SCRIPT = """
document.querySelectorAll("dl.column-descriptions").forEach(function (list) {
  var details = document.createElement("details");
  details.className = "column-descriptions";
  var summary = document.createElement("summary");
  summary.textContent = "About the columns (" + list.querySelectorAll("dt").length + ")";
  list.replaceWith(details);
  details.append(summary, list);
});
"""


@hookimpl
def extra_body_script(database: str | None, view_name: str) -> str:
    """Fold the table's column descriptions under one line, above the rows."""
    if database == DATABASE and view_name == "table":
        return COLUMN_DESCRIPTIONS_SCRIPT
    return ""


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        async def without_doubled_facets(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and scope.get("query_string"):
                scope = dedupe_facets(scope, datasette)
            await app(scope, receive, send)

        return without_doubled_facets

    return wrap


def dedupe_facets(scope: dict, datasette: Any) -> dict:
    """Drop the ``_facet`` parameters naming a facet the table's metadata already has."""
    parts = scope.get("path", "").strip("/").split("/")
    if len(parts) != 2 or parts[0] != DATABASE:
        return scope
    table = parts[1].rsplit(".", 1)[0] if "." in parts[1] else parts[1]
    declared = declared_facets(datasette.table_metadata(DATABASE, table))
    if not declared:
        return scope
    query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    kept = [
        (key, value)
        for key, value in query
        if (FACET_KEYS.get(key), facet_column(value)) not in declared
    ]
    if len(kept) == len(query):
        return scope
    return {**scope, "query_string": urlencode(kept).encode("latin-1")}


def declared_facets(metadata: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, column) of each facet of a table's metadata."""
    declared = set()
    for facet in metadata.get("facets") or []:
        if isinstance(facet, str):
            declared.add(("column", facet))
        elif isinstance(facet, dict) and len(facet) == 1:
            [(kind, config)] = facet.items()
            column = config if isinstance(config, str) else config.get("simple")
            declared.add((kind, column))
    return declared


def facet_column(value: str) -> str | None:
    """The column of a facet parameter: a name, or JSON ``{"simple": name}``."""
    if not value.startswith("{"):
        return value
    try:
        config = json.loads(value)
    except ValueError:
        return None
    return config.get("simple") if isinstance(config, dict) else None
