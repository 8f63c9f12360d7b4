"""Running a crawl: settings, one crawler per source in one process, run records.

:func:`crawl` starts a CrawlerProcess with one ``news`` crawler per source (they run
side by side, each polite to its own site) and returns each source's status.
:func:`run_stats` turns a crawler's Scrapy stats into the run's
:class:`~pipeline.runstats.RunStats` and decides whether the source is failing.
:func:`repeat` runs ``broadsheet crawl`` every N minutes: each round in a fresh
subprocess, because a Twisted reactor cannot be restarted in one process.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from pipeline.errors import BroadsheetError
from pipeline.runstats import RunStats, utc_now
from pipeline.sources import Source

INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNITS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
NETWORK = {"dns", "refused", "no-route", "connect", "tcp-timeout"}


class CrawlError(BroadsheetError):
    """A crawl cannot start: bad option, bad setting."""


@dataclass
class CrawlRun(RunStats):
    """RunStats whose verdict comes from the crawl itself, not only from what was stored:
    a run that found nothing new because the feeds were unchanged is healthy."""

    broken: bool = False

    @property
    def failing(self) -> bool:
        return self.broken


# -- options ------------------------------------------------------------------


def parse_interval(text: str) -> float:
    """Seconds in "30m", "2h", "90s", "1d" (a bare number is minutes)."""
    match = INTERVAL.match(text)
    if not match or float(match.group(1)) <= 0:
        raise CrawlError(
            f'invalid interval "{text}": use a number and a unit, e.g. 30m, 2h, 90s'
        )
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs as a dict, or CrawlError naming the bad one."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        name = name.strip()
        if not equals or not SETTING_NAME.match(name):
            raise CrawlError(
                f'invalid setting "{pair}": use -s NAME=VALUE, e.g. -s DOWNLOAD_DELAY=2'
            )
        overrides[name] = value
    return overrides


def crawl_settings(
    output: Path,
    sources_file: Path | None = None,
    limit: int | None = None,
    refresh: bool = False,
    record: Path | None = None,
    overrides: dict[str, str] | None = None,
) -> Settings:
    """pipeline.settings, then the options of ``broadsheet crawl``, then ``-s`` pairs."""
    settings = Settings()
    settings.setmodule("pipeline.settings", priority="project")
    options: dict[str, Any] = {
        "BROADSHEET_OUTPUT": str(output),
        "BROADSHEET_SOURCES": str(sources_file) if sources_file else "",
        "BROADSHEET_LIMIT": limit or 0,
        "BROADSHEET_REFRESH": refresh,
        "BROADSHEET_RECORD": str(record) if record else "",
        "BROADSHEET_COMMAND": "broadsheet crawl",
        "BROADSHEET_RUN_ID": utc_now(),
    }
    settings.setdict(options, priority="cmdline")
    settings.setdict(overrides or {}, priority="cmdline")
    return settings


# -- one run ------------------------------------------------------------------


def crawl(sources: list[Source], settings: Settings) -> dict[str, tuple[str, str]]:
    """Crawl ``sources`` side by side; ``{source: (status, message)}`` once all finished."""
    from spiders.news import NewsSpider

    process = CrawlerProcess(settings)
    crawlers: dict[str, Crawler] = {}
    for source in sources:
        crawler = process.create_crawler(NewsSpider)
        crawlers[source.name] = crawler
        process.crawl(
            crawler,
            source=source.name,
            sources=settings.get("BROADSHEET_SOURCES") or None,
        )
    process.start()
    results = {}
    for name, crawler in crawlers.items():
        stats = crawler.stats.get_stats() if crawler.stats else {}
        status = stats.get("broadsheet/status", "failing")
        message = stats.get("broadsheet/message") or (
            "" if "broadsheet/status" in stats else "the crawl did not start (see log)"
        )
        results[name] = (status, message)
    return results


def run_stats(
    source: str, stats: dict[str, Any], reason: str, command: str, started: str
) -> CrawlRun:
    """What one crawler did, from its Scrapy stats, with a verdict and a one-line reason."""
    run = CrawlRun(source=source, command=command, started=started)
    run.finish()
    run.requests = stats.get("downloader/request_count", 0)
    run.pages = stats.get("broadsheet/pages", 0)
    failed: dict[str, int] = {}
    for key, value in stats.items():
        for prefix, add in (
            ("broadsheet/outcome/", run.outcomes),
            ("broadsheet/dropped/", run.dropped),
            ("broadsheet/failed/", failed),
        ):
            if key.startswith(prefix):
                add[key[len(prefix) :]] = value
    for reason_slug, value in failed.items():
        if reason_slug == "robots":
            run.dropped["robots-disallowed"] += value
        else:
            run.http_errors[reason_slug.removeprefix("http-")] += value
    robots = {
        key.rsplit("/", 1)[1]: value
        for key, value in stats.items()
        if key.startswith("robotstxt/response_status_count/")
    }
    for status, value in robots.items():
        if status not in ("200", "404") and int(status) >= 400:
            run.http_errors[f"robots.txt {status}"] += value
    run.broken, run.message = verdict(run, stats, reason, failed, robots)
    return run


NO_LISTING = "no feed or sitemap could be read"


def verdict(
    run: RunStats,
    stats: dict[str, Any],
    reason: str,
    failed: dict[str, int],
    robots: dict[str, int],
) -> tuple[bool, str]:
    """(failing, one-line message) for a source's run."""
    listings = stats.get("broadsheet/listings", 0)
    unchanged = stats.get("broadsheet/not-modified", 0)
    links = stats.get("broadsheet/links", 0)
    known = stats.get("broadsheet/skipped/known", 0)
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(run.http_errors.items()))
    if reason.startswith("unreachable"):
        return True, f"{reason} (no network, or the host is down)"
    if reason not in ("finished", "closespider_itemcount"):
        return True, f"stopped early ({reason})"
    if listings == 0 and unchanged == 0:
        if all(s.startswith("http-4") for s in failed) and (
            any(s in robots for s in ("401", "403")) or "http-403" in failed
        ):
            return (
                True,
                f"the site refuses this crawler ({errors}), e.g. at its CDN edge",
            )
        if failed and set(failed) <= NETWORK | {"timeout"}:
            return True, f"no feed or sitemap answered ({errors})"
        return True, f"{NO_LISTING} ({errors or 'nothing fetched'})"
    if run.stored:
        return False, ""
    if run.pages:
        drops = ", ".join(f"{k} {v}" for k, v in sorted(run.dropped.items()))
        return True, f"no article extracted from {run.pages} pages ({drops})"
    if unchanged and not links:
        return False, "feeds and sitemaps unchanged since the last run"
    if known and links:
        return False, "nothing new: every article is stored already"
    if not links:
        return True, "the feeds and sitemaps list no article URL"
    if errors:
        return True, f"every article request failed ({errors})"
    return True, "no article fetched"


# -- repeating ----------------------------------------------------------------


def repeat(arguments: list[str], every: float, rounds: int | None = None) -> int:
    """Run ``broadsheet crawl ARGUMENTS`` every ``every`` seconds, each in a subprocess.

    A round that takes longer than the interval is followed at once by the next one.
    Returns the exit status of the last round (after ``rounds`` rounds, if given).
    """
    command = [sys.executable, "-c", "from pipeline.cli import cli; cli()", "crawl"]
    done = 0
    status = 0
    while rounds is None or done < rounds:
        began = time.monotonic()
        print(f"broadsheet crawl: round {done + 1} at {utc_now()}", file=sys.stderr)
        status = subprocess.run([*command, *arguments], check=False).returncode
        done += 1
        if rounds is not None and done >= rounds:
            break
        pause = every - (time.monotonic() - began)
        if pause > 0:
            print(
                f"broadsheet crawl: next round in {pause:.0f} s (Ctrl-C stops)",
                file=sys.stderr,
            )
            time.sleep(pause)
    return status
