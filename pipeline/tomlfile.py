"""Reading broadsheet's TOML configuration files, with errors that name the file."""

from __future__ import annotations

import tomllib
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pipeline.errors import BroadsheetError


def read_toml(
    path: Path | Traversable, error: type[BroadsheetError], kind: str
) -> dict[str, Any]:
    """The parsed file, or ``error`` saying what is wrong with it (``kind``: "sources file")."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such {kind}") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot read: {problem}") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{path}: not valid TOML: {problem}") from None
