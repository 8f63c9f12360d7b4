"""A loopback news site for the crawl benchmarks: a sample folder behind a sitemap.

Serves the pages written by :func:`tests.benchmarks.sample.write_sample` on
127.0.0.1 (port 0) from a thread: ``/news/<n>.html`` is page ``n`` (its gzipped bytes
sent as they are, with ``Content-Encoding: gzip``), ``/sitemap.xml`` lists every page
(with an ETag, answering 304 to a matching If-None-Match), ``/robots.txt`` allows
everything. Every request is counted once, by kind (``sitemap-304`` for a sitemap
request answered 304), and the moment (``time.time()``) the first of each kind came in
is kept in ``first``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

from pipeline.inputs.replay import read_manifest
from tests.loopback import LoopbackServer


class Site(LoopbackServer):
    def __init__(self, folder: Path) -> None:
        self.files = sorted(read_manifest(folder))
        self.folder = folder
        self.requests: Counter[str] = Counter()
        self.first: dict[str, float] = {}
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def article_urls(self) -> list[str]:
        return [f"{self.base}/news/{n}.html" for n in range(len(self.files))]

    def sitemap(self) -> bytes:
        entries = "".join(
            f"<url><loc>{escape(url)}</loc></url>\n" for url in self.article_urls()
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</urlset>\n"
        ).encode()

    def sources_toml(self, name: str = "bench") -> str:
        return (
            f'[[source]]\nname = "{name}"\ndomains = ["127.0.0.1"]\n'
            f'sitemaps = ["{self.base}/sitemap.xml"]\n'
        )

    def clear(self) -> None:
        """Forget the requests counted, for the next run against the site."""
        with self._lock:
            self.requests.clear()
            self.first.clear()

    def count(self, kind: str) -> None:
        with self._lock:
            self.requests[kind] += 1
            self.first.setdefault(kind, time.time())


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/robots.txt":
                site.count("robots")
                return self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            if path == "/sitemap.xml":
                body = site.sitemap()
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    site.count("sitemap-304")
                    return self.send(304, b"", "application/xml", {"ETag": etag})
                site.count("sitemap")
                return self.send(200, body, "application/xml", {"ETag": etag})
            name = path.removeprefix("/news/").removesuffix(".html")
            if (
                path.startswith("/news/")
                and name.isdigit()
                and int(name) < len(site.files)
            ):
                site.count("article")
                body = (site.folder / site.files[int(name)]).read_bytes()
                return self.send(200, body, "text/html", {"Content-Encoding": "gzip"})
            site.count("other")
            return self.send(404, b"not found", "text/plain")

        def send(
            self,
            status: int,
            body: bytes,
            kind: str,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler
