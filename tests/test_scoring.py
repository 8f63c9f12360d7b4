"""The quality harness's comparisons with ground truth (tests/benchmarks/scoring.py)."""

from __future__ import annotations

import pytest

from tests.benchmarks.scoring import date_match, prf, same_title, title_miss


@pytest.mark.parametrize(
    ("expected", "got", "want"),
    [
        ("2024-09-02T17:07:00+05:30", "2024-09-02T11:37:00+00:00", (True, True)),
        ("2024-09-02T17:07:00+05:30", "2024-09-02T18:07:00+05:30", (True, False)),
        ("2024-09-02", "2024-09-03", (False, None)),
        ("2024-09-02T17:07:00", "2024-09-02", (True, False)),
        # a bare day is a local day: 15:00 UTC is already the 26th in Tokyo
        ("2019-04-25T15:00:00.000Z", "2019-04-26", (True, False)),
        ("2022-07-18T22:00:00.000Z", "2022-07-19", (True, False)),
        ("2019-04-25T15:00:00.000Z", "2019-04-25", (True, False)),
        # but no time zone is two days away
        ("2019-04-25T15:00:00.000Z", "2019-04-27", (False, False)),
        ("2019-04-25T01:00:00.000Z", "2019-04-23", (False, False)),
        ("2019-04-25T15:00:00.000Z", None, (False, False)),
    ],
)
def test_dates_match_by_day_and_minute(expected, got, want):
    assert date_match(expected, got) == want


def test_titles_match_after_whitespace_and_invisible_characters():
    assert same_title("Ein bisschen Fortschritt\u200b", "Ein  bisschen Fortschritt")
    assert same_title("Helikopter\u00adlandeplatz", "Helikopterlandeplatz")
    assert not same_title("Budget day", "Budget day | Example News")


def test_body_scores_are_shingle_overlap():
    text = "one two three four five six seven eight"
    assert prf(text, text) == (1.0, 1.0, 1.0)
    precision, recall, f1 = prf(text, text + " nine ten eleven twelve")
    assert recall == 1.0
    assert precision < 1.0
    assert 0 < f1 < 1
    assert prf(text, "") == (0.0, 0.0, 0.0)


def test_the_harness_scores_what_a_replay_stored(tmp_path):
    """The new-user trial: unseen pages in the corpus layout, replayed, then scored."""
    import csv
    import gzip
    import json
    import shutil
    from pathlib import Path

    from click.testing import CliRunner

    from pipeline.cli import cli
    from tests.benchmarks import quality

    pages = Path(__file__).parent / "fixtures" / "pages"
    cases = json.loads((pages / "cases.json").read_text(encoding="utf-8"))
    ids = [
        "fundus__ind__TimesOfIndia_2024_09_02",
        "fundus__ind__TimesOfIndia_2026_04_16",
    ]
    (tmp_path / "html").mkdir()
    (tmp_path / "expected").mkdir()
    rows = []
    for page_id in ids:
        case = cases[page_id]
        shutil.copy(pages / f"{page_id}.html.gz", tmp_path / "html")
        expected = {
            "url": case["url"],
            "title": case["title"],
            "date": case["date"],
            "authors": case["authors"],
            "body_kind": "snippets",
            "body_must_contain": case["must_contain"],
        }
        (tmp_path / "expected" / f"{page_id}.json").write_text(json.dumps(expected))
        rows.append(
            {
                "id": page_id,
                "url": case["url"],
                "html_file": f"html/{page_id}.html.gz",
                "expected_file": f"expected/{page_id}.json",
                "page_type": "article",
            }
        )
    with (tmp_path / "index.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert gzip.decompress((tmp_path / rows[0]["html_file"]).read_bytes())

    assert quality.main(["--corpus", str(tmp_path), "--write-manifest"]) == 0
    manifest = (tmp_path / "html" / "urls.tsv").read_text().splitlines()
    assert manifest[0] == f"{ids[0]}.html.gz\t{cases[ids[0]]['url']}"
    output = tmp_path / "trial"
    result = CliRunner().invoke(
        cli,
        [
            "replay",
            str(tmp_path / "html"),
            "--source",
            "trial",
            "--output",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output

    report = tmp_path / "report.json"
    database = str(output / "broadsheet.db")
    argv = ["--corpus", str(tmp_path), "--stored", database, "--systems", "trafilatura"]
    assert quality.main([*argv, "--json", str(report)]) == 0
    details = json.loads(report.read_text())
    assert [d["id"] for d in details] == ids
    for record in details:
        assert record["broadsheet"]["words"] > 300  # the stored articles.text
        assert record["trafilatura"]["words"] > 300
        assert record["failures"] == []  # title, date, authors, snippets all match

    missing = tmp_path / "missing.db"
    assert quality.main(["--corpus", str(tmp_path), "--stored", str(missing)]) == 2


def test_title_sources_lists_every_title_the_page_offers():
    from tests.benchmarks.quality import title_sources

    page = b"""<html><head><title>Rains lash Mumbai | Business Standard</title>
    <meta property="og:title" content="Rains lash Mumbai, trains halted">
    <meta property="og:site_name" content="Business Standard">
    <script type="application/ld+json">{"@type": "NewsArticle",
      "headline": "Heavy rains lash Mumbai"}</script></head>
    <body><h1>Logo</h1><h1>Rains  lash
    Mumbai</h1><p>Text.</p></body></html>"""
    offered = title_sources(page, "https://www.business-standard.com/a.html")
    assert "Heavy rains lash Mumbai" in offered
    assert "Rains lash Mumbai, trains halted" in offered
    assert "Rains lash Mumbai | Business Standard" in offered
    assert "Rains lash Mumbai" in offered  # the <h1>, and the <title> without its site
    assert "Logo" in offered
    assert "Mumbai floods" not in offered
    assert title_sources(b"   ", "https://example.com/") == []


@pytest.mark.parametrize(
    ("expected", "got", "offered", "kind"),
    [
        (
            "How to Build a Terrarium | eHow",
            "How to Build a Terrarium",
            True,
            "site suffix",
        ),
        ("Mozilla - Wikipedia", "Mozilla", True, "site suffix"),
        (
            "AUF DEN SPUREN VON RAFAEL NADAL",
            "Auf den Spuren von Rafael Nadal",
            False,
            "quotes or case",
        ),
        (
            "Kohberger's Defense Lawyers",
            "Kohberger’s Defense Lawyers",
            True,
            "quotes or case",
        ),
        (
            "Judy Lybke, ganz und gar nicht eigenartig",
            "Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig",
            True,
            "kicker",
        ),
        (
            "Coronavirus: New York ramps up burials",
            "New York ramps up burials",
            True,
            "kicker",
        ),
        (
            "I, Too, Sing America",
            "The National Museum of African American History",
            True,
            "another title",
        ),
        ("Downloading Python", "BeginnersGuide/Download", False, "absent"),
    ],
)
def test_title_misses_are_told_apart(expected, got, offered, kind):
    assert title_miss(expected, got, offered) == kind


def test_the_host_split_is_fixed_and_invented_urls_are_their_own_hosts():
    from tests.benchmarks.generalise import held_out, host_key

    assert host_key("https://www.ndtv.com/a", "x") == "ndtv.com"
    assert host_key("https://dragnet.example/R1.html", "dragnet__R1") == "dragnet__R1"
    urls = [f"https://site{i}.example.org/story" for i in range(400)]
    split = [held_out(url, "x") for url in urls]
    assert split == [held_out(url, "x") for url in urls]  # the same every run
    assert 0.15 < sum(split) / len(split) < 0.35


def test_staging_links_each_page_under_the_source_that_owns_its_host(tmp_path):
    from tests.benchmarks.generalise import stage

    corpus = tmp_path / "set"
    (corpus / "html").mkdir(parents=True)
    for name in ("a.html.gz", "b.html.gz"):
        (corpus / "html" / name).write_bytes(b"x")
    rows = [
        {"html_file": "html/a.html.gz", "url": "https://www.ndtv.com/india/a-1"},
        {"html_file": "html/b.html.gz", "url": "https://example.org/b"},
    ]
    commands = stage([(corpus, rows)], tmp_path / "staged", tmp_path / "out")
    assert (tmp_path / "staged/set/ndtv/urls.tsv").read_text() == (
        "a.html.gz\thttps://www.ndtv.com/india/a-1\n"
    )
    assert (tmp_path / "staged/set/trial/b.html.gz").is_symlink()
    assert any("--source ndtv" in c for c in commands)


def test_text_without_spaces_between_words_is_scored_by_character():
    story = "東京都は二日、新しい条例を発表した。市民の生活に大きな影響がある。"
    half = "東京都は二日、新しい条例を発表した。"
    # as one space-less "word", any difference would score zero
    assert prf(story, story)[2] == 1.0
    precision, recall, _ = prf(story, half)
    assert precision == 1.0
    assert 0.4 < recall < 0.6
    assert prf(story, "別の記事の全く違う本文です。")[2] == 0.0


def test_spaced_text_is_still_scored_by_words():
    expected = "The central bank left its policy rate unchanged on Friday"
    assert prf(expected, expected.upper())[2] == 1.0
    assert prf(expected, "The central bank left its rate")[2] < 0.5
