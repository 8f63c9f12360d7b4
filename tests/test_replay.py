import gzip
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli import cli
from pipeline.inputs.replay import (
    ReplayError,
    input_files,
    iter_pages,
    read_manifest,
    sniff_url,
)
from tests.contract import check_document
from tests.imports import reporting_imports
from tests.terminal import run_in_terminal

REPO = Path(__file__).parent.parent

REPLAY = Path(__file__).parent / "fixtures" / "replay"
# Hand-checked against the publishers' pages (and the corpus ground truth they come from).
EXPECTED = {
    "https://apnews.com/article/mexico-economy-growth-3cc842471fb9df42315d658d88c8403a": (
        "Mexico's economy grew 1.1% in 1st quarter, 3.8% year on year",
        "2023-04-28",
    ),
    "https://www.voanews.com/a/america-s-child-care-crisis-is-holding-back-moms-without-college-degrees-/7585813.html": (
        "America's child care crisis is holding back moms without college degrees",
        "2024-04-28",
    ),
    "https://theintercept.com/2023/04/28/montana-trans-zooey-zephyr": (
        "An Insider’s View of the Montana Legislature’s Attacks on Trans Rep. Zooey Zephyr",
        "2023-04-28",
    ),
    "https://restofworld.org/2025/oman-space-industry-launchpad-satellites": (
        "The world needs more spaceports. Oman wants to help",
        "2025-10-21",
    ),
    "https://timesofindia.indiatimes.com/world/pakistan/anti-terror-op-turns-sinister-pakistani-netizens-being-walled-off-as-army-raises-spectre-of-digital-terrorism/articleshow/112898501.cms": (
        "Anti-terror op turns sinister: Pakistani netizens being 'walled off' as army raises spectre of 'digital terrorism'",
        "2024-09-02",
    ),
}


def replay(*args: str) -> "CliRunner.invoke":
    return CliRunner().invoke(cli, ["replay", *args], catch_exceptions=False)


def snapshot(output: Path) -> dict[str, bytes]:
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted((output / "content").rglob("*"))
        if p.is_file()
    }


def test_a_replay_on_a_terminal_shows_its_progress_and_a_pipe_none(tmp_path):
    """The count of pages done shows on a terminal while the replay runs and is gone
    from a pipe; the summary shows on both."""
    command = [sys.executable, "-m", "pipeline", "replay", str(REPLAY)]
    command += ["--source", "news", "--output"]
    code, text = run_in_terminal([*command, str(tmp_path / "terminal")], tmp_path)
    assert code == 0, text
    assert "replaying" in text
    assert "news: 5 pages; 5 new" in text
    piped = subprocess.run(
        [*command, str(tmp_path / "piped")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert "replaying" not in piped.stdout + piped.stderr
    assert "news: 5 pages; 5 new" in piped.stdout


def test_a_piped_replay_does_without_rich_and_scrapy(tmp_path):
    """Off a terminal there is no display to draw: rich is never imported; nor is
    Scrapy (or Twisted), which only a crawl needs (0.3 s of start-up)."""
    command = reporting_imports("rich", "scrapy", "twisted")
    command += ["replay", str(REPLAY), "--source", "news", "--output", str(tmp_path)]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")
    }
    piped = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=120, env=env
    )
    assert piped.returncode == 0, piped.stderr
    assert "news: 5 pages; 5 new" in piped.stdout
    assert "loaded: []" in piped.stderr


def test_numpy_runs_one_blas_thread_unless_the_user_says_otherwise():
    """OpenBLAS would start a spinning thread per core at launch."""
    threads = (
        "import pipeline, numpy; print([line.split()[1] for line in "
        "open('/proc/self/status') if line.startswith('Threads:')][0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}

    def count(env: dict[str, str]) -> str:
        run = subprocess.run(
            [sys.executable, "-c", threads],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert count(env) == "1"
    if len(os.sched_getaffinity(0)) > 1:
        assert count(env | {"OPENBLAS_NUM_THREADS": "2"}) == "2"


def test_replay_of_saved_pages_with_a_manifest(tmp_path):
    output = tmp_path / "out"
    result = replay(
        str(REPLAY), "--source", "news", "--output", str(output), "--workers", "2"
    )
    assert result.exit_code == 0, result.output
    assert "news: 5 pages; 5 new" in result.output
    db = Database(output / "broadsheet.db")
    rows = list(db.query("SELECT * FROM articles ORDER BY id"))
    assert {
        r["url"]: (" ".join(r["title"].split()), r["date_local"][:10]) for r in rows
    } == EXPECTED
    files = snapshot(output)
    assert sorted(files) == sorted(f"content/{r['path']}" for r in rows)
    for name, data in files.items():
        assert check_document(data.decode("utf-8")) == [], name
    toi = db.execute(
        "SELECT date, date_local FROM articles WHERE url LIKE '%timesofindia%'"
    ).fetchone()
    assert toi == ("2024-09-02T17:07:00+05:30", "2024-09-02 17:07:00")
    # The manifest URL with its tracking parameters is kept as a variant of the story.
    manifest_url = read_manifest(REPLAY)["us-RestOfWorld_2025_10_21.html.gz"]
    assert (
        db["urls"].get(manifest_url)["article_id"]
        == db.execute(
            "SELECT id FROM articles WHERE url LIKE 'https://restofworld.org/%'"
        ).fetchone()[0]
    )


def test_the_summary_prints_a_folder_name_with_brackets_as_it_is(tmp_path):
    output = tmp_path / "runs [/] [bold]today"
    result = replay(str(REPLAY), "--source", "news", "--output", str(output))
    assert result.exit_code == 0, result.output
    assert f"replayed 5 file(s) into {output}\n" in result.output
    assert "  news: 5 pages; 5 new" in result.output


def test_second_replay_changes_nothing(tmp_path):
    output = tmp_path / "out"
    assert (
        replay(
            str(REPLAY), "--source", "news", "--output", str(output), "--workers", "0"
        ).exit_code
        == 0
    )
    before = snapshot(output)
    db_rows = (
        Database(output / "broadsheet.db")
        .execute("SELECT * FROM articles ORDER BY id")
        .fetchall()
    )
    result = replay(
        str(REPLAY), "--source", "news", "--output", str(output), "--workers", "0"
    )
    assert result.exit_code == 0
    assert "5 pages; 0 new, 0 updated, 5 unchanged" in result.output
    assert snapshot(output) == before
    assert (
        Database(output / "broadsheet.db")
        .execute("SELECT * FROM articles ORDER BY id")
        .fetchall()
        == db_rows
    )


def test_pool_and_in_process_extraction_store_the_same(tmp_path):
    results = []
    for workers in ("0", "2"):
        output = tmp_path / workers
        assert (
            replay(
                str(REPLAY),
                "--source",
                "news",
                "--output",
                str(output),
                "--workers",
                workers,
            ).exit_code
            == 0
        )
        results.append(snapshot(output))
    assert results[0] == results[1]


def _warc_of(pages: Path, warc: Path) -> None:
    manifest = read_manifest(pages)
    with open(warc, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for name, url in manifest.items():
            body = gzip.decompress((pages / name).read_bytes())
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8")],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers
            )
            writer.write_record(record)
        missing = StatusAndHeaders(
            "404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                "https://apnews.com/gone",
                "response",
                payload=io.BytesIO(b"gone"),
                http_headers=missing,
            )
        )
        other = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                "https://elsewhere.example/x",
                "response",
                payload=io.BytesIO(b"<p>x</p>"),
                http_headers=other,
            )
        )


def test_warc_replays_to_the_same_articles(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    _warc_of(REPLAY, warc)
    html_out, warc_out = tmp_path / "html", tmp_path / "warc"
    assert (
        replay(
            str(REPLAY), "--source", "news", "--output", str(html_out), "--workers", "0"
        ).exit_code
        == 0
    )
    result = replay(
        str(warc), "--source", "news", "--output", str(warc_out), "--workers", "0"
    )
    assert result.exit_code == 0, result.output
    assert (
        "7 pages; 5 new" in result.output
    )  # a source without domains takes every host
    assert "failed http-404 x1" in result.output

    def articles(output):
        return (
            Database(output / "broadsheet.db")
            .execute("SELECT url, title, text, path FROM articles ORDER BY url")
            .fetchall()
        )

    assert articles(warc_out) == articles(html_out)


def test_a_replay_writes_in_the_recorded_layout_and_refuses_another(tmp_path):
    """The workers render in the layout the folder was written in, read before the
    store is opened; another layout is refused before anything is written."""
    output = tmp_path / "out"
    custom = tmp_path / "custom.toml"
    custom.write_text("comments = true\n")
    other = tmp_path / "other.toml"
    other.write_text("toc = true\n")
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy(REPLAY / "urls.tsv", saved)
    shutil.copy(REPLAY / "us-APNews_2023_04_28.html.gz", saved)
    args = ["--source", "news", "--output", str(output), "--workers", "1"]
    assert replay(str(saved), *args, "--layout", str(custom)).exit_code == 0
    shutil.copytree(REPLAY, tmp_path / "all")
    (tmp_path / "all" / "cut.html.gz").write_bytes(b"\x1f\x8b broken")
    refused = CliRunner().invoke(
        cli, ["replay", str(tmp_path / "all"), *args, "--layout", str(other)]
    )
    assert refused.exit_code == 1
    assert "broadsheet export" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert len(snapshot(output)) == 1
    result = replay(str(tmp_path / "all"), *args)
    assert result.exit_code == 0, result.output
    files = snapshot(output)
    assert len(files) == 5
    assert all(b"\ncomments: true\n" in data for data in files.values())
    # a file skipped among the first pages, before the store was open, is a drop
    db = Database(output / "broadsheet.db")
    assert [r for (r,) in db.execute("select reason from drops")] == ["unreadable"]


def test_warc_records_are_matched_to_sources_by_host(tmp_path):
    warc = tmp_path / "crawl.warc.gz"
    _warc_of(REPLAY, warc)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[source]]\nname = "toi"\ndomains = ["indiatimes.com"]\nfeeds = ["https://timesofindia.indiatimes.com/rss.cms"]\n'
    )
    output = tmp_path / "out"
    result = replay(
        str(warc), "--sources", str(sources), "--output", str(output), "--workers", "0"
    )
    assert result.exit_code == 0, result.output
    rows = (
        Database(output / "broadsheet.db")
        .execute("SELECT source, url FROM articles")
        .fetchall()
    )
    assert [r[0] for r in rows] == ["toi"]
    assert "timesofindia.indiatimes.com" in rows[0][1]


def test_without_a_manifest_the_canonical_url_is_used(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(REPLAY / "us-APNews_2023_04_28.html.gz", folder)
    [page] = list(iter_pages(input_files([folder]), "news", lambda host: None))
    assert (
        page.url
        == "https://apnews.com/article/mexico-economy-growth-3cc842471fb9df42315d658d88c8403a"
    )
    assert page.seen_urls == ()  # the file's own path is never a URL of the story


def test_a_page_without_any_url_needs_a_prefix(tmp_path):
    page_file = tmp_path / "bare.html"
    page_file.write_text("<html><body><p>No link here.</p></body></html>")
    [skipped] = list(iter_pages([page_file], "news", lambda host: None))
    assert skipped.url == "bare.html"
    assert skipped.reason.startswith("no-url: ")
    [page] = list(
        iter_pages([page_file], "news", lambda host: None, "https://ex.example/saved/")
    )
    assert page.url == "https://ex.example/saved/bare.html"
    assert page.seen_urls == ()


def test_no_local_path_is_published(tmp_path):
    """A replayed page's URL, closing link and urls rows name no file of this machine."""
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy(REPLAY / "us-APNews_2023_04_28.html.gz", saved)
    (saved / "bare.html").write_text(
        "<html><head><title>A bare story</title></head><body><article><h1>A bare story"
        "</h1>" + "<p>The council met on Tuesday and agreed on the new budget for the "
        "harbour, the library and the schools of the district.</p>"
        * 12
        + "</article></body></html>"
    )
    output = tmp_path / "out"
    args = ["replay", str(saved), "--source", "news", "--output", str(output)]
    first = CliRunner().invoke(cli, [*args, "--workers", "0"])
    assert first.exit_code == 0, first.output
    assert "--url-prefix" in first.output  # the hint, once
    db = Database(output / "broadsheet.db")
    assert db.execute("select count(*) from articles").fetchone()[0] == 1
    prefixed = CliRunner().invoke(
        cli, [*args, "--workers", "0", "--url-prefix", "https://ex.example/saved"]
    )
    assert prefixed.exit_code == 0, prefixed.output
    urls = [u for (u,) in db.execute("select url from urls")]
    urls += [u for (u,) in db.execute("select url from articles")]
    urls += [u for (u,) in db.execute("select url from drops")]
    assert "https://ex.example/saved/bare.html" in urls
    assert not [u for u in urls if u.startswith("file:") or str(tmp_path) in u]
    for md in (output / "content").rglob("*.md"):
        assert "file:" not in md.read_text(encoding="utf-8")


def test_gzipped_pages_are_read_and_bombs_and_broken_files_are_skipped(
    tmp_path, monkeypatch
):
    import pipeline.inputs.replay

    # a small limit: a real 64 MiB bomb would leave the test process holding as much
    monkeypatch.setattr(pipeline.inputs.replay, "MAX_BYTES", 100_000)
    story = b"<html><body><p>Budget day in parliament.</p></body></html>"
    (tmp_path / "story.html.gz").write_bytes(gzip.compress(story))
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b" " * 100_001))
    (tmp_path / "cut.html.gz").write_bytes(gzip.compress(story)[:-12])
    (tmp_path / "urls.tsv").write_text(
        "story.html.gz\thttps://a.example/story\n"
        "bomb.html.gz\thttps://a.example/bomb\n"
        "cut.html.gz\thttps://a.example/cut\n"
    )
    read = {
        item.url: item
        for item in iter_pages(input_files([tmp_path]), "news", lambda host: None)
    }
    assert read["https://a.example/story"].body == story
    assert read["https://a.example/bomb"].reason == "too-large"
    assert read["https://a.example/cut"].reason.startswith(
        "unreadable: corrupt gzip data: it ends"
    )


def test_a_gz_file_too_large_to_hold_a_page_within_the_limit_is_not_read(
    tmp_path, monkeypatch
):
    import pipeline.inputs.replay

    monkeypatch.setattr(pipeline.inputs.replay, "MAX_COMPRESSED", 100)
    (tmp_path / "big.html.gz").write_bytes(gzip.compress(os.urandom(1000)))
    [item] = iter_pages([tmp_path / "big.html.gz"], "news", lambda host: None)
    assert item.reason == "too-large"


def test_sniff_url_reads_canonical_and_og_url_in_any_attribute_order():
    assert (
        sniff_url(b'<link href="https://a.example/x" rel="canonical">')
        == "https://a.example/x"
    )
    assert (
        sniff_url(b"<meta content='https://a.example/y' property='og:url'>")
        == "https://a.example/y"
    )
    assert sniff_url(b'<link rel="canonical" href="/relative">') is None


def test_a_folder_is_walked_in_name_order_without_entering_symlinked_folders(tmp_path):
    folder, outside = tmp_path / "saved", tmp_path / "elsewhere"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "B").mkdir()
    (folder / ".hidden").mkdir()
    outside.mkdir()
    names = ["z.html", "a/y.HTML.gz", "a/b/x.warc", "B/w.htm", ".hidden/v.html"]
    for name in [*names, "a/notes.txt", "a-b.html", "a0.html"]:
        (folder / name).write_text("x")
    (outside / "o.html").write_text("x")
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    (folder / "a" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "file-link.html").symlink_to(outside / "o.html")
    (folder / "broken.html").symlink_to(outside / "missing.html")
    found = [p.relative_to(folder).as_posix() for p in input_files([folder])]
    # by the parts of the path, as sorted Paths are: "a/..." before "a-b.html"
    assert found == [
        ".hidden/v.html",
        "B/w.htm",
        "a/b/x.warc",
        "a/y.HTML.gz",
        "a-b.html",
        "a0.html",
        "file-link.html",
        "z.html",
    ]


def test_a_folder_that_cannot_be_read_is_named_before_anything_is_stored(
    tmp_path, monkeypatch
):
    # root reads any folder, so the refusal the system would give is given here
    locked = tmp_path / "saved" / "locked"
    locked.mkdir(parents=True)
    (locked / "story.html").write_text("x")
    (tmp_path / "saved" / "other.html").write_text("x")
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ReplayError, match=r"locked: cannot read this folder: Permiss"):
        input_files([tmp_path / "saved"])
    output = tmp_path / "out"
    result = replay(
        str(tmp_path / "saved"), "--source", "news", "--output", str(output)
    )
    assert result.exit_code == 1
    assert "locked: cannot read this folder: Permission denied" in result.output
    assert not (output / "broadsheet.db").exists()


def test_bad_inputs_are_named(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ReplayError, match="not a saved page or WARC file"):
        input_files([tmp_path / "notes.txt"])
    (tmp_path / "urls.tsv").write_text("only-a-name\n")
    with pytest.raises(
        ReplayError, match=r"urls.tsv:1: expected <file name><TAB><url>"
    ):
        read_manifest(tmp_path)


def test_saved_html_needs_a_source(tmp_path):
    result = CliRunner().invoke(
        cli, ["replay", str(REPLAY), "--output", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "saved HTML pages need --source NAME" in result.output


def test_replay_of_a_folder_without_pages(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "replay",
            str(tmp_path / "empty"),
            "--source",
            "x",
            "--output",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "no saved pages or WARC files under" in result.output


def test_broken_warc_is_reported(tmp_path):
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    result = CliRunner().invoke(
        cli,
        [
            "replay",
            str(bad),
            "--source",
            "x",
            "--output",
            str(tmp_path / "o"),
            "--workers",
            "0",
        ],
    )
    assert result.exit_code == 1
    assert "not a readable WARC file" in result.output
