"""Scaling out with a real redis-server: shared frontier, the single loader, fan-out.

Each test gets an empty redis-server of its own module (tests/redis_server.py, a free
loopback port, no persistence). Crawls are ``broadsheet crawl --redis`` subprocesses
against a generated loopback site of ARTICLES stories; loaders and workers run as
subprocesses where they are killed, in-process (CliRunner) elsewhere.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from pipeline.cli import cli
from pipeline.crawl.runner import NO_LISTING, run_stats
from pipeline.items import Article, Hints, Page
from pipeline.normalize.stage import normalize
from pipeline.runstats import RunStats
from pipeline.scale.frontier import fingerprint, seed, seen_key, shared_verdict
from pipeline.scale.loader import CLAIM_KEY, Claim, Loader, LoaderBusy
from pipeline.scale.queues import (
    ITEMS,
    PAGES,
    ReliableList,
    article_message,
    crawl_message,
    decode,
    page_message,
)
from pipeline.store.writer import Store

sys.path.insert(0, str(Path(__file__).parent))
from redis_server import BINARY, RedisServer, free_port
from sitesrv import SiteServer

REPO = Path(__file__).parent.parent
BROADSHEET = [sys.executable, "-c", "from pipeline.cli import cli; cli()"]
ARTICLES = 60
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_TIMEOUT": "5",
    "BROADSHEET_WORKERS": "0",
}
WORDS = (
    "harbour council budget river metro school rain court market farmer bridge "
    "election hospital tariff festival museum police railway drought vaccine "
    "startup reservoir highway cricket library factory monsoon airport ferry "
    "pension satellite orchard theatre tunnel glacier vineyard"
).split()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BINARY is None, reason="redis-server is not installed"),
]


# -- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def server(redis_server: RedisServer) -> RedisServer:
    """The module's redis-server, emptied for this test."""
    redis_server.client().flushall()
    return redis_server


def story(number: int) -> tuple[str, str, list[str]]:
    """Slug, title and paragraphs of generated story ``number``: distinct words each."""
    rng = random.Random(number)
    title = f"Story {number}: {' '.join(rng.sample(WORDS, 5)).capitalize()}"
    paragraphs = [
        " ".join(rng.choice(WORDS) for _ in range(40)).capitalize()
        + f" ({number}-{i})."
        for i in range(5)
    ]
    return f"story-{number:02d}", title, paragraphs


def article_html(number: int) -> str:
    slug, title, paragraphs = story(number)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{{{{base}}}}/news/{slug}.html">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2026-11-20T10:{number:02d}:00+05:30">
</head><body><main><article><h1>{title}</h1>
{body}
</article></main></body></html>
"""


def feed(numbers: range) -> str:
    items = "\n".join(
        f"<item><title>{story(n)[1]}</title><link>{{{{base}}}}/news/{story(n)[0]}.html</link>"
        f"<pubDate>Fri, 20 Nov 2026 10:{n:02d}:00 +0530</pubDate></item>"
        for n in numbers
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Generated</title><link>{{{{base}}}}/</link>
{items}
</channel></rss>
"""


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ARTICLES stories, in two overlapping feeds (every crawler reads both)."""
    root = tmp_path_factory.mktemp("site")
    (root / "news").mkdir()
    (root / "feeds").mkdir()
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    for number in range(ARTICLES):
        (root / "news" / f"{story(number)[0]}.html").write_text(article_html(number))
    (root / "feeds" / "all.xml").write_text(feed(range(ARTICLES)))
    (root / "feeds" / "latest.xml").write_text(feed(range(ARTICLES // 2, ARTICLES)))
    return root


@pytest.fixture
def site(site_root: Path):
    with SiteServer(root=site_root) as running:
        yield running


def write_sources(folder: Path, base: str) -> Path:
    path = folder / "sources.toml"
    path.write_text(
        f"""
[[source]]
name = "gen"
domains = ["127.0.0.1"]
feeds = ["{base}/feeds/all.xml", "{base}/feeds/latest.xml"]
"""
    )
    return path


def crawl_command(url: str, sources: Path) -> list[str]:
    pairs = [f"-s{k}={v}" for k, v in FAST.items()]
    return [*BROADSHEET, "crawl", "--redis", url, "--sources", str(sources), *pairs]


def made_article(number: int) -> Article:
    slug, title, paragraphs = story(number)
    return Article(
        url=f"https://gen.example/news/{slug}.html",
        source="gen",
        title=title,
        body_md="\n\n".join(paragraphs),
        text="\n".join(paragraphs),
        date=f"2026-11-20T10:{number % 60:02d}:00+05:30",
        date_local=f"2026-11-20 10:{number % 60:02d}:00",
        fetched_at="2026-11-20T06:00:00+00:00",
    )


def rows(output: Path, sql: str) -> list[dict]:
    return list(Database(output / "broadsheet.db").query(sql))


# -- the reliable list and its messages ---------------------------------------


def test_taken_messages_come_back_in_order_after_a_crash(server: RedisServer) -> None:
    queue = ReliableList(server.client(), ITEMS)
    queue.push(b"one", b"two", b"three")
    assert queue.take() == b"one"
    assert queue.take() == b"two"
    queue.ack(b"one")
    # the consumer dies holding "two"; the next one takes it back first
    restarted = ReliableList(server.client(), ITEMS)
    assert restarted.recover() == 1
    assert [restarted.take(), restarted.take(), restarted.take()] == [
        b"two",
        b"three",
        None,
    ]


def test_page_and_article_messages_round_trip() -> None:
    page = Page(
        url="https://gen.example/a.html",
        body=b"\x00\xff<html>caf\xc3\xa9</html>",
        source="gen",
        headers={"content-type": "text/html"},
        seen_urls=("https://gen.example/old.html",),
        hints=Hints(title="T", keywords=("a", "b")),
    )
    assert decode(page_message(page)).page() == page
    article = made_article(3)
    assert decode(article_message(article)).article() == article


def test_fingerprint_is_one_value_for_every_variant_of_a_url() -> None:
    url = "https://www.gen.example/news/story-01.html"
    variants = [
        "http://gen.example/news/story-01.html",
        "https://gen.example/news/story-01.html?utm_source=rss&utm_medium=feed",
        "https://www.gen.example/amp/news/story-01.html",
        "https://www.gen.example/news/story-01.html#comments",
    ]
    assert {fingerprint(v) for v in variants} == {fingerprint(url)}
    assert fingerprint("https://gen.example/news/story-02.html") != fingerprint(url)


# -- the loader ---------------------------------------------------------------


def test_a_message_applied_but_not_acknowledged_is_applied_again_harmlessly(
    server: RedisServer, tmp_path: Path
) -> None:
    client = server.client()
    items = ReliableList(client, ITEMS)
    row = RunStats("gen", command="broadsheet crawl --redis").as_row("r1 host:1")
    items.push(*(article_message(made_article(n)) for n in range(3)))
    items.push(crawl_message(row))
    with Store(tmp_path) as store:
        # a loader that committed the first article and the run row, then died
        Loader(client, store).apply(items.take())  # acknowledged
        raw = items.take()
        store.add(normalize(decode(raw).article()))
        Loader(client, store).record_crawl(row)
        loader = Loader(client, store)
        loader.drain(once=True)
        (run,) = loader.recorded
    assert run.outcomes == Counter({"new": 1, "unchanged": 1})
    assert loader.crawl_rows == 0  # the row was recorded before the crash
    assert len(items) == 0
    assert items.pending() == 0
    assert len(rows(tmp_path, "select id from articles")) == 3
    crawls = rows(tmp_path, "select command, new, unchanged from crawls order by id")
    assert crawls == [
        {"command": "broadsheet crawl --redis", "new": 0, "unchanged": 0},
        {"command": "broadsheet load", "new": 1, "unchanged": 1},
    ]


def test_unreadable_messages_are_set_aside_and_the_rest_is_loaded(
    server: RedisServer, tmp_path: Path
) -> None:
    client = server.client()
    items = ReliableList(client, ITEMS)
    items.push(b"not json", article_message(made_article(1)), b'{"kind": "x"}')
    items.push(page_message(Page(url="https://gen.example/p", body=b"", source="gen")))
    with Store(tmp_path) as store:
        loader = Loader(client, store)
        loader.drain(once=True)
    assert loader.rejected == 3
    assert client.lrange(f"{ITEMS}:rejected", 0, -1)[:2] == [
        b"not json",
        b'{"kind": "x"}',
    ]
    assert len(rows(tmp_path, "select id from articles")) == 1


def test_a_second_loader_is_refused_unless_the_first_is_dead(
    server: RedisServer,
) -> None:
    client = server.client()
    Claim(client, server.url).take()
    with pytest.raises(LoaderBusy, match="another broadsheet load"):
        Claim(client, server.url).take()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    client.set(CLAIM_KEY, f"{socket.gethostname()} {dead.stdout.strip()}")
    Claim(client, server.url).take()  # a claim left by a process that is gone


def test_load_command_drains_and_prints_a_summary(
    server: RedisServer, tmp_path: Path
) -> None:
    ReliableList(server.client(), ITEMS).push(
        *(article_message(made_article(n)) for n in range(4))
    )
    result = CliRunner().invoke(
        cli, ["load", "--redis", server.url, "--once", "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "gen: 4 pages; 4 new, 0 updated" in result.output
    assert len(list((tmp_path / "content" / "gen").rglob("*.md"))) == 4
    assert server.client().get(CLAIM_KEY) is None


def test_load_with_a_bad_redis_url_is_one_clear_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "load",
            "--redis",
            "redis://127.0.0.1:1/0",
            "--once",
            "--output",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: cannot reach Redis at redis://127.0.0.1:1/0"
    )


def test_killed_loader_loses_nothing_and_doubles_nothing(
    server: RedisServer, tmp_path: Path
) -> None:
    pushed = 400
    client = server.client()
    ReliableList(client, ITEMS).push(
        *(article_message(made_article(n)) for n in range(pushed))
    )
    command = [
        *BROADSHEET,
        "load",
        "--redis",
        server.url,
        "--once",
        "--output",
        str(tmp_path),
    ]
    loader = subprocess.Popen(command, cwd=REPO, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while client.llen(ITEMS) > pushed - 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    loader.send_signal(signal.SIGKILL)
    loader.wait(10)
    left = client.llen(ITEMS)
    assert 0 < left < pushed, "the loader was not killed mid-drain"
    assert client.llen(f"{ITEMS}:processing") <= 1
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    urls = [r["url"] for r in rows(tmp_path, "select url from articles")]
    assert len(urls) == len(set(urls)) == pushed
    assert len(list((tmp_path / "content").rglob("*.md"))) == pushed
    assert client.llen(ITEMS) == client.llen(f"{ITEMS}:processing") == 0
    (run,) = rows(tmp_path, "select new, unchanged from crawls")
    assert run["new"] + run["unchanged"] >= left  # the restart applied what was left


def test_ctrl_c_stops_a_running_loader_cleanly(
    server: RedisServer, tmp_path: Path
) -> None:
    client = server.client()
    command = [*BROADSHEET, "load", "--redis", server.url, "--output", str(tmp_path)]
    loader = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    ReliableList(client, ITEMS).push(
        *(article_message(made_article(n)) for n in range(5))
    )
    deadline = time.monotonic() + 30
    while len(rows_or_none(tmp_path)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    loader.send_signal(signal.SIGINT)
    stdout, stderr = loader.communicate(timeout=20)
    assert loader.returncode == 0, stderr
    assert "gen: 5 pages; 5 new" in stdout
    assert rows(tmp_path, "select command, new from crawls") == [
        {"command": "broadsheet load", "new": 5}
    ]
    assert client.get(CLAIM_KEY) is None
    assert client.llen(f"{ITEMS}:processing") == 0


def rows_or_none(output: Path) -> list[dict]:
    """The articles so far, while a loader may still be creating the database."""
    try:
        return rows(output, "select id from articles")
    except sqlite3.OperationalError:  # no such table (yet)
        return []


# -- crawling into Redis ------------------------------------------------------


def test_scrapy_crawl_with_the_redis_setting_pushes_articles_and_writes_no_database(
    server: RedisServer, site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site.base)
    output = tmp_path / "output"
    settings = {
        **FAST,
        "BROADSHEET_REDIS_URL": server.url,
        "BROADSHEET_OUTPUT": str(output),
    }
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=gen"]
    command += [
        "-a",
        f"sources={sources}",
        "-sLOG_LEVEL=INFO",
        *(f"-s{k}={v}" for k, v in settings.items()),
    ]
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pipeline.scale.frontier.PushItems" in result.stderr
    assert server.client().llen(ITEMS) == ARTICLES + 1
    assert not output.exists()  # no store, no lock: the loader writes


def test_two_crawlers_fetch_each_article_once_and_one_loader_stores_each_once(
    server: RedisServer, site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site.base)
    command = crawl_command(server.url, sources)
    crawlers = [
        subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [c.communicate(timeout=120) for c in crawlers]
    assert [c.returncode for c in crawlers] == [0, 0], [e[-2000:] for _, e in outputs]

    hits = Counter(p for p in site.paths() if p.startswith("/news/"))
    assert len(hits) == ARTICLES
    assert set(hits.values()) == {1}, [p for p, n in hits.items() if n > 1]
    assert Counter(site.paths())["/feeds/all.xml"] == 2  # each crawler reads the feeds
    client = server.client()
    assert (
        client.llen(ITEMS) == ARTICLES + 2
    )  # the articles, then each crawler's run row
    assert client.scard(seen_key("gen")) == ARTICLES

    output = tmp_path / "output"
    loaded = CliRunner().invoke(
        cli,
        [
            "load",
            "--redis",
            server.url,
            "--once",
            "--output",
            str(output),
            "--sources",
            str(sources),
        ],
    )
    assert loaded.exit_code == 0, loaded.output
    assert "(2 crawler run rows)" in " ".join(loaded.output.split())
    articles = rows(output, "select url, title from articles")
    assert sorted(a["url"].rsplit("/", 1)[1] for a in articles) == [
        f"{story(n)[0]}.html" for n in range(ARTICLES)
    ]
    crawls = rows(output, "select command, status, pages, new from crawls order by id")
    assert (
        sum(c["pages"] for c in crawls if c["command"] != "broadsheet load") == ARTICLES
    )
    assert crawls[-1] == {
        "command": "broadsheet load",
        "status": "ok",
        "pages": ARTICLES,
        "new": ARTICLES,
    }
    assert rows(output, "select name from sources") == [{"name": "gen"}]

    # the seen-set outlives the crawlers: the next run reads the feeds and nothing else
    site.clear()
    again = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "nothing new: every article was seen already" in again.stdout
    assert [p for p in site.paths() if p.startswith("/news/")] == []


def test_pages_a_crawl_into_redis_drops_are_on_record_after_the_load(
    server: RedisServer, tmp_path: Path
) -> None:
    root = tmp_path / "site"
    (root / "news").mkdir(parents=True)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    for number in range(2):
        (root / "news" / f"{story(number)[0]}.html").write_text(article_html(number))
    (root / "news" / "empty.html").write_text("<html><body><p>Hi</p></body></html>")
    links = [f"news/{story(n)[0]}.html" for n in range(2)]
    links += ["news/empty.html", "news/gone.html", "private/memo.html"]
    items = "".join(f"<item><link>{{{{base}}}}/{link}</link></item>" for link in links)
    (root / "feed.xml").write_text(f"<rss><channel>{items}</channel></rss>")
    with SiteServer(root=root) as site:
        sources = tmp_path / "sources.toml"
        sources.write_text(
            f'[[source]]\nname = "gen"\ndomains = ["127.0.0.1"]\n'
            f'feeds = ["{site.base}/feed.xml"]\n'
        )
        crawled = subprocess.run(
            crawl_command(server.url, sources),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    output = tmp_path / "output"
    loaded = CliRunner().invoke(
        cli, ["load", "--redis", server.url, "--once", "--output", str(output)]
    )
    assert loaded.exit_code == 0, loaded.output
    assert len(rows(output, "select id from articles")) == 2
    drops = rows(output, "select url, reason, source, run_id, command from drops")
    assert sorted((d["url"].split("/", 3)[3], d["reason"]) for d in drops) == [
        ("news/empty.html", "no-text"),
        ("news/gone.html", "http-404"),
        ("private/memo.html", "robots"),
    ]
    (crawl,) = rows(
        output, "select run_id, dropped from crawls where command != 'broadsheet load'"
    )
    assert {d["run_id"] for d in drops} == {crawl["run_id"]}  # the crawler's run
    assert {d["source"] for d in drops} == {"gen"}
    assert all("--redis" in d["command"] for d in drops)
    # counted once: in the crawler's row, not again in the loader's
    (load,) = rows(
        output, "select pages, dropped from crawls where command = 'broadsheet load'"
    )
    assert load == {"pages": 2, "dropped": 0}


VERDICTS = [
    # its peers popped the feeds before it did; it fetched and queued their articles
    (
        0,
        27,
        27,
        0,
        False,
        "27 articles queued for broadsheet load (peers read the feeds)",
    ),
    # every article it found was fetched by another crawler, or in an earlier run
    (2, 0, 0, 14, False, "nothing new: every article was seen already (14 links)"),
    # nothing read, nothing fetched, nothing seen: a crawl that did not work
    (0, 0, 0, 0, True, f"{NO_LISTING} (nothing fetched)"),
]


@pytest.mark.parametrize(
    ("listings", "pages", "queued", "seen", "failing", "message"), VERDICTS
)
def test_a_crawler_sharing_its_queue_is_judged_by_the_work_it_did(
    listings: int, pages: int, queued: int, seen: int, failing: bool, message: str
) -> None:
    stats = {
        "broadsheet/listings": listings,
        "broadsheet/links": seen,
        "broadsheet/pages": pages,
        "broadsheet/outcome/queued": queued,
    }
    run = run_stats("gen", stats, "finished", "broadsheet crawl --redis", "2026-12-01")
    assert run.broken  # what a crawler alone would be told
    shared_verdict(run, run.outcomes.pop("queued", 0), seen)
    assert (run.broken, run.message) == (failing, message)


def test_seeding_from_a_database_skips_what_it_stored(
    server: RedisServer, site: SiteServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site.base)
    output = tmp_path / "output"
    with Store(output) as store:
        for number in range(10):
            slug = story(number)[0]
            store.add(
                normalize(
                    replace(made_article(number), url=f"{site.base}/news/{slug}.html")
                )
            )
    assert seed(output / "broadsheet.db", server.client()) == {"gen": 10}
    assert seed(output / "broadsheet.db", server.client()) == {"gen": 0}
    site.clear()
    result = subprocess.run(
        [*crawl_command(server.url, sources), "--seed-from", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    fetched = {p for p in site.paths() if p.startswith("/news/")}
    assert fetched == {f"/news/{story(n)[0]}.html" for n in range(10, ARTICLES)}


def test_refresh_is_refused_with_redis(server: RedisServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["crawl", "--redis", server.url, "--refresh"])
    assert result.exit_code == 1
    assert "--refresh cannot be used with --redis" in result.output


# -- replay fan-out -----------------------------------------------------------


def test_replay_fans_out_to_workers_and_stores_what_a_local_replay_stores(
    server: RedisServer, site_root: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    manifest = []
    for number in range(12):
        slug = story(number)[0]
        html = (site_root / "news" / f"{slug}.html").read_text()
        (saved / f"{slug}.html").write_text(
            html.replace("{{base}}", "https://gen.example")
        )
        manifest.append(f"{slug}.html\thttps://gen.example/news/{slug}.html")
    (saved / "empty.html").write_text("<html><body></body></html>")
    manifest.append("empty.html\thttps://gen.example/news/empty.html")
    (saved / "urls.tsv").write_text("\n".join(manifest) + "\n")

    runner = CliRunner()
    local = tmp_path / "local"
    assert (
        runner.invoke(
            cli,
            [
                "replay",
                str(saved),
                "--source",
                "gen",
                "--output",
                str(local),
                "--workers",
                "0",
            ],
        ).exit_code
        == 0
    )

    queued = runner.invoke(
        cli, ["replay", str(saved), "--source", "gen", "--redis", server.url]
    )
    assert queued.exit_code == 0, queued.output
    assert "gen: 13 pages queued for broadsheet work" in queued.output
    assert server.client().llen(PAGES) == 13
    worked = runner.invoke(
        cli, ["work", "--redis", server.url, "--once", "--workers", "0", "--name", "w1"]
    )
    assert worked.exit_code == 0, worked.output
    assert "extracted 12 article(s), dropped 1" in worked.output
    assert (
        server.client().llen(PAGES)
        == server.client().llen(f"{PAGES}:processing:w1")
        == 0
    )
    remote = tmp_path / "remote"
    loaded = runner.invoke(
        cli, ["load", "--redis", server.url, "--once", "--output", str(remote)]
    )
    assert loaded.exit_code == 0, loaded.output
    assert "gen: 13 pages; 12 new" in loaded.output

    def files(output: Path) -> dict[str, str]:
        return {
            str(p.relative_to(output)): p.read_text()
            for p in sorted((output / "content").rglob("*.md"))
        }

    assert len(files(remote)) == 12
    assert files(remote) == files(local)

    def drops(output: Path) -> list[tuple[str, str, str]]:
        found = rows(output, "select url, reason, source from drops order by url")
        return [(d["url"], d["reason"], d["source"]) for d in found]

    assert drops(remote) == drops(local)
    assert [reason for _, reason, _ in drops(remote)] == ["no-text"]


# -- scrapyd ------------------------------------------------------------------


def scrapy_entry_point() -> bool:
    """pyproject.toml declares the ``scrapy`` entry point scrapyd needs in the egg."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    return "[project.entry-points.scrapy]" in text


EGG_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])  # the egg first, as scrapyd activates it
import pipeline.normalize.layout, pipeline.sources
assert pipeline.normalize.layout.__file__.startswith(sys.argv[1]), pipeline.normalize.layout.__file__
pipeline.normalize.layout.load_layout()
pipeline.sources.load_sources()
"""


def api(base: str, endpoint: str, fields: list[tuple[str, str]] | None = None) -> dict:
    data = urlencode(fields).encode() if fields is not None else None
    with urlopen(f"{base}/{endpoint}", data=data, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def scrapyd(tmp_path: Path):
    """A real scrapyd on a free loopback port, its eggs, logs and queues in tmp_path."""
    for tool in ("scrapyd", "scrapyd-deploy"):
        assert shutil.which(tool), (
            f"{tool} comes with the test extra: pip install -e '.[test]'"
        )
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = free_port()
    (home / "scrapyd.conf").write_text(
        f"[scrapyd]\nbind_address = 127.0.0.1\nhttp_port = {port}\npoll_interval = 0.2\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\n"
    )
    log = open(home / "scrapyd.log", "wb")
    process = subprocess.Popen(
        ["scrapyd"], cwd=home, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            api(base, "daemonstatus.json")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((home / "scrapyd.log").read_text()) from None
            time.sleep(0.1)
    yield base, home
    process.terminate()
    process.wait(10)
    log.close()


def test_scrapyd_deploy_and_schedule_crawl_into_the_database(
    scrapyd: tuple[str, Path], site: SiteServer, tmp_path: Path
) -> None:
    base, home = scrapyd
    project = tmp_path / "project"
    for name in ("pipeline", "spiders"):
        shutil.copytree(
            REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "README.md", "scrapy.cfg"):
        shutil.copy(REPO / name, project / name)
    config = (project / "scrapy.cfg").read_text()
    assert "url = http://localhost:6800/" in config
    (project / "scrapy.cfg").write_text(
        config.replace("http://localhost:6800/", f"{base}/")
    )
    assert scrapy_entry_point(), (
        "scrapyd finds the settings through the egg's entry point: pyproject.toml "
        'needs [project.entry-points.scrapy] settings = "pipeline.settings"'
    )
    egg = tmp_path / "broadsheet.egg"
    built = subprocess.run(
        ["scrapyd-deploy", f"--build-egg={egg}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert egg.is_file(), built.stderr
    probe = subprocess.run(
        [sys.executable, "-I", "-c", EGG_PROBE, str(egg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, (
        "scrapyd imports the project from the zipped egg: the packaged layout.toml and "
        "sources.toml must be read with importlib.resources, not Path(__file__): "
        + probe.stderr
    )
    deployed = subprocess.run(
        ["scrapyd-deploy", "--version", "r1"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert '"status": "ok"' in deployed.stdout, deployed.stdout + deployed.stderr
    assert api(base, "listspiders.json?project=broadsheet")["spiders"] == ["news"]

    sources = write_sources(tmp_path, site.base)
    output = tmp_path / "output"
    settings = {
        **FAST,
        "BROADSHEET_OUTPUT": str(output),
        "BROADSHEET_SOURCES": str(sources),
    }
    job = api(
        base,
        "schedule.json",
        [("project", "broadsheet"), ("spider", "news"), ("source", "gen")]
        + [("setting", f"{k}={v}") for k, v in settings.items()],
    )
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        jobs = api(base, "listjobs.json?project=broadsheet")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        time.sleep(0.3)
    logs = "\n".join(p.read_text() for p in (home / "logs").rglob("*.log"))
    assert len(rows(output, "select id from articles")) == ARTICLES, logs[-3000:]
    (run,) = rows(output, "select command, status, new from crawls")
    assert run == {"command": "scrapy crawl", "status": "ok", "new": ARTICLES}
