"""Scheduled crawls of an unchanged site: quiet, right, and without refetching.

A small loopback site whose feed (no validators, so it is read in full every run)
lists one article twice (plain and with tracking parameters), a video page that is
not an article, a page that is gone (404) and one that robots.txt disallows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlite_utils import Database

sys.path.insert(0, str(Path(__file__).parent))
from loopback import LoopbackServer

REPO = Path(__file__).parent.parent
ARTICLE = (REPO / "tests" / "site" / "news" / "library-reopens.html").read_text()
BROADSHEET = [sys.executable, "-c", "from pipeline.cli import cli; cli()"]
FAST = [
    "-sDOWNLOAD_DELAY=0",
    "-sAUTOTHROTTLE_ENABLED=0",
    "-sBROADSHEET_WORKERS=0",
    "-sRETRY_TIMES=0",
]
VIDEO = """<!DOCTYPE html><html><head><title>Watch: the harbour at dawn</title>
<meta property="og:type" content="video.other"></head><body>
<nav><a href="/">Home</a> <a href="/video/">Videos</a></nav>
<video src="/v/harbour.mp4"></video><p>Watch the video.</p></body></html>"""
FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette</title>
<link>{base}/</link>
<item><title>Library reopens</title>
<link>{base}/news/library-reopens.html?utm_source=rss&amp;utm_medium=feed</link></item>
<item><title>Library reopens</title><link>{base}/news/library-reopens.html</link></item>
<item><title>Harbour at dawn</title><link>{base}/video/harbour.html</link></item>
<item><title>Gone</title><link>{base}/news/gone.html</link></item>
<item><title>Members</title><link>{base}/private/members.html</link></item>
</channel></rss>"""


class Site(LoopbackServer):
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.lock = threading.Lock()
        super().__init__(self._handler())

    def pages(self) -> list[str]:
        with self.lock:
            return [p for p in self.paths if p.startswith(("/news/", "/video/"))]

    def clear(self) -> None:
        with self.lock:
            self.paths.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with site.lock:
                    site.paths.append(path)
                base = site.base
                pages = {
                    "/robots.txt": (
                        "text/plain",
                        "User-agent: *\nDisallow: /private/\n",
                    ),
                    "/feed.xml": ("application/rss+xml", FEED.format(base=base)),
                    "/news/library-reopens.html": (
                        "text/html; charset=utf-8",
                        ARTICLE.replace("{{base}}", base),
                    ),
                    "/video/harbour.html": ("text/html; charset=utf-8", VIDEO),
                }
                kind, body = pages.get(path, ("text/html", "<h1>Not found</h1>"))
                data = body.encode()
                self.send_response(200 if path in pages else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture(scope="module")
def site():
    with Site() as server:
        yield server


def crawl(folder: Path, site: Site, *extra: str) -> subprocess.CompletedProcess[str]:
    sources = folder / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "gazette"\ndomains = ["127.0.0.1"]\n'
        f'feeds = ["{site.base}/feed.xml"]\n',
        encoding="utf-8",
    )
    command = ["crawl", "--sources", str(sources), "--output", str(folder / "out")]
    return subprocess.run(
        [*BROADSHEET, *command, *FAST, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def runs(site: Site, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two crawls of the unchanged site, then one with --refresh."""
    folder = tmp_path_factory.mktemp("scheduled")
    done = {}
    db_path = folder / "out" / "broadsheet.db"
    for name, extra in (
        ("first", ()),
        ("second", ()),
        ("refresh", ("--refresh",)),
        ("upgraded", ()),
    ):
        if name == "upgraded":  # as if an older release had dropped them
            with Database(db_path) as db:
                db.execute("update drops set release = '0.0.1'")
                db.conn.commit()
            done["drops"] = list(Database(db_path).query("select * from drops"))
        site.clear()
        result = crawl(folder, site, *extra)
        done[name] = (result, site.pages())
    done["db"] = Database(db_path)
    done["output"] = folder / "out"
    return done


def test_one_request_per_story_and_every_drop_on_record(runs: dict) -> None:
    result, pages = runs["first"]
    assert result.returncode == 0, result.stderr
    assert sorted(pages) == [
        "/news/gone.html",
        "/news/library-reopens.html",
        "/video/harbour.html",
    ]
    drops = {urlsplit(row["url"]).path: row for row in runs["drops"]}
    assert {path: row["reason"] for path, row in drops.items()} == {
        "/news/gone.html": "http-404",
        "/video/harbour.html": "not-article",
        "/private/members.html": "robots",
    }
    for row in drops.values():
        assert row["source"] == "gazette"
        assert row["run_id"]
        assert row["last_dropped"]
        assert row["release"]
    # the tracking variant was not requested, yet it is known as the story's URL
    urls = {r["url"] for r in runs["db"].query("select url from urls")}
    assert any("utm_source=rss" in url for url in urls)


def test_an_unchanged_site_is_ok_and_fetches_no_page(runs: dict) -> None:
    result, pages = runs["second"]
    assert result.returncode == 0, result.stderr
    assert pages == []
    (line,) = [line for line in result.stdout.splitlines() if line.strip()]
    assert line.startswith("gazette: 0 pages;")
    assert line.endswith("dropped before and not asked again")
    assert "; ok: nothing new" in line
    assert result.stderr == ""  # nothing for cron to mail
    statuses = [r["status"] for r in runs["db"].query("select status from crawls")]
    assert statuses[:2] == ["ok", "ok"]


def test_refresh_asks_again(runs: dict) -> None:
    result, pages = runs["refresh"]
    assert result.returncode == 0, result.stderr
    assert sorted(pages) == [
        "/news/gone.html",
        "/news/library-reopens.html",
        "/video/harbour.html",
    ]


def test_drops_are_listed_and_counted(runs: dict) -> None:
    output = runs["output"]
    listed = subprocess.run(
        [*BROADSHEET, "replay", "--show-drops", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    reasons = sorted(line.split("\t")[1] for line in listed.stdout.splitlines())
    assert reasons == ["http-404", "not-article", "robots"]
    stats = subprocess.run(
        [*BROADSHEET, "stats", "--json", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(stats.stdout)["drops"] == {
        "http-404": 1,
        "not-article": 1,
        "robots": 1,
    }


def test_a_newer_release_tries_again_what_extraction_dropped(runs: dict) -> None:
    result, pages = runs["upgraded"]
    assert result.returncode == 0, result.stderr
    assert pages == ["/video/harbour.html"]  # not the 404: the page is still gone
