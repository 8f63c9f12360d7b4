"""Running a crawl: options, settings, one crawler per source in one process.

:func:`run_crawl` does what ``broadsheet crawl`` is asked (a :class:`CrawlOptions`):
the output lock or the Redis frontier, then :func:`crawl`, which starts a
CrawlerProcess with one ``news`` crawler per source (they run side by side, each polite
to its own site) and returns each source's status. :func:`repeat` runs it every N
minutes, each round in a fresh subprocess (a Twisted reactor cannot be restarted in
one process) that receives the same options as JSON, so no option is lost on the way.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from pipeline.crawl.verdict import NO_LISTING, CrawlRun, run_stats, verdict
from pipeline.errors import BroadsheetError
from pipeline.runstats import utc_now
from pipeline.sources import Source, load_sources, select
from pipeline.store.lock import output_lock
from pipeline.store.schema import SchemaError, check_database
from pipeline.store.writer import DB_NAME

__all__ = ["NO_LISTING", "CrawlRun", "run_stats", "verdict"]

INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
UNITS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}
SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
LOG_LEVELS = ("WARNING", "INFO", "DEBUG")


class CrawlError(BroadsheetError):
    """A crawl cannot start: bad option, bad setting."""


@dataclass
class CrawlOptions:
    """Everything ``broadsheet crawl`` was asked, in a form a subprocess can receive."""

    output: Path = Path("output")
    sources: list[str] = field(default_factory=list)
    sources_file: Path | None = None
    limit: int | None = None
    refresh: bool = False
    record: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None
    seed_from: Path | None = None
    verbosity: int = 0
    log_file: Path | None = None
    layout_file: Path | None = None

    def to_json(self) -> str:
        return json.dumps(
            {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        )

    @classmethod
    def from_json(cls, text: str) -> CrawlOptions:
        data = json.loads(text)
        paths = {f.name for f in fields(cls) if "Path" in str(f.type)}
        return cls(
            **{
                k: Path(v) if k in paths and v is not None else v
                for k, v in data.items()
            }
        )


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


def crawl_settings(options: CrawlOptions) -> Settings:
    """pipeline.settings, then the options of ``broadsheet crawl``, then ``-s`` pairs."""
    settings = Settings()
    settings.setmodule("pipeline.settings", priority="project")
    values: dict[str, Any] = {
        "BROADSHEET_OUTPUT": str(options.output),
        "BROADSHEET_SOURCES": str(options.sources_file) if options.sources_file else "",
        "BROADSHEET_LIMIT": options.limit or 0,
        "BROADSHEET_REFRESH": options.refresh,
        "BROADSHEET_RECORD": str(options.record) if options.record else "",
        "BROADSHEET_LAYOUT": str(options.layout_file) if options.layout_file else "",
        "BROADSHEET_COMMAND": "broadsheet crawl",
        "BROADSHEET_RUN_ID": utc_now(),
        "LOG_LEVEL": LOG_LEVELS[min(options.verbosity, len(LOG_LEVELS) - 1)],
        "BROADSHEET_PROGRESS": sys.stdout.isatty() and sys.stderr.isatty(),
    }
    if options.log_file:
        values["LOG_FILE"] = str(options.log_file)
    settings.setdict(values, priority="cmdline")
    settings.setdict(options.settings, priority="cmdline")
    return settings


# -- one run ------------------------------------------------------------------


def crawl(sources: list[Source], settings: Settings) -> dict[str, tuple[str, str]]:
    """Crawl ``sources`` side by side; ``{source: (status, message)}`` once all finished."""
    from spiders.news import NewsSpider

    database = Path(settings.get("BROADSHEET_OUTPUT") or "output") / DB_NAME
    try:
        check_database(database)  # one line now, not a traceback per crawler
    except SchemaError as error:
        raise CrawlError(str(error)) from None
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


def run_crawl(
    options: CrawlOptions, say: Callable[[str], None] | None = None
) -> dict[str, tuple[str, str]]:
    """One crawl as ``broadsheet crawl`` does it: into the locked output folder, or
    into a Redis frontier; ``{source: (status, message)}``."""
    say = say or _stderr
    chosen = select(load_sources(options.sources_file), options.sources)
    settings = crawl_settings(options)
    if (
        options.redis_url
        or settings.get("BROADSHEET_REDIS_URL")
        or settings.get("REDIS_URL")
    ):
        from pipeline.scale.frontier import prepare_crawl

        seeded = prepare_crawl(
            settings, options.redis_url, options.seed_from, options.refresh
        )
        for name, count in seeded.items():
            say(f"{name}: {count} stored URL(s) marked as seen in Redis")
        return crawl(chosen, settings)  # no local store: no lock
    if options.seed_from:
        raise CrawlError("--seed-from needs --redis URL")
    settings.set("BROADSHEET_LOCK_HELD", True, priority="cmdline")
    with output_lock(options.output):
        return crawl(chosen, settings)


def exit_status(
    results: dict[str, tuple[str, str]], say: Callable[[str], None] | None = None
) -> int:
    """Say which sources failed; 1 when every one of them did, else 0."""
    say = say or _stderr
    failing = {
        name: msg for name, (status, msg) in results.items() if status == "failing"
    }
    for name, message in failing.items():
        say(f"{name}: failing: {message}")
    return 1 if failing and len(failing) == len(results) else 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


# -- repeating ----------------------------------------------------------------

ROUND = (
    "import sys; from pipeline.crawl.runner import round_main; sys.exit(round_main())"
)


def round_main() -> int:
    """One round of :func:`repeat`, in its subprocess: the options come as JSON on stdin."""
    options = CrawlOptions.from_json(sys.stdin.read())
    try:
        return exit_status(run_crawl(options))
    except BroadsheetError as error:
        _stderr(f"Error: {error}")
        return 1


def repeat(options: CrawlOptions, every: float, rounds: int | None = None) -> int:
    """Crawl with ``options`` every ``every`` seconds, each round in a subprocess.

    A round that takes longer than the interval is followed at once by the next one.
    Returns the exit status of the last round (after ``rounds`` rounds, if given).
    """
    select(load_sources(options.sources_file), options.sources)  # bad names: at once
    command = [sys.executable, "-c", ROUND]
    done = 0
    status = 0
    while rounds is None or done < rounds:
        began = time.monotonic()
        _stderr(f"broadsheet crawl: round {done + 1} at {utc_now()}")
        status = subprocess.run(
            command, input=options.to_json(), text=True, check=False
        ).returncode
        done += 1
        if rounds is not None and done >= rounds:
            break
        pause = every - (time.monotonic() - began)
        if pause > 0:
            _stderr(f"broadsheet crawl: next round in {pause:.0f} s (Ctrl-C stops)")
            time.sleep(pause)
    return status
