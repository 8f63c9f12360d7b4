import sqlite3
from dataclasses import replace
from pathlib import Path

import frontmatter
import pytest

from pipeline.errors import BroadsheetError
from pipeline.inputs.ingest import BATCH_VARIABLE, STORE_BATCH, store_batch
from pipeline.items import Article
from pipeline.normalize.stage import normalize
from pipeline.store.schema import SCHEMA_VERSION
from pipeline.store.writer import Store, StoreError
from pipeline.wordcount import count_words

PARAGRAPHS = [
    "Foreign Secretary Vikram Misri said on Friday that India is in touch with US authorities about the surrender of Tahawwur Rana.",
    "Rana has exhausted all legal avenues in the United States after the Supreme Court dismissed his appeal last month.",
    "The briefing came ahead of the Prime Minister's visit to Washington, where bilateral meetings are planned in two formats.",
    "The spokesperson of the ministry said the two sides were working on procedural issues for an early extradition.",
    "The State Department said it was evaluating next steps in the case, consistent with applicable United States law.",
    "Rana was convicted for his role in the 2008 attacks on Mumbai, in which 166 people were killed over four days.",
    "His co-conspirator David Headley pleaded guilty and cooperated with prosecutors against him in a Chicago court.",
    "Officials expect the logistics of the surrender to be settled within weeks, according to people aware of the talks.",
]
OTHER = [
    "Shares of Indian banks rose sharply on Monday after the central bank kept its policy rate unchanged for a fifth meeting.",
    "The benchmark index closed at a record high, led by lenders and information technology companies, traders said.",
    "Foreign investors bought equities worth several billion rupees, according to provisional exchange data released later.",
    "Analysts expect the rally to continue if inflation eases further and monsoon rains arrive on time this summer.",
]
URL = "https://www.business-standard.com/india-news/in-touch-with-us-for-surrender-of-rana-125020800043_1.html"


def article(
    url=URL,
    paragraphs=PARAGRAPHS,
    title="In touch with US for surrender of Tahawwur Rana",
    source="business-standard",
    **extra,
):
    body = "\n\n".join(paragraphs)
    values = dict(
        url=url,
        source=source,
        title=title,
        body_md=body,
        text=body,
        date="2025-02-08T09:45:27+05:30",
        date_local="2025-02-08 09:45:27",
        lang="en",
        authors=("Press Trust of India",),
        fetched_url=url,
        fetched_at="2025-02-08T05:00:00+00:00",
    )
    values.update(extra)
    return Article(**values)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "out") as opened:
        yield opened


def files(store: Store) -> list[str]:
    return sorted(
        p.relative_to(store.content).as_posix()
        for p in store.content.rglob("*")
        if p.is_file()
    )


def test_new_article_gets_a_row_a_file_and_its_urls(store):
    outcome = store.add(normalize(article(seen_urls=(URL + "?utm_source=rss",))))
    assert outcome.kind == "new"
    assert (
        outcome.path
        == "business-standard/2025/02/in-touch-with-us-for-surrender-of-rana-125020800043-1.md"
    )
    assert files(store) == [outcome.path]
    post = frontmatter.load(store.content / outcome.path)
    assert post["title"] == "In touch with US for surrender of Tahawwur Rana"
    assert post["date"] == "2025-02-08 09:45:27"
    assert post.content.endswith(f"[business-standard]({URL})")
    row = store.row(outcome.article_id)
    assert row["url"] == URL
    assert row["date"] == "2025-02-08T09:45:27+05:30"
    assert row["authors"] == '["Press Trust of India"]'
    assert row["word_count"] == count_words("\n\n".join(PARAGRAPHS)) == 153
    urls = {r["url"] for r in store.db["urls"].rows}
    assert urls == {URL, URL + "?utm_source=rss"}
    with pytest.raises(StoreError, match=f"no article {outcome.article_id + 1} in "):
        store.row(outcome.article_id + 1)


def test_same_page_again_changes_nothing(store):
    first = store.add(normalize(article()))
    before = (store.content / first.path).stat().st_mtime_ns
    again = store.add(
        normalize(
            article(
                url=URL + "?utm_medium=social#top",
                fetched_url=URL + "?utm_medium=social#top",
            )
        )
    )
    assert again.kind == "unchanged"
    assert again.article_id == first.article_id
    assert store.db["articles"].count == 1
    assert (store.content / first.path).stat().st_mtime_ns == before
    assert (
        store.db.execute(
            "SELECT count(*) FROM urls WHERE article_id = ?", (first.article_id,)
        ).fetchone()[0]
        == 2
    )


def test_same_body_under_another_url_is_the_same_story(store):
    first = store.add(normalize(article()))
    other_url = "https://www.business-standard.com/politics/rana-surrender-talks-125020800099_1.html"
    outcome = store.add(
        normalize(
            article(
                url=other_url, fetched_url=other_url, title="Rana: talks on surrender"
            )
        )
    )
    assert outcome.kind == "duplicate"
    assert outcome.article_id == first.article_id
    assert store.db["articles"].count == 1
    assert store.db["urls"].get(other_url)["article_id"] == first.article_id
    assert len(files(store)) == 1


def test_near_duplicate_gets_its_own_row_and_no_file(store):
    first = store.add(normalize(article()))
    wire = [
        *PARAGRAPHS[:-1],
        "The report was carried by several newspapers on Saturday morning across the country.",
    ]
    url = "https://www.hindustantimes.com/india-news/rana-extradition-101738990000000.html"
    outcome = store.add(
        normalize(
            article(
                url=url,
                fetched_url=url,
                paragraphs=wire,
                source="hindustantimes",
                title="India working on Rana's return",
            )
        )
    )
    assert outcome.kind == "near-duplicate"
    assert outcome.duplicate_of == first.article_id
    row = store.row(outcome.article_id)
    assert row["duplicate_of"] == first.article_id
    assert 0.8 <= row["similarity"] < 1
    assert row["path"] is None
    assert len(files(store)) == 1


def test_different_story_is_never_merged(store):
    store.add(normalize(article()))
    url = "https://www.business-standard.com/markets/news/banks-lift-sensex-125020800100_1.html"
    outcome = store.add(
        normalize(
            article(
                url=url, fetched_url=url, paragraphs=OTHER, title="Banks lift Sensex"
            )
        )
    )
    assert outcome.kind == "new"
    assert store.db["articles"].count == 2
    assert len(files(store)) == 2


def test_update_keeps_the_previous_body_in_versions(store):
    first = store.add(normalize(article()))
    changed = [
        *PARAGRAPHS,
        "Updated: the ministry confirmed the date of the surrender on Saturday evening.",
    ]
    outcome = store.add(
        normalize(article(paragraphs=changed, fetched_at="2025-02-09T05:00:00+00:00"))
    )
    assert outcome.kind == "updated"
    assert outcome.article_id == first.article_id
    [version] = store.db["versions"].rows
    assert version["article_id"] == first.article_id
    assert version["text"] == "\n\n".join(PARAGRAPHS)
    text = (store.content / first.path).read_text()
    assert "Updated: the ministry confirmed" in text
    assert store.row(first.article_id)["text"].endswith("Saturday evening.")
    assert files(store) == [first.path]


def test_same_slug_for_another_story_gets_a_suffix(store):
    one = store.add(
        normalize(
            article(
                url="https://a.example/x/story.html",
                fetched_url="https://a.example/x/story.html",
            )
        )
    )
    two = store.add(
        normalize(
            article(
                url="https://a.example/y/story.html",
                fetched_url="https://a.example/y/story.html",
                paragraphs=OTHER,
            )
        )
    )
    assert one.path.endswith("/story.md")
    assert two.path.endswith("/story-2.md")


def test_canonical_pointing_at_the_home_page_is_ignored(store):
    outcome = store.add(
        normalize(article(url="https://www.business-standard.com/", fetched_url=URL))
    )
    assert store.row(outcome.article_id)["url"] == URL


def test_dateless_article_is_filed_under_the_day_it_was_first_seen(store):
    outcome = store.add(normalize(article(date=None, date_local=None)))
    post = frontmatter.load(store.content / outcome.path)
    assert post["date"] == "2025-02-08"
    assert ":" not in post["date"]


def test_killed_writer_leaves_nothing_behind(tmp_path):
    output = tmp_path / "out"
    with Store(output) as store:
        kept = store.add(normalize(article()))
    kept_file = store.content / kept.path
    # What a process killed between writing files and committing leaves behind:
    orphan = store.content / "business-standard/2025/02/orphan.md"
    orphan.write_text("half a story")
    temp = store.content / "business-standard/2025/02/.orphan.md.tmp"
    temp.write_text("half")
    kept_file.write_text("rewritten but never committed")
    with sqlite3.connect(output / "broadsheet.db") as conn:
        conn.executemany(
            "INSERT INTO pending_files VALUES (?, 'now')",
            [("business-standard/2025/02/orphan.md",), (kept.path,)],
        )
    conn.close()
    with Store(output) as store:
        assert files(store) == [kept.path]
        assert kept_file.read_text() == store.render_row(store.row(kept.article_id))
        assert store.db["pending_files"].count == 0


def test_database_from_a_newer_release_is_refused_untouched(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    db_file = output / "broadsheet.db"
    conn = sqlite3.connect(db_file)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db_file.read_bytes()
    with pytest.raises(StoreError, match="newer than this broadsheet understands"):
        Store(output)
    assert db_file.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    (output / "broadsheet.db").write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot use database"):
        Store(output)


def test_known_matches_every_variant(store):
    store.add(normalize(article()))
    assert store.known(URL)
    assert store.known(URL.replace("https://www.", "http://") + "?utm_source=x#frag")
    assert not store.known("https://www.business-standard.com/other-125.html")


def test_urls_that_redirected_to_a_stored_article_become_its_own(store):
    old = "https://www.business-standard.com/article/rana-surrender-talks.html"
    assert not store.add_aliases(old.replace("rana", "other"), [old])  # nothing there
    assert not store.known(old)
    store.add(normalize(article()))
    assert store.add_aliases(URL + "?utm_source=feed", [old])
    assert store.known(old)
    (owner,) = store.db.execute("select article_id from urls where url = ?", [old])
    assert owner[0] == store.db.execute("select id from articles").fetchone()[0]


def test_files_stay_inside_the_content_folder(store):
    hostile = replace(
        article(),
        url="https://evil.example/../../../etc/passwd",
        fetched_url="https://evil.example/../../etc/passwd",
        source="../../etc",
    )
    outcome = store.add(normalize(hostile))
    target = (store.content / outcome.path).resolve()
    assert target.is_relative_to(store.content.resolve())
    assert Path(outcome.path).parts[0] == "etc"


def test_an_article_without_a_headline_is_filed_under_its_first_sentence(store):
    outcome = store.add(normalize(article(title="  \n ")))
    expected = "Foreign Secretary Vikram Misri said on Friday that India is in touch with US authorities about the surrender of..."
    assert store.row(outcome.article_id)["title"] == expected
    post = frontmatter.load(store.content / outcome.path)
    assert post["title"] == expected


def test_word_counts_follow_the_rule_the_drop_threshold_uses(store):
    """Chinese runs its words together: a run counts one word per two characters,
    as when a page is weighed against the minimum length, not one per run."""
    chinese = "中国人民银行周五宣布下调存款准备金率以支持经济增长" * 3
    text = f"{chinese}\n\nBeijing, 7 June. {chinese}"
    outcome = store.add(
        normalize(article(url=URL + "?zh", paragraphs=[text], lang="zh"))
    )
    row = store.row(outcome.article_id)
    assert row["word_count"] == count_words(text) == 75 + 3
    assert row["word_count"] != len(text.split())


def test_a_run_row_asked_to_be_recorded_once_is_recorded_once(store):
    row = {
        "run_id": "2026-01-01T00:00:00+00:00",
        "source": "business-standard",
        "command": "broadsheet crawl",
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "status": "ok",
    }
    assert store.record_crawl(row, once=True)
    assert not store.record_crawl(row, once=True)
    assert store.record_crawl(row | {"started": "2026-01-01T00:00:01+00:00"}, once=True)
    assert store.db["crawls"].count == 2


def test_feed_validators_are_remembered_by_url(store):
    first = {"url": "https://x.example/rss", "etag": '"a"', "last_modified": None}
    store.save_feed_state([first | {"checked": "2026-01-01T00:00:00+00:00"}])
    store.save_feed_state([first | {"etag": '"b"', "checked": "2026-01-02"}])
    assert list(store.db.query("SELECT url, etag, checked FROM feed_state")) == [
        {"url": "https://x.example/rss", "etag": '"b"', "checked": "2026-01-02"}
    ]


def test_only_files_no_row_owns_are_removed(store):
    kept = store.add(normalize(article()))
    stray = store.content / "business-standard/1999/01/stray.md"
    stray.parent.mkdir(parents=True)
    stray.write_text("left by hand")
    with pytest.raises(StoreError, match="belongs to a stored article"):
        store.remove_file(kept.path)
    store.remove_file("business-standard/1999/01/stray.md")
    assert files(store) == [kept.path]
    assert not (store.content / "business-standard/1999").exists()
    with pytest.raises(ValueError, match="leaves"):
        store.remove_file("../broadsheet.db")


def test_batched_writes_commit_together_and_a_failed_one_undoes_only_itself(tmp_path):
    output = tmp_path / "out"
    with Store(output, batch=10) as store:
        first = store.add(normalize(article()))
        # a file is written only once the transaction holding its row commits
        assert not (store.content / first.path).exists()
        with pytest.raises(sqlite3.IntegrityError), store.batch.transaction():
            store.db.execute(
                "INSERT INTO articles (id, url) VALUES (?, 'x')", [first.article_id]
            )
        other = (
            "https://www.business-standard.com/markets/banks-rally-125020900001_1.html"
        )
        second = store.add(
            normalize(article(url=other, fetched_url=other, paragraphs=OTHER))
        )
        store.flush()
        assert files(store) == sorted([first.path, second.path])
    with Store(output) as store:
        assert [row["path"] for row in store.rows()] == [first.path, second.path]
        assert store.db["pending_files"].count == 0


def test_the_replay_batch_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(BATCH_VARIABLE, raising=False)
    assert store_batch() == STORE_BATCH
    monkeypatch.setenv(BATCH_VARIABLE, "4")
    assert store_batch() == 4
    monkeypatch.setenv(BATCH_VARIABLE, "0")
    with pytest.raises(BroadsheetError, match="whole number"):
        store_batch()


def test_an_update_keeps_a_dateless_story_under_the_day_it_was_first_seen(store):
    first = store.add(normalize(article(date=None, date_local=None)))
    later = article(
        date=None,
        date_local=None,
        paragraphs=[*PARAGRAPHS, OTHER[0]],
        fetched_at="2025-03-09T05:00:00+00:00",
    )
    updated = store.add(normalize(later))
    assert (updated.kind, updated.path) == ("updated", first.path)
    post = frontmatter.load(store.content / first.path)
    assert post["date"] == "2025-02-08"
    assert OTHER[0] in post.content
    assert (store.content / first.path).read_text() == store.render_row(
        store.row(first.article_id)
    )
