"""``broadsheet serve``: a real Datasette on 127.0.0.1, queried through its JSON API."""

from __future__ import annotations

import hashlib
import http.client
import json
import queue
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import urlopen
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner
from sqlite_utils import Database
from test_stats import build_output, store_output

from pipeline.cli import cli
from pipeline.serve.datasette import (
    METADATA_PATH,
    PLUGINS_DIR,
    datasette_command,
    is_loopback,
)
from pipeline.serve.limits import ERROR_BURST
from pipeline.store.schema import SCHEMA_VERSION, migrate

REPO = Path(__file__).parent.parent
STARTUP_SECONDS = 30
LISTENING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class Server:
    """``broadsheet serve --port 0`` in a subprocess; its stderr is drained in a thread."""

    def __init__(self, output_dir: Path, *options: str) -> None:
        command = [sys.executable, "-c", "from pipeline.cli import cli; cli()", "serve"]
        self.process = subprocess.Popen(
            [*command, "--output", str(output_dir), "--port", "0", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = self._wait_for_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.log.append(line)
            if match := LISTENING.search(line):
                return int(match.group(1))
        self.stop()
        raise RuntimeError("Datasette did not start:\n" + "".join(self.log))

    def get(self, path: str) -> bytes:
        with urlopen(self.base + path, timeout=10) as response:
            return response.read()

    def json(self, path: str) -> dict:
        return json.loads(self.get(path))

    def rows(self, path: str) -> list[dict]:
        separator = "&" if "?" in path else "?"
        return self.json(f"{path}{separator}_shape=objects")["rows"]

    def status(self, path: str, source: str = "127.0.0.1") -> tuple[int, bytes]:
        """Status and body of ``path``, asked from the loopback address ``source``."""
        return self.answer(path, source)[::2]

    def answer(
        self, path: str, source: str = "127.0.0.1", headers: dict | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """Status, headers and body of ``path``, asked from address ``source``."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=10, source_address=(source, 0)
        )
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def stop(self) -> list[str]:
        """Stop the server; every line it logged."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        time.sleep(0.2)  # the drain thread reads the last lines
        while not self.lines.empty():
            self.log.append(self.lines.get())
        return self.log


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Database]]:
    """The output folder and an open connection standing for a crawl writing it."""
    output_dir = tmp_path_factory.mktemp("output")
    db = build_output(output_dir)
    yield output_dir, db
    db.close()


@pytest.fixture(scope="module")
def server(output: tuple[Path, Database]) -> Iterator[Server]:
    running = Server(output[0])
    yield running
    running.stop()


def test_full_text_search(server: Server) -> None:
    rows = server.rows("/broadsheet/articles.json?_search=repo+rates&_sort=id")
    assert [row["id"] for row in rows] == [1, 2, 3]  # porter stemming: rates -> rate
    rows = server.rows("/broadsheet/articles.json?_search=monsoon+mumbai")
    assert [row["title"] for row in rows] == [
        "Monsoon reaches Mumbai two days early, IMD says"
    ]


def test_search_text_with_punctuation_is_escaped(server: Server) -> None:
    rows = server.rows("/broadsheet/articles.json?_search=6.5%25+Das%27")
    assert [row["id"] for row in rows] == [2]


def test_facets(server: Server) -> None:
    data = server.json("/broadsheet/articles.json?_facet=source")
    counts = {
        name: {r["value"]: r["count"] for r in facet["results"]}
        for name, facet in data["facet_results"].items()
    }
    assert counts["source"] == {"hindustantimes": 3, "business-standard": 2, "ndtv": 2}
    assert data["suggested_facets"]  # on loopback Datasette suggests facets as usual
    assert counts["lang"] == {"en": 6, "hi": 1}
    assert counts["date_local"] == {
        "2024-06-07": 3,
        "2024-06-04": 1,
        "2024-06-06": 1,
        "2024-06-08": 1,
        "2024-06-09": 1,
    }


def test_date_facet_filters_by_local_day(server: Server) -> None:
    rows = server.rows("/broadsheet/articles.json?date_local__date=2024-06-07&_sort=id")
    assert [row["id"] for row in rows] == [1, 2, 3]


def test_latest_per_source(server: Server) -> None:
    rows = server.rows("/broadsheet/latest_per_source.json")
    assert [(row["source"], row["id"]) for row in rows] == [
        ("business-standard", 5),
        ("business-standard", 1),
        ("hindustantimes", 4),
        ("hindustantimes", 2),
        ("hindustantimes", 6),
        ("ndtv", 3),
        ("ndtv", 7),
    ]


def test_same_story_in_several_sources(server: Server) -> None:
    rows = server.rows("/broadsheet/same_story.json")
    assert [
        (r["story_id"], r["sources"], r["carried_by"], r["near_duplicates"])
        for r in rows
    ] == [
        (1, 3, "business-standard, hindustantimes, ndtv", 2),  # near-duplicates
        (4, 2, "hindustantimes, ndtv", 0),  # a copy's URL on a host of ndtv's articles
        (5, 2, "business-standard, hindustantimes", 0),  # a copy's URL, sources table
    ]
    assert rows[0]["max_similarity"] == 0.91


def test_updated_stories_with_versions(server: Server) -> None:
    rows = server.rows("/broadsheet/updated_stories.json")
    assert [
        (r["article_id"], r["version"], r["title"], r["seen_until"]) for r in rows
    ] == [
        (4, 1, "Monsoon set to reach Mumbai soon", "2024-06-09T05:00:00+00:00"),
        (4, 2, "Monsoon reaches Mumbai, IMD says", "2024-06-09T09:00:00+00:00"),
        (4, 3, "Monsoon reaches Mumbai two days early, IMD says", None),
    ]


def test_crawl_health(server: Server) -> None:
    rows = server.rows("/broadsheet/crawl_health.json")
    figures = [
        (
            r["source"],
            r["last_status"],
            r["failing_since_ok"],
            r["failing_runs"],
            r["runs"],
            r["http_errors_total"],
        )
        for r in rows
    ]
    assert figures == [  # failing sources first
        ("hindustantimes", "failing", 1, 1, 2, 3),
        ("business-standard", "ok", 0, 0, 2, 1),
        ("ndtv", "ok", 0, 1, 2, 2),
    ]
    assert rows[0]["last_ok"] == "2024-06-09T04:00:00+00:00"
    assert rows[0]["last_message"] == "every request was answered 403 (CDN edge)"
    assert json.loads(rows[0]["last_http_errors"]) == {"403": 3}


def test_every_canned_query_is_tested() -> None:
    metadata = yaml.safe_load(METADATA_PATH.read_text())
    queries = metadata["databases"]["broadsheet"]["queries"]
    assert set(queries) == {
        "latest_per_source",
        "same_story",
        "updated_stories",
        "crawl_health",
    }


def test_article_page(server: Server) -> None:
    html = server.get("/broadsheet/articles/1").decode()
    assert "RBI keeps repo rate unchanged at 6.5% for eighth time in a row" in html
    assert 'href="/broadsheet/articles?duplicate_of=1"' in html
    assert 'href="/broadsheet/versions?article_id=1"' in html


def test_metadata_is_served(server: Server) -> None:
    table = server.json("/-/metadata.json")["databases"]["broadsheet"]["tables"]
    assert table["articles"]["label_column"] == "title"
    html = server.get("/broadsheet/articles").decode()
    assert "One row per story." in html
    assert "Articles remain their publishers&#39; content" in html


def test_internal_tables_are_hidden(server: Server) -> None:
    tables = {t["name"]: t["hidden"] for t in server.json("/broadsheet.json")["tables"]}
    visible = {name for name, hidden in tables.items() if not hidden}
    assert visible == {"articles", "urls", "versions", "crawls", "sources", "drops"}
    for internal in (
        "minhashes",
        "lsh_bands",
        "pending_files",
        "feed_state",
        "settings",
    ):
        assert tables[internal] is True


def test_sees_rows_written_while_serving(
    server: Server, output: tuple[Path, Database]
) -> None:
    db = output[1]
    db["sources"].insert({"name": "scroll", "domains": '["scroll.in"]', "lang": "en"})
    assert server.rows("/broadsheet/sources.json?name=scroll")[0]["domains"] == (
        '["scroll.in"]'
    )


def test_unknown_table_is_404(server: Server) -> None:
    with pytest.raises(HTTPError) as error:
        server.get("/broadsheet/nonesuch.json")
    assert error.value.code == 404


def test_serve_leaves_the_database_unchanged(tmp_path: Path) -> None:
    build_output(tmp_path).close()
    db_file = tmp_path / "broadsheet.db"
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    running = Server(tmp_path)
    try:
        assert len(running.rows("/broadsheet/articles.json?_search=rbi")) == 3
        running.get("/broadsheet/crawl_health")
    finally:
        running.stop()
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before


def test_serve_without_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--output", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: no database at {tmp_path / 'none' / 'broadsheet.db'}: "
        "run broadsheet crawl or replay first\n"
    )


def test_serve_refuses_a_newer_schema_and_leaves_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "broadsheet.db")
    migrate(db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    result = CliRunner().invoke(cli, ["serve", "--output", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'broadsheet.db'} has schema version {SCHEMA_VERSION + 1}, "
        f"newer than this broadsheet understands ({SCHEMA_VERSION}): "
        "upgrade broadsheet to read it\n"
    )
    version = Database(tmp_path / "broadsheet.db").execute("PRAGMA user_version")
    assert version.fetchone() == (SCHEMA_VERSION + 1,)


def test_serve_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "broadsheet.db").write_text("not a database, just text\n" * 100)
    result = CliRunner().invoke(cli, ["serve", "--output", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: {tmp_path / 'broadsheet.db'} is not an SQLite database: "
    )


def test_datasette_command() -> None:
    db_path = Path("out/broadsheet.db")
    assert datasette_command(db_path, "127.0.0.1", 8080, open_browser=True) == [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        "out/broadsheet.db",
        "--metadata",
        str(METADATA_PATH),
        "--host",
        "127.0.0.1",
        "--port",
        "8080",
        "--open",
    ]
    assert "--immutable" not in datasette_command(db_path)


def settings_of(command: list[str]) -> list[tuple[str, str]]:
    return [
        (command[i + 1], command[i + 2])
        for i, word in enumerate(command)
        if word == "--setting"
    ]


def test_beyond_loopback_the_command_is_public() -> None:
    db_path = Path("out/broadsheet.db")
    public = datasette_command(db_path, "0.0.0.0")
    assert public[public.index("--plugins-dir") + 1] == str(PLUGINS_DIR)
    assert ("default_allow_sql", "off") in settings_of(public)
    assert ("sql_time_limit_ms", "1000") in settings_of(public)
    assert datasette_command(db_path, "127.0.0.1", public=True) == [
        *datasette_command(db_path, "127.0.0.1", public=False),
        *public[public.index("--plugins-dir") :],
    ]
    allowed = datasette_command(db_path, "::", allow_sql=True)
    assert "default_allow_sql" not in dict(settings_of(allowed))
    mine = datasette_command(
        db_path, "10.0.0.5", settings=[("sql_time_limit_ms", "50")]
    )
    assert settings_of(mine)[-1] == ("sql_time_limit_ms", "50")  # last: it wins


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("news.example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("table", ["articles", "urls", "versions", "crawls", "sources"])
def test_every_column_is_described(tmp_path: Path, table: str) -> None:
    db = Database(tmp_path / "broadsheet.db")
    migrate(db)
    metadata = yaml.safe_load(METADATA_PATH.read_text())
    described = metadata["databases"]["broadsheet"]["tables"][table]
    assert described["description"]
    assert set(described["columns"]) == set(db[table].columns_dict)
    assert set(described.get("sortable_columns", [])) <= set(db[table].columns_dict)


def test_canned_queries_over_what_the_store_wrote(tmp_path: Path) -> None:
    store_output(tmp_path)
    queries = yaml.safe_load(METADATA_PATH.read_text())["databases"]["broadsheet"][
        "queries"
    ]
    conn = sqlite3.connect(tmp_path / "broadsheet.db")
    conn.row_factory = sqlite3.Row

    def run(name: str) -> list[dict]:
        return [dict(row) for row in conn.execute(queries[name]["sql"])]

    assert [(r["source"], r["id"]) for r in run("latest_per_source")] == [
        ("hindustantimes", 2),
        ("ndtv", 1),
    ]
    [story] = run("same_story")
    assert (story["story_id"], story["carried_by"]) == (1, "hindustantimes, ndtv")
    assert [(r["article_id"], r["version"]) for r in run("updated_stories")] == [
        (1, 1),
        (1, 2),
    ]
    health = {r["source"]: r for r in run("crawl_health")}
    assert health["hindustantimes"]["last_status"] == "failing"
    assert health["ndtv"]["http_errors_total"] == 1
    conn.close()


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_entries(server: Server, path: str) -> tuple[ElementTree.Element, list]:
    feed = ElementTree.fromstring(server.get(path))
    return feed, feed.findall(f"{ATOM}entry")


def test_search_as_an_atom_feed(server: Server) -> None:
    feed, entries = atom_entries(server, "/broadsheet/articles.atom?_search=repo+rate")
    assert feed.findtext(f"{ATOM}title").startswith(
        'broadsheet: articles where search matches "repo rate"'
    )
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        row["title"]
        for row in server.rows("/broadsheet/articles.json?_search=repo+rate")
    ]
    story = next(
        e for e in entries if e.findtext(f"{ATOM}title").startswith("RBI keeps")
    )
    url = "https://www.business-standard.com/economy/news/rbi-keeps-repo-rate-unchanged"
    assert story.findtext(f"{ATOM}id").startswith(url)
    assert story.find(f"{ATOM}link").get("href").startswith(url)
    assert story.findtext(f"{ATOM}updated") == "2024-06-07T10:15:00+05:30"
    assert story.findtext(f"{ATOM}author/{ATOM}name") == "Press Trust of India"
    assert story.find(f"{ATOM}category").get("term") == "business-standard"
    content = story.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<p>The Reserve Bank of India kept the repo rate" in content.text


def test_canned_queries_as_atom_feeds(server: Server) -> None:
    feed, entries = atom_entries(server, "/broadsheet/same_story.atom")
    assert feed.findtext(f"{ATOM}title") == (
        "broadsheet: Stories with near-duplicates or copies"
    )
    stories = server.rows("/broadsheet/same_story.json")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles == [row["title"] for row in stories]
    _, versions = atom_entries(server, "/broadsheet/updated_stories.atom")
    assert len(versions) == 1  # three versions of one story: one entry
    html = server.get("/broadsheet/crawl_health").decode()
    assert "crawl_health.atom" not in html  # its rows name no article
    with pytest.raises(HTTPError) as error:
        server.get("/broadsheet/crawl_health.atom")
    assert error.value.code == 400


def test_sql_with_atom_columns_is_left_to_datasette_atom(server: Server) -> None:
    sql = (
        "select 'tag:1' as atom_id, 'Hand-made' as atom_title,"
        " '2024-06-07T10:15:00+05:30' as atom_updated,"
        " 'https://example.org/1' as atom_link"
    )
    _, entries = atom_entries(server, f"/broadsheet.atom?sql={quote(sql)}")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Hand-made"]


def test_facets_asked_for_in_the_url_are_served_once(server: Server) -> None:
    path = "/broadsheet/articles.json?_search=rbi&_facet=source&_facet_date=date_local"
    facets = server.json(path)["facet_results"]
    assert set(facets) == {"source", "lang", "date_local"}
    assert {r["value"]: r["count"] for r in facets["source"]["results"]} == {
        "business-standard": 1,
        "hindustantimes": 1,
        "ndtv": 1,
    }
    more = server.json("/broadsheet/articles.json?_facet=source&_facet=section")
    assert set(more["facet_results"]) == {"source", "lang", "date_local", "section"}


def test_canned_queries_hide_their_sql(server: Server) -> None:
    queries = yaml.safe_load(METADATA_PATH.read_text())["databases"]["broadsheet"][
        "queries"
    ]
    assert all(query["hide_sql"] is True for query in queries.values())
    html = server.get("/broadsheet/latest_per_source").decode()
    assert "partition by source" not in html
    assert "<title>broadsheet: Latest stories per source</title>" in html
    assert "_show_sql=1" in html  # one click shows it


CHARTS = yaml.safe_load(METADATA_PATH.read_text())["plugins"]["datasette-dashboards"][
    "news"
]["charts"]


@pytest.mark.parametrize("served", ["server", "public"])
def test_dashboard_and_its_queries(served: str, request: pytest.FixtureRequest):
    server = request.getfixturevalue(served)
    html = server.get("/-/dashboards/news").decode()
    for slug, chart in CHARTS.items():
        assert f'id="chart-{slug}"' in html
        assert server.status(f"/-/dashboards/news/{slug}")[0] == 200
        filters = "&source=ndtv&date_start=2024-06-01&date_end=2024-06-30"
        for extra in ("", filters):
            rows = server.rows(f"/broadsheet.json?sql={quote(chart['query'])}{extra}")
            assert rows, slug
    assert 'href="-/dashboards/news"' in server.get("/").decode()  # on the home page


def test_article_page_is_a_story(server: Server) -> None:
    html = server.get("/broadsheet/articles/2").decode()
    assert '<article class="story">' in html
    assert "<h1>RBI holds repo rate at 6.5%, stance unchanged</h1>" in html
    assert (
        '<time datetime="2024-06-07T10:40:00+05:30">2024-06-07 10:40:00</time>' in html
    )
    assert 'href="/broadsheet/articles/1">RBI keeps repo rate unchanged' in html
    assert "(91% alike)" in html
    assert "<p>The Reserve Bank of India kept the repo rate" in html


def test_same_story_lists_near_duplicates_from_one_source(tmp_path: Path) -> None:
    db = Database(tmp_path / "broadsheet.db")
    migrate(db)
    for id_, duplicate_of in ((1, None), (2, 1), (3, None)):
        db["articles"].insert(
            {
                "id": id_,
                "url": f"https://gazette.example/{id_}",
                "source": "gazette",
                "title": f"Story {id_}",
                "content_hash": f"h{id_}",
                "first_seen": "2024-06-07T06:00:00+00:00",
                "last_seen": "2024-06-07T06:00:00+00:00",
                "duplicate_of": duplicate_of,
                "similarity": 0.9 if duplicate_of else None,
            }
        )
    queries = yaml.safe_load(METADATA_PATH.read_text())["databases"]["broadsheet"][
        "queries"
    ]
    conn = sqlite3.connect(tmp_path / "broadsheet.db")
    rows = conn.execute(queries["same_story"]["sql"]).fetchall()
    conn.close()
    db.close()
    assert [(row[0], row[4], row[5], row[6]) for row in rows] == [(1, 1, "gazette", 1)]


def test_serve_on_a_busy_port_is_one_line(server: Server) -> None:
    port = server.base.rsplit(":", 1)[1]
    output = Path(server.process.args[server.process.args.index("--output") + 1])
    result = CliRunner().invoke(cli, ["serve", "--output", str(output), "--port", port])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.output.splitlines()) == 1


# -- serving in public --------------------------------------------------------


@pytest.fixture(scope="module")
def public(output: tuple[Path, Database]) -> Iterator[Server]:
    running = Server(output[0], "--public")
    yield running
    running.stop()


def test_loopback_serves_sql_as_before(server: Server) -> None:
    assert server.rows("/broadsheet.json?sql=select+count(*)+as+n+from+articles") == [
        {"n": 7}
    ]


def test_public_refuses_arbitrary_sql_but_serves_queries_facets_and_search(
    public: Server,
) -> None:
    for path in (
        "/broadsheet.json?sql=select+*+from+feed_state",
        "/broadsheet?sql=select+1",
        "/broadsheet/articles.json?_where=1=1",
    ):
        assert public.status(path)[0] == 403, path
    assert len(public.rows("/broadsheet/crawl_health.json")) == 3
    assert len(public.rows("/broadsheet/same_story.json")) == 3
    search = public.rows("/broadsheet/articles.json?_search=repo+rates&_sort=id")
    assert [row["id"] for row in search] == [1, 2, 3]
    page = public.json("/broadsheet/articles.json?_facet=source")
    assert page["suggested_facets"] == []  # no trial queries for strangers
    facets = page["facet_results"]
    assert {r["value"] for r in facets["source"]["results"]} == {
        "hindustantimes",
        "business-standard",
        "ndtv",
    }


def test_public_runs_the_dashboards_sql_and_no_other(public: Server) -> None:
    sql = CHARTS["duplicates"]["query"]
    address = "127.0.0.3"  # its refusals spend the errors of an address of its own
    for path in (
        f"/broadsheet.json?sql={quote(sql + ' ')}",
        f"/broadsheet.json?sql={quote(sql.replace('articles', 'feed_state'))}",
        f"/broadsheet.json?sql={quote(sql)}&sql=select+1",
        f"/broadsheet.json?sql=select+1&sql={quote(sql)}",
        f"/broadsheet/articles.json?_where=1=1&sql={quote(sql)}",
        "/broadsheet.json?sql=select+*+from+feed_state",
    ):
        assert public.status(path, address)[0] == 403, path
    assert public.status(f"/broadsheet?sql={quote(sql)}", address)[0] == 200
    html = public.get("/broadsheet").decode()
    assert "<textarea" not in html  # no SQL editor on the database page


def test_public_pages_name_no_path_of_the_machine(
    public: Server, output: tuple[Path, Database]
) -> None:
    machine = {str(output[0].resolve()), sys.prefix, sys.exec_prefix, str(REPO)}
    pages = [
        "/",
        "/.json",
        "/broadsheet",
        "/broadsheet.json",
        "/broadsheet/articles",
        "/broadsheet/articles/1",
        "/broadsheet/articles/1.json",
        "/broadsheet/articles.atom?_search=rbi",
        "/broadsheet/crawl_health",
        "/-/dashboards",
        "/-/dashboards/news",
        "/-/databases.json",
        "/-/databases",
        "/-/threads.json",
        "/-/versions.json",
        "/-/plugins.json",
        "/-/settings.json",
        "/-/metadata.json",
        "/broadsheet/nope",
        "/broadsheet/nope.json",
        "/nope/nope/nope",
        "/broadsheet.json?sql=select+1",
    ]
    for path in pages:
        status, body = public.status(path, "127.0.0.4")
        text = body.decode("utf-8", "replace")
        assert not [where for where in machine if where in text], (path, status)
    assert public.status("/-/databases.json", "127.0.0.4")[0] == 404


def flood(
    server: Server, source: str, headers: dict | None = None
) -> tuple[list[int], float, http.client.HTTPMessage, bytes]:
    """Ask for a missing table until answered 429: the statuses, and when the last
    request started, its headers and body."""
    statuses: list[int] = []
    while len(statuses) < 3 * ERROR_BURST and 429 not in statuses:
        started = time.monotonic()
        status, answer_headers, body = server.answer(
            "/broadsheet/nope", source, headers
        )
        statuses.append(status)
    return statuses, started, answer_headers, body


def test_public_answers_a_client_flooding_errors_429_and_serves_the_others(
    output: tuple[Path, Database],
) -> None:
    running = Server(output[0], "--public")
    flooder = "127.0.0.2"
    try:
        statuses, started, headers, body = flood(running, flooder)
        assert statuses[:ERROR_BURST] == [404] * ERROR_BURST
        assert statuses[-1] == 429
        assert time.monotonic() - started > 0.5  # held: it asks about once a second
        assert int(headers["Retry-After"]) >= 1
        assert body.startswith(b"Too many errors from your address")
        assert running.status("/broadsheet/articles.json")[0] == 200
        assert running.status("/broadsheet/nope")[0] == 404  # another address
        # behind a reverse proxy on this machine: the address it forwards
        proxied = {"X-Forwarded-For": "198.51.100.7"}
        proxied_statuses = flood(running, "127.0.0.1", proxied)[0]
        assert proxied_statuses[-1] == 429
        assert running.status("/broadsheet/nope")[0] == 404  # the proxy itself
    finally:
        log = running.stop()
    limited = [line.split()[1] for line in log if "errors: answered 429" in line]
    assert limited == [flooder, "198.51.100.7"]
    errors = [line for line in log if "GET /broadsheet/nope:" in line]
    answered = statuses + proxied_statuses
    assert len(errors) == answered.count(404) + 2  # a 429 is not an error line


def test_public_errors_log_one_line_each(output: tuple[Path, Database]) -> None:
    running = Server(output[0], "--public")
    try:
        for _ in range(3):
            assert running.status("/broadsheet/nope")[0] == 404
        status, body = running.status("/broadsheet/articles.json?_sort=nope")
        assert status == 500  # Datasette's status for it, with its message
        assert json.loads(body)["error"] == "Cannot sort table by nope"
    finally:
        log = running.stop()
    text = "".join(log)
    assert "Traceback" not in text
    assert "locals" not in text.lower()
    assert len([line for line in log if "404 GET /broadsheet/nope:" in line]) == 3
    errors = [line for line in log if "Cannot sort table by nope" in line]
    assert len(errors) == 1
    assert errors[0].startswith("ERROR:")


def test_public_with_allow_sql_and_a_time_limit_passed_through(
    output: tuple[Path, Database],
) -> None:
    running = Server(
        output[0], "--public", "--allow-sql", "--setting", "sql_time_limit_ms", "100"
    )
    try:
        assert running.rows("/broadsheet.json?sql=select+2+as+n") == [{"n": 2}]
        endless = (
            "with recursive c(x) as (select 1 union all select x + 1 from c) "
            "select count(*) from c"
        )
        started = time.monotonic()
        status, body = running.status(f"/broadsheet.json?sql={quote(endless)}")
        assert time.monotonic() - started < 5
        assert b"SQL query took too long" in body, (status, body[:300])
        settings = running.json("/-/settings.json")
        assert settings["sql_time_limit_ms"] == 100
        assert settings["default_allow_sql"] is True
    finally:
        running.stop()
