"""Generalisation, not fit: a fixed split of hosts, per-source replay folders, and the
table that compares broadsheet with plain trafilatura per set and on held-out hosts.

The split is fixed by a hash of the host (``crc32(host) % 4 == 0``: about a quarter of
the hosts), so that it never changes between runs or with the pages a set holds. A
page without a real URL (dragnet's invented ``dragnet.example`` ones) is its own host.
Rules are developed on the other hosts; a rule is kept only when the held-out row
does not get worse with it.
"""

from __future__ import annotations

import statistics
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from rich.table import Table

from pipeline.sources import Source, load_sources

INVENTED_HOSTS = {"dragnet.example", ""}


def host_key(url: str, page_id: str) -> str:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return page_id if host in INVENTED_HOSTS else host


def held_out(url: str, page_id: str) -> bool:
    """True for the pages of the hosts that no rule is developed on."""
    return zlib.crc32(host_key(url, page_id).encode()) % 4 == 0


@lru_cache(maxsize=1)
def _packaged() -> tuple[Source, ...]:
    return tuple(load_sources().values())


def source_for(url: str) -> Source | None:
    """The packaged source that owns the URL's host, as a crawl would choose it."""
    host = (urlsplit(url).hostname or "").lower()
    return next((s for s in _packaged() if host and s.allows(host)), None)


def stage(sets: list[tuple[Path, list[dict]]], folder: Path, output: Path) -> list[str]:
    """Folders of links to the saved pages, one per set and owning source, each with
    its ``urls.tsv``; the ``broadsheet replay`` commands that store them all."""
    commands = []
    for corpus, rows in sets:
        by_source: dict[str, list[str]] = {}
        for row in rows:
            page = (corpus / row["html_file"]).resolve()
            url = row.get("url") or page.as_uri()  # where the harness looks it up
            source = source_for(url)
            name = source.name if source else "trial"
            target = folder / corpus.name / name
            target.mkdir(parents=True, exist_ok=True)
            link = target / page.name
            if not link.exists():
                link.symlink_to(page)
            by_source.setdefault(name, []).append(f"{page.name}\t{url}")
        for name, lines in by_source.items():
            target = folder / corpus.name / name
            (target / "urls.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
            commands.append(
                f"broadsheet replay {target} --source {name} --output {output}"
            )
    return commands


@dataclass
class Tally:
    """Per-page body F1 of each system, by set and for held-out hosts."""

    f1: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    not_article: dict[str, int] = field(default_factory=dict)

    def add(self, system: str, key: str, value: float | None) -> None:
        if value is not None:
            self.f1.setdefault(key, {}).setdefault(system, []).append(value)

    def table(self, systems: list[str]) -> Table:
        table = Table(
            title="Body F1 per set and on held-out hosts (same pages, same run)"
        )
        for column in (
            "set",
            "pages",
            *systems,
            "broadsheet - trafilatura",
            "not-article",
        ):
            table.add_column(column, justify="left" if column == "set" else "right")
        for key, by_system in self.f1.items():
            means = {s: statistics.fmean(v) for s, v in by_system.items() if v}
            pages = len(by_system.get("broadsheet", []))
            gap = (
                f"{means['broadsheet'] - means['trafilatura']:+.3f}"
                if {"broadsheet", "trafilatura"} <= means.keys()
                else "-"
            )
            table.add_row(
                key,
                str(pages),
                *(f"{means[s]:.3f}" if s in means else "-" for s in systems),
                gap,
                str(self.not_article.get(key, 0)),
            )
        return table
