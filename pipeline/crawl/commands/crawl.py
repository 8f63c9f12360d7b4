"""``scrapy crawl`` for broadsheet: the news spider's source checked before the crawl
starts (one line, no traceback), and exit status 1 when the source's run failed, as
``broadsheet crawl`` says it for a single source."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from pipeline.sources import SourceError, load_sources


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        if args[0] == "news":
            self.check_source(opts.spargs)
        assert self.crawler_process is not None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        status = crawler.stats.get_value("broadsheet/status") if crawler.stats else None
        if self.crawler_process.bootstrap_failed or status == "failing":
            self.exitcode = 1

    def check_source(self, spargs: dict[str, str]) -> None:
        """UsageError unless ``-a source=NAME`` names a source of the sources file."""
        assert self.settings is not None
        path = spargs.get("sources") or self.settings.get("BROADSHEET_SOURCES") or None
        try:
            known = load_sources(path)
        except SourceError as error:
            raise UsageError(str(error)) from None
        name = spargs.get("source")
        if not name:
            raise UsageError(
                "the news spider needs a source: scrapy crawl news -a source=NAME "
                f"(known sources: {', '.join(known)})"
            )
        if name not in known:
            raise UsageError(
                f'unknown source "{name}"; known sources: {", ".join(known)}'
            )
