"""Extraction quality and speed over the development corpus, against other extractors.

    python -m tests.benchmarks.quality [--corpus DIR ...] [--limit N]
        [--only ID_PART] [--systems trafilatura,newspaper4k] [--repeat 3] [--json OUT]
        [--write-manifest] [--stage DIR] [--stored output/broadsheet.db]

By default it scores ``../shared/corpus``, ``../shared/dragnet`` and
``../shared/indian`` (each ``--corpus`` given replaces them). For every page
(``html/<id>.html.gz`` + ``expected/<id>.json``) it runs broadsheet's ``extract``
under the packaged source that owns the page's host and, on the same bytes, the
extractors of ``tests.benchmarks.extractors`` (plain ``trafilatura.extract`` first).
It prints one table per ground-truth source and overall (see ``tests.benchmarks.scoring`` for the measures), the title
ceiling (how often the expected title is one of the titles the page itself offers, so
that no choice among them can score higher), the pages broadsheet fails on, and the
time per page of broadsheet against plain trafilatura, and the body F1 per set and on
the held-out hosts of a fixed split (``tests.benchmarks.generalise``).

Any folder laid out like the corpus (``index.csv`` with ``id``, ``url``, ``html_file``,
``expected_file`` and ``page_type`` columns) can stand in for it. To score what a real
``broadsheet replay`` stored rather than calling ``extract`` here, write the manifest
that gives each saved page its URL, replay, then score the stored ``articles.text``:

    python -m tests.benchmarks.quality --corpus DIR --write-manifest
    broadsheet replay DIR/html --source trial --output trial
    python -m tests.benchmarks.quality --corpus DIR --stored trial/broadsheet.db

or, to replay every set with each page under the packaged source that owns its host,
stage folders of links (the shared sets stay untouched), run the replay commands it
prints, and score the database they fill:

    python -m tests.benchmarks.quality --stage trial/pages --stored trial/out/broadsheet.db
    python -m tests.benchmarks.quality --stored trial/out/broadsheet.db
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipeline.errors import Dropped
from pipeline.extract import metadata, titles
from pipeline.extract.article import decode_html, extract, parse_html
from pipeline.extract.jsonld import read_linked_data, text_value
from pipeline.items import Page
from pipeline.store.dedup import stored_article_id
from tests.benchmarks.extractors import Runner, other_systems
from tests.benchmarks.generalise import Tally, held_out, source_for, stage
from tests.benchmarks.scoring import TITLE_MISSES, Score, same_title, score, title_miss

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DEFAULT_SETS = [SHARED / "corpus", SHARED / "dragnet", SHARED / "indian"]
GROUPS = {
    "dragnet": "dragnet",
    "indian": "indian",
    "fundus": "fundus",
    "postlight": "postlight",
    "newspaper4k": "newspaper4k",
    "readability": "readability",
    "trafilatura": "trafilatura",
}


def run_broadsheet(body: bytes, url: str) -> dict:
    try:
        page = Page(url=url, body=body, source="corpus")
        article = extract(page, source_for(url) if url else None)
    except Dropped as dropped:
        return {"text": "", "dropped": dropped.reason, "detail": dropped.detail}
    return {
        "text": article.text,
        "title": article.title,
        "date": article.date,
        "authors": list(article.authors),
    }


def title_sources(body: bytes, url: str) -> list[str]:
    """Every title the page offers: JSON-LD headline, og:title, twitter:title, <title>
    and each <h1>, both as given and with the site's names removed."""
    try:
        tree = parse_html(decode_html(body))
    except Dropped:
        return []
    meta = metadata.Meta.of(tree)
    linked = read_linked_data(tree)
    names = titles.site_names(meta, linked, url)
    offered = [
        text_value(linked.get("headline")),
        meta.first("og:title"),
        meta.first("twitter:title"),
        tree.findtext(".//title"),
        *(heading.text_content() for heading in tree.iter("h1")),
    ]
    found = []
    for value in map(metadata.clean_text, offered):
        if value:
            found += [value, titles.strip_site_name(value, names)]
    return found


def stored_runner(database: Path) -> Runner:
    """A runner that reads the article a replay stored for the page's URL."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def run_stored(body: bytes, url: str) -> dict:
        article_id = stored_article_id(conn, url) if url else None
        if article_id is None:
            return {"text": "", "dropped": "not stored", "detail": url}
        title, text, date, authors = conn.execute(
            "SELECT title, text, date, authors FROM articles WHERE id = ?",
            [article_id],
        ).fetchone()
        return {
            "text": text or "",
            "title": title,
            "date": date,
            "authors": json.loads(authors or "[]"),
        }

    return run_stored


def write_manifest(corpus: Path) -> Path:
    """``urls.tsv`` beside the saved pages: each file name with its page's URL."""
    rows = load_pages(corpus, None, None)
    by_folder: dict[Path, list[str]] = {}
    for row in rows:
        if row.get("url"):
            html = corpus / row["html_file"]
            by_folder.setdefault(html.parent, []).append(f"{html.name}\t{row['url']}")
    for folder, lines in by_folder.items():
        (folder / "urls.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return next(iter(by_folder), corpus)


def _timed(runner: Runner, body: bytes, url: str, repeat: int = 1) -> dict:
    """The runner's result, with the fastest of ``repeat`` timings (less noise)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        if runner is run_broadsheet:  # our own errors must surface, not be scored
            result = runner(body, url)
        else:
            try:
                result = runner(body, url)
            except Exception as error:  # a competitor's crash is a result, not a stop
                result = {"text": "", "error": f"{type(error).__name__}: {error}"}
        best = min(best, time.perf_counter() - started)
    result["seconds"] = best
    return result


def _rate(values: list[bool | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{100 * sum(known) / len(known):.1f}" if known else "-"


def _mean(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.fmean(known):.3f}" if known else "-"


def _row(scores: list[Score]) -> list[str]:
    hits = sum(s.contains_hits for s in scores)
    total = sum(s.contains_total for s in scores)
    avoid_hits = sum(s.avoids_hits for s in scores)
    avoid_total = sum(s.avoids_total for s in scores)
    return [
        str(len(scores)),
        _mean([s.f1 for s in scores]),
        _mean([s.precision for s in scores]),
        _mean([s.recall for s in scores]),
        _rate([s.first_words for s in scores]),
        f"{100 * hits / total:.1f}" if total else "-",
        f"{100 * avoid_hits / avoid_total:.1f}" if avoid_total else "-",
        _rate([s.title for s in scores]),
        _rate([s.day for s in scores]),
        _rate([s.minute for s in scores]),
        _rate([s.authors for s in scores]),
        str(sum(s.empty for s in scores)),
        f"{1000 * statistics.fmean(s.seconds for s in scores):.1f}" if scores else "-",
    ]


def load_pages(corpus: Path, limit: int | None, only: str | None) -> list[dict]:
    with (corpus / "index.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if only:
        rows = [r for r in rows if only in r["id"]]
    return rows[:limit] if limit else rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="a folder laid out like the corpus; repeat for several (default: the shared sets)",
    )
    parser.add_argument("--limit", type=int, default=None, help="first N pages only")
    parser.add_argument("--only", default=None, help="pages whose id contains this")
    parser.add_argument("--systems", default=None, help="comma-separated subset")
    parser.add_argument(
        "--json", type=Path, default=None, help="write per-page results"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time broadsheet and trafilatura N times each, keep the fastest",
    )
    parser.add_argument(
        "--write-manifest",
        action="store_true",
        help="write urls.tsv beside the pages (for broadsheet replay) and stop",
    )
    parser.add_argument(
        "--stage",
        type=Path,
        default=None,
        help="link the pages into per-source folders here, print the replay commands",
    )
    parser.add_argument(
        "--stored",
        type=Path,
        default=None,
        help="score the articles a replay stored in this broadsheet.db",
    )
    args = parser.parse_args(argv)
    console = Console(width=160)
    corpora = args.corpus or [d for d in DEFAULT_SETS if (d / "index.csv").exists()]
    missing = [c for c in corpora if not (c / "index.csv").exists()]
    if missing or not corpora:
        console.print(f"[red]no corpus at {missing[0] if missing else SHARED}[/]")
        return 2
    if args.write_manifest:
        for corpus in corpora:
            console.print(f"wrote {write_manifest(corpus) / 'urls.tsv'}")
        return 0
    if args.stage:
        sets = [(c, load_pages(c, args.limit, args.only)) for c in corpora]
        output = args.stored.parent if args.stored else args.stage.parent / "out"
        for command in stage(sets, args.stage, output):
            console.print(command, markup=False, highlight=False)
        return 0
    systems = {"broadsheet": (run_broadsheet, True), **other_systems(console)}
    if args.stored:
        if not args.stored.is_file():
            console.print(f"[red]no database at {args.stored}[/]")
            return 2
        systems["broadsheet"] = (stored_runner(args.stored), True)
    if args.systems:
        wanted = set(args.systems.split(","))
        systems = {k: v for k, v in systems.items() if k in wanted or k == "broadsheet"}
    scores: dict[str, dict[str, list[Score]]] = {name: {} for name in systems}
    failures: list[tuple[str, list[str]]] = []
    non_articles: list[tuple[str, str | None]] = []
    title_offered: list[bool] = []
    title_misses: dict[str, int] = {}
    details = []
    tally = Tally()
    pages = [
        (corpus, row)
        for corpus in corpora
        for row in load_pages(corpus, args.limit, args.only)
    ]
    for corpus, row in pages:
        body = gzip.decompress((corpus / row["html_file"]).read_bytes())
        expected = json.loads(
            (corpus / row["expected_file"]).read_text(encoding="utf-8")
        )
        group = GROUPS.get(row["id"].split("__")[0].split("-")[0], "other")
        url = expected.get("url") or ""
        record = {"id": row["id"]}
        offered = False
        if row["page_type"] == "article" and expected.get("title"):
            offered = any(
                same_title(expected["title"], t) for t in title_sources(body, url)
            )
            title_offered.append(offered)
        for name, (runner, with_meta) in systems.items():
            repeat = args.repeat if name in {"broadsheet", "trafilatura"} else 1
            page_url = url
            if name == "broadsheet" and args.stored and not url:
                # a page without a known URL was stored under its file's URL
                page_url = (corpus / row["html_file"]).resolve().as_uri()
            result = _timed(runner, body, page_url, repeat)
            record[name] = {k: v for k, v in result.items() if k != "text"}
            record[name]["words"] = len((result.get("text") or "").split())
            if row["page_type"] != "article":
                if name == "broadsheet":
                    non_articles.append((row["id"], result.get("dropped")))
                continue
            page_score = score(expected, result, with_meta)
            record[name]["f1"] = page_score.f1
            keys = [
                corpus.name,
                *(["held-out hosts"] if held_out(url, row["id"]) else []),
            ]
            for key in keys:
                tally.add(name, key, page_score.f1)
                if name == "broadsheet" and result.get("dropped") == "not-article":
                    tally.not_article[key] = tally.not_article.get(key, 0) + 1
            scores[name].setdefault(group, []).append(page_score)
            if name == "broadsheet":
                if result.get("dropped"):
                    page_score.failures.insert(
                        0, f"dropped {result['dropped']}: {result.get('detail')}"
                    )
                if page_score.failures:
                    failures.append((row["id"], page_score.failures))
                if page_score.title is False:
                    kind = title_miss(expected["title"], result.get("title"), offered)
                    title_misses[kind] = title_misses.get(kind, 0) + 1
                record["failures"] = page_score.failures
        details.append(record)

    table = Table(title=f"Extraction quality on {len(pages)} corpus pages")
    for column in (
        "system",
        "truth",
        "pages",
        "F1",
        "P",
        "R",
        "first words",
        "contains",
        "avoids",
        "title",
        "day",
        "minute",
        "authors",
        "empty",
        "ms/page",
    ):
        table.add_column(
            column, justify="left" if column in {"system", "truth"} else "right"
        )
    for name, groups in scores.items():
        for group in sorted(groups):
            table.add_row(name, group, *_row(groups[group]))
        table.add_row(
            f"[bold]{name}[/]",
            "[bold]all[/]",
            *_row([s for g in groups.values() for s in g]),
            end_section=True,
        )
    console.print(table)
    console.print(tally.table(list(systems)))
    if title_offered:
        console.print(
            f"\n[bold]Title ceiling[/]: the expected title is one of the titles the page "
            f"offers (JSON-LD, og:, twitter:, <title>, <h1>; as given or without site "
            f"names) on {sum(title_offered)} of {len(title_offered)} pages "
            f"({100 * sum(title_offered) / len(title_offered):.1f}%): no choice among "
            f"them scores higher."
        )
    if title_misses:
        console.print(
            f"\n[bold]broadsheet's title misses[/] ({sum(title_misses.values())}):"
        )
        for kind, meaning in TITLE_MISSES.items():
            if title_misses.get(kind):
                console.print(f"  {title_misses[kind]:4d}  {kind}: {meaning}")

    console.print("\n[bold]Non-articles[/] (should be dropped as not-article):")
    for page_id, reason in non_articles:
        console.print(f"  {page_id}: {reason or 'KEPT'}")
    console.print(f"\n[bold]Pages broadsheet fails on[/] ({len(failures)}):")
    for page_id, reasons in failures:
        console.print(
            f"  {page_id}: " + "; ".join(reasons), markup=False, highlight=False
        )

    ours = [s.seconds for g in scores["broadsheet"].values() for s in g]
    if "trafilatura" in scores:
        theirs = [s.seconds for g in scores["trafilatura"].values() for s in g]
        ratio = sum(ours) / sum(theirs) if sum(theirs) else float("nan")
        console.print(
            f"\n[bold]Time per page[/]: broadsheet {1000 * statistics.fmean(ours):.1f} ms "
            f"(median {1000 * statistics.median(ours):.1f}), plain trafilatura "
            f"{1000 * statistics.fmean(theirs):.1f} ms (median {1000 * statistics.median(theirs):.1f}); "
            f"broadsheet / trafilatura = {ratio:.2f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(details, indent=1, ensure_ascii=False, default=str)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
