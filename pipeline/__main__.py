"""``python -m pipeline`` runs the ``broadsheet`` command."""

from pipeline.cli import cli

cli(prog_name="broadsheet")
