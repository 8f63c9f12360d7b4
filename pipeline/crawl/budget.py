"""Downloads that end within the source's time budget.

:class:`BudgetedHTTP` is Scrapy's HTTP/1.1 download handler with one change: when a
download starts (after any wait for a free connection), its timeout is capped by the
time left in the spider's budget, plus half a second (``spider.time_left()``, see
``spiders/backlog.py``). A source stopped by its budget so never waits for a slow
server past it; a download cut short this way is marked ``broadsheet_budget_cut``
and counted as stopped by the budget, not as a timeout of the site. A request whose
download would start after the deadline is not sent.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

# seconds past the deadline a download may last: the budget's own timer fires first,
# gives up the requests waiting for a connection and closes the spider
GRACE = 0.5


class BudgetedHTTP(HTTP11DownloadHandler):
    """HTTP(S) downloads whose timeout never runs past the source's time budget."""

    async def download_request(self, request: Request) -> Response:
        time_left = getattr(self._crawler.spider, "time_left", None)
        left = time_left() if callable(time_left) else None
        if left is not None:
            if left <= 0:
                request.meta["broadsheet_skipped"] = "time-budget"
                raise IgnoreRequest("skipped (time-budget)")
            timeout = request.meta.get("download_timeout") or self._default_timeout()
            if left + GRACE < timeout:
                request.meta["download_timeout"] = left + GRACE
                request.meta["broadsheet_budget_cut"] = True
        return await super().download_request(request)

    def _default_timeout(self) -> float:
        return self._crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
