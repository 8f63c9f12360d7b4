"""Hostile, broken and huge listings: every run parses what it can and ends by itself.

Real ``broadsheet crawl`` subprocesses against a loopback site (tests/hostile_site.py)
with a quirky news sitemap, an endless sitemap chain, a sitemap larger than the
protocol allows, a page over the size limit and redirects that cannot be followed.
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.hostile_site import Answer, HostileSite
from tests.test_crawl import crawls, run

pytestmark = pytest.mark.slow

WORDS = (
    "harbour council budget river monsoon railway tender farmers market school "
    "hospital election bridge festival court ministry vaccine cricket factory "
    "drought tariff airport museum library police housing solar coastal union"
).split()
NEWS_NS = (
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
)
XML = {"Content-Type": "application/xml"}


def story(n: int) -> bytes:
    """An article page with its own words: never a near-duplicate of another."""
    rng = random.Random(n)
    title = f"Story {n}: the {rng.choice(WORDS)} {rng.choice(WORDS)} question"
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>"
        for _ in range(6)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2025-05-18T20:15:00+05:30">'
        f"</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"
    ).encode()


def quirky_sitemap(base: str, count: int) -> bytes:
    """A news sitemap whose entries carry comments, PIs and entities here and there."""
    quirks = ["<!-- edited by hand -->", "<?editor checked?>", "&nbsp;", "&mdash;"]
    entries = []
    for n in range(count):
        quirk = quirks[n % len(quirks)] if n % 7 == 0 else ""
        entries.append(
            f"<url><loc>{base}/news/{n}.html</loc>{quirk}<news:news>"
            f"<news:title>Story {n}{quirk}</news:title>"
            "<news:publication_date>2025-05-18T20:15:00+05:30</news:publication_date>"
            "<news:language>en</news:language></news:news></url>"
        )
    entries.append("<url><loc>http://[::1</loc></url>")  # one unusable entry
    return f"<urlset {NEWS_NS}>{''.join(entries)}</urlset>".encode()


def sources_file(folder: Path, body: str) -> Path:
    path = folder / "sources.toml"
    path.write_text(
        f'[[source]]\nname = "quirky"\ndomains = ["127.0.0.1"]\n{body}\n',
        encoding="utf-8",
    )
    return path


def crawl(folder: Path, sources: Path, *args: str, **settings: str):
    output = folder / "output"
    return run(["--sources", str(sources), "--output", str(output), *args], **settings)


def articles(site: HostileSite) -> list[str]:
    with site.lock:
        return [p for p in site.requests if p.startswith("/news/")]


def test_quirky_sitemap_is_stored_whole_and_an_unchanged_rerun_fetches_nothing(
    tmp_path: Path,
) -> None:
    pages = {f"/news/{n}.html": story(n) for n in range(40)}
    with HostileSite(pages) as site:
        pages["/news-sitemap.xml"] = quirky_sitemap(site.base, 40)
        site.types["/news-sitemap.xml"] = "application/xml"
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/news-sitemap.xml"]')
        first = crawl(tmp_path, sources, BROADSHEET_SITEMAP_MAX_AGE="0")
        assert first.returncode == 0, first.stderr[-3000:]
        fetched = len(articles(site))
        site.requests.clear()
        second = crawl(tmp_path, sources, BROADSHEET_SITEMAP_MAX_AGE="0")
        again = articles(site)
    assert "Traceback" not in first.stdout + first.stderr + second.stderr
    assert fetched == 40
    db = Database(tmp_path / "output" / "broadsheet.db")
    assert db["articles"].count == 40
    assert second.returncode == 0, second.stderr[-3000:]
    assert again == []
    assert "nothing new: every article is stored already" in second.stdout


def chain(path: str) -> Answer | None:
    """/chain.xml?v=N is a sitemap index listing /chain.xml?v=N+1, forever, and one
    sitemap of one story; /wide.xml is an index of 50 such sitemaps."""
    if path.startswith("/chain.xml?v="):
        n = int(path.rsplit("=", 1)[1])
        children = [f"/chain.xml?v={n + 1}", f"/one.xml?n={n}"]
    elif path == "/wide.xml":
        children = [f"/one.xml?n={n}" for n in range(50)]
    elif path.startswith("/one.xml?n="):
        n = int(path.rsplit("=", 1)[1]) % 5
        return (
            200,
            XML,
            f"<urlset><url><loc>/news/{n}.html</loc></url></urlset>".encode(),
        )
    else:
        return None
    entries = "".join(f"<sitemap><loc>{c}</loc></sitemap>" for c in children)
    return 200, XML, f"<sitemapindex>{entries}</sitemapindex>".encode()


@pytest.mark.parametrize(
    ("entry", "bound", "requested"),
    [("chain.xml?v=0", "sitemap-depth", 7), ("wide.xml", "sitemaps", 21)],
)
def test_sitemap_indexes_are_followed_within_the_depth_and_count_caps(
    tmp_path: Path, entry: str, bound: str, requested: int
) -> None:
    pages = {f"/news/{n}.html": story(n) for n in range(5)}
    with HostileSite(pages, routes=chain) as site:
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/{entry}"]')
        started = time.monotonic()
        result = crawl(
            tmp_path,
            sources,
            BROADSHEET_SITEMAP_MAX_AGE="0",
            BROADSHEET_MAX_SITEMAPS="20",
        )
        took = time.monotonic() - started
        listed = [p for p in site.requests if p.startswith(("/chain", "/wide", "/one"))]
    assert result.returncode == 0, result.stderr[-3000:]
    assert took < 60
    # the chain: its 4 indexes (depth 0 to 3) and their 3 story sitemaps
    assert len(listed) == requested
    (row,) = crawls(tmp_path / "output")
    assert row["message"] == f"bounds reached: {bound}"
    assert f"ok: bounds reached: {bound}" in result.stdout  # the summary line


def huge_sitemap(base: str, count: int, host: str) -> bytes:
    entries = "".join(
        f"<url><loc>http://{host}/news/{n}.html</loc></url>" for n in range(count)
    )
    return gzip.compress(f"<urlset {NEWS_NS}>{entries}</urlset>".encode(), 1)


def test_a_sitemap_is_read_to_its_entry_cap_and_the_bound_named(
    tmp_path: Path,
) -> None:
    with HostileSite({}) as site:
        # links to another host: read and counted, never requested
        site.pages["/huge.xml.gz"] = huge_sitemap(site.base, 700, "elsewhere.test")
        site.types["/huge.xml.gz"] = "application/x-gzip"
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/huge.xml.gz"]')
        result = crawl(
            tmp_path,
            sources,
            BROADSHEET_SITEMAP_MAX_AGE="0",
            BROADSHEET_SITEMAP_MAX_URLS="500",
        )
    (row,) = crawls(tmp_path / "output")
    assert "sitemap-urls" in row["message"], result.stderr[-3000:]
    assert "more than 500 entries, the rest is not read" in result.stderr


def test_limit_ends_the_source_of_a_large_sitemap_at_once(tmp_path: Path) -> None:
    pages = {f"/news/{n}.html": story(n) for n in range(10)}
    big: list[bytes] = []

    def sitemap(path: str) -> Answer | None:
        if path != "/big.xml.gz":
            return None
        return 200, {"Content-Type": "application/x-gzip", "ETag": '"v1"'}, big[0]

    with HostileSite(pages, routes=sitemap) as site:
        big.append(huge_sitemap(site.base, 40_000, site.base.removeprefix("http://")))
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/big.xml.gz"]')
        started = time.monotonic()
        result = crawl(
            tmp_path, sources, "--limit", "5", BROADSHEET_SITEMAP_MAX_AGE="0"
        )
        took = time.monotonic() - started
        fetched = articles(site)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(fetched) == 5
    assert took < 60  # reading 40,000 entries would take longer
    (row,) = crawls(tmp_path / "output")
    assert row["new"] == 5
    assert row["message"] == "bounds reached: limit"
    # cut short: the sitemap is read in full next run, not answered 304
    assert Database(tmp_path / "output" / "broadsheet.db")["feed_state"].count == 0


def test_a_source_stops_at_its_time_budget(tmp_path: Path) -> None:
    def slow(path: str) -> Answer | None:
        if path.startswith("/news/"):
            time.sleep(2)
        return None

    pages = {f"/news/{n}.html": story(n) for n in range(60)}
    with HostileSite(pages, routes=slow) as site:
        pages["/news-sitemap.xml"] = quirky_sitemap(site.base, 60)
        site.types["/news-sitemap.xml"] = "application/xml"
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/news-sitemap.xml"]')
        result = crawl(
            tmp_path,
            sources,
            BROADSHEET_SITEMAP_MAX_AGE="0",
            BROADSHEET_SOURCE_BUDGET="3",
            CONCURRENT_REQUESTS_PER_DOMAIN="2",
            DOWNLOAD_TIMEOUT="10",
        )
        asked = articles(site)
    # 60 pages of 2 s each would take a while: stopped after some 3 s
    assert len(asked) < 60
    (row,) = crawls(tmp_path / "output")
    assert "time-budget" in row["message"], result.stderr[-3000:]
    assert "stopped at its time budget of 3 s" in result.stderr


def test_a_source_stopped_by_its_budget_does_not_wait_for_downloads_in_flight(
    tmp_path: Path,
) -> None:
    release = threading.Event()

    def stalls(path: str) -> Answer | None:
        if path.startswith("/news/"):
            release.wait(90)  # answers long after the budget, and the download timeout
        return None

    pages = {f"/news/{n}.html": story(n) for n in range(40)}
    with HostileSite(pages, routes=stalls) as site:
        pages["/news-sitemap.xml"] = quirky_sitemap(site.base, 40)
        site.types["/news-sitemap.xml"] = "application/xml"
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/news-sitemap.xml"]')
        started = time.monotonic()
        try:
            result = crawl(
                tmp_path,
                sources,
                BROADSHEET_SITEMAP_MAX_AGE="0",
                BROADSHEET_SOURCE_BUDGET="3",
                CONCURRENT_REQUESTS_PER_DOMAIN="2",
                DOWNLOAD_TIMEOUT="120",
            )
            took = time.monotonic() - started
        finally:
            release.set()
        asked = articles(site)
    assert 1 <= len(asked) < 40  # those on the wire cut, the rest given up unsent
    assert took < 30, result.stderr[-3000:]  # not the 90 s the server would take
    (row,) = crawls(tmp_path / "output")
    assert "time-budget" in row["message"], result.stderr[-3000:]
    assert "timeout" not in row["http_errors"] + row["message"]


def test_failures_are_labelled_by_what_happened(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # closed again below: connections are refused

    def answers(path: str) -> Answer | None:
        if path == "/news/to-file.html":
            return 301, {"Location": "file:///etc/passwd"}, b""
        if path == "/news/to-data.html":
            return 302, {"Location": "data:text/html,<h1>hi</h1>"}, b""
        if path == "/news/busy.html":
            return 503, {"Content-Type": "text/plain"}, b"busy"
        if path == "/news/huge.html":
            return 200, {"Content-Type": "text/html"}, b"<p>" + b"x" * 200_000
        return None

    pages = {"/news/0.html": story(0)}
    with HostileSite(pages, routes=answers) as site:
        links = ["0", "to-file", "to-data", "busy", "huge"]
        items = "".join(
            f"<item><title>{n}</title><link>{site.base}/news/{n}.html</link></item>"
            for n in links
        )
        pages["/rss.xml"] = f"<rss><channel>{items}</channel></rss>".encode()
        site.types["/rss.xml"] = "application/rss+xml"
        feeds = [f"{site.base}/rss.xml", f"http://127.0.0.1:{closed}/rss.xml"]
        sources = sources_file(tmp_path, f"feeds = {json.dumps(feeds)}")
        result = crawl(tmp_path, sources, DOWNLOAD_MAXSIZE="100000")
    (row,) = crawls(tmp_path / "output")
    errors = json.loads(row["http_errors"])
    assert errors == {
        "connection-refused": 1,
        "http-503": 1,
        "redirect-not-followed": 2,
    }, result.stderr[-3000:]
    assert json.loads(row["dropped_reasons"])["too-large"] == 1
    summary = result.stdout
    assert "connection-refused x1" in summary
    assert "redirect-not-followed x2" in summary
    assert "http-503 x1" in summary
    assert "HTTP" not in summary


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 16 MB tmpfs (unmounted afterwards); skipped where mounting is refused."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)]
    if subprocess.run(mount, capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_stops_the_crawl_at_once_and_a_rerun_finishes_it(
    tmp_path: Path, small_disk: Path
) -> None:
    count = 120
    pages = {f"/news/{n}.html": story(n) for n in range(count)}
    with HostileSite(pages) as site:
        pages["/news-sitemap.xml"] = quirky_sitemap(site.base, count)
        site.types["/news-sitemap.xml"] = "application/xml"
        sources = sources_file(tmp_path, f'sitemaps = ["{site.base}/news-sitemap.xml"]')
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * (15_400 * 1024))  # leaves some 600 KB
        output = ["--sources", str(sources), "--output", str(small_disk / "output")]
        settings = {"BROADSHEET_SITEMAP_MAX_AGE": "0", "BROADSHEET_WORKERS": "0"}
        full = run(output, **settings)
        requested = len(articles(site))
        filler.unlink()
        site.requests.clear()
        again = run(output, **settings)
    log = full.stdout + full.stderr
    assert full.returncode == 1, log[-3000:]
    assert "Traceback" not in log
    assert "<p>" not in log
    assert "Page(" not in log
    assert "Article(" not in log
    assert log.count("ERROR: cannot write to") == 1, log[-3000:]
    assert "disk is full" in log or "No space left" in log
    assert requested < count  # fetching stopped
    assert again.returncode == 0, again.stderr[-3000:]
    db = Database(small_disk / "output" / "broadsheet.db")
    assert db["articles"].count == count
    rows = list(db.query("select status, message from crawls order by id"))
    assert [row["status"] for row in rows] == ["failing", "ok"]
    assert "cannot write to" in rows[0]["message"]
