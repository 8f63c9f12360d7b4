"""Redis going away: every command stops within the give-up time, in one line, non-zero,
and a restarted Redis with a rerun loses nothing.

Each test starts its own redis-server with an append-only file (fsync always) and kills
it by pid with SIGKILL; the give-up time is two seconds (BROADSHEET_REDIS_GIVE_UP).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from test_redis import (  # noqa: F401 (fixtures)
    ARTICLES,
    BROADSHEET,
    FAST,
    REPO,
    made_article,
    rows,
    rows_or_none,
    site,
    site_root,
    story,
    write_sources,
)

from pipeline.scale.fanout import MAX_QUEUED
from pipeline.scale.queues import ITEMS, PAGES, ReliableList, article_message

sys.path.insert(0, str(Path(__file__).parent))
from redis_server import BINARY, RedisServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BINARY is None, reason="redis-server is not installed"),
]
GIVE_UP = 2
ENV = {**os.environ, "BROADSHEET_REDIS_GIVE_UP": str(GIVE_UP)}
BOUND = GIVE_UP + 25  # seconds a command may take to stop once Redis is gone


@pytest.fixture
def redis_db(tmp_path: Path):
    with RedisServer(tmp_path / "redis", persist=True) as server:
        yield server


STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def no_process_left():
    """A failing test leaves no command running."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.communicate()


def start(*arguments: str, cwd: Path = REPO) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*BROADSHEET, *arguments],
        cwd=cwd,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    STARTED.append(process)
    return process


def wait_until(condition, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(process.communicate()[1][-3000:])
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def running(client: redis.Redis, command: str) -> bool:
    """Some client's last command was ``command``: the process under test is at work."""
    return any(c.get("cmd") == command for c in client.client_list())


def stopped(process: subprocess.Popen[str], server: RedisServer) -> str:
    """Kill Redis; the process must exit non-zero within BOUND seconds: its stderr."""
    server.kill()
    killed = time.monotonic()
    _, stderr = process.communicate(timeout=BOUND)
    assert time.monotonic() - killed < BOUND
    assert process.returncode == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    return stderr


def error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def test_the_loader_records_what_it_stored_stops_and_the_rerun_loads_the_rest(
    redis_db: RedisServer, tmp_path: Path
) -> None:
    pushed = 300
    ReliableList(redis_db.client(), ITEMS).push(
        *(article_message(made_article(n)) for n in range(pushed))
    )
    output = tmp_path / "output"
    loader = start("load", "--redis", redis_db.url, "--output", str(output))
    wait_until(lambda: len(rows_or_none(output)) >= 30, loader)
    stderr = stopped(loader, redis_db)
    assert error_line(stderr).startswith(
        f"Error: Redis at {redis_db.url} unreachable for {GIVE_UP} s"
    )
    stored = len(rows(output, "select id from articles"))
    assert 0 < stored < pushed
    (run,) = rows(output, "select command, new from crawls")
    assert run == {"command": "broadsheet load", "new": stored}

    redis_db.start()  # the same port, its data back from the append-only file
    again = start("load", "--redis", redis_db.url, "--once", "--output", str(output))
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    urls = [r["url"] for r in rows(output, "select url from articles")]
    assert len(urls) == len(set(urls)) == pushed
    assert len(list((output / "content").rglob("*.md"))) == pushed


def test_a_worker_stops_when_redis_goes_away(
    redis_db: RedisServer, tmp_path: Path
) -> None:
    worker = start("work", "--redis", redis_db.url, "--workers", "0", "--name", "w")
    client = redis_db.client()
    wait_until(lambda: running(client, "blmove"), worker)  # waiting for pages
    stderr = stopped(worker, redis_db)
    assert error_line(stderr).startswith(f"Error: Redis at {redis_db.url} unreachable")


def test_replay_into_redis_stops_when_redis_goes_away(
    redis_db: RedisServer, site_root: Path, tmp_path: Path
) -> None:
    client = redis_db.client()
    client.rpush(PAGES, *(b"x" for _ in range(MAX_QUEUED)))  # fan-out waits for room
    saved = tmp_path / "saved"
    saved.mkdir()
    slug = story(1)[0]
    (saved / f"{slug}.html").write_text(
        (site_root / "news" / f"{slug}.html").read_text()
    )
    (saved / "urls.tsv").write_text(
        f"{slug}.html\thttps://gen.example/news/{slug}.html\n"
    )
    replay = start("replay", str(saved), "--source", "gen", "--redis", redis_db.url)
    wait_until(lambda: running(client, "llen"), replay)  # waiting for room
    stderr = stopped(replay, redis_db)
    assert error_line(stderr).startswith(f"Error: Redis at {redis_db.url} unreachable")


def test_a_crawler_stops_when_redis_goes_away_and_the_rerun_loses_nothing(
    redis_db: RedisServer, site: object, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site.base)
    slow = {**FAST, "DOWNLOAD_DELAY": "0.15", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    arguments = ["crawl", "--redis", redis_db.url, "--sources", str(sources)]
    crawler = start(*arguments, *(f"-s{k}={v}" for k, v in slow.items()), cwd=tmp_path)
    client = redis_db.client()
    wait_until(lambda: client.llen(ITEMS) >= 10, crawler)
    stderr = stopped(crawler, redis_db)
    assert "gen: failing: stopped early (redis-unreachable)" in stderr
    assert f"unreachable for {GIVE_UP} s: stopping this crawler" in stderr
    assert "what Redis did not get is kept in" in stderr  # its run row, at least

    redis_db.start()
    rerun = start(*arguments, *(f"-s{k}={v}" for k, v in FAST.items()), cwd=tmp_path)
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr[-3000:]
    assert not list((tmp_path / "output" / "redis-unsent").glob("*"))
    output = tmp_path / "stored"
    load = start("load", "--redis", redis_db.url, "--once", "--output", str(output))
    _, stderr = load.communicate(timeout=120)
    assert load.returncode == 0, stderr
    urls = Counter(
        r["url"].rsplit("/", 1)[1] for r in rows(output, "select url from articles")
    )
    assert sorted(urls) == [f"{story(n)[0]}.html" for n in range(ARTICLES)]
