"""A content folder moved to another disk and symlinked back keeps working.

``content/<source>`` is a symbolic link (as an owner makes it when a source outgrows
its disk): ``check``, ``export`` and ``replay`` read and write through it, and the
files stay where the owner put them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli

REPLAY = Path(__file__).parent / "fixtures" / "replay"


def broadsheet(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_check_export_and_replay_work_through_a_symlinked_source_folder(
    tmp_path: Path,
) -> None:
    output = tmp_path / "output"
    page = tmp_path / "pages"
    page.mkdir()
    name = "us-APNews_2023_04_28.html.gz"
    shutil.copy(REPLAY / name, page / name)
    manifest = (REPLAY / "urls.tsv").read_text(encoding="utf-8").splitlines()
    (page / "urls.tsv").write_text(
        "".join(line + "\n" for line in manifest if line.startswith(name))
    )
    out = ["--output", str(output)]
    broadsheet("replay", str(page), "--source", "apnews", "--workers", "0", *out)
    content = output / "content" / "apnews"
    moved = tmp_path / "other-disk" / "apnews"
    moved.parent.mkdir()
    shutil.move(content, moved)
    content.symlink_to(moved, target_is_directory=True)
    files = sorted(p.relative_to(moved) for p in moved.rglob("*.md"))
    assert len(files) == 1

    assert "markdown tree and database agree" in broadsheet("check", *out)
    (moved / files[0]).unlink()
    assert "missing" in CliRunner().invoke(cli, ["check", *out]).output
    broadsheet("check", "--repair", *out)
    assert (moved / files[0]).is_file()
    assert "wrote 1 markdown file" in broadsheet("export", *out)
    broadsheet("replay", str(page), "--source", "apnews", "--workers", "0", *out)
    assert content.is_symlink()
    assert sorted(p.relative_to(moved) for p in moved.rglob("*.md")) == files
