"""The default sources' own pages, replayed as a user would, give the hand-checked
markdown files beside them (tests/fixtures/golden/<source>/expected.md).

Each folder holds one saved page of the source's site (see the folder's README for its
origin and licence), its urls.tsv and the markdown file that ``broadsheet replay``
must write for it: one paragraph per paragraph, subheadings as ``###``, no furniture,
a summary that ends cleanly, front matter as the format contract has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

GOLDEN = Path(__file__).parent / "fixtures" / "golden"
SOURCES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def replayed(source: str, output: Path) -> str:
    result = CliRunner().invoke(
        cli,
        ["replay", str(GOLDEN / source), "--source", source, "--output", str(output)],
    )
    assert result.exit_code == 0, result.output
    (written,) = sorted((output / "content").rglob("*.md"))
    return written.read_text(encoding="utf-8")


@pytest.mark.parametrize("source", SOURCES)
def test_a_default_sources_page_gives_its_golden_markdown(source, tmp_path):
    expected = (GOLDEN / source / "expected.md").read_text(encoding="utf-8")
    assert replayed(source, tmp_path / "out") == expected
