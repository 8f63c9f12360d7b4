"""The ``broadsheet`` command: a thin layer of click commands.

Each command parses its options and calls one library function of a stage package,
turning broadsheet's own errors into one-line messages and exit statuses.

May import: everything; nothing imports it.
"""

from pipeline.cli import crawling, offline, scaling, serving, tree  # noqa: F401
from pipeline.cli.base import cli

__all__ = ["cli"]
