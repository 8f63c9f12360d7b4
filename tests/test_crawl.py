"""End-to-end crawls of the loopback test site (tests/sitesrv.py) in subprocesses.

A Twisted reactor cannot restart in one process, so every crawl is a real
``broadsheet crawl`` (or ``scrapy crawl``) subprocess, with throttling off and short
timeouts, writing a real SQLite file under a temporary folder.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database
from warcio.archiveiterator import ArchiveIterator

from pipeline.cli import cli
from pipeline.crawl.runner import CrawlError, parse_interval, parse_overrides
from pipeline.store.lock import output_lock
from tests.imports import reporting_imports

sys.path.insert(0, str(Path(__file__).parent))
from sitesrv import SiteServer

REPO = Path(__file__).parent.parent
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_TIMEOUT": "2",  # the slow page takes 4 s
    "RETRY_TIMES": "1",
    "BROADSHEET_RETRY_BACKOFF": "0.1",
    "BROADSHEET_WORKERS": "0",
}
ARTICLES = {
    "markets-rally",
    "monsoon-reservoirs",
    "metro-line-opens",
    "startup-funding",
    "river-cleanup",
    "chess-championship",
    "library-reopens",
    "port-expansion",
    "flaky-power",
    "busy-budget",
}

pytestmark = pytest.mark.slow


def write_sources(path: Path, base: str, name: str = "ledger") -> Path:
    path.write_text(
        f"""
[[source]]
name = "{name}"
domains = ["127.0.0.1"]
feeds = ["{base}/feeds/rss.xml", "{base}/feeds/atom.xml"]
sitemaps = ["{base}/sitemap-index.xml"]
sections = [{{ url = "{base}/section/world.html", pattern = '/news/[a-z-]+\\.html$' }}]
""",
        encoding="utf-8",
    )
    return path


def one_listing(folder: Path, kind: str, url: str) -> list[str]:
    """``crawl`` arguments for the "ledger" source with one feed or sitemap, into
    ``folder/output``."""
    sources = folder / "sources.toml"
    sources.write_text(
        f'[[source]]\nname = "ledger"\ndomains = ["127.0.0.1"]\n{kind} = ["{url}"]\n'
    )
    return ["--sources", str(sources), "--output", str(folder / "output")]


def run(args: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    pairs = [f"-s{k}={v}" for k, v in {**FAST, **settings}.items()]
    command = [sys.executable, "-c", "from pipeline.cli import cli; cli()", "crawl"]
    return subprocess.run(
        [*command, *args, *pairs],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def crawls(output: Path) -> list[dict]:
    return list(Database(output / "broadsheet.db").query("select * from crawls"))


def article_paths(server: SiteServer) -> list[str]:
    return [p for p in server.paths() if p.startswith(("/news/", "/amp/"))]


@pytest.fixture(scope="module")
def site():
    with SiteServer(slow=4.0) as server:
        yield server


@pytest.fixture(scope="module")
def first(site: SiteServer, tmp_path_factory: pytest.TempPathFactory):
    """One crawl of the site into a fresh output folder, shared by several tests."""
    folder = tmp_path_factory.mktemp("crawl")
    sources = write_sources(folder / "sources.toml", site.base)
    output = folder / "output"
    site.clear()
    result = run(["--sources", str(sources), "--output", str(output)])
    requested = list(site.requests)
    times = dict(zip(site.requests, site.times, strict=True))
    headers = list(site.headers)
    return {
        "result": result,
        "output": output,
        "sources": sources,
        "requested": requested,
        "paths": site.paths(),
        "times": times,
        "headers": headers,
        "busy": [
            t for p, t in zip(site.requests, site.times, strict=True) if "busy" in p
        ],
    }


def test_first_crawl_stores_every_article(first: dict) -> None:
    assert first["result"].returncode == 0, first["result"].stderr
    db = Database(first["output"] / "broadsheet.db")
    urls = {row["url"].rsplit("/", 1)[1] for row in db["articles"].rows}
    assert urls == {f"{slug}.html" for slug in ARTICLES}
    files = sorted((first["output"] / "content" / "ledger").rglob("*.md"))
    assert len(files) == len(ARTICLES)
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert 'title: "Port expansion to double container capacity by 2028"' in text


def test_crawl_row_counts_outcomes_drops_and_errors(first: dict) -> None:
    (row,) = crawls(first["output"])
    assert row["status"] == "ok"
    assert row["command"] == "broadsheet crawl"
    assert row["source"] == "ledger"
    assert row["new"] == len(ARTICLES)
    dropped = json.loads(row["dropped_reasons"])
    assert dropped["binary"] == 1
    assert dropped["robots-disallowed"] == 1
    errors = json.loads(row["http_errors"])
    assert errors == {"http-404": 1, "redirect-loop": 1, "timeout": 1}
    assert row["pages"] >= len(ARTICLES)


def test_robots_disallowed_page_is_never_requested(first: dict) -> None:
    assert first["paths"][0] == "/robots.txt"
    assert "/news/private-briefing.html" not in first["paths"]


def test_stale_sitemaps_and_offsite_links_are_not_requested(first: dict) -> None:
    assert "/sitemaps/news.xml.gz" in first["paths"]
    assert "/sitemaps/archive-2019.xml" not in first["paths"]
    assert not any("elsewhere" in p for p in first["requested"])


def test_tracking_and_amp_variants_become_one_article(first: dict) -> None:
    db = Database(first["output"] / "broadsheet.db")
    (article,) = db.query(
        "select id from articles where url like '%/news/markets-rally.html'"
    )
    seen = {
        row["url"].split("127.0.0.1", 1)[1].split(":", 1)[1].split("/", 1)[1]
        for row in db.query(
            "select url from urls where article_id = ?", [article["id"]]
        )
    }
    assert "amp/news/markets-rally.html" in seen
    assert (
        "news/markets-rally.html?utm_source=rss&utm_medium=feed&fbclid=IwAR0abc123"
        in seen
    )
    assert db.execute("select count(*) from articles").fetchone()[0] == len(ARTICLES)
    # one request for the story, whichever variant came first
    assert len([p for p in first["paths"] if "markets-rally" in p]) == 1


def test_retries_honour_retry_after_and_recover_from_500(first: dict) -> None:
    assert first["paths"].count("/news/flaky-power.html") == 2
    first_try, second_try = first["busy"]
    assert second_try - first_try >= 0.9  # Retry-After: 1


def test_requests_name_the_crawler(first: dict) -> None:
    agents = {h.get("user-agent", "") for h in first["headers"]}
    assert len(agents) == 1
    (agent,) = agents
    assert agent.startswith("broadsheet/")
    assert agent.endswith(" (+https://github.com/broadsheet-news/broadsheet)")


def test_second_crawl_rereads_only_the_feed_whose_article_timed_out(
    first: dict, site: SiteServer
) -> None:
    """A timeout may pass: the feed that listed the timed-out article is read in full
    again and the article requested again; stored articles are not."""

    def conditional(path: str) -> bool:
        (headers,) = [
            h for p, h in zip(site.paths(), site.headers, strict=True) if p == path
        ]
        return "if-none-match" in headers

    site.clear()
    slow, site.slow = site.slow, 0.0  # the slow page answers in time now
    try:
        result = run(
            ["--sources", str(first["sources"]), "--output", str(first["output"])]
        )
    finally:
        site.slow = slow
    assert result.returncode == 0, result.stderr
    fetched = {p.rsplit("/", 1)[1].removesuffix(".html") for p in article_paths(site)}
    assert "slow-report" in fetched
    assert not fetched & ARTICLES  # what the first crawl stored
    assert not conditional("/feeds/rss.xml")  # it listed the page that timed out
    assert conditional("/feeds/atom.xml")  # its only failure was a redirect loop
    assert conditional("/sitemap-index.xml")
    second = crawls(first["output"])[-1]
    assert second["status"] == "ok"
    assert second["new"] == 1  # the page that timed out the first time

    site.clear()
    result = run(["--sources", str(first["sources"]), "--output", str(first["output"])])
    assert result.returncode == 0, result.stderr
    assert article_paths(site) == []
    assert conditional("/feeds/rss.xml")
    third = crawls(first["output"])[-1]
    assert third["status"] == "ok"
    assert third["new"] == 0
    assert third["requests"] < crawls(first["output"])[0]["requests"]


def test_refresh_fetches_stored_articles_again(
    site: SiteServer, tmp_path: Path
) -> None:
    args = one_listing(tmp_path, "sitemaps", f"{site.base}/sitemap-index.xml")
    site.clear()
    assert run(args).returncode == 0
    fetched = set(article_paths(site))
    assert "/news/chess-championship.html" in fetched
    site.clear()
    assert run(args).returncode == 0
    assert article_paths(site) == []
    site.clear()
    result = run([*args, "--refresh"])
    assert result.returncode == 0, result.stderr
    assert set(article_paths(site)) == fetched
    assert not any("if-none-match" in h for h in site.headers)
    assert [r["unchanged"] for r in crawls(tmp_path / "output")] == [0, 0, 3]


def test_a_redirect_to_an_article_already_requested_is_recorded(
    site: SiteServer, tmp_path: Path
) -> None:
    """The feed lists the story, then an old URL that redirects to it: the redirect is
    refused as already seen, and the old URL is still the story's, so that the next
    run requests neither."""
    args = one_listing(tmp_path, "feeds", f"{site.base}/feeds/moved.xml")
    site.clear()
    result = run(args)
    assert result.returncode == 0, result.stderr
    assert article_paths(site).count("/news/port-expansion.html") == 1
    assert "/news/old-port-story.html" in article_paths(site)
    db = Database(tmp_path / "output" / "broadsheet.db")
    (story,) = db.query("select id, url from articles")
    assert story["url"].endswith("/news/port-expansion.html")
    (owner,) = db.query(
        "select article_id from urls where url = ?",
        [f"{site.base}/news/old-port-story.html"],
    )
    assert owner["article_id"] == story["id"]

    site.clear()
    assert run(args).returncode == 0
    assert article_paths(site) == []


def test_recorded_crawl_holds_the_article_responses(
    site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.toml", site.base)
    warcs = tmp_path / "warc"
    site.clear()
    result = run(
        [
            "--sources",
            str(sources),
            "--output",
            str(tmp_path / "output"),
            "--record",
            str(warcs),
            "--limit",
            "3",
        ]
    )
    assert result.returncode == 0, result.stderr
    (path,) = warcs.glob("*-ledger.warc.gz")
    responses = {}
    requests = 0
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                uri = record.rec_headers.get_header("WARC-Target-URI")
                responses[uri] = record.content_stream().read()
            requests += record.rec_type == "request"
    assert requests == len(responses) or requests >= len(responses)
    articles = [
        u for u in responses if "/news/" in u and responses[u].startswith(b"<!")
    ]
    assert 1 <= len(articles) <= 3
    db = Database(tmp_path / "output" / "broadsheet.db")
    # What was fetched (an AMP or tracking variant, maybe) is what the WARC holds.
    fetched = {row["fetched_url"] for row in db["articles"].rows}
    assert fetched <= set(responses)
    for url in fetched:
        path = url.split(site.base, 1)[1].split("?", 1)[0].lstrip("/")
        page = (site.root / path).read_bytes()
        assert responses[url] == page.replace(b"{{base}}", site.base.encode())
    assert any(u.endswith("/feeds/rss.xml") for u in responses)
    # --limit 3: at most three article requests (a redirect's target is the same request)
    requested = {p for p in article_paths(site) if p != "/news/loop-b.html"}
    assert len(requested - {"/news/port-expansion.html"}) <= 3


def test_second_concurrent_crawl_exits_with_the_lock_message(
    site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.toml", site.base)
    output = tmp_path / "output"
    with output_lock(output):
        started = time.monotonic()
        result = run(["--sources", str(sources), "--output", str(output)])
    assert result.returncode == 1
    assert "is in use by" in result.stderr
    assert time.monotonic() - started < 15


def test_unreachable_source_fails_fast_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: connections are refused
    sources = write_sources(tmp_path / "sources.toml", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    result = run(["--sources", str(sources), "--output", str(tmp_path / "output")])
    assert result.returncode == 1
    assert time.monotonic() - started < 20
    assert "ledger: failing: unreachable: 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
    (row,) = crawls(tmp_path / "output")
    assert row["status"] == "failing"
    assert row["message"].startswith("unreachable")


def test_an_offline_crawl_says_a_line_or_two_per_source(tmp_path: Path) -> None:
    """Summary lines on stdout, one failing line per source on stderr; -v adds
    Scrapy's INFO log; --log-file takes the log off the terminal."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "".join(
            f'[[source]]\nname = "{name}"\ndomains = ["127.0.0.1"]\n'
            f'feeds = ["{base}/a.xml", "{base}/b.xml"]\nsitemaps = ["{base}/s.xml"]\n'
            for name in ("one", "two", "three")
        )
    )
    args = ["--sources", str(sources), "--output", str(tmp_path / "output")]
    quiet = run(args)
    assert quiet.returncode == 1
    assert sorted(line.split(":")[0] for line in quiet.stdout.splitlines()) == [
        "one",
        "three",
        "two",
    ]
    assert len(quiet.stderr.splitlines()) == 3, quiet.stderr
    loud = run([*args, "-v"])
    assert "[scrapy.core.engine] INFO" in loud.stderr
    log = tmp_path / "crawl.log"
    logged = run([*args, "-vv", "--log-file", str(log)])
    assert "DEBUG" not in logged.stderr
    assert "DEBUG" in log.read_text(encoding="utf-8")


def test_a_crawl_without_redis_loads_no_listening_extension_nor_redis(
    site: SiteServer, tmp_path: Path
) -> None:
    """Scrapy imports every extension it lists, even one switched off: the telnet
    console and the remote control (aiohttp) are not listed, and the Redis add-on
    imports redis-py only when a Redis URL is set."""
    args = one_listing(tmp_path, "feeds", f"{site.base}/feeds/rss.xml")
    pairs = [f"-s{k}={v}" for k, v in FAST.items()]
    watched = reporting_imports(
        "aiohttp",
        "redis",
        "scrapy_redis",
        "scrapy.extensions.telnet",
        "scrapy.extensions.remote_control",
    )
    result = subprocess.run(
        [*watched, "crawl", *args, "--limit", "1", *pairs],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "ledger: " in result.stdout  # the crawl ran and said so
    assert "loaded: []" in result.stderr


def test_extensions_are_scrapys_own_but_those_that_listen() -> None:
    from scrapy.settings import default_settings

    from pipeline import settings

    listening = {
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.remote_control.RemoteControl",
    }
    assert settings.EXTENSIONS_BASE == {
        name: order
        for name, order in default_settings.EXTENSIONS_BASE.items()
        if name not in listening
    }


def test_site_refusing_the_crawler_is_reported_failing(tmp_path: Path) -> None:
    with SiteServer() as refusing:
        refusing.forbid = True
        sources = write_sources(tmp_path / "sources.toml", refusing.base)
        result = run(
            [
                "--sources",
                str(sources),
                "--output",
                str(tmp_path / "output"),
                "--every",
                "1s",
                "--rounds",
                "2",
            ]
        )
        assert refusing.paths().count("/robots.txt") == 2  # two rounds
    assert result.returncode == 1
    assert "refuses this crawler" in result.stderr
    rows = crawls(tmp_path / "output")
    assert [r["status"] for r in rows] == ["failing", "failing"]
    assert (
        json.loads(rows[0]["http_errors"])["http-403"] == 4
    )  # 2 feeds, index, section


def test_scrapy_crawl_news_works_from_the_repo_root(
    site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.toml", site.base)
    output = tmp_path / "output"
    pairs = {**FAST, "BROADSHEET_OUTPUT": str(output), "BROADSHEET_LIMIT": "2"}
    pairs["BROADSHEET_WORKERS"] = "1"  # the extraction pool, as in production
    command = ["scrapy", "crawl", "news", "-a", "source=ledger"]
    command += ["-a", f"sources={sources}"]
    command += [f"-s{k}={v}" for k, v in pairs.items()]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    (row,) = crawls(output)
    assert row["command"] == "scrapy crawl"
    # --limit 2: two article requests, whichever the feeds listed first (one of them
    # may be an error page or a variant of the other).
    assert 1 <= row["new"] <= 2
    assert row["pages"] <= 2


def test_scrapy_crawl_says_what_is_missing_and_fails_with_the_source(
    tmp_path: Path,
) -> None:
    bare = subprocess.run(
        ["scrapy", "crawl", "news"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert bare.returncode == 2
    assert "Traceback" not in bare.stderr
    assert "the news spider needs a source: scrapy crawl news -a source=NAME" in (
        bare.stderr
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sources = write_sources(tmp_path / "sources.toml", f"http://127.0.0.1:{port}")
    command = ["scrapy", "crawl", "news", "-a", "source=ledger"]
    command += ["-a", f"sources={sources}", f"-sBROADSHEET_OUTPUT={tmp_path / 'out'}"]
    command += [f"-s{k}={v}" for k, v in FAST.items()]
    failing = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert failing.returncode == 1
    assert "FAILING: unreachable" in failing.stdout


# -- the command line, without crawling ----------------------------------------


def test_invalid_setting_is_one_clear_message() -> None:
    result = CliRunner().invoke(cli, ["crawl", "-s", "DOWNLOAD_DELAY"])
    assert result.exit_code == 1
    assert 'invalid setting "DOWNLOAD_DELAY": use -s NAME=VALUE' in result.output


@pytest.mark.parametrize("every", [[], ["--every", "30m"]])
def test_unknown_source_is_one_clear_message(every: list[str]) -> None:
    result = CliRunner().invoke(cli, ["crawl", "--source", "business-standrd", *every])
    assert result.exit_code == 1
    assert 'unknown source "business-standrd" (did you mean "business-standard"?)' in (
        result.output
    )


def test_invalid_interval_is_one_clear_message() -> None:
    result = CliRunner().invoke(cli, ["crawl", "--every", "soon"])
    assert result.exit_code == 1
    assert 'invalid interval "soon"' in result.output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("90s", 90), ("1d", 86400), ("5", 300)],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


def test_parse_overrides_keeps_values_with_equals_signs() -> None:
    assert parse_overrides(["A_B=1", "URL=http://x/?a=b"]) == {
        "A_B": "1",
        "URL": "http://x/?a=b",
    }
    with pytest.raises(CrawlError):
        parse_overrides(["lower=1"])
