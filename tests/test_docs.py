"""Every command is documented: it has help with an example, and the README names it."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
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
