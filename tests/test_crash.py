"""Crash anywhere: ``kill -9`` a replay at many moments, rerun it, lose nothing.

A replay of 40 pages (made from the saved pages in fixtures/replay, see
:func:`build_pages`) is killed with SIGKILL again and again: right after startup and
at seeded random moments while pages are being stored. A last run goes to the end.
The result must equal one uninterrupted run: the same rows, no duplicates, the same
content tree byte for byte (no temporary, orphan or half-written file), a sound
database and no drift for ``broadsheet check``.

The store's own write steps are also crashed one by one, deterministically: a forked
process kills itself with SIGKILL on entering or leaving each step (announce the file,
write it, rename it, commit the row), and a second run settles what it left.
"""

from __future__ import annotations

import gzip
import inspect
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from pipeline.cli import cli
from pipeline.errors import Dropped
from pipeline.extract.article import extract
from pipeline.inputs.replay import input_files, iter_pages
from pipeline.items import Article
from pipeline.normalize.stage import normalize
from pipeline.sources import adhoc_source
from pipeline.store import paths as paths_module
from pipeline.store import schema as schema_module
from pipeline.store import writer as store_module
from pipeline.store.batch import Batch
from pipeline.store.writer import Store
from tests.contract import check_document

REPLAY = Path(__file__).parent / "fixtures" / "replay"
BROADSHEET = [sys.executable, "-c", "from pipeline.cli import cli; cli()"]
SKIP = {"script", "style", "noscript", "template"}
SEED = 20261122
STARTUP_KILLS = 2
RUNNING_KILLS = 8
STEP_KILLS = 12

pytestmark = pytest.mark.slow


# -- the input: 40 distinct pages ---------------------------------------------


def _mark(text: str | None, tag: str, alter: str, state: list[int]) -> str | None:
    """Append ``tag`` to every third word (``tag + alter`` to every 60th), across nodes."""
    if not text:
        return text
    words = text.split(" ")
    for i, word in enumerate(words):
        if word.strip():
            state[0] += 1
            if state[0] % 60 == 0:
                words[i] = word + tag + alter
            elif state[0] % 3 == 0:
                words[i] = word + tag
    return " ".join(words)


def _variant(body: bytes, url: str, tag: str, alter: str) -> bytes:
    tree = lxml_html.fromstring(body)
    for link in tree.iter("link"):
        if (link.get("rel") or "").lower() == "canonical":
            link.set("href", url)
    for meta in tree.iter("meta"):
        if (meta.get("property") or "").lower() == "og:url":
            meta.set("content", url)
    for script in list(tree.iter("script")):
        if (script.get("type") or "").lower() == "application/ld+json":
            script.drop_tree()  # its articleBody would outvote the marked text
    state = [0]
    body_element = tree.find("body")
    for element in body_element.iter() if body_element is not None else ():
        if isinstance(element.tag, str) and element.tag not in SKIP:
            element.text = _mark(element.text, tag, alter, state)
            element.tail = _mark(element.tail, tag, alter, state)
    return lxml_html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")


def build_pages(folder: Path, stories: int = 5) -> list[str]:
    """``stories + 3`` variants of each saved page, with a manifest and fixed fetch
    times.

    Copies 0 to ``stories - 1`` are distinct stories (every third word marked
    differently: new), the next repeats copy 0's text under another URL (duplicate),
    the next is copy 1 with a few words changed (near-duplicate, or new when the index
    does not see it) and the last is copy 2's URL again with a few words changed
    (updated). Returns the URLs in replay order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = (REPLAY / "urls.tsv").read_text(encoding="utf-8").splitlines()
    manifest = dict(line.split("\t", 1) for line in rows if line.strip())
    lines: list[str] = []
    stamp = 1_700_000_000
    for n, (name, url) in enumerate(sorted(manifest.items())):
        body = gzip.decompress((REPLAY / name).read_bytes())
        base = url.split("?")[0].rstrip("/")
        variants = [(f"{base}-v{i}", f"q{i}", "") for i in range(stories)]
        variants += [
            (f"{base}-copy", "q0", ""),
            (f"{base}-near", "q1", "z"),
            (f"{base}-v2", "q2", "y"),
        ]
        for i, (page_url, tag, alter) in enumerate(variants):
            file = folder / f"p{n}{i:02}.html"
            file.write_bytes(_variant(body, page_url, tag, alter))
            stamp += 3600
            os.utime(file, (stamp, stamp))
            lines.append(f"{file.name}\t{page_url}")
    (folder / "urls.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [line.split("\t")[1] for line in lines]


# -- looking at an output folder ----------------------------------------------


def replay_command(pages: Path, output: Path, workers: int = 2) -> list[str]:
    return [
        *BROADSHEET,
        "replay",
        str(pages),
        "--source",
        "news",
        "--output",
        str(output),
        "--workers",
        str(workers),
    ]


def tree(output: Path) -> dict[str, bytes]:
    """Every file under content/, hidden and temporary ones included."""
    content = output / "content"
    return {
        p.relative_to(content).as_posix(): p.read_bytes()
        for p in sorted(content.rglob("*"))
        if p.is_file()
    }


def table(output: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(output / "broadsheet.db")) as db:
        return db.execute(sql).fetchall()


def progress(output: Path) -> int:
    """URL and version rows so far: every stored outcome adds at least one."""
    try:
        uri = f"file:{output / 'broadsheet.db'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            return db.execute(
                "SELECT (SELECT count(*) FROM urls) + (SELECT count(*) FROM versions)"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0  # not created or not migrated yet


ARTICLE_COLUMNS = (
    "id, url, source, title, date, date_local, summary, body_md, text, lang, authors,"
    " image, word_count, content_hash, path, first_seen, last_seen, duplicate_of,"
    " modified, section, keywords, similarity, fetched_url"
)


def state(output: Path) -> dict[str, Any]:
    return {
        "articles": table(
            output, f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY id"
        ),
        "urls": table(output, "SELECT * FROM urls ORDER BY url"),
        "versions": table(
            output,
            "SELECT article_id, title, text, content_hash, seen_from, seen_until"
            " FROM versions ORDER BY article_id, seen_until, content_hash",
        ),
        "tree": tree(output),
    }


def assert_sound(output: Path) -> None:
    """Integrity, no duplicate rows, nothing pending, files in the contract, no drift."""
    assert table(output, "PRAGMA integrity_check") == [("ok",)]
    assert table(output, "PRAGMA foreign_key_check") == []
    assert table(output, "SELECT count(*) - count(DISTINCT url) FROM articles") == [
        (0,)
    ]
    assert (
        table(
            output,
            "SELECT article_id, content_hash, count(*) FROM versions"
            " GROUP BY article_id, content_hash HAVING count(*) > 1",
        )
        == []
    )
    assert table(output, "SELECT * FROM pending_files") == []
    files = tree(output)
    paths = {row[0] for row in table(output, "SELECT path FROM articles") if row[0]}
    assert set(files) == paths  # no orphan, temporary or missing file
    for name, data in files.items():
        assert check_document(data.decode("utf-8")) == [], name
    check = CliRunner().invoke(cli, ["check", "--output", str(output)])
    assert check.exit_code == 0, check.output
    assert "markdown tree and database agree" in check.output


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    build_pages(folder)
    return folder


def uninterrupted(pages: Path, output: Path) -> Path:
    done = subprocess.run(
        replay_command(pages, output), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return output


@pytest.fixture(scope="module")
def reference(pages: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One uninterrupted run over the pages."""
    return uninterrupted(pages, tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="module")
def more_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twice the pages: enough rows for every kill to land while some are left to
    store, though the store's rows arrive a commit, and the workers' results a task,
    at a time."""
    folder = tmp_path_factory.mktemp("more-pages")
    build_pages(folder, stories=13)
    return folder


@pytest.fixture(scope="module")
def more_reference(more_pages: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return uninterrupted(more_pages, tmp_path_factory.mktemp("more-reference"))


def test_the_pages_exercise_every_kind_of_write(reference: Path) -> None:
    kinds = Counter()
    rows = table(reference, "SELECT path, duplicate_of FROM articles")
    kinds["new"] = sum(1 for path, original in rows if path)
    kinds["near-duplicate"] = sum(1 for path, original in rows if original)
    kinds["updated"] = table(reference, "SELECT count(*) FROM versions")[0][0]
    kinds["duplicate"] = table(
        reference, "SELECT count(*) FROM urls WHERE url LIKE '%-copy'"
    )[0][0]
    assert kinds["new"] >= 25
    assert kinds["near-duplicate"] >= 1
    assert kinds["updated"] == 5
    assert kinds["duplicate"] == 5
    assert_sound(reference)


def _wait_for(process: subprocess.Popen, output: Path, target: int) -> None:
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if progress(output) >= target:
            return
        time.sleep(0.005)


def test_kill_9_at_many_moments_then_rerun_equals_an_uninterrupted_run(
    more_pages: Path, more_reference: Path, tmp_path: Path
) -> None:
    pages, reference = more_pages, more_reference
    rng = random.Random(SEED)
    total = progress(reference)
    targets = sorted(rng.sample(range(2, total * 3 // 4), RUNNING_KILLS))
    output = tmp_path / "out"
    kills: list[str] = []
    for round_ in range(STARTUP_KILLS + RUNNING_KILLS):
        log = tmp_path / f"run-{round_}.log"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                replay_command(pages, output),
                stdout=stderr,
                stderr=stderr,
                # commits of a few articles: kills land inside them, and between
                env={**os.environ, "BROADSHEET_STORE_BATCH": "4"},
            )
            if round_ < STARTUP_KILLS:
                time.sleep(rng.uniform(0.05, 1.5))
                moment = "startup"
            else:
                target = max(targets[round_ - STARTUP_KILLS], progress(output) + 1)
                _wait_for(process, output, target)
                time.sleep(rng.uniform(0.0, 0.05))
                moment = f"after {progress(output)} of {total} stored rows"
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                kills.append(moment)
            process.wait(timeout=30)
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text
        assert "in use by" not in text, "a killed run's lock blocked the next one"
        assert process.returncode == -signal.SIGKILL, text
        if (output / "broadsheet.db").exists():
            assert table(output, "PRAGMA integrity_check") == [("ok",)]
    assert len(kills) == STARTUP_KILLS + RUNNING_KILLS, kills
    assert progress(output) > 0  # some kills landed while pages were being stored
    final = subprocess.run(
        replay_command(pages, output), capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr
    assert state(output) == state(reference)
    assert_sound(output)


# -- every write step of the store, crashed deterministically -----------------


def _step_codes() -> dict[Any, tuple[str, str]]:
    """The code objects of the store's write steps -> (module, function)."""
    steps = {
        "store": (
            store_module.Store._announce,
            store_module.Store._insert_row,
            store_module.Store._add_urls,
            store_module.Store._recover,
        ),
        "paths": (paths_module.write_atomic,),
        "schema": (inspect.unwrap(schema_module.transaction),),
        "batch": (inspect.unwrap(Batch.transaction), Batch.flush),
    }
    return {
        function.__code__: (module, function.__name__)
        for module, functions in steps.items()
        for function in functions
    }


def _articles(pages: Path) -> list[Article]:
    """Extract once; the crash runs then only store."""
    found = []
    source = adhoc_source("news")
    for page in iter_pages(input_files([pages]), "news", lambda host: None):
        try:
            found.append(extract(page, source))
        except Dropped:
            continue
    return found


def _store_all(output: Path, articles: list[Article], batch: int = 1) -> None:
    with Store(output, batch=batch) as store:
        for article in articles:
            store.add(normalize(article))


def _step_events(
    output: Path, articles: list[Article], batch: int = 1
) -> list[tuple[str, str, str]]:
    """The write steps a clean run goes through, as (event, file, function)."""
    events: list[tuple[str, str, str]] = []

    codes = _step_codes()

    def profile(frame, event, arg):
        if frame.f_code in codes and event in ("call", "return"):
            events.append((event, *codes[frame.f_code]))

    sys.setprofile(profile)
    try:
        _store_all(output, articles, batch)
    finally:
        sys.setprofile(None)
    return events


def _crash_at(output: Path, articles: list[Article], index: int, batch: int = 1) -> int:
    """Fork; the child stores the articles and SIGKILLs itself at step event ``index``."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        seen = [0]
        codes = _step_codes()

        def profile(frame, event, arg):
            if frame.f_code in codes and event in ("call", "return"):
                if seen[0] == index:
                    os.kill(os.getpid(), signal.SIGKILL)
                seen[0] += 1

        sys.setprofile(profile)
        try:
            _store_all(output, articles, batch)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.fixture(scope="module")
def few_articles(pages: Path) -> list[Article]:
    """The eight variants of one saved page: new, duplicate, near-duplicate, updated."""
    chosen = sorted(pages.glob("p0*.html"))
    folder = pages.parent / "few"
    folder.mkdir(exist_ok=True)
    manifest = dict(
        line.split("\t") for line in (pages / "urls.tsv").read_text().splitlines()
    )
    lines = []
    for file in chosen:
        (folder / file.name).write_bytes(file.read_bytes())
        os.utime(folder / file.name, (file.stat().st_mtime,) * 2)
        lines.append(f"{file.name}\t{manifest[file.name]}")
    (folder / "urls.tsv").write_text("\n".join(lines) + "\n")
    return _articles(folder)


@pytest.mark.parametrize("batch", [1, 3])  # a commit per article, or per three
def test_every_write_step_of_the_store_survives_a_kill(
    few_articles: list[Article], tmp_path: Path, batch: int
) -> None:
    clean = tmp_path / "clean"
    events = _step_events(clean, few_articles, batch)
    assert ("call", "paths", "write_atomic") in events
    assert_sound(clean)
    expected = state(clean)
    rng = random.Random(SEED)
    points = sorted(rng.sample(range(len(events)), min(STEP_KILLS, len(events))))
    for index in points:
        output = tmp_path / f"crash-{index}"
        status = _crash_at(output, few_articles, index, batch)
        assert os.WIFSIGNALED(status), f"step {index} {events[index]} did not crash"
        _store_all(output, few_articles, batch)
        where = f"after a kill at {events[index]} #{index}"
        assert state(output) == expected, where
        assert table(output, "PRAGMA integrity_check") == [("ok",)], where
        assert table(output, "SELECT * FROM pending_files") == [], where


def test_a_kill_during_recovery_is_recovered_too(
    few_articles: list[Article], tmp_path: Path
) -> None:
    output = tmp_path / "out"
    clean = tmp_path / "clean"
    events = _step_events(clean, few_articles)
    # Kill right after the first file is written, before its row is committed ...
    index = events.index(("return", "paths", "write_atomic"))
    assert os.WIFSIGNALED(_crash_at(output, few_articles, index))
    assert table(output, "SELECT count(*) FROM pending_files") == [(1,)]
    # ... then kill the next run while it settles that file.
    assert os.WIFSIGNALED(_crash_at(output, [], 1))
    _store_all(output, few_articles)
    assert state(output) == state(clean)
    assert_sound(output)


def test_an_older_copy_never_replaces_a_newer_one(
    few_articles: list[Article], tmp_path: Path
) -> None:
    """Saved pages replayed in any order, or twice, end in the same state."""
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    _store_all(forward, few_articles)
    first = state(forward)
    _store_all(forward, few_articles)
    assert state(forward) == first
    older, newer = [a for a in few_articles if a.url.endswith("-v2")]
    assert older.url == newer.url
    assert older.text != newer.text
    assert older.fetched_at < newer.fetched_at
    _store_all(backward, few_articles[::-1])
    [(text,)] = table(backward, f"SELECT text FROM articles WHERE url = '{newer.url}'")
    assert text == newer.text  # the later fetch wins
    assert (older.text,) in table(backward, "SELECT text FROM versions")


# -- a crawl, killed and resumed --------------------------------------------------


CRAWL = [*BROADSHEET, "crawl"]
CRAWL_KILLS = 2


def crawl_command(sources: Path, output: Path, **settings: str) -> list[str]:
    from test_crawl import FAST

    pairs = [f"-s{k}={v}" for k, v in {**FAST, **settings}.items()]
    return [*CRAWL, "--sources", str(sources), "--output", str(output), *pairs]


def stored_articles(output: Path) -> list[tuple[Any, ...]]:
    return table(output, "SELECT url, title, text, path FROM articles ORDER BY url")


def article_count(output: Path) -> int:
    try:
        return table(output, "SELECT count(*) FROM articles")[0][0]
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def site() -> Iterator[Any]:
    sys.path.insert(0, str(Path(__file__).parent))
    from sitesrv import SiteServer

    with SiteServer(slow=0.5) as server:
        yield server


@pytest.fixture(scope="module")
def crawled(site: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sources file for the loopback site and one uninterrupted crawl of it."""
    from test_crawl import write_sources

    folder = tmp_path_factory.mktemp("crawl")
    sources = write_sources(folder / "sources.toml", site.base)
    output = folder / "reference"
    done = subprocess.run(
        crawl_command(sources, output), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert len(stored_articles(output)) == 11  # the slow page answers in time here
    return sources, output


def test_kill_9_during_a_crawl_then_rerun_stores_the_same_articles(
    crawled: tuple[Path, Path], tmp_path: Path
) -> None:
    sources, reference = crawled
    rng = random.Random(SEED)
    output = tmp_path / "out"
    slow = {"DOWNLOAD_DELAY": "0.2", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    for round_ in range(CRAWL_KILLS):
        log = tmp_path / f"crawl-{round_}.log"
        with open(log, "wb") as sink:
            process = subprocess.Popen(
                crawl_command(sources, output, **slow), stdout=sink, stderr=sink
            )
            target = article_count(output) + rng.randint(1, 3)
            deadline = time.monotonic() + 60
            while article_count(output) < target and process.poll() is None:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.1))
            assert process.poll() is None, log.read_text()
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        assert "Traceback" not in log.read_text(errors="replace")
    assert 0 < article_count(output) < 10
    final = subprocess.run(
        crawl_command(sources, output), capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr
    assert stored_articles(output) == stored_articles(reference)
    assert_sound(output)


@pytest.fixture(scope="module")
def paused_and_resumed(
    crawled: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A JOBDIR crawl stopped with Ctrl-C after two articles, then run again."""
    sources, _ = crawled
    folder = tmp_path_factory.mktemp("jobdir")
    output, jobdir = folder / "out", folder / "job"
    slow = {"DOWNLOAD_DELAY": "0.3", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    process = subprocess.Popen(
        crawl_command(sources, output, JOBDIR=str(jobdir), **slow),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    while article_count(output) < 2 and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)  # Ctrl-C: Scrapy stops and keeps its queue
    _, paused_log = process.communicate(timeout=60)
    queue_kept = (jobdir / "requests.queue").is_dir()
    paused = article_count(output)
    resumed = subprocess.run(
        crawl_command(sources, output, JOBDIR=str(jobdir), LOG_LEVEL="INFO"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return {
        "output": output,
        "paused_log": paused_log,
        "queue_kept": queue_kept,
        "paused": paused,
        "resumed": resumed,
    }


def test_a_crawl_paused_with_jobdir_resumes_where_it_stopped(
    crawled: tuple[Path, Path], paused_and_resumed: dict[str, Any]
) -> None:
    run = paused_and_resumed
    assert "Traceback" not in run["paused_log"]
    assert "stopped early" in run["paused_log"]
    assert run["queue_kept"]
    assert run["paused"] < len(stored_articles(crawled[1])), run["paused"]
    assert "Traceback" not in run["resumed"].stderr
    assert "Resuming crawl" in run["resumed"].stderr
    assert stored_articles(run["output"]) == stored_articles(crawled[1])
    assert_sound(run["output"])


def test_a_resumed_jobdir_crawl_is_not_reported_failing(
    paused_and_resumed: dict[str, Any],
) -> None:
    resumed = paused_and_resumed["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-500:]
