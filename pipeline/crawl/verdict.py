"""A source's run judged from its Scrapy stats: counts, and failing or ok with a reason.

A run is failing only when something did not work: no feed or sitemap could be read,
the site refused the crawler, every article request failed. A run that found nothing
new (unchanged feeds, known articles, pages that are not articles, URLs dropped before
for a lasting reason) is ok.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.runstats import RunStats

NETWORK = {
    "dns",
    "connection-refused",
    "connection-timeout",
    "no-route",
    "connection-failed",
}
# Close reasons of a run that ended normally, or at one of its bounds.
FINISHED = {"finished", "closespider_itemcount", "time-budget"}
# Failures that are drops of the page rather than errors (their drop reason).
FAILED_AS_DROPPED = {"robots": "robots-disallowed", "too-large": "too-large"}


@dataclass
class CrawlRun(RunStats):
    """RunStats whose verdict comes from the crawl itself, not only from what was stored:
    a run that found nothing new because the feeds were unchanged is healthy."""

    broken: bool = False

    @property
    def failing(self) -> bool:
        return self.broken


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
    for label, value in failed.items():
        if label in FAILED_AS_DROPPED:
            run.dropped[FAILED_AS_DROPPED[label]] += value
        else:
            run.http_errors[label] += value
    robots = {
        key.rsplit("/", 1)[1]: value
        for key, value in stats.items()
        if key.startswith("robotstxt/response_status_count/")
    }
    for status, value in robots.items():
        if status not in ("200", "404") and int(status) >= 400:
            run.http_errors[f"robots.txt-http-{status}"] += value
    run.broken, run.message = verdict(run, stats, reason, failed, robots)
    reached = bounds(stats)
    if reached:
        note = f"bounds reached: {reached}"
        run.message = f"{run.message}; {note}" if run.message else note
    return run


def bounds(stats: dict[str, Any]) -> str:
    """The bounds a run reached, e.g. "time-budget, sitemap-urls x2"; "" for none."""
    prefix = "broadsheet/bound/"
    reached = sorted(
        (key[len(prefix) :], value)
        for key, value in stats.items()
        if key.startswith(prefix)
    )
    return ", ".join(name if n == 1 else f"{name} x{n}" for name, n in reached)


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
    remembered = stats.get("broadsheet/skipped/dropped", 0)
    errors = ", ".join(f"{k} x{v}" for k, v in sorted(run.http_errors.items()))
    if reason.startswith("unreachable"):
        return True, f"{reason} (no network, or the host is down)"
    if reason == "write-failed":
        return True, f"stopped: {stats.get('broadsheet/write-error') or reason}"
    if reason not in FINISHED:
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
        return False, f"nothing new: {run.pages} page(s) not stored ({drops})"
    if unchanged and not links:
        return False, "feeds and sitemaps unchanged since the last run"
    if remembered and links:
        return False, (
            f"nothing new: {known} article(s) stored already, "
            f"{remembered} dropped before and not asked again"
        )
    if known and links:
        return False, "nothing new: every article is stored already"
    if not links:
        return True, "the feeds and sitemaps list no article URL"
    if errors:
        return True, f"every article request failed ({errors})"
    return True, "no article fetched"
