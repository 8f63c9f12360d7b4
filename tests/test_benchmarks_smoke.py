"""Each benchmark script runs end to end on a handful of pages, so that none rots.

Figures are not checked (benchmarks are not tests); what each script prints is.
The pages are the replay fixtures, never the development corpus.
"""

from pathlib import Path

import pytest

from tests.benchmarks import (
    competitors,
    crawl_speed,
    load,
    memory,
    profile_replay,
    recrawl,
    replay_speed,
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
        replay_speed.main, capsys, "--pages", "6", "--workers", "1", "--rounds", "2"
    )
    assert (
        "round 1 (bare first); pages: 6; replay workers: 1; stored: {'articles': 5,"
        in out
    )
    assert (
        "round 2 (replay first); pages: 6; replay workers: 1; stored: {'articles': 5,"
        in out
    )
    assert "ratio replay / bare: median " in out


@pytest.mark.slow
def test_crawl_speed(capsys):
    out = run(crawl_speed.main, capsys, "--pages", "3", "--workers", "1")
    assert "requests served: {'robots': 1, 'sitemap': 1, 'article': 3}" in out
    assert "stored by the crawl: {'articles': 3," in out
    assert "ratio crawl / replay:" in out


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
