"""The layout: the keys every front matter ends with (menu, widgets, ...).

Defaults come from the packaged ``layout.toml``; :func:`load_layout` overlays the keys
of a user's TOML file and refuses unknown keys and wrong types with a clear message.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, fields
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pipeline.errors import BroadsheetError
from pipeline.tomlfile import read_toml

# Read through importlib.resources: under scrapyd the package runs from a zipped egg.
DEFAULT_LAYOUT = resources.files("pipeline.normalize") / "layout.toml"


class LayoutError(BroadsheetError):
    """The layout file is missing, malformed, or names an unknown key."""


@dataclass(frozen=True)
class Layout:
    """The keys every front matter ends with; defaults in the packaged layout.toml."""

    menu: str
    thumbnail: str
    lead: str
    comments: bool
    authorbox: bool
    pager: bool
    toc: bool
    mathjax: bool
    sidebar: str
    widgets: tuple[str, ...]

    def as_metadata(self) -> dict[str, str | bool | list[str]]:
        return {
            f.name: list(value)
            if isinstance(value := getattr(self, f.name), tuple)
            else value
            for f in fields(self)
        }


LAYOUT_KEYS = tuple(f.name for f in fields(Layout))
_LAYOUT_TYPES = {f.name: f.type for f in fields(Layout)}


def _read_toml(path: Path | Traversable) -> dict[str, Any]:
    return read_toml(path, LayoutError, "layout file")


def _layout_values(path: Path | Traversable, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _LAYOUT_TYPES:
            close = difflib.get_close_matches(key, LAYOUT_KEYS, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            known = ", ".join(LAYOUT_KEYS)
            raise LayoutError(
                f'{path}: unknown key "{key}"{hint}; layout keys: {known}'
            )
        kind = _LAYOUT_TYPES[key]
        if kind == "bool" and not isinstance(value, bool):
            raise LayoutError(f'{path}: key "{key}" must be true or false')
        if kind == "str" and not isinstance(value, str):
            raise LayoutError(f'{path}: key "{key}" must be a string')
        if kind.startswith("tuple"):
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise LayoutError(f'{path}: key "{key}" must be a list of strings')
            value = tuple(value)
        values[key] = value
    return values


@functools.cache
def _default_layout() -> Layout:
    values = _layout_values(DEFAULT_LAYOUT, _read_toml(DEFAULT_LAYOUT))
    missing = [key for key in LAYOUT_KEYS if key not in values]
    if missing:
        raise LayoutError(f'{DEFAULT_LAYOUT}: key "{missing[0]}" is missing')
    return Layout(**values)


def load_layout(path: str | Path | None = None) -> Layout:
    """The packaged defaults, overlaid with the keys of the TOML file ``path`` (if any)."""
    defaults = _default_layout()
    if path is None:
        return defaults
    path = Path(path)
    overrides = _layout_values(path, _read_toml(path))
    return Layout(**{**{k: getattr(defaults, k) for k in LAYOUT_KEYS}, **overrides})
