"""The loopback test site: tests/site/ served on 127.0.0.1 (port 0) from a thread.

Static files have ``{{base}}`` replaced by the server's base URL. Some paths are
dynamic, to test a crawler's manners and failure handling:

=============================== ==================================================
/news/withdrawn-story.html      404 (no such file)
/news/flaky-power.html          500 the first time, then the article
/news/busy-budget.html          429 with ``Retry-After: 1`` the first time
/news/slow-report.html          the article after ``slow`` seconds (past the timeout)
/news/loop-a.html, loop-b.html  redirect to each other forever
/news/old-port-story.html       301 to /news/port-expansion.html
/news/budget-tables.html        binary bytes (a PDF) under an article URL
/sitemaps/news.xml.gz           sitemaps/news.xml, gzipped
=============================== ==================================================

Feeds and sitemaps (``.xml``, ``.xml.gz``) carry an ETag and answer 304 to a
matching If-None-Match. ``forbid = True`` answers 403 to everything, robots.txt
included, as a CDN edge that refuses crawlers does. Every request is logged in
``requests`` (path with query) and ``headers`` so that tests can assert on them.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from tests.loopback import LoopbackServer

SITE = Path(__file__).with_name("site")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(
    range(256)
)
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/x-gzip",
}


class SiteServer(LoopbackServer):
    def __init__(self, root: Path = SITE, slow: float = 3.0) -> None:
        self.root = root
        self.slow = slow
        self.forbid = False
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []  # time.monotonic() of each request
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def log(self, path: str, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests.append(path)
            self.headers.append(headers)
            self.times.append(time.monotonic())
            self.hits[urlsplit(path).path] += 1
            return self.hits[urlsplit(path).path]

    def paths(self) -> list[str]:
        """Requested paths without query strings, in order."""
        with self._lock:
            return [urlsplit(p).path for p in self.requests]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self.times.clear()
            self.hits.clear()

    def file(self, path: str) -> bytes | None:
        target = (self.root / path.lstrip("/")).resolve()
        if self.root.resolve() not in target.parents or not target.is_file():
            return None
        return target.read_bytes().replace(b"{{base}}", self.base.encode())


def _handler(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # the site's own log is site.requests

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            hit = site.log(self.path, {k.lower(): v for k, v in self.headers.items()})
            if site.forbid:
                return self.send(403, b"<h1>Access denied</h1>", "text/html")
            if path in ("/news/loop-a.html", "/news/loop-b.html"):
                other = "b" if path.endswith("a.html") else "a"
                return self.redirect(302, f"/news/loop-{other}.html")
            if path == "/news/old-port-story.html":
                return self.redirect(301, "/news/port-expansion.html")
            if path == "/news/flaky-power.html" and hit == 1:
                return self.send(500, b"<h1>Internal error</h1>", "text/html")
            if path == "/news/busy-budget.html" and hit == 1:
                return self.send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            if path == "/news/slow-report.html":
                time.sleep(site.slow)
                return self.send(200, site.file(path) or b"", TYPES[".html"])
            if path == "/news/budget-tables.html":
                return self.send(200, PDF, "application/pdf")
            if path == "/sitemaps/news.xml.gz":
                body = gzip.compress(site.file("/sitemaps/news.xml") or b"")
                return self.listing(body, TYPES[".gz"])
            body = site.file(path)
            if body is None:
                return self.send(404, b"<h1>Not found</h1>", "text/html")
            kind = TYPES.get(Path(path).suffix, "application/octet-stream")
            if path.endswith(".xml"):
                return self.listing(body, kind)
            return self.send(200, body, kind)

        def listing(self, body: bytes, kind: str) -> None:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self.send(304, b"", kind, {"ETag": etag})
            return self.send(200, body, kind, {"ETag": etag})

        def redirect(self, status: int, location: str) -> None:
            self.send(status, b"", "text/html", {"Location": location})

        def send(
            self,
            status: int,
            body: bytes,
            kind: str,
            extra: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

    return Handler


if __name__ == "__main__":
    with SiteServer() as server:
        print(f"serving {SITE} at {server.base} (Ctrl-C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
