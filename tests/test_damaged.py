"""Damaged databases: every command says so in one line and leaves the file as it was.

A truncated file, a database from a newer release and one with flipped bytes in a
table's pages are handed to ``crawl``, ``replay``, ``check``, ``export`` and
``stats``; none writes to it, none prints a traceback.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.store.schema import SchemaError, check_database
from pipeline.store.writer import DB_NAME, open_database

PAGE = 4096


def sound_database(path: Path) -> None:
    """A migrated broadsheet database of some 200 KB, in rollback-journal mode."""
    db = open_database(path)
    db.execute("BEGIN")
    for n in range(2000):
        db.execute(
            "INSERT INTO crawls (run_id, source, message) VALUES (?, ?, ?)",
            (f"run-{n}", "ledger", f"message number {n} " * 4),
        )
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = DELETE")
    db.close()


def truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def newer(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA user_version = 99")


def flipped(path: Path) -> None:
    """Garbage over the b-tree pages in the middle of the file."""
    data = bytearray(path.read_bytes())
    middle = (len(data) // PAGE // 2) * PAGE
    for page in (middle, middle + PAGE):
        data[page : page + 64] = bytes(range(64, 128))
    path.write_bytes(bytes(data))


DAMAGE = {"truncated": truncated, "newer": newer, "flipped": flipped}


@pytest.fixture(params=sorted(DAMAGE))
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    output = tmp_path / "output"
    output.mkdir()
    sound_database(output / DB_NAME)
    DAMAGE[request.param](output / DB_NAME)
    return request.param, output


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_database_names_the_damage(damaged: tuple[str, Path]) -> None:
    kind, output = damaged
    expected = "newer than this broadsheet" if kind == "newer" else "is damaged"
    with pytest.raises(SchemaError, match=expected):
        check_database(output / DB_NAME)


def test_a_sound_or_missing_database_passes(tmp_path: Path) -> None:
    check_database(tmp_path / "none.db")
    sound_database(tmp_path / "sound.db")
    check_database(tmp_path / "sound.db")


def commands(folder: Path, output: Path) -> dict[str, list[str]]:
    pages = folder / "pages"
    pages.mkdir(exist_ok=True)
    (pages / "story.html").write_text("<html><title>x</title><p>words</p></html>")
    sources = folder / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "ledger"\ndomains = ["127.0.0.1"]\n'
        'feeds = ["http://127.0.0.1:9/feed.xml"]\n'
    )
    out = ["--output", str(output)]
    return {
        "crawl": ["crawl", "--sources", str(sources), *out],
        "replay": ["replay", str(pages), "--source", "ledger", *out],
        "check": ["check", *out],
        "export": ["export", *out],
        "stats": ["stats", *out],
    }


def test_every_command_refuses_a_damaged_database_in_one_line(
    damaged: tuple[str, Path], tmp_path: Path
) -> None:
    _, output = damaged
    before = digest(output / DB_NAME)
    for name, args in commands(tmp_path, output).items():
        done = CliRunner().invoke(cli, args)
        said = done.output
        assert done.exit_code == 1, (name, said)
        assert "Traceback" not in said, (name, said)
        lines = [line for line in said.splitlines() if line.strip()]
        assert len(lines) == 1, (name, said)
        assert any(
            words in said
            for words in ("newer than this broadsheet", "is damaged", "malformed")
        ), (name, said)
        assert digest(output / DB_NAME) == before, name
