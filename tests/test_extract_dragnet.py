"""Short stories of dragnet's pages kept whole (skipped without ``../shared/dragnet``).

dragnet's pages stay outside the repository (their licence), beside the checkout like
the corpus. On these four, a short fast result holds the page's paragraphs; the full
cascade, which used to run again on them, took a longer text around the story
(:mod:`pipeline.extract.storylike`). The F1 floors are below the scores measured with
the rule and above those measured without it.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from pipeline.extract.article import extract
from pipeline.items import Page
from tests.benchmarks.scoring import prf

DRAGNET = Path(__file__).resolve().parents[1].parent / "shared" / "dragnet"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not (DRAGNET / "index.csv").exists(), reason=f"no dragnet pages at {DRAGNET}"
    ),
]

# page id: (body F1 without the rule, with it)
MEASURED = {
    "dragnet__R433": (0.07, 0.36),
    "dragnet__R822": (0.43, 0.93),
    "dragnet__R825": (0.33, 0.78),
    "dragnet__R998": (0.52, 0.88),
}


@pytest.mark.parametrize("page_id", sorted(MEASURED))
def test_a_short_story_that_is_the_page_is_kept_whole(page_id):
    with (DRAGNET / "index.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["id"] == page_id)
    expected = json.loads((DRAGNET / row["expected_file"]).read_text(encoding="utf-8"))
    body = gzip.decompress((DRAGNET / row["html_file"]).read_bytes())
    article = extract(Page(url=row["url"], body=body, source="dragnet"), None)
    before, after = MEASURED[page_id]
    f1 = prf(expected["body"], article.text)[2]
    assert f1 >= (before + after) / 2, f"body F1 {f1:.2f}"
