"""Bad configuration and bad surroundings: one clear message, a non-zero exit, and the
existing database left as it was.

Sources files that do not parse or do not validate, an unknown source, an output
folder that cannot be written (its parent a regular file; a read-only filesystem), a
database from a newer release or not a database at all, a bad layout file, and a disk
that fills up in the middle of a replay. The filesystems are small tmpfs mounts made
by the test; those tests are skipped, saying why, where ``mount`` is not allowed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_crash import assert_sound, build_pages, replay_command

from pipeline.cli import cli
from pipeline.store.schema import SCHEMA_VERSION

REPLAY = Path(__file__).parent / "fixtures" / "replay"
ONE_PAGE = REPLAY / "us-APNews_2023_04_28.html.gz"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


def fingerprint(output: Path) -> dict[str, bytes]:
    """Every file of the output folder but the lock, byte for byte."""
    return {
        p.relative_to(output).as_posix(): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and p.name != ".broadsheet.lock"
    }


def rows(output: Path) -> list[tuple]:
    with closing(sqlite3.connect(output / "broadsheet.db")) as db:
        return db.execute("SELECT id, url, title, text, path FROM articles").fetchall()


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder holding one replayed article."""
    output = tmp_path_factory.mktemp("stored") / "out"
    pages = output.parent / "pages"
    pages.mkdir()
    shutil.copy(ONE_PAGE, pages)
    result = invoke(
        "replay",
        str(pages),
        "--source",
        "news",
        "--output",
        str(output),
        "--workers",
        "0",
    )
    assert result.exit_code == 0, result.output
    return output


@pytest.fixture
def existing(stored: Path, tmp_path: Path) -> Path:
    output = tmp_path / "out"
    shutil.copytree(stored, output)
    return output


# -- sources files ---------------------------------------------------------------

BAD_SOURCES = {
    "toml-error": (
        '[[source]]\nname = "x"\ndomains = ["a.example"\n',
        "not valid TOML: Unclosed array",
    ),
    "unknown-key": (
        '[[source]]\nname = "ndtv"\ndomains = ["ndtv.com"]\nfeed = ["https://ndtv.com/rss"]\n',
        'source "ndtv": unknown key "feed" (did you mean "feeds"?)',
    ),
    "missing-domains": (
        '[[source]]\nname = "ndtv"\nfeeds = ["https://ndtv.com/rss"]\n',
        'source "ndtv": key "domains" is required (a list of host names)',
    ),
    "domains-not-a-list": (
        '[[source]]\nname = "ndtv"\ndomains = "ndtv.com"\n',
        'source "ndtv": key "domains" must be a list of strings',
    ),
    "no-sources": ('title = "x"\n', 'unknown top-level key "title"'),
    "not-utf8": (b"\xff\xfe[[source]]\n", "cannot read: 'utf-8' codec can't decode"),
}


@pytest.mark.parametrize("command", ["replay", "crawl", "import"])
@pytest.mark.parametrize("case", BAD_SOURCES, ids=list(BAD_SOURCES))
def test_bad_sources_file_is_one_message_and_touches_nothing(
    case: str, command: str, existing: Path, tmp_path: Path
) -> None:
    text, message = BAD_SOURCES[case]
    sources = tmp_path / "sources.toml"
    if isinstance(text, bytes):
        sources.write_bytes(text)
    else:
        sources.write_text(text, encoding="utf-8")
    before = fingerprint(existing)
    args = {
        "replay": ["replay", str(REPLAY), "--source", "news", "--workers", "0"],
        "crawl": ["crawl"],
        "import": ["import", str(ONE_PAGE), "--source", "news"],
    }[command]
    result = invoke(*args, "--sources", str(sources), "--output", str(existing))
    assert result.exit_code == 1, result.output
    [line] = error_lines(result)
    assert line.startswith(f"Error: {sources}: {message}"), line
    assert "Traceback" not in result.output
    assert fingerprint(existing) == before


def test_missing_sources_file(existing: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = invoke("crawl", "--sources", str(missing), "--output", str(existing))
    assert result.exit_code == 1
    assert error_lines(result) == [f"Error: {missing}: no such sources file"]


def test_unknown_source_names_the_known_ones(existing: Path) -> None:
    before = fingerprint(existing)
    result = invoke("crawl", "--source", "nope", "--output", str(existing))
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line.startswith(
        'Error: unknown source "nope"; known sources: business-standard'
    )
    assert fingerprint(existing) == before


def test_bad_layout_file(existing: Path, tmp_path: Path) -> None:
    layout = tmp_path / "layout.toml"
    layout.write_text("sidebar = [\n", encoding="utf-8")
    before = fingerprint(existing)
    for args in (
        ["replay", str(REPLAY), "--source", "news", "--workers", "0"],
        ["export"],
    ):
        result = invoke(*args, "--layout", str(layout), "--output", str(existing))
        assert result.exit_code == 1, result.output
        [line] = error_lines(result)
        assert str(layout) in line
    assert fingerprint(existing) == before


def test_bad_option_values_are_refused_by_the_command_line() -> None:
    result = invoke("replay", str(REPLAY), "--workers", "-1")
    assert result.exit_code == 2
    assert "Invalid value for '--workers'" in result.output
    result = invoke("replay", str(REPLAY), "--threshold", "2")
    assert result.exit_code == 2
    assert "Invalid value for '--threshold'" in result.output


# -- the database ------------------------------------------------------------------


def test_database_from_a_newer_release_is_refused_untouched(existing: Path) -> None:
    with closing(sqlite3.connect(existing / "broadsheet.db")) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = fingerprint(existing)
    for args in (
        ["replay", str(REPLAY), "--source", "news", "--workers", "0"],
        ["export"],
        ["check"],
    ):
        result = invoke(*args, "--output", str(existing))
        assert result.exit_code == 1, result.output
        [line] = error_lines(result)
        assert str(existing / "broadsheet.db") in line
        assert "newer" in line
    assert fingerprint(existing) == before


def test_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "broadsheet.db").write_bytes(
        b"these are my notes, not a database\n" * 200
    )
    before = fingerprint(output)
    result = invoke(
        "replay",
        str(REPLAY),
        "--source",
        "news",
        "--output",
        str(output),
        "--workers",
        "0",
    )
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: cannot use database {output / 'broadsheet.db'}: file is not a database"
    ]
    assert fingerprint(output) == before


# -- the output folder -------------------------------------------------------------


def test_output_folder_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    output = tmp_path / "afile" / "out"
    for args in (
        ["replay", str(REPLAY), "--source", "news", "--workers", "0"],
        ["import", str(ONE_PAGE), "--source", "news"],
        ["export"],
        ["check"],
    ):
        result = invoke(*args, "--output", str(output))
        assert result.exit_code == 1, result.output
        assert error_lines(result) == [
            f"Error: cannot write to output folder {output}: Not a directory"
            if args[0] in ("replay", "import")
            else f"Error: no broadsheet.db in {output}: give the --output folder a "
            "crawl, replay or import wrote"
        ]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs filesystems under tmp_path; unmount them afterwards."""
    mounted: list[Path] = []

    def mount(size: str, *options: str) -> Path:
        point = tmp_path / f"fs-{uuid.uuid4().hex[:8]}"
        point.mkdir()
        opts = ",".join([f"size={size}", *options])
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def remount_readonly(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def test_read_only_filesystem_new_output(tmpfs) -> None:
    point = tmpfs("64k", "ro")
    output = point / "out"
    result = invoke(
        "replay",
        str(REPLAY),
        "--source",
        "news",
        "--output",
        str(output),
        "--workers",
        "0",
    )
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: cannot write to output folder {output}: Read-only file system"
    ]


def test_read_only_filesystem_with_an_existing_output(stored: Path, tmpfs) -> None:
    point = tmpfs("4m")
    output = point / "out"
    shutil.copytree(stored, output)
    before = fingerprint(output)
    remount_readonly(point)
    for args in (
        ["replay", str(REPLAY), "--source", "news", "--workers", "0"],
        ["export"],
        ["check", "--repair"],
    ):
        result = invoke(*args, "--output", str(output))
        assert result.exit_code == 1, result.output
        [line] = error_lines(result)
        assert "Read-only file system" in line or "readonly database" in line, line
    assert fingerprint(output) == before


def test_disk_full_in_the_middle_of_a_replay_stops_at_once(
    stored: Path, tmpfs, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    build_pages(pages)
    point = tmpfs("600k")
    output = point / "out"
    shutil.copytree(stored, output)
    earlier = rows(output)
    started = time.monotonic()
    done = subprocess.run(
        replay_command(pages, output), capture_output=True, text=True, timeout=120
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    assert "database or disk is full" in errors[0] or "No space left" in errors[0]
    assert (
        "replayed" not in done.stdout + done.stderr
    )  # no summary of a run that did not finish
    assert elapsed < 60
    with closing(sqlite3.connect(output / "broadsheet.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    after = rows(output)
    assert after[: len(earlier)] == earlier
    assert len(after) < 40  # it stopped: most pages were never stored
    # With room again, the same command finishes the job and nothing is half done.
    roomy = tmp_path / "roomy"
    shutil.copytree(output, roomy)
    again = subprocess.run(
        replay_command(pages, roomy), capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert rows(roomy)[: len(earlier)] == earlier
    assert_sound(roomy)
