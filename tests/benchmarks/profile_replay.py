"""Where replay time goes: extraction and the store profiled apart, in one process.

    python -m tests.benchmarks.profile_replay [--pages 300] [--html profile.html]

Extracts and normalizes ``--pages`` saved pages in this process (as a pool worker
does), then stores the articles (``Store.add``, in commits of ``STORE_BATCH`` as the replay
process does), each phase under
pyinstrument, and the articles once more into a fresh store without it. Prints seconds
per page of each phase and the functions with the most self time, so that the top
costs of broadsheet's own code stand out from trafilatura's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler

from pipeline.inputs.ingest import STORE_BATCH
from pipeline.inputs.workers import Extracted, process_outcome
from pipeline.items import Page
from pipeline.normalize.layout import load_layout
from pipeline.store.writer import Store
from tests.benchmarks.machine import print_machine
from tests.benchmarks.sample import read_bodies, write_sample

TOP = 25


def hotspots(profiler: Profiler, top: int = TOP) -> str:
    """The ``top`` lines of pyinstrument's flat (self time) listing."""
    text = profiler.output_text(unicode=False, color=False, flat=True)
    lines = [line for line in text.splitlines() if line.strip()]
    body = [line for line in lines if line[:1].isdigit() or line.lstrip()[:1].isdigit()]
    return "\n".join(body[:top])


def extract_all(pages: list[Page]) -> list[Extracted]:
    articles = []
    layout = load_layout()
    for page in pages:
        kind, value, found = process_outcome(page, None, layout)
        if kind == "article":
            articles.append(Extracted(value, found))  # type: ignore[arg-type]
    return articles


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--corpus", type=Path, help="default: ../shared/corpus")
    parser.add_argument(
        "--html", type=Path, help="also write both profiles as HTML here"
    )
    args = parser.parse_args(argv)

    print_machine("profile_replay")
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as temp:
        folder = write_sample(Path(temp) / "pages", args.pages, args.corpus)
        pages = [
            Page(url=url, body=body, source="bench", fetched_at="2026-01-01T00:00:00")
            for url, body in read_bodies(folder)
        ]
        extracting = Profiler(interval=0.0005)
        began = time.perf_counter()
        with extracting:
            articles = extract_all(pages)
        extract_seconds = time.perf_counter() - began

        storing = Profiler(interval=0.0005)
        began = time.perf_counter()
        with storing, Store(Path(temp) / "output", batch=STORE_BATCH) as store:
            kinds: dict[str, int] = {}
            for article in articles:
                kind = store.add(article.doc, article.fingerprint).kind
                kinds[kind] = kinds.get(kind, 0) + 1
        store_seconds = time.perf_counter() - began

        # the same articles again into a fresh store, without the profiler's overhead
        began = time.perf_counter()
        with Store(Path(temp) / "unprofiled", batch=STORE_BATCH) as store:
            for article in articles:
                store.add(article.doc, article.fingerprint)
        plain_seconds = time.perf_counter() - began

    n = len(pages)
    print(f"pages: {n}; articles: {len(articles)}; store outcomes: {kinds}")
    print(f"extract: {extract_seconds:.1f} s, {1000 * extract_seconds / n:.1f} ms/page")
    print(
        f"store:   {store_seconds:.1f} s, "
        f"{1000 * store_seconds / max(1, len(articles)):.1f} ms/article "
        f"(without the profiler: {1000 * plain_seconds / max(1, len(articles)):.1f})"
    )
    print("\n## extraction, self time\n" + hotspots(extracting))
    print("\n## store, self time\n" + hotspots(storing))
    if args.html:
        args.html.write_text(
            extracting.output_html() + storing.output_html(), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
