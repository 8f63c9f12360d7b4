"""Every page of the development corpus through ``extract`` (skipped without the corpus).

The corpus lives beside the checkout, at ``../shared/corpus``. Every page must give an
Article or a Dropped and nothing else; article pages are dropped rarely, and the
corpus home pages always.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from pipeline.errors import Dropped
from pipeline.extract.article import extract
from pipeline.items import Article, Page

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not (CORPUS / "index.csv").exists(), reason=f"no corpus at {CORPUS}"
    ),
]


def _rows() -> list[dict[str, str]]:
    with (CORPUS / "index.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_corpus_page_gives_an_article_or_dropped():
    kept, dropped, non_articles = 0, [], []
    for row in _rows():
        expected = json.loads(
            (CORPUS / row["expected_file"]).read_text(encoding="utf-8")
        )
        body = gzip.decompress((CORPUS / row["html_file"]).read_bytes())
        page = Page(url=expected.get("url") or "", body=body, source="corpus")
        try:
            article = extract(page)
        except Dropped as error:
            if row["page_type"] == "article":
                dropped.append((row["id"], error.reason))
            else:
                non_articles.append(error.reason)
            continue
        assert isinstance(article, Article)
        assert row["page_type"] == "article", (
            f"{row['id']} is not an article but was kept"
        )
        assert article.title, row["id"]
        assert article.text.strip(), row["id"]
        kept += 1
    assert non_articles == ["not-article"] * len(non_articles)
    assert len(dropped) <= 0.01 * (kept + len(dropped)), dropped
