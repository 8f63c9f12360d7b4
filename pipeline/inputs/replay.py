"""Saved responses -> :class:`Page` records, the same records a live crawl yields.

Inputs: files or folders of saved pages (``.html``, ``.htm``, ``.html.gz``) and WARC
files (``.warc``, ``.warc.gz``: a recorded crawl or a Common Crawl news WARC).

A saved page's URL comes from a ``urls.tsv`` manifest beside it (``<file name><TAB><url>``
per line); without one, from the page's own rel=canonical or og:url; else from a URL
prefix given for the purpose (prefix + file name). A page with none of them is not
stored (``no-url``): a local path is never published as a URL. A WARC response's URL is its ``WARC-Target-URI``. Pages are yielded lazily, one at
a time, so memory does not grow with the number of pages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import gzipped
from pipeline.errors import BroadsheetError
from pipeline.items import Page

PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
WARC_SUFFIXES = (".warc", ".warc.gz")
INPUT_SUFFIXES = PAGE_SUFFIXES + WARC_SUFFIXES
MANIFEST = "urls.tsv"
MAX_BYTES = 64 * 1024 * 1024  # larger saved pages (or gzip bombs) are dropped, not read
# deflate grows incompressible data by well under 1%: a larger .gz holds too much
MAX_COMPRESSED = MAX_BYTES + MAX_BYTES // 100
HEAD_BYTES = 256 * 1024
CANONICAL = [
    re.compile(
        rb"""<link\b[^>]*\brel=["']?canonical["']?[^>]*\bhref=["']([^"'>\s]+)""", re.I
    ),
    re.compile(
        rb"""<link\b[^>]*\bhref=["']([^"'>\s]+)["'][^>]*\brel=["']?canonical""", re.I
    ),
    re.compile(
        rb"""<meta\b[^>]*\bproperty=["']og:url["'][^>]*\bcontent=["']([^"'>\s]+)""",
        re.I,
    ),
    re.compile(
        rb"""<meta\b[^>]*\bcontent=["']([^"'>\s]+)["'][^>]*\bproperty=["']og:url""",
        re.I,
    ),
]


NO_URL_HINT = (
    "no urls.tsv entry and no canonical link: list it in urls.tsv or give --url-prefix"
)


class ReplayError(BroadsheetError):
    """An input path cannot be replayed."""


@dataclass(frozen=True)
class Skipped:
    """A saved response that is not a page to extract, with the reason it is counted under."""

    url: str
    source: str
    reason: str  # too-large, unreadable, no-url, http-<status>, off-source
    status: int | None = None


def is_input(path: Path) -> bool:
    return is_input_name(path.name)


def is_input_name(name: str) -> bool:
    return name.lower().endswith(INPUT_SUFFIXES)


def _inputs_under(folder: Path) -> list[Path]:
    """The replayable files under ``folder``, in the order of their names' parts.

    Walks the folder as ``Path.rglob`` does (symlinked files are read, symlinked
    folders are not entered) but with ``os.scandir``, sorting plain strings: about
    half the time at tens of thousands of files, all of it before the first page can
    start. A folder that cannot be read stops the replay before anything is stored,
    naming it, rather than leaving its pages out unseen.
    """
    found: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[str, tuple[str, ...]]] = [(str(folder), ())]
    while stack:
        where, parts = stack.pop()
        try:
            with os.scandir(where) as entries:
                for entry in entries:
                    named = (*parts, entry.name)
                    if entry.is_dir() and not entry.is_symlink():
                        stack.append((entry.path, named))
                    elif entry.is_file() and is_input_name(entry.name):
                        found.append((named, entry.path))
        except OSError as error:
            raise ReplayError(
                f"{where}: cannot read this folder: {_why(error)}"
            ) from None
    found.sort()
    return [Path(path) for _, path in found]


def input_files(paths: list[Path]) -> list[Path]:
    """The replayable files under ``paths``, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(_inputs_under(path))
        elif path.is_file():
            if not is_input(path):
                raise ReplayError(
                    f"{path}: not a saved page or WARC file (expected {', '.join(INPUT_SUFFIXES)})"
                )
            found.append(path)
        else:
            raise ReplayError(f"{path}: no such file or folder")
    return found


def read_manifest(folder: Path) -> dict[str, str]:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return {}
    urls = {}
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, url = line.partition("\t")
        if not sep or not url.strip():
            raise ReplayError(f"{manifest}:{number}: expected <file name><TAB><url>")
        urls[name.strip()] = url.strip()
    return urls


def sniff_url(body: bytes) -> str | None:
    head = body[:HEAD_BYTES]
    for pattern in CANONICAL:
        match = pattern.search(head)
        if match:
            url = match.group(1).decode("ascii", "replace").replace("&amp;", "&")
            if url.startswith(("http://", "https://")):
                return url
    return None


def _read_page_file(path: Path) -> bytes | None:
    """The page's bytes (gunzipped for ``.gz``), or None when there are more than
    ``MAX_BYTES`` of them."""
    with open(path, "rb") as handle:
        if not path.name.lower().endswith(".gz"):
            body = handle.read(MAX_BYTES + 1)
        else:
            data = handle.read(MAX_COMPRESSED + 1)
            if len(data) > MAX_COMPRESSED:
                return None
            body = gzipped.decompress(data, MAX_BYTES)
    return None if len(body) > MAX_BYTES else body


def _mtime(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
        timespec="seconds"
    )


def _why(error: Exception) -> str:
    """An error's reason without the local path an OSError names."""
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def pages_from_file(
    path: Path, source: str, manifest: dict[str, str], url_prefix: str | None = None
) -> Iterator[Page | Skipped]:
    made_up = f"{url_prefix.rstrip('/')}/{path.name}" if url_prefix else None
    known = manifest.get(path.name) or made_up
    try:
        body = _read_page_file(path)
    except (OSError, gzipped.GzipError) as error:
        yield Skipped(known or path.name, source, f"unreadable: {_why(error)}")
        return
    if body is None:
        yield Skipped(known or path.name, source, "too-large")
        return
    url = manifest.get(path.name) or sniff_url(body) or made_up
    if url is None:
        yield Skipped(path.name, source, f"no-url: {NO_URL_HINT}")
        return
    yield Page(url=url, body=body, source=source, fetched_at=_mtime(path))


def pages_from_warc(
    path: Path, source_for: Callable[[str], str | None]
) -> Iterator[Page | Skipped]:
    """Each response record of a WARC, with the source its host belongs to.

    ``source_for(host)`` names the source for a host, or None for hosts of no
    configured source: their records are skipped without being counted.
    """
    # imported here: a replay of saved HTML files, the common case, never needs it
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                source = source_for((urlsplit(url).hostname or "").lower())
                if source is None:
                    continue
                status = (
                    int(record.http_headers.get_statuscode() or 0)
                    if record.http_headers
                    else 0
                )
                if status != 200:
                    yield Skipped(url, source, f"http-{status}", status)
                    continue
                body = record.content_stream().read(MAX_BYTES + 1)
                if len(body) > MAX_BYTES:
                    yield Skipped(url, source, "too-large")
                    continue
                headers = {k.lower(): v for k, v in record.http_headers.headers}
                fetched = record.rec_headers.get_header("WARC-Date") or ""
                yield Page(
                    url=url,
                    body=body,
                    source=source,
                    headers=headers,
                    fetched_at=fetched,
                )
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as error:
        raise ReplayError(f"{path}: not a readable WARC file: {error}") from None


def iter_pages(
    files: list[Path],
    html_source: str | None,
    source_for: Callable[[str], str | None],
    url_prefix: str | None = None,
) -> Iterator[Page | Skipped]:
    """Pages from saved files (all under ``html_source``) and WARC files, in order."""
    manifests: dict[Path, dict[str, str]] = {}
    for path in files:
        if path.name.lower().endswith(WARC_SUFFIXES):
            yield from pages_from_warc(path, source_for)
            continue
        if html_source is None:
            raise ReplayError(f"{path}: saved HTML pages need --source NAME")
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = read_manifest(folder)
        yield from pages_from_file(path, html_source, manifests[folder], url_prefix)
