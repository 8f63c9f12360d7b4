"""Recording a crawl as WARC: ``broadsheet crawl --record DIR`` (BROADSHEET_RECORD).

:class:`WarcRecorder` is a downloader middleware placed next to the downloader, so
it sees every response as it came off the wire: redirects, errors, robots.txt, feeds
and articles, with the HTTP headers and the exact body bytes (still compressed when
the server compressed them; the Content-Encoding header says so). Each response is
written with the request that produced it, as gzipped WARC records, to
``DIR/<timestamp>-<source>.warc.gz``; ``broadsheet replay`` reads them back with
warcio's ArchiveIterator, keyed by each response's WARC-Target-URI.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.http.headers import Headers
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# The body handed to us is already de-chunked: a Transfer-Encoding header would lie.
DROPPED_HEADERS = {b"transfer-encoding"}


def warc_path(folder: Path, label: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return folder / f"{stamp}-{label}.warc.gz"


class WarcRecorder:
    def __init__(self, crawler: Crawler, folder: Path) -> None:
        self.folder = folder
        self.software = crawler.settings.get("USER_AGENT", "broadsheet")
        self.path: Path | None = None
        self.stream: BinaryIO | None = None
        self.writer: WARCWriter | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorder:
        folder = crawler.settings.get("BROADSHEET_RECORD")
        if not folder:
            raise NotConfigured  # no --record: nothing to say
        return cls(crawler, Path(folder))

    def opened(self, spider: Spider) -> None:
        source = getattr(spider, "source", None)
        label = getattr(source, "name", None) or spider.name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = warc_path(self.folder, label)
        self.stream = open(self.path, "wb")  # closed on spider_closed
        self.writer = WARCWriter(self.stream, gzip=True)
        info = self.writer.create_warcinfo_record(
            self.path.name, {"software": self.software, "format": "WARC/1.0"}
        )
        self.writer.write_record(info)

    def closed(self, spider: Spider) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = self.writer = None

    def process_response(self, request: Request, response: Response) -> Response:
        if self.writer is not None:
            self.writer.write_request_response_pair(
                self.request_record(request), self.response_record(response)
            )
            if self.stream is not None:
                self.stream.flush()
        return response

    def response_record(self, response: Response) -> ArcWarcRecord:
        status = f"{response.status} {_reason(response.status)}"
        headers = StatusAndHeaders(
            status, _headers(response.headers), protocol="HTTP/1.1"
        )
        return self.writer.create_warc_record(
            response.url,
            "response",
            payload=io.BytesIO(response.body),
            length=len(response.body),
            http_headers=headers,
        )

    def request_record(self, request: Request) -> ArcWarcRecord:
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        fields = [("Host", parts.netloc), *_headers(request.headers)]
        headers = StatusAndHeaders(
            f"{request.method} {target}",
            fields,
            protocol="HTTP/1.1",
            is_http_request=True,
        )
        return self.writer.create_warc_record(
            request.url,
            "request",
            payload=io.BytesIO(request.body),
            length=len(request.body),
            http_headers=headers,
        )


def _headers(headers: Headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        if name.lower() not in DROPPED_HEADERS
        for value in values
    ]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
