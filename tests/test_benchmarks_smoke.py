"""Each benchmark script runs end to end on a handful of pages, so that none rots.

Figures are not checked (benchmarks are not tests); what each script prints is.
The pages are the replay fixtures, never the development corpus.
"""

import json
import re
from pathlib import Path

import pytest

from tests.benchmarks import (
    competitors,
    crawl_speed,
    flood404,
    goose_fixtures,
    load,
    memory,
    profile_replay,
    quality,
    recrawl,
    replay_speed,
    startup,
    worker_cpu,
)

FIXTURES = str(Path(__file__).parent / "fixtures" / "replay")


def run(main, capsys, *args: str) -> str:
    main([*args, "--corpus", FIXTURES] if main is not load.main else list(args))
    out = capsys.readouterr().out
    assert out.startswith("# "), out
    assert "machine: cpu " in out
    return out


def test_replay_speed(capsys):
    out = run(
        replay_speed.main,
        capsys,
        *("--pages", "6", "--short", "3", "--sample", "smaller"),
        *("--workers", "1", "--rounds", "2"),
    )
    assert "smaller half: 3 corpus pages of at most " in out
    assert "round 1 (bare first); smaller half, 6 pages; stored: {'articles': 3," in out
    assert (
        "round 2 (replay first); smaller half, 3 pages; stored: {'articles': 3," in out
    )
    assert "| smaller half | 6 | **" in out
    assert "| smaller half | 3 | **" in out
    # memory is sampled in a run of its own per sample, not in the timed ones
    memory = r"peak memory of the process tree: RSS [1-9]\d* MiB, PSS [1-9]\d* MiB"
    assert len(re.findall(memory, out)) == 2, out
    assert re.search(r"\| [1-9]\d* MiB \|\n\| smaller half \| 3 \|", out), out
    assert "lowest median ratio: " in out


def test_startup(capsys):
    out = run(startup.main, capsys, "--pages", "3", "--workers", "1", "--rounds", "1")
    assert re.search(r"round 1: first page in a worker \d+\.\d\d s", out), out
    assert "first markdown file " in out
    assert "language model loaded by: no process" in out  # the fixtures declare theirs
    assert "median: first page in a worker " in out
    # the crawl asks for robots.txt before anything, its first article after it
    found = re.search(
        r"crawl: first request (\d+\.\d\d) s, first article (\d+\.\d\d) s", out
    )
    assert found, out
    assert 0 < float(found[1]) <= float(found[2]), out
    assert "median crawl: first request " in out


@pytest.mark.slow
def test_worker_cpu(capsys):
    out = run(worker_cpu.main, capsys, "--pages", "4")
    assert re.search(r"all pages: 4 pages; CPU per page: worker \d+\.\d ms", out), out
    assert "smaller half: 2 pages; " in out


def test_crawl_speed(capsys):
    out = run(
        crawl_speed.main, capsys, "--pages", "3", "--workers", "1", "--rounds", "2"
    )
    # each round counts its own requests, and crawls into an output of its own
    served = "requests served: {'robots': 1, 'sitemap': 1, 'article': 3}"
    assert f"round 1 (crawl first); {served}" in out, out
    assert f"round 2 (replay first); {served}" in out, out
    assert out.count("stored by the crawl: {'articles': 3,") == 2
    assert re.search(
        r"median ratio crawl / replay over 2 rounds: \d+\.\d\dx \(goal >= 0\.8x\); "
        r"rounds: \d+\.\d\dx, \d+\.\d\dx",
        out,
    ), out
    assert "peaks during the crawls: memory of the process tree PSS " in out
    # both sides watched alike: the replay's memory is sampled too
    assert re.search(r"broadsheet replay: .* peak PSS [1-9]\d* MiB", out), out


@pytest.mark.slow
def test_recrawl_requests_only_the_unchanged_sitemap(capsys):
    out = run(recrawl.main, capsys, "--pages", "3", "--workers", "1")
    assert "second crawl: " in out
    assert "2 requests {'robots': 1, 'sitemap-304': 1}" in out


def test_memory(capsys):
    out = run(memory.main, capsys, "--pages", "4", "--workers", "1")
    assert "| 1 | " in out
    assert "| 2 | " in out
    assert "| 4 | " in out


@pytest.mark.parametrize("kind", ["sitemap", "feed"])
def test_memory_of_a_huge_listing(capsys, kind):
    memory.main([kind, "--urls", "300", "--limit", "3"])  # pages made up: no corpus
    out = capsys.readouterr().out
    assert f"{kind}: 300 URLs" in out
    assert "--limit 3: 3 article requests served" in out
    assert "broadsheet crawl: exit 0" in out


def test_competitors(capsys):
    out = run(competitors.main, capsys, "--pages", "2")
    assert "| broadsheet extract | " in out
    assert "| trafilatura.extract | " in out


def test_load_finds_the_near_duplicates(capsys):
    out = run(load.main, capsys, "--count", "40", "--with-path-index")
    assert "outcomes: {'near-duplicate': 4, 'new': 36}" in out
    assert "last/first" in out


def test_profile_replay(capsys):
    out = run(profile_replay.main, capsys, "--pages", "3")
    assert "## extraction, self time" in out
    assert "## store, self time" in out
    assert "ms/article (without the profiler: " in out


STORY = [
    "The state election commission announced on Monday that polling for the civic"
    " bodies will be held in three phases starting next month.",
    "Officials said more than four million voters were eligible and that every booth"
    " would have electronic voting machines with paper trails.",
    "Opposition parties welcomed the schedule but asked for more polling stations in"
    " the hill districts, where voters walk for hours.",
]


def goose_fixture(folder: Path, name: str, html: str, expected: dict) -> None:
    (folder / f"test_{name}.html").write_text(html, encoding="utf-8")
    (folder / f"test_{name}.json").write_text(
        json.dumps({"url": expected.get("final_url", ""), "expected": expected}),
        encoding="utf-8",
    )


def test_goose_fixtures_become_a_corpus_the_harness_scores(tmp_path, capsys):
    fixtures, out = tmp_path / "fixtures", tmp_path / "trial"
    fixtures.mkdir()
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    goose_fixture(
        fixtures,
        "civic",
        "<html><head><title>Civic polls in three phases | Example Times</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Civic polls in three phases"
        f"</h1>{paragraphs}</article></body></html>",
        {
            "final_url": "https://example.org/civic-polls",
            "title": "Civic polls in three phases",
            "cleaned_text": "\n\n".join(STORY[:2]),
        },
    )
    goose_fixture(fixtures, "plain", STORY[0], {"cleaned_text": STORY[0]})
    goose_fixture(fixtures, "video", "<html><body><video></video></body></html>", {})
    goose_fixture(
        fixtures,
        "seen",
        f"<html><body>{paragraphs}</body></html>",
        {"final_url": "http://example.org/seen/", "cleaned_text": STORY[0]},
    )
    development = tmp_path / "development"
    development.mkdir()
    (development / "index.csv").write_text(
        "id,url\nx,https://example.org/seen\n", encoding="utf-8"
    )

    assert (
        goose_fixtures.main([str(fixtures), str(out), "--exclude", str(development)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "wrote 1 page(s)" in printed
    assert "plain: plain text, not an HTML page" in printed
    assert "video: no expected text" in printed
    assert "seen: already in the development corpus" in printed
    expected = json.loads((out / "expected" / "goose__civic.json").read_text())
    assert expected["body_first_words"].split() == STORY[0].split()[:20]
    assert expected["body_must_contain"] == STORY[:2]

    results = tmp_path / "results.json"
    quality.main(
        ["--corpus", str(out), "--systems", "trafilatura", "--json", str(results)]
    )
    (page,) = json.loads(results.read_text())
    assert page["id"] == "goose__civic"
    assert page["broadsheet"]["title"] == "Civic polls in three phases"
    assert not page.get("failures")  # the first words, both paragraphs and the title


@pytest.mark.slow
def test_flood404(capsys):
    flood404.main(
        ["--clients", "1", "--seconds", "1", "--samples", "2", "--modes", "public"]
    )
    out = capsys.readouterr().out
    assert out.startswith("# flood404"), out
    assert "serve --public:" in out
    assert "normal page under flood:  median " in out
    assert "bytes logged per request" in out


@pytest.mark.parametrize("module", [crawl_speed, replay_speed, startup])
def test_rounds_are_at_least_one(module, capsys):
    with pytest.raises(SystemExit):
        module.main(["--rounds", "0"])
    assert "argument --rounds: must be at least 1" in capsys.readouterr().err
