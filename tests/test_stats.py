"""``broadsheet stats``: exact figures from a database and content tree built here.

:func:`build_output` is also the data ``tests/test_datasette.py`` serves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from pipeline.cli import cli
from pipeline.items import Article
from pipeline.normalize.stage import normalize
from pipeline.runstats import RunStats
from pipeline.serve.datasette import collect_stats
from pipeline.store.schema import SCHEMA_VERSION, migrate
from pipeline.store.writer import Store

BS = "https://www.business-standard.com"
HT = "https://www.hindustantimes.com"
NDTV = "https://www.ndtv.com"

RBI_TEXT = (
    "The Reserve Bank of India kept the repo rate unchanged at 6.5 per cent for the "
    "eighth time in a row on Friday, and the monetary policy committee retained its stance."
)


def article(id_: int, source: str, url: str, title: str, date: str, **extra) -> dict:
    text = extra.pop("text", f"{title}. Body of the story, as the publisher wrote it.")
    return {
        "id": id_,
        "url": url,
        "source": source,
        "title": title,
        "date": date,
        "date_local": date[:19].replace("T", " "),
        "summary": text[:80],
        "body_md": text,
        "text": text,
        "lang": extra.pop("lang", "en"),
        "authors": json.dumps(extra.pop("authors", ["Press Trust of India"])),
        "image": None,
        "word_count": len(text.split()),
        "content_hash": f"hash-{id_}",
        "path": extra.pop("path", None),
        "first_seen": "2024-06-07T06:00:00+00:00",
        "last_seen": "2024-06-07T06:00:00+00:00",
        "duplicate_of": None,
        "modified": None,
        "section": None,
        "keywords": "[]",
        "similarity": None,
        "fetched_url": url,
        **extra,
    }


ARTICLES = [
    article(
        1,
        "business-standard",
        f"{BS}/economy/news/rbi-keeps-repo-rate-unchanged-124060700301_1.html",
        "RBI keeps repo rate unchanged at 6.5% for eighth time in a row",
        "2024-06-07T10:15:00+05:30",
        text=RBI_TEXT,
        path="business-standard/2024/06/rbi-keeps-repo-rate-unchanged.md",
    ),
    article(
        2,
        "hindustantimes",
        f"{HT}/business/rbi-policy-repo-rate-unchanged-101717736000000.html",
        "RBI holds repo rate at 6.5%, stance unchanged",
        "2024-06-07T10:40:00+05:30",
        text=RBI_TEXT + " Governor Shaktikanta Das announced it.",
        duplicate_of=1,
        similarity=0.91,
    ),
    article(
        3,
        "ndtv",
        f"{NDTV}/business/rbi-monetary-policy-repo-rate-5840001",
        "Repo rate unchanged at 6.5% as RBI pauses again",
        "2024-06-07T10:55:00+05:30",
        text=RBI_TEXT + " Markets had expected the pause.",
        duplicate_of=1,
        similarity=0.86,
    ),
    article(
        4,
        "hindustantimes",
        f"{HT}/mumbai-news/monsoon-reaches-mumbai-two-days-early-101717740000000.html",
        "Monsoon reaches Mumbai two days early, IMD says",
        "2024-06-09T08:00:00+05:30",
        path="hindustantimes/2024/06/monsoon-reaches-mumbai-two-days-early.md",
        first_seen="2024-06-09T03:00:00+00:00",
        last_seen="2024-06-09T09:00:00+00:00",
    ),
    article(
        5,
        "business-standard",
        f"{BS}/markets/news/sensex-ends-200-points-higher-124060800512_1.html",
        "Sensex ends 200 points higher as banks gain",
        "2024-06-08T16:05:00+05:30",
        path="business-standard/2024/06/sensex-ends-200-points-higher.md",
    ),
    article(
        6,
        "hindustantimes",
        f"{HT}/hindi/india-news/monsoon-kerala-101717700000000.html",
        "केरल में मानसून ने दी दस्तक",
        "2024-06-06T12:00:00+05:30",
        text="केरल में मानसून ने समय से पहले दस्तक दी है, मौसम विभाग ने बताया।",
        lang="hi",
        path="hindustantimes/2024/06/monsoon-kerala.md",
    ),
    article(
        7,
        "ndtv",
        f"{NDTV}/india-news/election-results-counting-begins-5830002",
        "Election results 2024: counting of votes begins",
        "2024-06-04T08:00:00+05:30",
        path="ndtv/2024/06/election-results-counting-begins.md",
    ),
]

EXTRA_URLS = [
    (1, f"{BS}/amp/economy/news/rbi-keeps-repo-rate-unchanged-124060700301_1.html"),
    (4, ARTICLES[3]["url"] + "?utm_source=twitter&utm_medium=social"),
    (5, f"{HT}/business/sensex-ends-200-points-higher-101717850000000.html"),
    (4, f"{NDTV}/mumbai-news/monsoon-reaches-mumbai-two-days-early-5850003"),
]

VERSIONS = [
    ("Monsoon set to reach Mumbai soon", "hash-4a", "2024-06-09T03:00:00+00:00"),
    ("Monsoon reaches Mumbai, IMD says", "hash-4b", "2024-06-09T05:00:00+00:00"),
]
VERSION_ENDS = ["2024-06-09T05:00:00+00:00", "2024-06-09T09:00:00+00:00"]


def crawl(source: str, started: str, status: str, **figures) -> dict:
    return {
        "run_id": f"run-{started[11:13]}",
        "source": source,
        "command": "crawl",
        "started": started,
        "finished": started[:14] + "04:00+00:00",
        "status": status,
        "requests": figures.get("requests", 20),
        "pages": figures.get("pages", 10),
        "new": figures.get("new", 2),
        "updated": figures.get("updated", 0),
        "duplicates": 1,
        "unchanged": 0,
        "dropped": figures.get("dropped", 1),
        "dropped_reasons": json.dumps({"not-article": figures.get("dropped", 1)}),
        "http_errors": json.dumps(figures.get("http_errors", {})),
        "message": figures.get("message"),
    }


RUN1, RUN2 = "2024-06-09T04:00:00+00:00", "2024-06-09T05:00:00+00:00"
CRAWLS = [
    crawl("business-standard", RUN1, "ok"),
    crawl("business-standard", RUN2, "ok", pages=12, new=1, http_errors={"404": 1}),
    crawl("hindustantimes", RUN1, "ok", updated=1),
    crawl(
        "hindustantimes",
        RUN2,
        "failing",
        pages=0,
        new=0,
        dropped=0,
        http_errors={"403": 3},
        message="every request was answered 403 (CDN edge)",
    ),
    crawl("ndtv", RUN1, "failing", pages=0, new=0, http_errors={"503": 2}),
    crawl("ndtv", RUN2, "ok", pages=5, new=2),
]

SOURCES = [
    ("business-standard", ["business-standard.com"]),
    ("hindustantimes", ["hindustantimes.com"]),
    ("thehindu", ["thehindu.com"]),
]


def build_output(output_dir: Path) -> Database:
    """A crawled output folder: database (WAL, current schema) and markdown files.

    Article 7's file is missing and one file has no row; ndtv has no ``sources`` row
    (its hosts are known from its articles). Returns the open database.
    """
    db = Database(output_dir / "broadsheet.db")
    db.enable_wal()
    migrate(db)
    for name, domains in SOURCES:
        db["sources"].insert(
            {"name": name, "domains": json.dumps(domains), "feeds": "[]", "lang": "en"}
        )
    db["articles"].insert_all(ARTICLES)
    urls = [(row["id"], row["url"]) for row in ARTICLES] + EXTRA_URLS
    db["urls"].insert_all(
        {"url": url, "article_id": id_, "first_seen": "2024-06-07T06:00:00+00:00"}
        for id_, url in urls
    )
    for (title, hash_, since), until in zip(VERSIONS, VERSION_ENDS, strict=True):
        db["versions"].insert(
            {
                "article_id": 4,
                "title": title,
                "date": "2024-06-09T08:00:00+05:30",
                "summary": title,
                "body_md": f"{title}. Earlier text.",
                "text": f"{title}. Earlier text.",
                "content_hash": hash_,
                "seen_from": since,
                "seen_until": until,
            }
        )
    db["crawls"].insert_all(CRAWLS)
    content = output_dir / "content"
    for row in ARTICLES[:6]:
        if row["path"]:
            path = content / row["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f'---\ntitle: "{row["title"]}"\n---\n\n{row["text"]}\n')
    (content / "ndtv" / "2024" / "05").mkdir(parents=True)
    (content / "ndtv" / "2024" / "05" / "left-behind.md").write_text("---\n---\n\n")
    return db


@pytest.fixture
def output(tmp_path: Path) -> Path:
    build_output(tmp_path).close()
    return tmp_path


EXPECTED = {
    "database": "",  # filled in by the test: it depends on tmp_path
    "articles": {"total": 7, "stories": 5, "near_duplicates": 2},
    "urls": 11,
    "versions": {"rows": 2, "updated_stories": 1},
    "files": {"on_disk": 5, "rows_with_file": 5, "missing": 1, "without_row": 1},
    "langs": {"en": 6, "hi": 1},
}


def last_crawl(started: str, status: str, pages: int, new: int, **rest) -> dict:
    return {
        "started": started,
        "finished": started[:14] + "04:00+00:00",
        "status": status,
        "pages": pages,
        "new": new,
        "updated": rest.get("updated", 0),
        "dropped": rest.get("dropped", 1),
        "http_errors": rest.get("http_errors", 0),
        "message": rest.get("message"),
    }


EXPECTED_SOURCES = [
    {
        "name": "business-standard",
        "articles": 2,
        "stories": 2,
        "near_duplicates": 0,
        "last_crawl": last_crawl(RUN2, "ok", 12, 1, http_errors=1),
    },
    {
        "name": "hindustantimes",
        "articles": 3,
        "stories": 2,
        "near_duplicates": 1,
        "last_crawl": last_crawl(
            RUN2,
            "failing",
            0,
            0,
            dropped=0,
            http_errors=3,
            message="every request was answered 403 (CDN edge)",
        ),
    },
    {
        "name": "ndtv",
        "articles": 2,
        "stories": 1,
        "near_duplicates": 1,
        "last_crawl": last_crawl(RUN2, "ok", 5, 2),
    },
    {
        "name": "thehindu",
        "articles": 0,
        "stories": 0,
        "near_duplicates": 0,
        "last_crawl": None,
    },
]


def test_collect_stats_counts_everything(output: Path) -> None:
    stats = collect_stats(output)
    expected = EXPECTED | {"database": str(output / "broadsheet.db")}
    assert {key: stats[key] for key in expected} == expected
    assert stats["sources"] == EXPECTED_SOURCES


def test_stats_json(output: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--output", str(output), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["articles"] == EXPECTED["articles"]
    assert stats["files"] == EXPECTED["files"]
    assert [
        s["last_crawl"] and s["last_crawl"]["status"] for s in stats["sources"]
    ] == [
        "ok",
        "failing",
        "ok",
        None,
    ]


def test_stats_text(output: Path) -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["stats", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    lines = [
        " ".join(line.replace("│", " ").split()) for line in result.output.splitlines()
    ]
    for expected in (
        "Articles 7",
        "stories 5",
        "near-duplicates 2",
        "URLs 11",
        "Versions 2 (1 updated stories)",
        "Markdown files 5",
        "rows with a file 5",
        "missing files 1",
        "files without a row 1",
        "Languages en 6, hi 1",
        "business-standard 2 2 0",
        "hindustantimes 3 2 1",
        "ndtv 2 1 1",
        "thehindu 0 0 0",
        "business-standard 2024-06-09 05:00 ok 12 1 0 1",
        "hindustantimes 2024-06-09 05:00 failing 0 0 0 3",
        "ndtv 2024-06-09 05:00 ok 5 2 0 0",
        "thehindu never",
        "hindustantimes: every request was answered 403 (CDN edge)",
    ):
        assert expected in lines


def test_stats_without_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no database at {tmp_path / 'out' / 'broadsheet.db'}: "
        "run broadsheet crawl or replay first\n"
    )


def test_stats_refuses_older_schema_without_upgrading_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "broadsheet.db")
    migrate(db, upto=1)
    db.close()
    result = CliRunner().invoke(cli, ["stats", "--output", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'broadsheet.db'} has schema version 1, older than this "
        f"broadsheet's ({SCHEMA_VERSION}): run broadsheet crawl or replay once to upgrade it\n"
    )
    assert Database(tmp_path / "broadsheet.db").execute(
        "PRAGMA user_version"
    ).fetchone() == (1,)


RBI_LONG = (
    "The Reserve Bank of India kept the repo rate unchanged at six and a half per cent "
    "on Friday and the monetary policy committee voted four to two to retain its stance "
    "of withdrawal of accommodation while raising its growth forecast for the year and "
    "keeping the inflation projection at four and a half per cent with the governor "
    "saying food prices remained a worry for the central bank in the months ahead"
)


def store_output(output_dir: Path) -> None:
    """What a crawl leaves: stories, a near-duplicate, a copy, an update, run rows."""

    def story(url: str, source: str, text: str, fetched_at: str) -> Article:
        return Article(
            url=url,
            source=source,
            title="RBI keeps repo rate unchanged",
            body_md=text,
            text=text,
            date="2024-06-07T10:15:00+05:30",
            date_local="2024-06-07 10:15:00",
            fetched_at=fetched_at,
        )

    ndtv = f"{NDTV}/business/rbi-repo-rate-5840001"
    with Store(output_dir) as store:
        kinds = [
            store.add(
                normalize(story(ndtv, "ndtv", RBI_LONG, "2024-06-07T05:00:00+00:00"))
            ).kind,
            store.add(
                normalize(
                    story(
                        f"{HT}/business/rbi-repo-101717736000000.html",
                        "hindustantimes",
                        RBI_LONG.replace("Friday", "Friday morning"),
                        "2024-06-07T05:10:00+00:00",
                    )
                )
            ).kind,
            store.add(
                normalize(
                    story(
                        f"{BS}/economy/rbi-124060700301_1.html",
                        "business-standard",
                        RBI_LONG,
                        "2024-06-07T05:20:00+00:00",
                    )
                )
            ).kind,
            store.add(
                normalize(
                    story(
                        ndtv,
                        "ndtv",
                        RBI_LONG + " It was the eighth pause.",
                        "2024-06-07T07:00:00+00:00",
                    )
                )
            ).kind,
        ]
        assert kinds == ["new", "near-duplicate", "duplicate", "updated"]
        run = RunStats("ndtv", started="2024-06-07T05:00:00+00:00", pages=2, requests=3)
        run.count("new")
        run.count("updated")
        run.http_error(404)
        run.finish()
        store.record_crawl(run.as_row("run-1"))
        failed = RunStats("hindustantimes", started="2024-06-07T05:00:00+00:00")
        failed.http_error(403)
        failed.message = "403 Forbidden for every request"
        store.record_crawl(failed.as_row("run-1"))


def test_stats_of_what_the_store_wrote(tmp_path: Path) -> None:
    store_output(tmp_path)
    stats = collect_stats(tmp_path)
    assert stats["articles"] == {"total": 2, "stories": 1, "near_duplicates": 1}
    assert stats["urls"] == 3
    assert stats["versions"] == {"rows": 1, "updated_stories": 1}
    assert stats["files"] == {
        "on_disk": 1,
        "rows_with_file": 1,
        "missing": 0,
        "without_row": 0,
    }
    crawls = {s["name"]: s["last_crawl"] for s in stats["sources"]}
    assert crawls["ndtv"]["status"] == "ok"
    assert crawls["ndtv"]["http_errors"] == 1
    assert crawls["hindustantimes"]["status"] == "failing"
    assert crawls["hindustantimes"]["message"] == "403 Forbidden for every request"
