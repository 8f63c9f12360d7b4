"""Memory of a long replay, and of a crawl of a huge sitemap.

    python -m tests.benchmarks.memory [--pages 10000] [--workers N]
    python -m tests.benchmarks.memory sitemap [--urls 1000000] [--limit 50]
    python -m tests.benchmarks.memory feed [--urls 180000] [--limit 50]

Replays ``--pages`` saved pages (the corpus cycled, see ``tests.benchmarks.sample``)
through the same functions as ``broadsheet replay`` (``iter_pages`` -> ``ingest`` ->
``ExtractPool`` -> ``Store``) in this process, and samples the memory of this process
and its pool workers every 10 pages. Prints the peak so far at 1/4, 1/2 and all of the
pages (2,500 / 5,000 / 10,000 by default): the goal is < 400 MB, not growing with the
number of pages. RSS sums count the pages a forked worker shares with the parent
once per process; PSS counts them once.

``sitemap`` serves one gzipped sitemap of ``--urls`` article URLs (the pages are the
sample's, cycled) on a loopback site and runs ``broadsheet crawl --limit N`` on it in
a fresh process: the goal is that it ends within a minute and that the crawl's
process tree stays under 500 MB (peak PSS), however long the sitemap. Memory does
not follow the size of a listing: it is read as a stream, and article requests are
built only as Scrapy has room for them.

``feed`` does the same with one gzipped RSS feed of ``--urls`` items (title, link,
date, category and two sentences of description each: about 59 MB unzipped for the
default 180,000, near the 64 MB a listing is read up to).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psutil

from pipeline.inputs.ingest import ingest
from pipeline.inputs.replay import input_files, iter_pages
from pipeline.inputs.workers import ExtractPool
from pipeline.sources import adhoc_source
from pipeline.store.writer import Store
from tests.benchmarks.command import broadsheet, mib, tree_memory
from tests.benchmarks.crawl_speed import UNTHROTTLED
from tests.benchmarks.machine import print_machine
from tests.benchmarks.sample import sample_arguments, sampled
from tests.loopback import LoopbackServer

EVERY = 10


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["sitemap"], ["feed"]):
        return huge_listing(argv[0], argv[1:])
    args = sample_arguments(__doc__, 10_000, argv)

    print_machine("memory")
    marks = sorted({max(1, args.pages // 4), max(1, args.pages // 2), args.pages})
    me = psutil.Process()
    done = 0
    peak = [0, 0]
    report: list[tuple[int, int, int]] = []

    def advance() -> None:
        nonlocal done
        done += 1
        if done % EVERY == 0 or done in marks:
            rss, pss = tree_memory(me)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
        if done in marks:
            report.append((done, peak[0], peak[1]))

    source = adhoc_source("bench")
    with sampled(args) as (temp, folder):
        pages = iter_pages(input_files([folder]), "bench", lambda host: None)
        with Store(temp / "output") as store, ExtractPool(args.workers) as pool:
            ingest(pages, store, lambda name: source, pool, advance=advance)
    print(f"pages: {args.pages}; workers: {pool.workers}")
    print("| pages replayed | peak RSS, tree summed | peak PSS, tree |")
    print("|---:|---:|---:|")
    for count, rss, pss in report:
        print(f"| {count:,} | {mib(rss)} | {mib(pss)} |")


def huge_listing(kind: str, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"memory {kind}")
    default = 1_000_000 if kind == "sitemap" else 180_000
    parser.add_argument("--urls", type=int, default=default)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)
    print_machine(f"memory {kind}")
    story = b"<html><head><title>A story</title></head><body><article>"
    story += b"<p>" + b"Words of a story that is long enough to keep. " * 40 + b"</p>"
    story += b"</article></body></html>"
    site = SitemapSite(args.urls, story, kind)
    listing = "sitemaps" if kind == "sitemap" else "feeds"
    with tempfile.TemporaryDirectory() as folder, site:
        sources = Path(folder) / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "bench"\ndomains = ["127.0.0.1"]\n'
            f'{listing} = ["{site.base}{site.path}"]\n',
            encoding="utf-8",
        )
        run = broadsheet(
            "crawl",
            "--sources",
            str(sources),
            "--output",
            str(Path(folder) / "output"),
            "--limit",
            str(args.limit),
            *(f"-s{pair}" for pair in UNTHROTTLED),
            "-sBROADSHEET_SITEMAP_MAX_AGE=0",
        )
    print(
        f"{kind}: {args.urls:,} URLs, {len(site.body) / 2**20:.1f} MiB gzipped, "
        f"{site.size / 2**20:.1f} MiB unzipped"
    )
    print(f"--limit {args.limit}: {site.articles} article requests served")
    print(
        f"broadsheet crawl: exit {run.returncode}, {run.seconds:.1f} s (goal < 60 s), "
        f"peak PSS {mib(run.peak_pss)} (goal < 500 MB), peak RSS {mib(run.peak_rss)}"
    )


class SitemapSite(LoopbackServer):
    """One gzipped sitemap (or RSS feed) of ``urls`` article URLs; every article is
    ``story``."""

    def __init__(self, urls: int, story: bytes, kind: str = "sitemap") -> None:
        self.urls = urls
        self.story = story
        self.kind = kind
        self.path = "/sitemap.xml.gz" if kind == "sitemap" else "/feed.xml.gz"
        self.articles = 0
        self.body = b""
        self.size = 0
        super().__init__(_sitemap_handler(self))

    def start(self) -> SitemapSite:
        xml = self.sitemap() if self.kind == "sitemap" else self.feed()
        self.size = len(xml)
        self.body = gzip.compress(xml, 6)
        return super().start()

    def sitemap(self) -> bytes:
        entries = (
            f"<url><loc>{self.base}/news/{n}.html</loc></url>\n"
            for n in range(self.urls)
        )
        return "".join(["<urlset>\n", *entries, "</urlset>\n"]).encode()

    def feed(self) -> bytes:
        words = "A paragraph that says what the story is about, as feeds do. " * 2
        items = (
            f"<item><title>Story {n}: what happened today</title>"
            f"<link>{self.base}/news/{n}.html</link>"
            f"<pubDate>Wed, 02 Dec 2026 10:{n % 60:02d}:00 +0530</pubDate>"
            f"<category>News</category><description>{words}</description></item>\n"
            for n in range(self.urls)
        )
        head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        head += "<title>Huge</title><language>en</language>\n"
        return "".join([head, *items, "</channel></rss>\n"]).encode()


def _sitemap_handler(site: SitemapSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == site.path:
                return self.send(site.body, "application/x-gzip")
            if self.path.startswith("/news/"):
                site.articles += 1
                return self.send(site.story, "text/html; charset=utf-8")
            return self.send(b"User-agent: *\nAllow: /\n", "text/plain")

        def send(self, body: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


if __name__ == "__main__":
    main()
