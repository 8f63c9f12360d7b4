"""Extraction speed side by side: broadsheet, bare trafilatura, newspaper4k, news-please.

    python -m tests.benchmarks.competitors [--pages 669] [--corpus DIR]

Runs each extractor over the same saved pages (the corpus, cycled to ``--pages``),
one page after another in this one process, and prints pages/s and how many pages
gave a text. broadsheet is ``extract`` (decoding, metadata, markdown body), trafilatura
is ``trafilatura.extract`` with its defaults; newspaper4k (``Article.download
(input_html=...)`` + ``parse``) and news-please (``NewsPlease.from_html``, which runs
newspaper and readability itself) get the page decoded as UTF-8 and are skipped with
a note when they cannot be imported. ``broadsheet replay`` uses every core on top of
this: see ``tests.benchmarks.replay_speed``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import trafilatura

from pipeline.errors import Dropped
from pipeline.extract.article import extract
from pipeline.items import Page
from tests.benchmarks.machine import print_machine
from tests.benchmarks.sample import read_bodies, write_sample

Extractor = Callable[[bytes, str], str]


def broadsheet(body: bytes, url: str) -> str:
    try:
        return extract(Page(url=url, body=body, source="bench")).text
    except Dropped:
        return ""


def bare_trafilatura(body: bytes, url: str) -> str:
    return trafilatura.extract(body, url=url) or ""


def newspaper4k() -> Extractor | str:
    try:
        import newspaper
    except ImportError as error:
        return f"newspaper4k skipped: {error} (pip install newspaper4k)"

    def run(body: bytes, url: str) -> str:
        article = newspaper.Article(url, fetch_images=False)
        article.download(input_html=body.decode("utf-8", "replace"))
        article.parse()
        return article.text or ""

    return run


def news_please() -> Extractor | str:
    try:
        from newsplease import NewsPlease
    except ImportError as error:
        return f"news-please skipped: {error} (pip install news-please)"

    def run(body: bytes, url: str) -> str:
        article = NewsPlease.from_html(
            body.decode("utf-8", "replace"), url=url, fetch_images=False
        )
        return article.maintext or ""

    return run


def timed(run: Extractor, pages: list[tuple[str, bytes]]) -> tuple[float, int, int]:
    """(seconds, pages with text, pages that raised)."""
    texts = failures = 0
    began = time.perf_counter()
    for url, body in pages:
        try:
            texts += bool(run(body, url).strip())
        except Exception:  # another library's failure on a page is counted, not fatal
            failures += 1
    return time.perf_counter() - began, texts, failures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=669)
    parser.add_argument("--corpus", type=Path, help="default: ../shared/corpus")
    args = parser.parse_args(argv)

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    print_machine("competitors", extra=("newspaper4k", "news-please"))
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as temp:
        pages = read_bodies(write_sample(Path(temp) / "pages", args.pages, args.corpus))
    extractors: dict[str, Extractor | str] = {
        "broadsheet extract": broadsheet,
        "trafilatura.extract": bare_trafilatura,
        "newspaper4k": newspaper4k(),
        "news-please": news_please(),
    }
    print(f"pages: {len(pages)}, one process")
    print("| extractor | pages/s | ms/page | pages with text | errors |")
    print("|---|---:|---:|---:|---:|")
    notes = []
    for name, run in extractors.items():
        if isinstance(run, str):
            notes.append(run)
            continue
        seconds, texts, failures = timed(run, pages)
        print(
            f"| {name} | {len(pages) / seconds:.1f} | {1000 * seconds / len(pages):.0f} "
            f"| {texts} | {failures} |"
        )
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
