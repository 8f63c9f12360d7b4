"""Meta refresh in a crawl (pipeline.crawl.middlewares.MetaRefresh): the same decision
as Scrapy's MetaRefreshMiddleware on every page, and no page decoded that cannot
refresh."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import scrapy.http.response.text
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from pipeline.crawl.middlewares import (
    REFRESH_SCAN,
    MetaRefresh,
    may_refresh,
    spells_ascii,
)
from pipeline.settings import DOWNLOADER_MIDDLEWARES

URL = "http://127.0.0.1/news/story.html"
FIXTURES = Path(__file__).parent / "fixtures"
REFRESH = '<meta http-equiv="refresh" content="0; url=/moved/here.html">'
MOVED = "http://127.0.0.1/moved/here.html"
CJK = "新闻报道" * 1000  # 4,000 characters, 12,000 bytes of UTF-8


def page(head: str = "", body: str = "<p>A story.</p>") -> str:
    return f"<html><head><title>T</title>{head}</head><body>{body}</body></html>"


def decided(
    middleware_class: type[MetaRefreshMiddleware],
    body: bytes,
    content_type: str = "text/html",
    meta: dict | None = None,
) -> str:
    """Where ``middleware_class`` sends the request for ``body``: the URL of the
    refresh it follows, or "kept" when it passes the response on."""
    middleware = middleware_class.from_crawler(get_crawler())
    request = Request(URL, meta=meta or {})
    response = HtmlResponse(
        URL, body=body, headers={"Content-Type": content_type}, request=request
    )
    out = middleware.process_response(request, response)
    if isinstance(out, Response):
        assert out is response
        return "kept"
    return out.url


def both(body: bytes, content_type: str = "text/html", **kwargs: object) -> str:
    """The decision of MetaRefresh, checked to be Scrapy's own."""
    ours = decided(MetaRefresh, body, content_type, **kwargs)
    assert ours == decided(MetaRefreshMiddleware, body, content_type, **kwargs)
    return ours


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies Scrapy decodes to text (w3lib's html_to_unicode, still run)."""
    seen: list[bytes] = []
    real = scrapy.http.response.text.html_to_unicode

    def html_to_unicode(content_type: object, body: bytes, **kwargs: object) -> object:
        seen.append(body)
        return real(content_type, body, **kwargs)

    monkeypatch.setattr(scrapy.http.response.text, "html_to_unicode", html_to_unicode)
    return seen


def test_it_takes_the_place_of_scrapys() -> None:
    scrapys = "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"
    assert DOWNLOADER_MIDDLEWARES[scrapys] is None
    assert DOWNLOADER_MIDDLEWARES["pipeline.crawl.middlewares.MetaRefresh"] == 580


def test_a_page_without_refresh_is_passed_on_undecoded(decodes: list[bytes]) -> None:
    body = page(body="<p>caf\xe9</p>" * 500).encode()  # UTF-8, no charset declared
    assert decided(MetaRefresh, body) == "kept"
    assert decodes == []
    # Scrapy's own decodes it all to decide the same
    assert decided(MetaRefreshMiddleware, body) == "kept"
    assert decodes == [body]


def test_a_page_scrapy_would_guess_the_encoding_of_is_left_to_scrapy() -> None:
    # neither declared nor UTF-8: Scrapy guesses its encoding from all its bytes
    body = page(body="<p>caf\xe9</p>" * 500).encode("cp1252")
    assert may_refresh(HtmlResponse(URL, body=body))
    assert not may_refresh(
        HtmlResponse(
            URL, body=body, headers={"Content-Type": "text/html; charset=cp1252"}
        )
    )
    assert both(body) == "kept"


def test_a_refresh_is_followed_as_scrapy_follows_it(decodes: list[bytes]) -> None:
    assert both(page(REFRESH).encode()) == MOVED
    shouted = REFRESH.upper().replace("/MOVED/HERE.HTML", "/moved/here.html")
    assert both(page(shouted).encode()) == MOVED


def test_a_refresh_after_many_multibyte_characters_is_found() -> None:
    # within Scrapy's 4,096 characters, 12 KB into the bytes
    body = (
        "<html><head><title>" + CJK + "</title>" + REFRESH + "</head></html>"
    ).encode()
    assert body.index(b"refresh") > 2 * 4096
    assert both(body) == MOVED


def test_a_refresh_past_scrapys_characters_is_left_to_scrapy() -> None:
    filler = "<!-- " + "x" * 5000 + " -->"
    assert both(page(filler + REFRESH).encode()) == "kept"


@pytest.mark.parametrize(
    ("encoding", "content_type", "bom"),
    [
        ("utf-16-le", "text/html", b"\xff\xfe"),  # found from the BOM
        ("utf-16-be", "text/html; charset=utf-16be", b""),  # from the Content-Type
        ("utf-32-le", "text/html; charset=utf-32le", b""),
        ("cp037", "text/html; charset=cp037", b""),  # EBCDIC: no NUL, no ASCII either
        ("utf-7", "text/html; charset=utf-7", b""),
    ],
)
def test_a_refresh_in_an_encoding_that_spells_ascii_otherwise_is_followed(
    encoding: str, content_type: str, bom: bytes
) -> None:
    body = bom + page(REFRESH).encode(encoding)
    assert both(body, content_type) == MOVED
    if encoding != "utf-7":
        assert b"refresh" not in body.lower()


@pytest.mark.parametrize(
    "encoding",
    "utf-8 utf-8-sig cp1252 latin-1 koi8-r shift_jis cp932 euc-jp euc-kr gb18030 "
    "big5".split(),
)
def test_encodings_that_write_ascii_as_ascii(encoding: str) -> None:
    assert spells_ascii(encoding)


@pytest.mark.parametrize(
    "encoding",
    "utf-16 utf-16-be utf-32 cp037 cp500 utf-7 iso-2022-jp hz unicode_escape "
    "raw_unicode_escape punycode idna rot13 base64 undefined no-such-encoding".split(),
)
def test_encodings_that_do_not(encoding: str) -> None:
    assert not spells_ascii(encoding)


def test_a_refresh_spelled_with_escapes_is_followed() -> None:
    # a Content-Type that names one of Python's escape codecs: "\u0072" is "r"
    body = page(REFRESH).encode().replace(b"refresh", rb"\u0072efresh")
    assert both(body, "text/html; charset=raw_unicode_escape") == MOVED


def test_a_refresh_spelled_across_an_iso_2022_escape_is_followed() -> None:
    # ESC ( B (back to ASCII, already in use) decodes to nothing: "refresh" in the
    # text, not in the bytes
    body = page(REFRESH).encode().replace(b"refresh", b"re\x1b(Bfresh")
    assert b"refresh" not in body
    assert both(body, "text/html; charset=iso-2022-jp") == MOVED


def test_a_meta_charset_that_spells_ascii_otherwise_is_left_to_scrapy() -> None:
    # a page that says UTF-16 and is ASCII: Scrapy reads it as UTF-16, and decides
    body = page('<meta charset="utf-16">').encode()
    assert may_refresh(HtmlResponse(URL, body=body))
    assert not may_refresh(HtmlResponse(URL, body=body.replace(b"16", b"8")))
    both(page('<meta charset="utf-16">' + REFRESH).encode())


@pytest.mark.parametrize(
    "head",
    [
        '<meta http-equiv="&#114;efresh" content="0; url=/moved/here.html">',
        '<meta http-equiv="refre\u017fh" content="0; url=/moved/here.html">',  # long s
        f"<noscript>{REFRESH}</noscript>",
        f"<!-- {REFRESH} -->",
        "<script>autoRefresh(30);</script>",
        '<meta http-equiv="refresh" content="600">',  # no URL: nothing to follow
    ],
)
def test_what_scrapy_does_not_follow_is_not_followed(head: str) -> None:
    assert both(page(head).encode()) == "kept"


@pytest.mark.parametrize(
    "head",
    [
        f"<script>var a = '{REFRESH}';</script>",
        f"<script>{REFRESH}",  # a script never closed
        f"<![CDATA[{REFRESH}]]>",
        REFRESH.replace('"0; url=', '"0;URL= '),
        REFRESH.replace('content="0;', 'content="100000;'),  # past the longest delay
    ],
)
def test_the_same_as_scrapy_wherever_a_refresh_is_spelled(head: str) -> None:
    both(page(head).encode())


def test_a_request_that_must_not_redirect_keeps_its_response() -> None:
    assert both(page(REFRESH).encode(), meta={"dont_redirect": True}) == "kept"


def test_the_scan_reaches_as_far_as_scrapys_characters_can() -> None:
    # 4,000 characters of 4 bytes each in UTF-8, and the refresh within Scrapy's 4,096
    title = "\U0001f4f0" * 4000
    body = f"<html><head><title>{title}</title>{REFRESH}</head></html>".encode()
    assert body.index(b"refresh") > 3 * 4096
    assert body.index(b"refresh") < REFRESH_SCAN
    assert both(body, "text/html; charset=utf-8") == MOVED


def fixture_pages() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.name.endswith((".html", ".html.gz"))
    )


def test_fixture_pages_get_scrapys_decision() -> None:
    decisions = []
    for path in fixture_pages():
        body = path.read_bytes()
        if path.name.endswith(".gz"):
            body = gzip.decompress(body)
        decisions.append(both(body))
    assert len(decisions) > 40
    assert decisions.count("kept") < len(decisions)  # the refresh pages among them


FRAGMENTS = st.sampled_from(
    [
        REFRESH,
        REFRESH.upper(),
        "<META HTTP-EQUIV=Refresh CONTENT='1;URL=/moved/here.html'>",
        "<meta http-equiv='refresh' content='2;url=/elsewhere'>",
        "<p>Ein Bericht über Züge.</p>",
        "<p>" + CJK[:50] + "</p>",
        "<script>if (x < 3) refresh();</script>",
        "<noscript>",
        "</noscript>",
        "<!--",
        "-->",
        '<meta charset="utf-8">',
        '<meta charset="utf-16">',
        "<base href='http://example.org/base/'>",
        "&#114;efresh",
        "x" * 3000,
    ]
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    fragments=st.lists(FRAGMENTS, max_size=8),
    encoding=st.sampled_from(
        ["utf-8", "gb18030", "shift_jis", "utf-7", "utf-16", "cp037", "latin-1"]
    ),
    declared=st.booleans(),
)
def test_generated_pages_get_scrapys_decision(
    fragments: list[str], encoding: str, declared: bool
) -> None:
    body = page("".join(fragments)).encode(encoding, errors="xmlcharrefreplace")
    content_type = f"text/html; charset={encoding}" if declared else "text/html"
    both(body, content_type)
