import subprocess
import sys
from pathlib import Path

from sqlite_utils import Database

from tests.contract import check_document
from tests.terminal import run_in_terminal

REPO = Path(__file__).parent.parent


def test_demo_crawls_the_bundled_site_end_to_end(tmp_path):
    output = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "demo", "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "4 new" in result.stdout
    assert "1 near-duplicate" in result.stdout
    assert f"broadsheet serve --output {output}" in result.stdout
    db = Database(output / "broadsheet.db")
    port = {
        "Cabinet clears southern port expansion",
        "Port expansion wins final approval",
    }
    stories = {
        t
        for (t,) in db.execute("SELECT title FROM articles WHERE duplicate_of IS NULL")
    }
    assert stories - port == {
        "Central library reopens with longer hours",
        "Harbour ferry returns after two-year pause",
        "Late rains top up the state's reservoirs",
    }
    # The wire story is stored once; which copy arrived first depends on the download order.
    [(copy, original)] = db.execute(
        "SELECT a.title, b.title FROM articles a JOIN articles b ON a.duplicate_of = b.id"
    ).fetchall()
    assert {copy, original} == port
    # The library story states a day and no time: none is invented.
    assert db.execute(
        "SELECT date, date_local FROM articles WHERE title LIKE 'Central library%'"
    ).fetchone() == (
        "2026-11-18",
        "2026-11-18",
    )
    files = sorted((output / "content").rglob("*.md"))
    assert len(files) == 4
    for path in files:
        assert check_document(path.read_text(encoding="utf-8")) == [], path
    assert db["crawls"].count == 1
    assert next(db["crawls"].rows)["status"] == "ok"


def test_a_terminal_gets_a_live_display_and_a_pipe_none(tmp_path):
    """On a terminal each source's fetched, stored and dropped counts show while it
    runs; the summary stays once the display is gone."""
    command = [sys.executable, "-m", "pipeline", "demo", "--output", str(tmp_path)]
    code, text = run_in_terminal(command, tmp_path)
    assert code == 0, text
    assert "demo-gazette: " in text
    assert " fetched, " in text
    assert "4 new" in text
    piped = subprocess.run(
        [*command[:-1], str(tmp_path / "piped")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert "fetched," not in piped.stdout + piped.stderr
