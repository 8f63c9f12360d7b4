"""Real saved news pages through ``extract``, checked against the corpus ground truth.

``tests/fixtures/pages/<id>.html.gz`` are byte copies of development-corpus pages;
``cases.json`` holds, for each, the expected values copied from the corpus expected
JSON (title, date, authors, first words, must / must-not contain snippets), plus
``date_local`` and ``lang`` worked out by hand from the expected date and the page's
``<html lang>``. ``known_gaps`` names fields where broadsheet deliberately or knowingly
differs from that ground truth, with the reason: those checks are strict xfails.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.errors import Dropped
from pipeline.extract.article import extract
from pipeline.items import Article, Page
from pipeline.sources import load_sources

PAGES = Path(__file__).parent / "fixtures" / "pages"
CASES = json.loads((PAGES / "cases.json").read_text(encoding="utf-8"))
SOURCES = load_sources()
FIELDS = (
    "title",
    "date",
    "date_local",
    "authors",
    "lang",
    "first_words",
    "must_contain",
    "must_not_contain",
)


def words(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text))


def page_for(page_id: str) -> Page:
    case = CASES[page_id]
    body = gzip.decompress((PAGES / f"{page_id}.html.gz").read_bytes())
    return Page(url=case["url"], body=body, source=case["source"] or "corpus")


_extracted: dict[str, Article] = {}


def article_for(page_id: str) -> Article:
    if page_id not in _extracted:
        source = CASES[page_id]["source"]
        _extracted[page_id] = extract(
            page_for(page_id), SOURCES[source] if source else None
        )
    return _extracted[page_id]


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def check(field: str, article: Article, want) -> None:
    if field == "title":
        assert " ".join(article.title.split()) == " ".join(want.split())
    elif field == "date":
        assert article.date, "no date"
        if (
            re.search(r"\d:\d\d", want)
            and "T00:00:00" not in want
            and "T" in article.date
        ):
            assert abs(_moment(article.date) - _moment(want)) < timedelta(minutes=1)
        else:
            assert article.date[:10] == want[:10]
    elif field == "date_local":
        assert article.date_local == want
    elif field == "authors":
        assert [words(a) for a in article.authors] == [words(a) for a in want]
    elif field == "lang":
        assert article.lang == want
    elif field == "first_words":
        assert words(article.text).startswith(words(want))
    elif field == "must_contain":
        for snippet in want:
            assert words(snippet) in words(article.text), snippet
    elif field == "must_not_contain":
        for snippet in want:
            assert words(snippet) not in words(article.text), snippet


def _params():
    for page_id, case in CASES.items():
        if case.get("dropped"):
            continue
        for field in FIELDS:
            if case.get(field) in (None, [], ""):
                continue
            gap = case.get("known_gaps", {}).get(field)
            marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
            yield pytest.param(page_id, field, marks=marks, id=f"{page_id}-{field}")


@pytest.mark.parametrize(("page_id", "field"), list(_params()))
def test_page_field_matches_ground_truth(page_id, field):
    check(field, article_for(page_id), CASES[page_id][field])


@pytest.mark.parametrize(
    "page_id", [k for k, v in CASES.items() if v.get("dropped")], ids=str
)
def test_non_article_page_is_dropped(page_id):
    with pytest.raises(Dropped) as dropped:
        extract(page_for(page_id))
    assert dropped.value.reason == CASES[page_id]["dropped"]


@pytest.mark.parametrize(
    "page_id", [k for k, v in CASES.items() if not v.get("dropped")], ids=str
)
def test_page_body_is_clean_markdown(page_id):
    article = article_for(page_id)
    assert article.body_md.strip() == article.body_md
    assert "\n\n\n" not in article.body_md
    assert not re.search(r"<(p|div|span|a|script|img)\b", article.body_md)
    for target in re.findall(r"\]\(([^)\s]+)\)", article.body_md):
        assert target.startswith(("http://", "https://", "mailto:")), target
    assert "](" not in article.text  # the plain text carries no link targets
    assert article.fetched_url == CASES[page_id]["url"]
    assert article.seen_urls[-1] == CASES[page_id]["url"]


def test_canonical_url_and_image_are_absolute_on_the_same_site():
    article = article_for("postlight__timesofindia.indiatimes.com")
    assert article.url == (
        "https://timesofindia.indiatimes.com/india/china-snubs-imran-says-resolve-jk-bilaterally/articleshow/71496416.cms"
    )
    assert article.image
    assert article.image.startswith("https://")
    assert article.source == "timesofindia"


def test_ndtv_override_removes_the_highlights_box():
    page = page_for("postlight__www.ndtv.com")
    with_override = extract(page, SOURCES["ndtv"])
    without = extract(page)
    box = "Hydroxychloroquine is a key drug used in the treatment of COVID-19"
    assert box in without.text
    assert box not in with_override.text
    assert words(with_override.text).startswith(
        words(CASES["postlight__www.ndtv.com"]["first_words"])
    )


def test_headline_is_not_repeated_at_the_top_of_the_body():
    for page_id, case in CASES.items():
        if case.get("dropped"):
            continue
        article = article_for(page_id)
        first = article.text.split("\n\n", 1)[0]
        assert words(first) != words(article.title), page_id


def test_description_meta_becomes_the_summary():
    article = article_for("postlight__www.ndtv.com")
    assert article.description
    assert article.summary == article.description
