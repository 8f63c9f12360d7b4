"""Benchmark inputs: the saved corpus pages, cycled to any count under distinct URLs.

Pages come from ``../shared/corpus/html`` (``--corpus``: the corpus or any folder of
gzipped pages with a ``urls.tsv``) or, when it is absent, from ``tests/fixtures/replay``. :func:`write_sample` lays ``count`` of them out in a folder
with a ``urls.tsv`` manifest, cycle ``n`` of a page getting the URL
``<its url>?cycle=n`` (``cycle`` is no tracking parameter, so every copy is a URL of its
own): exactly what ``broadsheet replay`` reads. :func:`smaller_half` keeps the half of
the pages with the least HTML, the size of a typical article page rather than of the
corpus's heavy ones.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pipeline.inputs.replay import MANIFEST, read_manifest
from tests.benchmarks.command import REPO

CORPUS = REPO.parent / "shared" / "corpus"
FIXTURES = REPO / "tests" / "fixtures" / "replay"


@dataclass(frozen=True)
class Saved:
    path: Path  # a gzipped saved page
    url: str


def saved_pages(corpus: Path | None = None) -> list[Saved]:
    """The saved pages of the corpus: a folder with ``index.csv`` (the development
    corpus) or with a ``urls.tsv`` manifest; the test fixtures when it is neither."""
    corpus = CORPUS if corpus is None else corpus
    index = corpus / "index.csv"
    if index.is_file():
        with open(index, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return [
            Saved(corpus / row["html_file"], row["url"])
            for row in rows
            if row["url"] and (corpus / row["html_file"]).is_file()
        ]
    folder = corpus if (corpus / MANIFEST).is_file() else FIXTURES
    manifest = read_manifest(folder)
    return [Saved(folder / name, url) for name, url in sorted(manifest.items())]


def html_size(page: Saved) -> int:
    """Bytes of HTML of ``page``, once unzipped."""
    return len(gzip.decompress(page.path.read_bytes()))


def smaller_half(pages: list[Saved]) -> tuple[list[Saved], int]:
    """The half of ``pages`` with the least HTML (in their order, ties at the cut kept
    together) and the largest HTML size kept, in bytes."""
    sizes = [html_size(page) for page in pages]
    cut = statistics.median_low(sizes)
    return [page for page, size in zip(pages, sizes, strict=True) if size <= cut], cut


def cycled_url(url: str, cycle: int) -> str:
    if cycle == 0:
        return url
    parts = urlsplit(url)
    query = f"{parts.query}&cycle={cycle}" if parts.query else f"cycle={cycle}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def cycle(pages: list[Saved], count: int) -> list[tuple[str, Saved, str]]:
    """``count`` ``(file name, page, url)`` triples going round ``pages``."""
    out = []
    for n in range(count):
        page = pages[n % len(pages)]
        name = f"{n:06d}.html.gz"
        out.append((name, page, cycled_url(page.url, n // len(pages))))
    return out


def write_sample(
    folder: Path,
    count: int,
    corpus: Path | None = None,
    pages: list[Saved] | None = None,
) -> Path:
    """``count`` saved pages (going round ``pages``, by default every page of
    ``corpus``) and their manifest in ``folder`` (made); returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    pages = saved_pages(corpus) if pages is None else pages
    for name, page, url in cycle(pages, count):
        target = folder / name
        try:
            os.link(page.path, target)  # same bytes, no copy: one more name per page
        except OSError:
            shutil.copyfile(page.path, target)
        lines.append(f"{name}\t{url}\n")
    (folder / MANIFEST).write_text("".join(lines), encoding="utf-8")
    return folder


def iter_bodies(folder: Path) -> Iterator[tuple[str, bytes]]:
    """``(url, html bytes)`` of every page written by :func:`write_sample`, in order,
    read one at a time."""
    manifest = read_manifest(folder)
    for name in sorted(manifest):
        yield manifest[name], gzip.decompress((folder / name).read_bytes())


def read_bodies(folder: Path) -> list[tuple[str, bytes]]:
    """:func:`iter_bodies`, all in memory."""
    return list(iter_bodies(folder))


def sample_parser(description: str, pages: int) -> argparse.ArgumentParser:
    """``--pages``, ``--workers`` and ``--corpus``: the options every sample benchmark takes."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=pages)
    parser.add_argument("--workers", type=int, help="default: one per usable core")
    parser.add_argument("--corpus", type=Path, help="default: ../shared/corpus")
    return parser


def add_rounds(
    parser: argparse.ArgumentParser,
    default: int,
    meaning: str = "pairs of runs, in alternating order",
) -> None:
    """``--rounds``: how many times a benchmark measures, at least once."""

    def count(text: str) -> int:
        rounds = int(text)
        if rounds < 1:
            raise argparse.ArgumentTypeError("must be at least 1")
        return rounds

    parser.add_argument("--rounds", type=count, default=default, help=meaning)


def sample_arguments(
    description: str, pages: int, argv: list[str] | None = None
) -> argparse.Namespace:
    """The options of :func:`sample_parser`, parsed."""
    return sample_parser(description, pages).parse_args(argv)


@contextmanager
def sampled(args: argparse.Namespace) -> Iterator[tuple[Path, Path]]:
    """A temporary folder and, inside it, the sample of ``args.pages`` saved pages."""
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as name:
        temp = Path(name)
        yield temp, write_sample(temp / "pages", args.pages, args.corpus)
