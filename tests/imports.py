"""broadsheet's command in a fresh Python that says, as it exits, which of some
modules it imported: a check that a command does without what it does not need."""

from __future__ import annotations

import sys


def reporting_imports(*roots: str) -> list[str]:
    """``python -c`` running ``pipeline.cli`` (append its arguments), which prints
    ``loaded: [...]`` to stderr at exit: the modules imported that are one of
    ``roots`` or inside one."""
    report = (
        "import atexit, sys\n"
        f"roots = {roots!r}\n"
        "atexit.register(lambda: print('loaded:', sorted(m for m in sys.modules"
        " if any(m == r or m.startswith(r + '.') for r in roots)), file=sys.stderr))\n"
        "from pipeline.cli import cli; cli()"
    )
    return [sys.executable, "-c", report]
