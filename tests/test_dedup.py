from pathlib import Path

import pytest
from sqlite_utils import Database

from pipeline.store.dedup import (
    NearDuplicates,
    content_hash,
    hash_normalised,
    jaccard,
    normalise_text,
    shingles,
    shingles_normalised,
)
from pipeline.store.schema import migrate
from pipeline.urls import canonical_url, url_variants

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLE = (
    "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1.html"
)


@pytest.mark.parametrize(
    "variant",
    [
        ARTICLE,
        "HTTPS://WWW.Business-Standard.COM/markets/news/sensex-gains-125020800043_1.html",
        "https://www.business-standard.com:443/markets/news/sensex-gains-125020800043_1.html",
        "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1.html#comments",
        "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1.html?utm_source=rss&utm_medium=feed",
        "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1.html?fbclid=IwAR0x&gclid=abc&mc_cid=1&mc_eid=2&ref=home",
        "https://www.business-standard.com/amp/markets/news/sensex-gains-125020800043_1.html",
        "https://amp.business-standard.com/markets/news/sensex-gains-125020800043_1.html",
        "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1.html?outputType=amp",
        "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1_amp.html",
        "https://www.business-standard.com/markets/news/sensex-gains-125020800043_1.html/",
    ],
)
def test_url_variants_share_one_canonical_form(variant):
    assert canonical_url(variant) == ARTICLE


def test_canonical_url_keeps_what_identifies_a_page():
    assert (
        canonical_url("https://example.com/story?id=42&utm_source=x")
        == "https://example.com/story?id=42"
    )
    assert (
        canonical_url("https://example.com/a?b=2&a=1")
        == "https://example.com/a?a=1&b=2"
    )
    assert (
        canonical_url("http://example.com/news/index.html") == "http://example.com/news"
    )
    assert canonical_url("https://example.com:8443/x") == "https://example.com:8443/x"
    assert canonical_url("https://example.com") == "https://example.com/"


def test_non_http_urls_are_left_alone():
    assert canonical_url(" mailto:desk@example.com ") == "mailto:desk@example.com"
    assert (
        canonical_url("https://example.com:notaport/x")
        == "https://example.com:notaport/x"
    )


def test_scheme_and_www_give_variants_of_one_url():
    assert url_variants("http://example.com/a?utm_medium=x") == {
        "http://example.com/a",
        "https://example.com/a",
        "http://www.example.com/a",
        "https://www.example.com/a",
    }


def test_content_hash_ignores_markup_case_and_spacing():
    assert content_hash("**Sensex** rose 2%.\n\nBanks led.") == content_hash(
        "sensex rose 2 %  banks LED"
    )
    assert content_hash("Sensex rose") != content_hash("Sensex fell")


def _reference_body() -> str:
    text = (FIXTURES / "format" / "article-business-standard.md").read_text(
        encoding="utf-8"
    )
    return text.split("---\n", 2)[2]


def _legacy_body() -> str:
    return (FIXTURES / "legacy" / "legacy-text-hindustantimes.txt").read_text(
        encoding="utf-8"
    )


def test_two_stories_on_one_subject_are_far_apart():
    # Both documents are about Tahawwur Rana's extradition, written two years apart.
    assert jaccard(shingles(_reference_body()), shingles(_legacy_body())) < 0.05


def _indexed_reference(tmp_path) -> tuple[Database, NearDuplicates, list[str]]:
    """A database holding the reference story as article 1 in a 0.8 index, and the
    story's longer paragraphs."""
    db = Database(tmp_path / "t.db")
    migrate(db)
    paragraphs = [p for p in _reference_body().split("\n\n") if len(p.split()) > 8]
    original = "\n\n".join(paragraphs)
    db["articles"].insert(
        {
            "id": 1,
            "url": "https://a/1",
            "source": "a",
            "title": "t",
            "text": original,
            "content_hash": content_hash(original),
            "first_seen": "x",
            "last_seen": "x",
        }
    )
    index = NearDuplicates(db, threshold=0.8)
    index.add(1, index.signature(shingles(original)))
    return db, index, paragraphs


def test_near_duplicate_index_finds_rewritten_copy_and_not_a_different_story(tmp_path):
    _, index, paragraphs = _indexed_reference(tmp_path)
    rewritten = "\n\n".join(
        [*paragraphs[:-1], "A paragraph the wire copy added at the end of the story."]
    )
    copy_shingles = shingles(rewritten)
    match = index.best_match(copy_shingles, index.signature(copy_shingles))
    assert match is not None
    assert match[0] == 1
    assert 0.8 <= match[1] < 1.0
    other = shingles(_legacy_body())
    assert index.best_match(other, index.signature(other)) is None


def test_threshold_is_validated(tmp_path):
    db = Database(tmp_path / "t.db")
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicates(db, threshold=1.5)


def test_a_new_threshold_rebuilds_the_persisted_bands(tmp_path):
    db, _, paragraphs = _indexed_reference(tmp_path)
    db.conn.commit()
    layout_before = db.execute(
        "SELECT value FROM settings WHERE key = 'lsh_bands'"
    ).fetchone()[0]
    reopened = NearDuplicates(db, threshold=0.6)
    assert (
        db.execute("SELECT value FROM settings WHERE key = 'lsh_bands'").fetchone()[0]
        != layout_before
    )
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == reopened.bands
    copy = shingles("\n\n".join(paragraphs[:-2]))
    assert reopened.best_match(copy, reopened.signature(copy))[0] == 1


def test_signature_is_datasketchs_minhash_of_the_shingles(tmp_path):
    """Signatures stored by earlier releases stay comparable with new ones."""
    from datasketch import MinHash

    db = Database(tmp_path / "d.db")
    migrate(db)
    index = NearDuplicates(db)
    for text in (
        _legacy_body(),
        "één twee drie vier vijf zes zeven acht negen tien elf",
    ):
        shingle_set = shingles(text)
        reference = MinHash(num_perm=index.num_perm)
        reference.update_batch([s.encode("utf-8") for s in shingle_set])
        signature = index.signature(shingle_set)
        assert signature.dtype == reference.hashvalues.dtype
        assert signature.tolist() == reference.hashvalues.tolist()


def test_content_hash_and_shingles_agree_with_their_normalised_forms():
    text = _legacy_body()
    normalised = normalise_text(text)
    assert hash_normalised(normalised) == content_hash(text)
    assert shingles_normalised(normalised) == shingles(text)


def test_shingles_are_every_run_of_four_words():
    assert shingles_normalised("a b c d e b c d e") == {
        "a b c d",
        "b c d e",
        "c d e b",
        "d e b c",
        "e b c d",
    }
    assert shingles_normalised("a b c") == {"a b c"}  # shorter: the whole text
    assert shingles_normalised("") == set()
    assert shingles_normalised("a b c", size=2) == {"a b", "b c"}
