"""Datasette plugin that ``broadsheet serve`` loads (``--plugins-dir``) when it serves
beyond the loopback interface, or with ``--public``.

* Each error is one line in the error log (stderr: status, method, path, message;
  requests themselves go to the access log on stdout), and is answered with
  Datasette's error page (rendered once per status) or JSON; a 500 shows the visitor
  no exception text. Datasette's own handler, replaced here, prints a traceback with
  every local variable for each error, even a 404: kilobytes of log and tens of
  milliseconds of CPU per request that anyone can send.
* ``/-/databases`` and ``/-/threads`` answer 404: the first lists the absolute path of
  each database file, the second the server's threads.
* Errors are budgeted per client (:mod:`pipeline.serve.limits`): a client that keeps
  asking for what is not there is answered 429 before Datasette sees the request.
* The dashboards work without arbitrary SQL: a request may run exactly the SQL of one
  of datasette-dashboards' charts (with any values of its parameters), and the
  dashboard pages may run their own charts' queries. Any other ``?sql=`` is refused.

Loaded by file path; it imports Datasette, the standard library and
:mod:`pipeline.serve.limits`.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl

from datasette import Response, hookimpl
from datasette.plugins import pm
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError
from markupsafe import Markup, escape

from pipeline.serve.limits import ErrorLimit

log = logging.getLogger("uvicorn.error")  # Datasette's server logs there, to stderr
HIDDEN = re.compile(r"^/-/(databases|threads)(\.json)?/?$")
DEFAULT_HANDLER = "datasette.handle_exception"
MESSAGE_CHARS = 200
MARK = "\x00message\x00"  # where an error page's message goes
ERROR_PAGES: dict[tuple[int, str | None], str] = {}
MAX_ERROR_PAGES = 64
DASHBOARD = re.compile(r"^/-/dashboards/(?P<slug>[^/]+)(/[^/]+)?(/embed)?$")
DATABASE_QUERY = re.compile(r"^/(?P<database>[^/.]+)(\.json)?$")
# Databases whose SQL the current request may run: its dashboard's, or the one its
# chart query is for.
SQL_ALLOWED: ContextVar[frozenset[str]] = ContextVar("sql_allowed", default=frozenset())

if pm.get_plugin(DEFAULT_HANDLER) is not None:
    pm.unregister(name=DEFAULT_HANDLER)


def describe(exception: Exception) -> tuple[int, Any, str | None, dict[str, Any]]:
    """Status, message, title and extra fields of the error page for ``exception``."""
    if isinstance(exception, Base400):
        return exception.status, exception.args[0] if exception.args else "", None, {}
    if isinstance(exception, DatasetteError):
        message = exception.message
        if exception.message_is_html:
            message = Markup(message)
        return exception.status, message, exception.title, dict(exception.error_dict)
    return 500, "Internal server error", None, {}


async def error_page(datasette: Any, status: int, title: str | None) -> str:
    """Datasette's error page for ``status`` and ``title``, with :data:`MARK` where the
    message goes: rendered once, as nothing else in it depends on the request."""
    page = ERROR_PAGES.get((status, title))
    if page is None:
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        page = await template.render_async(
            {
                "ok": False,
                "error": MARK,
                "status": status,
                "title": title,
                "urls": datasette.urls,
                "app_css_hash": datasette.app_css_hash(),
                "menu_links": lambda: [],
            }
        )
        if len(ERROR_PAGES) < MAX_ERROR_PAGES:
            ERROR_PAGES[status, title] = page
    return page


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    async def respond() -> Response:
        status, message, title, info = describe(exception)
        detail = str(message) if status != 500 else repr(exception)
        log.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "%d %s %s: %s",
            status,
            request.method,
            request.path[:MESSAGE_CHARS],
            " ".join(detail.split())[:MESSAGE_CHARS],
        )
        info |= {"ok": False, "error": message, "status": status, "title": title}
        if request.path.endswith(".json"):
            return Response.json(info, status=status)
        page = await error_page(datasette, status, title)
        return Response.html(page.replace(MARK, escape(message)), status=status)

    return respond


@hookimpl
def permission_allowed(action: str, resource: Any) -> bool | None:
    """Let a dashboard page, or a request for one of its charts' data, run its SQL."""
    if action == "execute-sql" and resource in SQL_ALLOWED.get():
        return True
    return None


def dashboards(datasette: Any) -> dict[str, Any]:
    config = datasette.plugin_config("datasette-dashboards")
    return config if isinstance(config, dict) else {}


def charts(dashboard: Any) -> list[dict[str, Any]]:
    found = dashboard.get("charts") if isinstance(dashboard, dict) else None
    return [c for c in (found or {}).values() if isinstance(c, dict) and "db" in c]


def chart_sql(chart: dict[str, Any], options: dict[str, str]) -> str:
    """The SQL a dashboard sends for ``chart`` with these filter values."""
    query = str(chart.get("query", ""))
    if "[[" not in query:
        return query
    from datasette_dashboards import replace_opts_in_query

    return replace_opts_in_query(query, options)


def sql_allowed(scope: dict, datasette: Any) -> frozenset[str]:
    """The databases ``scope`` may run SQL in as a dashboard, beyond the settings."""
    path, method = scope.get("path", ""), scope.get("method", "GET")
    if method not in ("GET", "HEAD"):
        return frozenset()
    if match := DASHBOARD.match(path):
        dashboard = dashboards(datasette).get(match["slug"])
        return frozenset(chart["db"] for chart in charts(dashboard))
    match = DATABASE_QUERY.match(path)
    if not match or b"sql=" not in scope.get("query_string", b""):
        return frozenset()
    query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    sql = [value for key, value in query if key == "sql"]
    if len(sql) != 1:
        return frozenset()
    args = dict(query)
    for dashboard in dashboards(datasette).values():
        filters = (
            (dashboard.get("filters") or {}) if isinstance(dashboard, dict) else {}
        )
        options = {key: args[key] for key in filters if key in args}
        for chart in charts(dashboard):
            if chart["db"] == match["database"] and chart_sql(chart, options) == sql[0]:
                return frozenset([chart["db"]])
    return frozenset()


def hidden(scope: dict) -> bool:
    return scope.get("type") == "http" and bool(HIDDEN.match(scope.get("path", "")))


@hookimpl(trylast=True)  # the outermost wrapper: a refused client costs nothing more
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def public(scope: dict, receive: Any, send: Any) -> None:
            if hidden(scope):
                body = json.dumps({"ok": False, "error": "Not found", "status": 404})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 404,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
                return
            allowed = SQL_ALLOWED.set(
                sql_allowed(scope, datasette)
                if scope.get("type") == "http"
                else frozenset()
            )
            try:
                await app(scope, receive, send)
            finally:
                SQL_ALLOWED.reset(allowed)

        return ErrorLimit(public)

    return wrap
