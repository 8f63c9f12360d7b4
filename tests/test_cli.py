import subprocess
import sys
from pathlib import Path

import frontmatter
from click.testing import CliRunner
from sqlite_utils import Database

from pipeline.cli import cli
from pipeline.store.lock import output_lock
from tests.contract import check_document

BROADSHEET = [sys.executable, "-c", "from pipeline.cli import cli; cli()"]

FIXTURES = Path(__file__).parent / "fixtures"
DUMP = FIXTURES / "legacy" / "legacy-text-hindustantimes.txt"


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def test_import_writes_one_article_in_the_contract_and_is_idempotent(tmp_path):
    output = tmp_path / "out"
    result = run(
        "import", str(DUMP), "--source", "hindustantimes", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    assert "hindustantimes: 1 pages; 1 new" in result.output
    [row] = Database(output / "broadsheet.db")["articles"].rows
    assert row["url"].startswith(
        "https://hindustantimes.com/imported/2023-05-18-india-is-in-touch"
    )
    path = output / "content" / row["path"]
    assert row["path"].startswith("hindustantimes/2023/05/")
    text = path.read_text(encoding="utf-8")
    assert check_document(text) == []
    post = frontmatter.loads(text)
    assert post["date"] == "2023-05-18"
    assert post["categories"] == ["hindustantimes"]
    assert post.content.endswith(f"[hindustantimes]({row['url']})")
    again = run(
        "import", str(DUMP), "--source", "hindustantimes", "--output", str(output)
    )
    assert "1 pages; 0 new, 0 updated, 1 unchanged" in again.output
    assert path.read_text(encoding="utf-8") == text


def test_import_with_a_url_prefix(tmp_path):
    output = tmp_path / "out"
    result = run(
        "import",
        str(DUMP),
        "--source",
        "ht",
        "--url-prefix",
        "https://archive.example/ht/",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    [row] = Database(output / "broadsheet.db")["articles"].rows
    assert row["url"].startswith("https://archive.example/ht/2023-05-18-")


def test_import_refuses_a_file_that_is_not_a_dump(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = run(
        "import", str(notes), "--source", "ht", "--output", str(tmp_path / "out")
    )
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: {notes}: no record starting with ' date YYYY-MM-DD ' found\n"
    )


def test_layout_override_and_export(tmp_path):
    output = tmp_path / "out"
    assert (
        run(
            "import", str(DUMP), "--source", "hindustantimes", "--output", str(output)
        ).exit_code
        == 0
    )
    layout = tmp_path / "layout.toml"
    layout.write_text('comments = true\nwidgets = ["search"]\n')
    result = run("export", "--output", str(output), "--layout", str(layout))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("wrote 1 markdown file(s)")
    [md] = (output / "content").rglob("*.md")
    post = frontmatter.load(md)
    assert post["comments"] is True
    assert post["widgets"] == ["search"]
    assert check_document(md.read_text(encoding="utf-8")) == []


def test_bad_layout_key_is_named(tmp_path):
    layout = tmp_path / "layout.toml"
    layout.write_text("comment = true\n")
    output = tmp_path / "out"
    result = run(
        *("import", str(DUMP), "--source", "ht", "--output", str(output)),
        *("--layout", str(layout)),
    )
    assert result.exit_code == 1
    assert 'unknown key "comment"' in result.output
    assert str(layout) in result.output
    assert not output.exists()


def test_check_finds_drift_and_repair_fixes_it(tmp_path):
    output = tmp_path / "out"
    assert (
        run(
            "import", str(DUMP), "--source", "hindustantimes", "--output", str(output)
        ).exit_code
        == 0
    )
    [md] = (output / "content").rglob("*.md")
    original = md.read_text(encoding="utf-8")
    md.write_text(original.replace("Kwatra", "Somebody"), encoding="utf-8")
    stray = output / "content" / "hindustantimes" / "stray.md"
    stray.write_text("---\ntitle: x\n---\n")
    result = run("check", "--output", str(output))
    assert result.exit_code == 1
    relative = md.relative_to(output / "content").as_posix()
    assert f"changed\t{relative}" in result.output
    assert "stray\thindustantimes/stray.md" in result.output
    result = run("check", "--output", str(output), "--repair")
    assert result.exit_code == 0
    assert "repaired 2 file(s)" in result.output
    assert md.read_text(encoding="utf-8") == original
    assert not stray.exists()
    md.unlink()
    assert "missing\t" + relative in run("check", "--output", str(output)).output
    assert run("check", "--output", str(output), "--repair").exit_code == 0
    assert md.read_text(encoding="utf-8") == original
    assert (
        run("check", "--output", str(output)).output
        == "markdown tree and database agree\n"
    )


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert "version" in result.output


def test_crawl_options_reach_a_repeated_round_whole(tmp_path):
    """--every runs each round in a subprocess: every option, --seed-from included,
    must get there (here the round refuses --seed-from without --redis)."""
    from pipeline.crawl.runner import CrawlOptions

    options = CrawlOptions(
        output=tmp_path / "out",
        sources=["a", "b"],
        sources_file=tmp_path / "s.toml",
        limit=3,
        refresh=True,
        record=tmp_path / "warc",
        settings={"DOWNLOAD_DELAY": "0"},
        redis_url="redis://x:1/0",
        seed_from=tmp_path / "seed",
        verbosity=2,
        log_file=tmp_path / "log.txt",
        layout_file=tmp_path / "layout.toml",
    )
    assert CrawlOptions.from_json(options.to_json()) == options
    result = subprocess.run(
        [
            *BROADSHEET,
            "crawl",
            "--every",
            "1s",
            "--rounds",
            "1",
            "--output",
            str(tmp_path / "out"),
            "--seed-from",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "--seed-from needs --redis URL" in result.stderr


def imported(output: Path, *extra: str, **env: str):
    return run(
        *("import", str(DUMP), "--source", "hindustantimes", "--output", str(output)),
        *extra,
        env=env,
    )


def test_a_layout_sticks_until_export_changes_it(tmp_path):
    output = tmp_path / "out"
    custom = tmp_path / "custom.toml"
    custom.write_text("comments = true\n")
    other = tmp_path / "other.toml"
    other.write_text("toc = true\n")
    assert imported(output, BROADSHEET_LAYOUT=str(custom)).exit_code == 0
    [md] = (output / "content").rglob("*.md")
    assert frontmatter.load(md)["comments"] is True
    # a plain check compares against the recorded layout, and repair keeps it
    assert run("check", "--output", str(output)).exit_code == 0
    assert run("check", "--output", str(output), "--repair").exit_code == 0
    assert frontmatter.load(md)["comments"] is True
    # a second, different layout is refused in one line, and nothing changes
    refused = imported(output, "--layout", str(other))
    assert refused.exit_code == 1
    assert "broadsheet export" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert frontmatter.load(md)["toc"] is False
    # export --layout changes it for good
    assert run("export", "--output", str(output), "--layout", str(other)).exit_code == 0
    assert frontmatter.load(md)["toc"] is True
    assert run("check", "--output", str(output)).exit_code == 0
    assert imported(output).exit_code == 0
    assert frontmatter.load(md)["toc"] is True


def test_export_and_check_refuse_a_folder_without_a_database(tmp_path):
    typo = tmp_path / "typo-dir"
    for command in (["export"], ["check"], ["check", "--repair"]):
        result = run(*command, "--output", str(typo))
        assert result.exit_code == 1
        assert "no broadsheet.db in" in result.output
        assert not typo.exists()


def test_check_reads_without_the_lock_and_repair_keeps_other_pages(tmp_path):
    output = tmp_path / "out"
    assert imported(output).exit_code == 0
    content = output / "content"
    hand = {
        content / "_index.md": "---\ntitle: News\n---\n",
        content / "about.md": "---\ntitle: About\n---\n",
        content / "pages" / "team.md": "---\ntitle: Team\n---\n",
    }
    for path, text in hand.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    stray = content / "hindustantimes" / "2020" / "01" / "old.md"
    stray.parent.mkdir(parents=True)
    stray.write_text("---\ntitle: old\n---\n")
    with output_lock(output):  # a crawl is writing
        result = run("check", "--output", str(output))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "stray\thindustantimes/2020/01/old.md"
    assert run("check", "--output", str(output), "--repair").exit_code == 0
    assert not stray.exists()
    assert all(path.read_text() == text for path, text in hand.items())
