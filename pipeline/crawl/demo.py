"""``broadsheet demo``: the whole pipeline on a bundled sample site, with no network.

The site in ``pipeline/crawl/demo_site/`` (robots.txt, an RSS feed, a news sitemap and five
articles, two of them the same wire story under different headlines) is served on
127.0.0.1 by a thread of this process, and crawled by the real spider with the real
settings, throttling aside. Files mention ``{{base}}`` where the server's own URL goes.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.crawl.runner import CrawlOptions, crawl, crawl_settings
from pipeline.sources import load_sources
from pipeline.store.lock import output_lock

SITE = Path(__file__).with_name("demo_site")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
}
SOURCE_NAME = "demo-gazette"
QUIET_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "BROADSHEET_SITEMAP_MAX_AGE": "0",
}


def _handler(root: Path, base: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            relative = urlsplit(self.path).path.lstrip("/")
            target = (root / relative).resolve()
            if not target.is_relative_to(root.resolve()) or not target.is_file():
                self.send_error(404)
                return
            body = target.read_bytes().replace(b"{{base}}", base[0].encode())
            self.send_response(200)
            self.send_header(
                "Content-Type", TYPES.get(target.suffix, "application/octet-stream")
            )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


PREFERRED_PORT = (
    8642  # the same port, and so the same URLs, run after run when it is free
)


@contextmanager
def serve_site(root: Path = SITE, port: int = PREFERRED_PORT) -> Iterator[str]:
    """Serve ``root`` on loopback (``port``, else any free port) in a thread; yield its base URL."""
    base: list[str] = [""]
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(root, base))
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root, base))
    server.daemon_threads = True
    base[0] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base[0]
    finally:
        server.shutdown()
        server.server_close()


def sources_file(base: str, folder: Path) -> Path:
    """A sources file naming the demo site, written into ``folder``."""
    path = folder / "demo-sources.toml"
    path.write_text(
        "[[source]]\n"
        f'name = "{SOURCE_NAME}"\n'
        'domains = ["127.0.0.1"]\n'
        f'feeds = ["{base}/feeds/rss.xml"]\n'
        f'sitemaps = ["{base}/sitemap.xml"]\n'
        'lang = "en"\n'
        'timezone = "Asia/Kolkata"\n',
        encoding="utf-8",
    )
    return path


def run_demo(
    options: CrawlOptions, say: Callable[[str], None]
) -> dict[str, tuple[str, str]]:
    """Serve the demo site and crawl it with ``options`` (their output, log and layout);
    ``{source: (status, message)}``."""
    with tempfile.TemporaryDirectory() as folder, serve_site() as base:
        say(f"serving the demo site at {base}/ and crawling it into {options.output}")
        options.sources_file = sources_file(base, Path(folder))
        options.settings = {**QUIET_SETTINGS, **options.settings}
        settings = crawl_settings(options)
        settings.set("BROADSHEET_LOCK_HELD", True, priority="cmdline")
        settings.set("BROADSHEET_COMMAND", "broadsheet demo", priority="cmdline")
        with output_lock(options.output):
            return crawl(list(load_sources(options.sources_file).values()), settings)
