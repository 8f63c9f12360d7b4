"""The hostile corpus served on 127.0.0.1 (port 0) from a thread, for a real crawl.

Each case is served at the path of its URL in the corpus manifest (the raw, still
percent-encoded path), with a ``Content-Type`` of ``text/html`` (no charset: the page says) unless
``types`` says otherwise (a PNG sent as text/html, say). ``/feed.xml`` is an RSS feed
listing every case, ``/robots.txt`` allows everything; anything else is a 404.

``routes`` answers paths that are made on request (an endless chain of sitemaps, a
redirect, an error status): a callable given the request path (with its query)
returns ``(status, headers, body)``, or None to fall through to ``pages``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from tests.loopback import LoopbackServer

Answer = tuple[int, dict[str, str], bytes]


class HostileSite(LoopbackServer):
    def __init__(
        self,
        pages: dict[str, bytes],
        types: dict[str, str] | None = None,
        routes: Callable[[str], Answer | None] | None = None,
    ) -> None:
        """``pages`` maps a URL path (as it appears in the request) to its body."""
        self.pages = pages
        self.types = types or {}
        self.routes = routes
        self.requests: list[str] = []
        self.lock = threading.Lock()
        super().__init__(_handler(self))

    def url(self, path: str) -> str:
        return self.base + path

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>case {n}</title><link>{escape(self.url(path))}</link></item>"
            for n, path in enumerate(self.pages)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>hostile</title><link>{self.base}/</link>{items}</channel></rss>"
        ).encode()


def path_of(url: str) -> str:
    """The raw path of a corpus URL, as a crawler will request it."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _handler(site: HostileSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            with site.lock:
                site.requests.append(self.path)
            answer = site.routes(self.path) if site.routes else None
            if answer is not None:
                status, headers, body = answer
                return self.send(body, headers.get("Content-Type", ""), status, headers)
            if self.path == "/robots.txt":
                return self.send(b"User-agent: *\nAllow: /\n", "text/plain")
            if self.path == "/feed.xml":
                return self.send(site.feed(), "application/rss+xml")
            body = site.pages.get(self.path)
            if body is None:
                return self.send(b"not here", "text/plain", 404)
            kind = site.types.get(self.path, "text/html")
            return self.send(body, kind)

        def send(
            self,
            body: bytes,
            kind: str,
            status: int = 200,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            for name, value in (headers or {}).items():
                if name != "Content-Type":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on it (a size limit, a time budget)

    return Handler
