"""Where an article's markdown file goes: ``content/<source>/<yyyy>/<mm>/<slug>.md``.

Slugs are ASCII ``[a-z0-9-]``, at most :data:`MAX_SLUG` characters, taken from the last
segment of the URL path or else from the title; nothing a page contains can make a
path leave the content folder. Files are written to a hidden temporary name beside
their final name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from pipeline.slugs import slugify

EXTENSION = re.compile(r"\.(?:html?|cms|php|aspx?|jsp|shtml)$", re.IGNORECASE)
RESERVED = {"con", "prn", "aux", "nul", "index", "_index"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(10)
}


def slug_for(url: str, title: str) -> str:
    """A slug from the URL's last path segment, else the title, else a hash of the URL."""
    segment = ""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    for part in reversed(path.split("/")):
        if part:
            segment = EXTENSION.sub("", unquote(part))
            break
    for candidate in (slugify(segment), slugify(title)):
        if (
            len(candidate) >= 3
            and not candidate.isdigit()
            and candidate not in RESERVED
        ):
            return candidate
    return "article-" + hashlib.sha1(url.encode("utf-8", "replace")).hexdigest()[:12]


def relative_path(source: str, date: str, slug: str, suffix: str = "") -> str:
    """``<source>/<yyyy>/<mm>/<slug><suffix>.md`` relative to the content folder."""
    year, month = date[:4], date[5:7]
    if not (year.isdigit() and month.isdigit()):
        year, month = "0000", "00"
    source_part = slugify(source) or "unknown"
    return str(PurePosixPath(source_part, year, month, f"{slug}{suffix}.md"))


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that would land outside ``root``.

    Judged on the path itself, without following links: a folder under ``root``
    that its owner made a symbolic link (to another disk, say) stays usable.
    """
    normal = os.path.normpath(relative)
    if os.path.isabs(normal) or normal in (".", "..") or normal.startswith("../"):
        raise ValueError(f"path {relative!r} leaves {root}")
    return root.resolve() / normal


def temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    temp = temp_name(path)
    try:
        try:
            handle = open(temp, "w", encoding="utf-8", newline="\n")
        except FileNotFoundError:  # the first file of its folder
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(temp, "w", encoding="utf-8", newline="\n")
        with handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_pruning(path: Path, root: Path) -> None:
    """Delete ``path`` (if there), then the folders up to ``root`` it leaves empty."""
    path.unlink(missing_ok=True)
    folder, root = path.parent, root.resolve()
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
