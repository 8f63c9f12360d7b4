"""Compressed pages are decompressed without guessing a charset from their compressed
bytes (pipeline.crawl.middlewares.PlainWhileCompressed)."""

from __future__ import annotations

import gzip

import pytest
import scrapy.http.response.text
from scrapy import Request
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from pipeline.crawl.middlewares import PlainWhileCompressed
from pipeline.settings import DOWNLOADER_MIDDLEWARES

URL = "http://127.0.0.1/news/cafe.html"
PAGE = (
    '<html><head><meta charset="utf-8"><title>Café</title></head>'
    "<body><p>Le café rouvre ses portes.</p></body></html>"
).encode()


def compressed(request: Request) -> HtmlResponse:
    """A gzipped page served as text/html, no charset in its Content-Type."""
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    body = gzip.compress(PAGE)
    return HtmlResponse(URL, headers=headers, body=body, request=request)


@pytest.fixture
def guesses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies Scrapy guesses a charset for (charset_normalizer, still run)."""
    seen: list[bytes] = []
    real = scrapy.http.response.text.from_bytes

    def from_bytes(body: bytes, *args: object, **kwargs: object) -> object:
        seen.append(body)
        return real(body, *args, **kwargs)

    monkeypatch.setattr(scrapy.http.response.text, "from_bytes", from_bytes)
    return seen


def test_a_compressed_page_is_decompressed_without_a_charset_guess(
    guesses: list[bytes],
) -> None:
    crawler = get_crawler()
    decompress = HttpCompressionMiddleware.from_crawler(crawler)
    request = Request(URL)

    # Scrapy alone guesses a charset from the gzipped bytes, and throws it away
    alone = decompress.process_response(request, compressed(request))
    assert alone.text.endswith("Le café rouvre ses portes.</p></body></html>")
    assert [body[:2] for body in guesses] == [b"\x1f\x8b"]
    guesses.clear()

    plain = PlainWhileCompressed.from_crawler(crawler)
    response = decompress.process_response(
        request, plain.process_response(request, compressed(request))
    )
    assert type(response) is HtmlResponse
    assert response.body == PAGE
    assert response.encoding == "utf-8"
    assert "Le café rouvre ses portes." in response.text
    assert response.request is request
    assert "Content-Encoding" not in response.headers
    assert guesses == []


def test_other_responses_pass_as_they_are() -> None:
    plain = PlainWhileCompressed()
    request = Request(URL)
    text = HtmlResponse(URL, body=PAGE, request=request)
    assert plain.process_response(request, text) is text
    binary = Response(URL, headers={"Content-Encoding": "gzip"}, body=b"\x1f\x8b")
    assert plain.process_response(request, binary) is binary
    head = Request(URL, method="HEAD")  # HttpCompressionMiddleware leaves these be
    response = compressed(head)
    assert plain.process_response(head, response) is response


def test_it_sits_just_before_decompression_and_only_with_it() -> None:
    crawler = get_crawler(
        settings_dict={"DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES}
    )
    chain = DownloaderMiddlewareManager.from_crawler(crawler).middlewares
    kinds = [type(middleware) for middleware in chain]
    # responses pass the chain from its end: this one, then decompression
    assert (
        kinds.index(PlainWhileCompressed) == kinds.index(HttpCompressionMiddleware) + 1
    )

    with pytest.raises(NotConfigured):
        PlainWhileCompressed.from_crawler(
            get_crawler(settings_dict={"COMPRESSION_ENABLED": False})
        )
