"""Downloader middlewares: incremental crawling, conditional feed requests, polite retries.

* :class:`Incremental` makes one request per story per run (a tracking or AMP variant
  of a URL already requested is not requested again), skips article requests whose
  URL (in any variant) a previous run stored or dropped for a lasting reason within
  ``BROADSHEET_DROP_MEMORY`` days, unless ``BROADSHEET_REFRESH``, enforces
  ``BROADSHEET_LIMIT``, and reports article URLs answered 404/410 or refused by
  robots.txt (the :data:`DROPPED` signal) for the ``drops`` table.
* :class:`ConditionalListings` sends If-None-Match / If-Modified-Since for feeds,
  sitemaps and section pages, from the ``feed_state`` table, and hands the new
  validators to the store (signal :data:`LISTINGS_CHECKED`) when the run finishes,
  except for listings the spider left unfinished (one of their articles failed for
  a reason that may pass).
* :class:`PoliteRetry` is Scrapy's RetryMiddleware that waits before retrying: the
  server's Retry-After when it gives one, else an exponential backoff.
* :class:`PlainWhileCompressed` hands a compressed response to Scrapy's
  HttpCompressionMiddleware as plain bytes, so that no charset is guessed from them.
* :class:`MetaRefresh` is Scrapy's MetaRefreshMiddleware that rules a refresh out in
  the page's bytes before decoding it.
* :class:`QuietLogs` keeps Scrapy's log to one line per failure.

"Stored" means stored before this run started: the middlewares remember where the
``urls`` table ended when the run started and ignore rows added after. The variants
skipped in this run are reported (the :data:`VARIANT` signal) and recorded as URLs of
the story. No read transaction outlives a query: the writer's checkpoints keep the
WAL small during the whole crawl.
"""

from __future__ import annotations

import logging
import sqlite3
import warnings
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet.task import deferLater
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
)

from pipeline.crawl.listings import listing_key
from pipeline.output import database_path
from pipeline.store import drops
from pipeline.urls import canonical_url, url_variants

logger = logging.getLogger(__name__)
LISTINGS = {"feed", "sitemap", "section"}
# Signals: an article URL that will not be stored (url, reason, detail), and a
# variant of an article URL already requested in this run (url, variant).
DROPPED = object()
VARIANT = object()
LASTING_STATUSES = {404: "http-404", 410: "http-410"}
# Signal (``rows``: feed_state rows) sent when a run read listings in full; the Store
# item pipeline, the only writer, remembers them.
LISTINGS_CHECKED = object()


def output_database(settings: BaseSettings) -> Path:
    return database_path(settings.get("BROADSHEET_OUTPUT") or "output")


class Snapshot:
    """Read-only view of the database as it was when the run started.

    Rows of ``urls`` are only ever appended (rowids grow), so "stored before the run"
    is "rowid at most the largest one when the run started". Each query is its own
    short read transaction.
    """

    def __init__(self, path: Path) -> None:
        self.conn: sqlite3.Connection | None = None
        self.horizon = 0  # the largest rowid of urls when the run started
        if not path.exists():
            return
        self.conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
        )
        row = self._one("SELECT max(rowid) FROM urls", [])
        self.horizon = (row[0] if row else None) or 0

    def _one(self, sql: str, params: list[Any]) -> tuple | None:
        if self.conn is None:
            return None
        try:
            rows = self.conn.execute(sql, params).fetchall()  # the read ends here
        except sqlite3.OperationalError:  # a database without broadsheet's tables yet
            return None
        return rows[0] if rows else None

    def known(self, url: str) -> bool:
        if not self.horizon:
            return False
        variants = sorted(url_variants(url) | {url})
        marks = ",".join("?" * len(variants))
        sql = f"SELECT 1 FROM urls WHERE url IN ({marks}) AND rowid <= ? LIMIT 1"
        return self._one(sql, [*variants, self.horizon]) is not None

    def dropped(self, url: str, days: float) -> str | None:
        """The lasting reason ``url`` was dropped for lately, if it is not to be asked again."""
        if self.conn is None:
            return None
        try:
            return drops.remembered(self.conn, url, days)
        except sqlite3.OperationalError:  # a database without the drops table yet
            return None

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified remembered for a feed, sitemap or section URL."""
        sql = "SELECT etag, last_modified FROM feed_state WHERE url = ?"
        row = self._one(sql, [url])
        return (row[0], row[1]) if row else (None, None)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Incremental:
    """One request per story per run; skips what earlier runs stored or dropped for
    good; stops at BROADSHEET_LIMIT; reports lasting failures of article requests."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.path = output_database(settings)
        self.refresh = settings.getbool("BROADSHEET_REFRESH")
        self.limit = settings.getint("BROADSHEET_LIMIT")
        self.memory = settings.getfloat("BROADSHEET_DROP_MEMORY", 7.0)
        self.requested = 0
        self.stories: dict[str, str] = {}  # canonical URL -> the URL requested
        self.snapshot = Snapshot(Path("/nonexistent"))
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Incremental:
        return cls(crawler)

    def opened(self, spider: Spider) -> None:
        self.snapshot = Snapshot(self.path)

    def closed(self, spider: Spider) -> None:
        self.snapshot.close()

    def process_request(self, request: Request) -> None:
        meta = request.meta
        if meta.get("broadsheet") != "article" or meta.get("broadsheet_counted"):
            return  # not an article, or a retry/redirect of one already counted
        story = canonical_url(request.url)
        first = self.stories.setdefault(story, request.url)
        if first != request.url:
            self.signal(VARIANT, url=first, variant=request.url)
            self.skip(request, "variant")
        if not self.refresh:
            if self.snapshot.known(request.url):
                self.skip(request, "known")
            if self.snapshot.dropped(request.url, self.memory):
                self.skip(request, "dropped")
        if self.limit and self.requested >= self.limit:
            self.skip(request, "limit")
        self.requested += 1
        meta["broadsheet_counted"] = True

    def process_response(self, request: Request, response: Response) -> Response:
        reason = LASTING_STATUSES.get(response.status)
        if reason and request.meta.get("broadsheet") == "article":
            self.signal(DROPPED, url=request.url, reason=reason, detail="")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if (
            request.meta.get("broadsheet") == "article"
            and not request.meta.get("broadsheet_skipped")
            and isinstance(exception, IgnoreRequest)
            and "robots" in str(exception).lower()
        ):
            self.signal(DROPPED, url=request.url, reason="robots", detail="")

    def signal(self, signal: object, **kwargs: str) -> None:
        self.crawler.signals.send_catch_log(signal=signal, **kwargs)

    def skip(self, request: Request, reason: str) -> None:
        self.stats.inc_value(f"broadsheet/skipped/{reason}")
        request.meta["broadsheet_skipped"] = reason
        raise IgnoreRequest(f"skipped ({reason}): {request.url}")


class ConditionalListings:
    """Conditional requests for feeds and sitemaps, validators kept in ``feed_state``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.path = output_database(crawler.settings)
        self.refresh = crawler.settings.getbool("BROADSHEET_REFRESH")
        self.snapshot = Snapshot(Path("/nonexistent"))
        self.pending: dict[str, dict[str, str | None]] = {}
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalListings:
        return cls(crawler)

    def opened(self, spider: Spider) -> None:
        self.snapshot = Snapshot(self.path)

    def process_request(self, request: Request) -> None:
        if request.meta.get("broadsheet") not in LISTINGS or self.refresh:
            return
        etag, modified = self.snapshot.validators(request.url)
        if etag:
            request.headers.setdefault("If-None-Match", etag)
        if modified:
            request.headers.setdefault("If-Modified-Since", modified)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("broadsheet") in LISTINGS and response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                key = listing_key(request)
                self.pending[key] = {
                    "url": key,
                    "etag": etag.decode("latin-1") if etag else None,
                    "last_modified": modified.decode("latin-1") if modified else None,
                    "checked": datetime.now(UTC).isoformat(timespec="seconds"),
                }
        return response

    def closed(self, spider: Spider, reason: str) -> None:
        """Remember validators, but only after a whole run: a cut-short run
        (--limit reached, interrupted) must see the same feed entries again, and so
        must a listing whose articles did not all arrive."""
        self.snapshot.close()
        cut_short = (
            reason != "finished"
            or self.stats.get_value("broadsheet/skipped/limit")
            or self.stats.get_value("broadsheet/bound/limit")
        )
        if cut_short or not self.pending:
            return
        unfinished = getattr(spider, "unfinished_listings", set())
        reread = unfinished & self.pending.keys()
        finished = [row for key, row in self.pending.items() if key not in reread]
        if reread:
            self.stats.set_value("broadsheet/listings-to-reread", len(reread))
            logger.info(
                "%d feeds or sitemaps will be read in full next run: some of their "
                "articles failed for reasons that may pass",
                len(reread),
            )
        if finished:
            self.crawler.signals.send_catch_log(LISTINGS_CHECKED, rows=finished)


class PoliteRetry(RetryMiddleware):
    """RetryMiddleware that waits: Retry-After when given, else backoff * 2**attempt."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("BROADSHEET_RETRY_BACKOFF", 2.0)
        self.max_wait = settings.getfloat("BROADSHEET_RETRY_AFTER_MAX", 120.0)

    async def process_response(
        self, request: Request, response: Response
    ) -> Request | Response:
        if (
            request.meta.get("dont_retry")
            or response.status not in self.retry_http_codes
        ):
            return response
        attempt = request.meta.get("retry_times", 0)
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is None:
            wait = self.backoff * 2**attempt
        if wait > self.max_wait:
            logger.warning(
                "%s asks to wait %.0f s (more than %.0f s): not retried",
                request.url,
                wait,
                self.max_wait,
            )
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        if wait > 0:
            from twisted.internet import reactor  # the one Scrapy installed

            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return retry


def retry_after(value: bytes | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class PlainWhileCompressed:
    """A compressed text response reaches HttpCompressionMiddleware as a plain Response.

    HttpCompressionMiddleware builds the decompressed response with
    ``response.replace``, which reads every attribute of the compressed one, its
    ``encoding`` included. For a page whose Content-Type names no charset that
    encoding is guessed from the compressed bytes: they declare none and decode as
    neither ASCII nor UTF-8, so charset_normalizer runs over them, for an answer that
    is thrown away (the decompressed response finds its own). In a crawl of gzipped
    pages served as ``text/html`` that was a quarter of the crawling process's CPU. A
    plain Response has no encoding to read; HttpCompressionMiddleware gives the
    decompressed body the response class it gave it before, from its headers and
    bytes. Placed just before it on the way in (a higher number: responses pass the
    middlewares from the downloader's end).
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PlainWhileCompressed:
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured  # nothing would make a text response of it again
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        if (
            request.method == "HEAD"  # left compressed by HttpCompressionMiddleware
            or not isinstance(response, TextResponse)
            or not response.headers.getlist("Content-Encoding")
        ):
            return response
        return Response(
            **{name: getattr(response, name) for name in Response.attributes}
        )


# Scrapy looks for a refresh in a page's first 4,096 characters, which take at most
# 4 bytes each in any encoding :func:`spells_ascii` accepts (UTF-8, GB 18030).
REFRESH_SCAN = 4 * 4096
# Every ASCII byte, then ASCII that some codecs read as other characters: escapes
# ("\u0072" and "\x72" are "r" to Python's unicode_escape codecs), UTF-7's base64
# ("+AHI-" is "r"), and ISO-2022's escape back to ASCII, which decodes to nothing.
_PROBE = bytes(range(128)) + rb"\u0072 \x72 \162 \N{DIGIT ONE} +AHI- a" + b"\x1b(Bb"


@cache
def spells_ascii(encoding: str) -> bool:
    """Whether every ASCII character of a text decoded from ``encoding`` stands for
    its own byte, next to the byte of the character before it. Not so for UTF-16,
    UTF-32, EBCDIC, UTF-7, ISO-2022, HZ, Python's escape codecs or an unknown name."""
    try:
        with warnings.catch_warnings():  # unicode_escape on "\]": an invalid escape
            warnings.simplefilter("ignore", DeprecationWarning)
            return _PROBE.decode(encoding, "replace") == _PROBE.decode("latin-1")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False


def may_refresh(response: Response) -> bool:
    """False when ``response`` cannot hold the ``<meta http-equiv="refresh">`` that
    Scrapy's MetaRefreshMiddleware looks for, decided on its bytes alone.

    Scrapy's check (w3lib's ``get_meta_refresh``) passes over every ``<meta>`` whose
    attributes do not spell "refresh" (in any case; no other character lowercases to
    those letters) in the page's first 4,096 characters, decoded as Scrapy decodes
    the page: with the encoding of its BOM, its Content-Type or its own ``<meta
    charset>``, and when none declares one, as ASCII or UTF-8 if the whole page is
    that, else with an encoding guessed from all its bytes. When the encodings
    declared are all ones that :func:`spells_ascii`, or none is and the page is
    UTF-8, the word in those characters is the same bytes in the first
    :data:`REFRESH_SCAN` bytes. A page is ruled out when they do not hold it; any
    other page may refresh, and Scrapy decides.
    """
    body = response.body
    head = body[:REFRESH_SCAN]
    content_type = response.headers.get(b"Content-Type") or b""
    declared = [
        encoding
        for encoding in (
            read_bom(head)[0],
            http_content_type_encoding(content_type.decode("latin-1")),
            html_body_declared_encoding(head),
        )
        if encoding
    ]
    if declared:
        if not all(spells_ascii(encoding) for encoding in declared):
            return True
    elif not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return True  # Scrapy would guess the encoding from all the bytes
    return b"refresh" in head.lower()  # ASCII letters only: bytes.lower()


class MetaRefresh(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, which first rules a refresh out in the bytes.

    Scrapy decodes a whole HTML page (and, when it declares no encoding, tries
    encodings over all of it) to look for a refresh in its first 4,096 characters:
    0.34 ms a page on the corpus's pages, against 0.11 ms for :func:`may_refresh`.
    Nine pages in ten are ruled out by it and pass undecoded; the others, and every
    decision on a refresh, are Scrapy's own. In place of Scrapy's, at its position
    (580).
    """

    def process_response(
        self, request: Request, response: Response
    ) -> Request | Response:
        if isinstance(response, HtmlResponse) and not may_refresh(response):
            return response
        return super().process_response(request, response)


class OneLine(logging.Filter):
    """Drops the traceback from a log record: the message already says what failed.
    An error fetching robots.txt is said at INFO: the source's summary line counts
    the failure, and its listings fail (and are counted) the same way."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class QuietLogs:
    """Extension: one INFO line, not a traceback, when robots.txt cannot be fetched."""

    NAMES = ("scrapy.downloadermiddlewares.robotstxt",)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietLogs:
        for name in cls.NAMES:
            target = logging.getLogger(name)
            if not any(isinstance(f, OneLine) for f in target.filters):
                target.addFilter(OneLine())
        return cls()
