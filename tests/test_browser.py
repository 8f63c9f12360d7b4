"""What a reader sees of ``broadsheet serve``, in a real headless Chromium.

Debian's ``chromium`` (``.ci/run`` installs it) loads the pages from a real Datasette on
127.0.0.1 and runs their scripts; every other host name is made unresolvable, so
nothing leaves the machine. The DOM it dumps is checked: the dashboard's charts drawn
as SVG marks, one per row of their data, and a story's markdown body shown as HTML.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
import yaml
from test_datasette import Server
from test_stats import build_output

from pipeline.serve.datasette import METADATA_PATH

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",  # as root, in CI
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,1000",
    "--virtual-time-budget=15000",  # scripts, data fetches and chart drawing settle
]
MARKDOWN_BODY = """Heavy rain **arrived early** in Mumbai on Sunday.

## What the IMD said

- Rain in every ward
- [Warnings](https://mausam.imd.gov.in/) for the coast
"""
CHARTS = yaml.safe_load(METADATA_PATH.read_text())["plugins"]["datasette-dashboards"][
    "news"
]["charts"]


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output_dir = tmp_path_factory.mktemp("output")
    db = build_output(output_dir)
    db["articles"].update(4, {"body_md": MARKDOWN_BODY, "section": "Mumbai"})
    db["articles"].update(5, {"section": "Markets"})
    db.close()
    return output_dir


@pytest.fixture(scope="module")
def server(output: Path) -> Iterator[Server]:
    running = Server(output)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def public(output: Path) -> Iterator[Server]:
    running = Server(output, "--public")
    yield running
    running.stop()


def browse(url: str, profile: Path) -> lxml.html.HtmlElement:
    """The DOM of ``url`` once Chromium has run its scripts."""
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return lxml.html.fromstring(done.stdout)


def chart_rows(output: Path, chart: str, **filters: str) -> list[tuple]:
    params = {"source": "", "date_start": "", "date_end": "", **filters}
    with sqlite3.connect(output / "broadsheet.db") as conn:
        return conn.execute(CHARTS[chart]["query"], params).fetchall()


def marks(page: lxml.html.HtmlElement, chart: str, kind: str, group: str = "") -> list:
    """The SVG shapes of one chart's marks of ``kind`` (rect, arc, line, symbol).

    ``group``: a class of the marks' group, to pick one layer of a layered chart.
    """
    classes = "concat(' ', @class, ' ')"
    wanted = [f"mark-{kind}", "role-mark", *([group] if group else [])]
    tests = " and ".join(f"contains({classes}, ' {name} ')" for name in wanted)
    return page.xpath(
        f'//div[@id="chart-{chart}"]//*[local-name()="svg"]'
        f'//*[local-name()="g"][{tests}]/*[local-name()="path"]'
    )


@pytest.mark.parametrize("served", ["server", "public"])
def test_dashboard_draws_every_chart(
    served: str, output: Path, tmp_path: Path, request: pytest.FixtureRequest
):
    """As served on loopback, and in public where only the charts' own SQL runs."""
    server = request.getfixturevalue(served)
    page = browse(server.base + "/-/dashboards/news", tmp_path)
    assert page.findtext(".//h1").strip() == "News"
    days = chart_rows(output, "stories_per_day")
    assert len(days) == 5  # the stories of 4 June to 9 June, by day and source
    assert len(marks(page, "stories_per_day", "rect")) == len(days)
    assert len(marks(page, "duplicates", "arc")) == 2  # stories, near-duplicates
    assert len(marks(page, "sections", "rect")) == 3  # Mumbai, Markets, (none)
    assert len(marks(page, "runs", "line")) == 6  # pages and new, for 3 sources
    crosses = marks(page, "runs", "symbol", group="layer_1_marks")
    assert len(crosses) == 2  # hindustantimes' and ndtv's failing runs
    assert len(marks(page, "runs", "symbol", group="layer_0_layer_1_marks")) == 12
    legend = " ".join(page.xpath('//div[@id="chart-stories_per_day"]//text()'))
    assert "hindustantimes" in legend
    assert "ndtv" in legend
    options = page.xpath('//select[@id="source"]/option/@value')
    assert options == ["", "business-standard", "hindustantimes", "ndtv"]


def test_dashboard_filters(server: Server, output: Path, tmp_path: Path):
    url = "/-/dashboards/news?source=ndtv&date_start=2024-06-01&date_end=2024-06-08"
    page = browse(server.base + url, tmp_path)
    days = chart_rows(
        output,
        "stories_per_day",
        source="ndtv",
        date_start="2024-06-01",
        date_end="2024-06-08",
    )
    assert days == [("2024-06-04", "ndtv", 1)]  # its other story is a near-duplicate
    assert len(marks(page, "stories_per_day", "rect")) == 1
    assert len(marks(page, "runs", "line")) == 0  # ndtv's runs were on 9 June
    legend = " ".join(page.xpath('//div[@id="chart-stories_per_day"]//text()'))
    assert "hindustantimes" not in legend


def test_article_page_shows_the_story(server: Server, tmp_path: Path):
    page = browse(server.base + "/broadsheet/articles/4", tmp_path)
    [story] = page.xpath('//article[@class="story"]')
    assert story.findtext("h1") == "Monsoon reaches Mumbai two days early, IMD says"
    body = story.xpath('.//div[@class="story-body"]')[0]
    assert body.xpath(".//strong/text()") == ["arrived early"]
    assert body.xpath(".//h2/text()") == ["What the IMD said"]
    assert body.xpath(".//li")[0].text == "Rain in every ward"
    assert body.xpath(".//a/@href") == ["https://mausam.imd.gov.in/"]
    assert "**" not in body.text_content()
    [original] = story.xpath('.//a[@class="story-original"]/@href')
    assert original.startswith("https://www.hindustantimes.com/mumbai-news/monsoon")
    [when] = story.xpath(".//time")
    assert (when.get("datetime"), when.text) == (
        "2024-06-09T08:00:00+05:30",
        "2024-06-09 08:00:00",
    )
    assert not story.xpath('.//p[@class="story-copy"]')


def test_near_duplicate_links_to_the_story_it_copies(server: Server, tmp_path: Path):
    page = browse(server.base + "/broadsheet/articles/3", tmp_path)
    [copy] = page.xpath('//p[@class="story-copy"]')
    assert copy.xpath("a/@href") == ["/broadsheet/articles/1"]
    assert "86% alike" in copy.text_content()
    assert "RBI keeps repo rate unchanged" in copy.text_content()


def test_search_page(server: Server, tmp_path: Path):
    page = browse(
        server.base + "/broadsheet/articles?_search=monsoon+mumbai&_facet=source",
        tmp_path,
    )
    titles = page.xpath('//table[contains(@class, "rows-and-columns")]//td[4]//text()')
    assert "Monsoon reaches Mumbai two days early, IMD says" in titles
    facets = page.xpath('//div[contains(@class, "facet-info")]/@data-column')
    assert sorted(facets) == ["date_local", "lang", "source"]  # each once
    [feed] = page.xpath('//a[text()="atom"]/@href')
    assert feed.startswith("/broadsheet/articles.atom?_search=monsoon+mumbai")
    [details] = page.xpath('//details[@class="column-descriptions"]')
    assert details.get("open") is None  # folded away from the rows
    assert details.findtext("summary") == "About the columns (23)"
