"""A live progress display of a crawl, on a terminal only.

:class:`LiveProgress` (a Scrapy extension, on when ``BROADSHEET_PROGRESS`` is true)
shows one line per source with the article pages fetched, stored and dropped so far.
Crawlers of one process share one display; the summary lines are printed through
:func:`summary_console` so that they scroll above it rather than through it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

COLUMNS = "{task.description}: {task.fields[fetched]} fetched, {task.fields[stored]} stored, {task.fields[dropped]} dropped"


class Display:
    """The display crawlers of this process share, started by the first one."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.users = 0

    def acquire(self) -> Progress:
        if self.progress is None:
            self.progress = Progress(
                TextColumn(COLUMNS),
                TimeElapsedColumn(),
                console=Console(),
                transient=True,
            )
            self.progress.start()
        self.users += 1
        return self.progress

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0 and self.progress is not None:
            self.progress.stop()
            self.progress = None


DISPLAY = Display()


def summary_console() -> Console:
    """The console summary lines go to: the live display's, when one runs."""
    return DISPLAY.progress.console if DISPLAY.progress is not None else Console()


class LiveProgress:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.task: TaskID | None = None
        self.progress: Progress | None = None
        for handler, signal in (
            (self.opened, signals.spider_opened),
            (self.closed, signals.spider_closed),
            (self.fetched, signals.response_received),
            (self.scraped, signals.item_scraped),
            (self.dropped, signals.item_dropped),
        ):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LiveProgress:
        if not crawler.settings.getbool("BROADSHEET_PROGRESS"):
            raise NotConfigured
        return cls(crawler)

    def opened(self, spider: Spider) -> None:
        name = getattr(getattr(spider, "source", None), "name", spider.name)
        self.progress = DISPLAY.acquire()
        self.task = self.progress.add_task(
            name, total=None, fetched=0, stored=0, dropped=0
        )

    def closed(self, spider: Spider) -> None:
        if self.progress is not None:
            self.progress.remove_task(self.task)
            self.progress = None
            DISPLAY.release()

    def add(self, field: str) -> None:
        if self.progress is not None and self.task is not None:
            fields: dict[str, Any] = self.progress.tasks[self._index()].fields
            self.progress.update(self.task, **{field: fields[field] + 1})

    def _index(self) -> int:
        return next(i for i, t in enumerate(self.progress.tasks) if t.id == self.task)

    def fetched(self, response: Response, request: Request) -> None:
        if request.meta.get("broadsheet") == "article":
            self.add("fetched")

    def scraped(self, item: Any) -> None:
        self.add("stored")

    def dropped(self, item: Any, exception: BaseException) -> None:
        reason = getattr(exception, "reason", None)
        self.add("dropped" if reason else "stored")  # duplicates are stored as such
