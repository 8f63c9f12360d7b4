from sqlite_utils import Database

from pipeline.store.schema import SCHEMA_VERSION, migrate, schema_version
from pipeline.store.writer import Store


def test_database_of_the_first_schema_upgrades_in_place(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    old = Database(output / "broadsheet.db")
    migrate(old, upto=1)
    old["articles"].insert(
        {
            "id": 1,
            "url": "https://example.com/a",
            "source": "example",
            "title": "Monsoon arrives early in Kerala",
            "text": "The monsoon reached the Kerala coast three days early, the weather office said.",
            "body_md": "The monsoon reached the Kerala coast three days early, the weather office said.",
            "content_hash": "h",
            "first_seen": "2024-05-30T00:00:00+00:00",
            "last_seen": "2024-05-30T00:00:00+00:00",
        }
    )
    old["urls"].insert(
        {"url": "https://example.com/a", "article_id": 1, "first_seen": "x"}
    )
    old.close()

    with Store(output) as store:
        assert schema_version(store.db) == SCHEMA_VERSION
        assert {"versions", "crawls", "sources", "minhashes", "lsh_bands"} <= set(
            store.db.table_names()
        )
        assert store.row(1)["title"] == "Monsoon arrives early in Kerala"
        assert "similarity" in store.db["articles"].columns_dict
        found = store.db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'kerala'"
        ).fetchall()
        assert found == [(1,)]
        assert store.known("https://example.com/a?utm_source=x")


def test_full_text_index_follows_inserts_and_updates(tmp_path):
    db = Database(tmp_path / "t.db")
    migrate(db)
    db["articles"].insert(
        {
            "id": 7,
            "url": "u",
            "source": "s",
            "title": "Rupee falls",
            "text": "The rupee fell against the dollar.",
            "content_hash": "h",
            "first_seen": "x",
            "last_seen": "x",
        }
    )
    assert [r["id"] for r in db["articles"].search("dollar")] == [7]
    db["articles"].update(7, {"text": "The rupee rose against the euro."})
    assert list(db["articles"].search("dollar")) == []
    assert [r["id"] for r in db["articles"].search("euro")] == [7]


def _fts_ids(db, word):
    return db.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (word,)
    ).fetchall()


def test_full_text_index_is_rewritten_only_when_indexed_columns_change(tmp_path):
    output = tmp_path / "out"
    output.mkdir()
    old = Database(output / "broadsheet.db")
    migrate(old, upto=3)  # made by a release before the narrower update trigger
    old["articles"].insert(
        {
            "id": 1,
            "url": "https://example.com/a",
            "source": "example",
            "title": "Monsoon arrives early",
            "summary": "Rain in Kerala",
            "text": "The monsoon reached the Kerala coast three days early.",
            "content_hash": "h",
            "first_seen": "2024-05-30T00:00:00+00:00",
            "last_seen": "2024-05-30T00:00:00+00:00",
        }
    )
    old.close()

    with Store(output) as store:
        conn = store.db.conn
        before = conn.total_changes
        conn.execute("UPDATE articles SET last_seen = '2024-06-01' WHERE id = 1")
        assert conn.total_changes - before == 1  # the row alone: no index rewrite
        assert _fts_ids(conn, "kerala") == [(1,)]

        conn.execute("UPDATE articles SET text = 'Floods shut Mumbai' WHERE id = 1")
        assert _fts_ids(conn, "mumbai") == [(1,)]
        assert _fts_ids(conn, "coast") == []
        assert _fts_ids(conn, "kerala") == [(1,)]  # still in the summary
