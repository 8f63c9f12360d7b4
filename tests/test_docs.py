"""Every command is documented: it has help with an example, and the README names it.
Every relative link in the README and docs/ points at a file and heading that exist."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = [
    ROOT / "README.md",
    ROOT / "CHANGELOG.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
COMMANDS = sorted(cli.commands)


def test_the_readme_has_the_two_commands():
    assert (
        "python -m pip install -U pip && pip install -e . && broadsheet crawl" in README
    )
    assert "bash .ci/run" in README
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pip install -q -U pip" in ci
    assert "pip install -q -e '.[test]'" in ci
    assert "pytest" in ci


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert f"broadsheet {command}" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    assert re.search(rf"`broadsheet {command}\b", README), (
        f"README does not mention broadsheet {command}"
    )


def test_no_placeholder_is_left_in_the_readme():
    assert "PLACEHOLDER" not in README


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = re.findall(r"^#+\s+(.+?)\s*$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def test_the_docs_pages_exist():
    names = {p.name for p in PAGES}
    for name in ("crawling.md", "extraction.md", "database.md", "serving.md"):
        assert name in names
    for name in ("deploy.md", "benchmarks.md", "testing.md", "development.md"):
        assert name in names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}: no such file"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: {target}: no such heading"
