"""The default sources' own saved pages, against their hand-checked expected text
(skipped without ``../shared/indian``).

Golden markdown files in ``tests/fixtures/golden`` cover the default sources whose
saved pages may be copied into this repository. The others (thehindu,
indianexpress, livemint, moneycontrol) have pages only under GPL-3.0 or without a
licence: they are checked here, where they lie, each page under the source that owns
its host, as a crawl would extract it.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from pipeline.extract.article import extract
from pipeline.items import Page
from pipeline.normalize.stage import normalize
from tests.benchmarks.generalise import source_for
from tests.benchmarks.scoring import prf
from tests.contract import check_document

INDIAN = Path(__file__).resolve().parents[1].parent / "shared" / "indian"
MIN_F1 = 0.9
FURNITURE = (
    "This story is from",
    "Start a Conversation",
    "end of article",
    "Read this story in",
)

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not (INDIAN / "index.csv").exists(), reason=f"no Indian pages at {INDIAN}"
    ),
]


def _cases() -> list[tuple[dict, dict]]:
    if not (INDIAN / "index.csv").exists():
        return []
    with (INDIAN / "index.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    cases = []
    for row in rows:
        expected = json.loads((INDIAN / row["expected_file"]).read_text("utf-8"))
        if expected.get("body_kind") == "full" and source_for(row["url"]):
            cases.append((row, expected))
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    ("row", "expected"), CASES, ids=[row["id"] for row, _ in CASES]
)
def test_a_default_sources_page_comes_out_as_its_reader_expects(row, expected):
    source = source_for(row["url"])
    body = gzip.decompress((INDIAN / row["html_file"]).read_bytes())
    page = Page(
        url=row["url"],
        body=body,
        source=source.name,
        fetched_at="2026-01-01T00:00:00+00:00",
    )
    article = extract(page, source)
    markdown = normalize(article).markdown
    assert check_document(markdown) == []
    assert prf(expected["body"], article.text)[2] >= MIN_F1
    assert (article.date or "")[:10] == expected["date"][:10]
    for line in article.text.split("\n"):
        assert not line.startswith(FURNITURE), line


def test_every_default_source_with_pages_is_checked():
    covered = {source_for(row["url"]).name for row, _ in CASES}
    assert {"thehindu", "indianexpress", "livemint", "moneycontrol"} <= covered
    titles = sum(extract_title(row) == expected["title"] for row, expected in CASES)
    assert titles >= 0.9 * len(CASES)


def extract_title(row: dict) -> str:
    source = source_for(row["url"])
    body = gzip.decompress((INDIAN / row["html_file"]).read_bytes())
    page = Page(url=row["url"], body=body, source=source.name)
    return extract(page, source).title
