"""Database load: generated articles straight into ``Store.add``, 10% near-duplicates.

    python -m tests.benchmarks.load [--count 100000] [--output DIR]

Articles are synthetic: 400-800 words drawn from a fixed vocabulary (Zipf-like
frequencies, a seeded generator, so every run stores the same text), in paragraphs,
spread over 5 sources and 2 years. One in ten is a near-duplicate of an earlier
article (about 1% of its words replaced, a sentence added: Jaccard of word
4-shingles around 0.9), which the store must find through its LSH bands rather than
by comparing pairs. Prints articles/s, the mean cost per article of the first and the
last 10% (flat when lookups do not grow with the database), the outcomes, the peak
memory of the process, and the size of the database and of the markdown tree.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path

from pipeline.items import Article
from pipeline.normalize.stage import normalize
from pipeline.output import DB_NAME
from pipeline.store.writer import Store
from tests.benchmarks.command import mib
from tests.benchmarks.machine import print_machine

VOCABULARY = 6000
SOURCES = ("wire-east", "wire-west", "daily-north", "daily-south", "weekly-central")
SEED = 20260101
RECENT = 5000


def vocabulary(rng: random.Random, size: int = VOCABULARY) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.choice((1, 2, 2, 3, 3, 4))
        words.add(
            "".join(
                rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables)
            )
        )
    return sorted(words)


class Writer:
    """Seeded synthetic news text: sentences of Zipf-distributed words."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.words = vocabulary(self.rng)
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]

    def sentence(self) -> str:
        words = self.rng.choices(self.words, self.weights, k=self.rng.randint(8, 24))
        return " ".join(words).capitalize() + "."

    def paragraphs(self, words: int) -> list[str]:
        out: list[str] = []
        written = 0
        while written < words:
            paragraph = " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))
            written += len(paragraph.split())
            out.append(paragraph)
        return out

    def near_copy(self, paragraphs: list[str]) -> list[str]:
        """About 1% of the words replaced, and one sentence more."""
        words = [paragraph.split() for paragraph in paragraphs]
        total = sum(map(len, words))
        for _ in range(max(1, total // 100)):
            paragraph = self.rng.choice(words)
            paragraph[self.rng.randrange(len(paragraph))] = self.rng.choice(self.words)
        return [" ".join(paragraph) for paragraph in words] + [self.sentence()]


def articles(count: int, seed: int = SEED) -> Iterator[Article]:
    writer = Writer(seed)
    bodies: deque[list[str]] = deque(maxlen=RECENT)  # near-copies are of recent stories
    rng = writer.rng
    for n in range(count):
        if bodies and n % 10 == 9:
            paragraphs = writer.near_copy(rng.choice(bodies))
        else:
            paragraphs = writer.paragraphs(rng.randint(400, 800))
            bodies.append(paragraphs)
        source = SOURCES[n % len(SOURCES)]
        day = n % 730
        date = (
            f"{2024 + day // 365}-{(day % 365) // 31 % 12 + 1:02d}-{day % 28 + 1:02d}"
        )
        title = writer.sentence().rstrip(".")
        yield Article(
            url=f"https://{source}.example/news/{n}-{'-'.join(title.lower().split()[:5])}",
            source=source,
            title=title,
            body_md="\n\n".join(paragraphs),
            text="\n\n".join(paragraphs),
            date=f"{date}T09:30:00+00:00",
            date_local=f"{date} 09:30:00",
            authors=(f"{writer.sentence().split()[0]} Reporter",),
            fetched_url=f"https://{source}.example/news/{n}",
            fetched_at=f"{date}T10:00:00+00:00",
        )


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def add_path_index(store: Store) -> None:
    """The index on ``articles.path`` that finding a free file name needs."""
    store.db.execute("CREATE INDEX IF NOT EXISTS idx_articles_path ON articles (path)")


def load(output: Path, count: int, path_index: bool = False) -> None:
    window = max(1, count // 10)
    costs: list[float] = []
    kinds: Counter[str] = Counter()
    generating = 0.0
    source = articles(count)
    began = time.perf_counter()
    with Store(output) as store:
        if path_index:
            add_path_index(store)
        while True:
            made = time.perf_counter()
            article = next(source, None)
            started = time.perf_counter()
            generating += started - made
            if article is None:
                break
            kinds[store.add(normalize(article)).kind] += 1
            costs.append(time.perf_counter() - started)
    wall = time.perf_counter() - began - generating
    first = sum(costs[:window]) / window
    last = sum(costs[-window:]) / window
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    database = sum(p.stat().st_size for p in output.glob(DB_NAME + "*") if p.is_file())
    print(
        f"articles: {count}; expected near-duplicates: {count // 10}; "
        f"outcomes: {dict(sorted(kinds.items()))}; path index: {path_index}"
    )
    print(
        f"Store.add: {wall:.1f} s, {count / wall:.0f} articles/s (generation excluded)"
    )
    print(
        f"per article: first {window}: {1000 * first:.2f} ms; last {window}: "
        f"{1000 * last:.2f} ms; last/first {last / first:.2f}"
    )
    print(f"peak RSS: {mib(peak)}")
    print(
        f"database: {mib(database)} ({database / count / 1024:.1f} KiB/article); "
        f"markdown tree: {mib(folder_size(output / 'content'))}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument(
        "--output",
        type=Path,
        help="keep the database here (default: a temporary folder)",
    )
    parser.add_argument(
        "--with-path-index",
        action="store_true",
        help="index articles.path first (when the schema lacks it: its effect)",
    )
    args = parser.parse_args(argv)
    print_machine("load")
    if args.output:
        if args.output.exists() and any(args.output.iterdir()):
            raise SystemExit(f"{args.output}: not empty; name a new folder")
        load(args.output, args.count, args.with_path_index)
        return
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-") as temp:
        load(Path(temp) / "output", args.count, args.with_path_index)


if __name__ == "__main__":
    main()
