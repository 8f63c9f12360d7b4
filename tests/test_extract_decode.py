"""Bytes -> text as a crawler decodes them, text -> tree, and bodies refused before parsing."""

from __future__ import annotations

import copy
import gzip
import random
from pathlib import Path

import pytest
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from pipeline.errors import Dropped
from pipeline.extract import decode
from pipeline.extract.article import extract
from pipeline.extract.decode import choose_encoding, decode_html
from pipeline.extract.parse import _parse_as_is, parse_html
from pipeline.items import Page

PARAGRAPH = "The council met on Tuesday and agreed the budget after a long debate. " * 6


def html(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>A story</title></head><body><article><h1>A story</h1><p>{body}</p></article></body></html>"


def test_bom_beats_the_header():
    body = b"\xef\xbb\xbf" + html("Caf\u00e9 culture").encode("utf-8")
    assert choose_encoding(body, "text/html; charset=iso-8859-1")[1] == "bom"
    text = decode_html(body, "text/html; charset=iso-8859-1")
    assert "Caf\u00e9 culture" in text
    assert not text.startswith("\ufeff")


def test_utf16_with_bom():
    body = html("\u0928\u092e\u0938\u094d\u0924\u0947 world").encode("utf-16")
    assert "\u0928\u092e\u0938\u094d\u0924\u0947 world" in decode_html(
        body, "text/html"
    )


def test_meta_charset_is_read():
    body = html(
        "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440",
        '<meta charset="windows-1251">',
    ).encode("cp1251")
    assert choose_encoding(body) == ("cp1251", "meta")
    assert "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440" in decode_html(
        body
    )


def test_http_equiv_content_type_is_read():
    head = '<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">'
    body = html("\u65e5\u672c\u8a9e\u306e\u8a18\u4e8b", head).encode("shift_jis")
    assert "\u65e5\u672c\u8a9e\u306e\u8a18\u4e8b" in decode_html(body)


def test_header_charset_is_used_without_meta():
    body = html("\u65e5\u672c\u8a9e\u306e\u8a18\u4e8b").encode("euc-jp")
    assert choose_encoding(body, "text/html; charset=EUC-JP")[1] == "header"
    assert "\u65e5\u672c\u8a9e\u306e\u8a18\u4e8b" in decode_html(
        body, "text/html; charset=EUC-JP"
    )


def test_header_saying_utf8_over_windows_1252_bytes_is_mislabelled():
    body = html("\u201cQuoted\u201d caf\u00e9 na\u00efve " * 20).encode("cp1252")
    _, evidence = choose_encoding(body, "text/html; charset=utf-8")
    assert "mislabelled" in evidence
    assert "\u201cQuoted\u201d caf\u00e9 na\u00efve" in decode_html(
        body, "text/html; charset=utf-8"
    )


def test_undeclared_windows_1252_is_detected():
    body = html(
        "\u201cWe will not yield,\u201d said the na\u00efve caf\u00e9 owner. " * 20
    ).encode("cp1252")
    assert (
        "\u201cWe will not yield,\u201d said the na\u00efve caf\u00e9 owner."
        in decode_html(body)
    )


def test_devanagari_utf8_declared_latin1_is_read_as_utf8():
    hindi = "\u0938\u092e\u0938\u094d\u0924\u0940\u092a\u0941\u0930 \u092a\u0941\u0932\u093f\u0938 \u0928\u0947 \u0926\u094b \u092c\u0926\u092e\u093e\u0936\u094b\u0902 \u0915\u094b \u092a\u0915\u0921\u093c\u093e"
    body = html(hindi, '<meta charset="iso-8859-1">').encode("utf-8")
    encoding, evidence = choose_encoding(body)
    assert encoding == "utf-8"
    assert "mislabelled" in evidence
    assert hindi in decode_html(body)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", "text/html", "empty"),
        (b"  \r\n\t ", "text/html", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "text/html", "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/html; charset=utf-8", "binary"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "", "binary"),
        (b"GIF89a\x01\x00\x01\x00", "", "binary"),
        (b"PK\x03\x04\x14\x00\x00\x00", "text/html", "binary"),
        (b"<html>" + b"\x00" * 50 + b"</html>", "text/html", "binary"),
        (b"<html><body>hello</body></html>", "image/png", "binary"),
        (b"<html><body>hello</body></html>", "application/pdf", "binary"),
        (b'{"a": 1}', "application/json", "not-html"),
    ],
)
def test_bodies_refused_before_parsing(body, content_type, reason):
    with pytest.raises(Dropped) as dropped:
        decode_html(body, content_type)
    assert dropped.value.reason == reason


def test_random_bytes_are_binary():
    noise = random.Random(7).randbytes(20_000)
    with pytest.raises(Dropped) as dropped:
        extract(
            Page(
                url="https://example.com/a",
                body=noise,
                source="x",
                headers={"content-type": "text/html"},
            )
        )
    assert dropped.value.reason == "binary"


def test_too_large_after_decoding(monkeypatch):
    monkeypatch.setattr(decode, "MAX_HTML_CHARS", 1_000)
    body = html(PARAGRAPH * 5).encode()
    with pytest.raises(Dropped) as dropped:
        decode_html(body)
    assert dropped.value.reason == "too-large"


def test_too_large_before_decoding(monkeypatch):
    monkeypatch.setattr(decode, "MAX_BODY_BYTES", 1_000)
    with pytest.raises(Dropped) as dropped:
        decode_html(html(PARAGRAPH * 5).encode())
    assert dropped.value.reason == "too-large"


PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.html.gz"))


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name.split(".html")[0])
def test_pages_parse_as_trafilatura_parses_them(path):
    text = decode_html(gzip.decompress(path.read_bytes()), "text/html")
    assert etree.tostring(parse_html(text)) == etree.tostring(load_html(text))


@pytest.mark.parametrize(
    "path", PAGES[:6], ids=lambda path: path.name.split(".html")[0]
)
def test_trafilatura_reads_the_tree_as_it_reads_the_page(path):
    # every element is an HtmlElement, copies included, so trafilatura's passes
    # (which call text_content() on copies of the tree) work on it unchanged
    text = decode_html(gzip.decompress(path.read_bytes()), "text/html")
    tree = parse_html(text)
    assert all(isinstance(e, HtmlElement) for e in copy.deepcopy(tree).iter("*"))
    assert trafilatura.extract(tree) == trafilatura.extract(text)


@pytest.mark.parametrize(
    "text",
    [
        html("a\x01b\x0bc\x1fd"),  # controls trafilatura removes
        html("a\ufffeb\uffffc"),  # noncharacters
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"\n'
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n' + html("x"),
        '<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"/>\n'
        + html("x"),
    ],
    ids=["controls", "noncharacters", "doctype-on-two-lines", "self-closing-html"],
)
def test_pages_needing_trafilaturas_repairs_get_them(text):
    assert _parse_as_is(text) is None  # left to trafilatura's load_html
    repaired = load_html(text)
    assert etree.tostring(parse_html(text)) == etree.tostring(repaired)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">',
        '<!doctype html public "-//W3C//DTD XHTML 1.1//EN" "xhtml11.dtd"><head></head>',
    ],
)
def test_an_xhtml_doctype_is_repaired_as_trafilatura_repairs_it(doctype):
    text = doctype + "\n" + html("x")
    assert _parse_as_is(text) is not None
    assert etree.tostring(parse_html(text)) == etree.tostring(load_html(text))


def test_a_fragment_is_not_html_for_trafilatura_either():
    fragment = "<div><p>a fragment, no root element</p></div>"
    assert _parse_as_is(fragment) is None
    assert load_html(fragment) is None
    with pytest.raises(Dropped, match="not-html"):
        parse_html(fragment)


def test_control_characters_do_not_reach_the_body():
    body = html("The council met \x01on Tuesday\x0b and agreed the budget. " * 8)
    page = Page(url="https://example.com/a", body=body.encode(), source="s")
    article = extract(page, detect_language=False)
    assert "on Tuesday and agreed" in article.text
    assert not any(ord(c) < 32 and c not in "\n\t" for c in article.body_md)
