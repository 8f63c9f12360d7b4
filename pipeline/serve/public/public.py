"""Datasette plugin that ``broadsheet serve`` loads (``--plugins-dir``) when it serves
beyond the loopback interface, or with ``--public``.

* Each error is one line in the error log (stderr: status, method, path, message;
  requests themselves go to the access log on stdout), and is answered with
  Datasette's error page or JSON; a 500 shows the visitor no exception text. Datasette's own handler, replaced here, prints
  a traceback with every local variable for each error, even a 404: kilobytes of log
  and tens of milliseconds of CPU per request that anyone can send.
* ``/-/databases`` and ``/-/threads`` answer 404: the first lists the absolute path of
  each database file, the second the server's threads.

Loaded by file path, so it imports only Datasette and the standard library.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from datasette import Response, hookimpl
from datasette.plugins import pm
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError
from markupsafe import Markup

log = logging.getLogger("uvicorn.error")  # Datasette's server logs there, to stderr
HIDDEN = re.compile(r"^/-/(databases|threads)(\.json)?/?$")
DEFAULT_HANDLER = "datasette.handle_exception"
MESSAGE_CHARS = 200

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
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        page = await template.render_async(
            dict(
                info,
                urls=datasette.urls,
                app_css_hash=datasette.app_css_hash(),
                menu_links=lambda: [],
            )
        )
        return Response.html(page, status=status)

    return respond


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    def wrap(app: Any) -> Any:
        async def hide_machine(scope: dict, receive: Any, send: Any) -> None:
            if scope.get("type") == "http" and HIDDEN.match(scope.get("path", "")):
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
            await app(scope, receive, send)

        return hide_machine

    return wrap
