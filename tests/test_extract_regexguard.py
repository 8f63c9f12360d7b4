"""trafilatura's regex tests asked the attribute first (pipeline.extract.regexguard):
the same elements selected, trafilatura left as installed outside broadsheet's calls."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
import trafilatura
import trafilatura.settings
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree, html

from pipeline.errors import Dropped
from pipeline.extract import regexguard
from pipeline.extract.article import extract
from pipeline.extract.decode import decode_html
from pipeline.extract.parse import parse_html
from pipeline.extract.regexguard import (
    EXSLT_REGEXP,
    guard,
    guarded,
    guarded_copy,
    swaps,
)
from pipeline.items import Page

FIXTURES = Path(__file__).parent / "fixtures"
NAMESPACES = {"re": EXSLT_REGEXP}


def pairs() -> list[tuple[etree.XPath, etree.XPath]]:
    """Each of trafilatura's guarded expressions with its original."""
    found = []
    for swap in swaps():
        if swap.name is None:
            found += [
                (o, r)
                for o, r in zip(swap.original, swap.replacement, strict=True)
                if o is not r
            ]
        else:
            found.append((swap.original, swap.replacement))
    return found


def same_selection(tree: etree._Element) -> None:
    for original, replacement in pairs():
        assert replacement(tree) == original(tree), original.path


def test_a_test_of_attributes_is_asked_the_attribute_first():
    assert guard("//*[re:test(@class, 'ad|promo')]") == (
        "//*[((@class) and re:test(@class, 'ad|promo'))]"
    )
    assert guard("//*[re:test(@id|@class, '^comment', 'i') or @x]") == (
        "//*[((@id|@class) and re:test(@id|@class, '^comment', 'i')) or @x]"
    )


@pytest.mark.parametrize(
    "path",
    [
        "//*[re:test(@class, '^')]",  # an empty class passes
        "//*[re:test(@class, 'ad|')]",
        "//*[re:test(@class, '(?:x)*')]",
        "//*[re:test(@class, '[')]",  # not a Python pattern: lxml would fail as it is
        "//*[re:test(., 'ad')]",  # the element's text, not an attribute
        "//*[re:test(normalize-space(@class), 'ad')]",
    ],
)
def test_tests_an_empty_string_can_pass_are_left_alone(path):
    assert guard(path) == path


def test_expressions_with_other_functions_or_nothing_to_guard_are_not_copied():
    assert guarded_copy(etree.XPath("//*[contains(@class, 'ad')]")) is None
    assert (
        guarded_copy(etree.XPath("//*[re:test(@class, '^')]", namespaces=NAMESPACES))
        is None
    )
    other = etree.XPath(
        "//*[re:test(@class, 'ad') and x:y(.)]", namespaces={**NAMESPACES, "x": "urn:x"}
    )
    assert guarded_copy(other) is None


def test_strings_stay_smart_where_the_expression_returns_them():
    tree = html.fromstring("<div><a class='ad' href='/a'>A</a><a href='/b'>B</a></div>")
    hrefs = guarded_copy(
        etree.XPath(".//a[re:test(@class, 'ad')]/@href", namespaces=NAMESPACES)
    )
    assert hrefs(tree) == ["/a"]
    assert hrefs(tree)[0].getparent().tag == "a"
    elements = guarded_copy(
        etree.XPath(".//a[re:test(@class, 'ad')]", namespaces=NAMESPACES)
    )
    assert [a.get("href") for a in elements(tree)] == ["/a"]


def test_trafilatura_has_tests_to_guard():
    # if trafilatura's expressions change shape, this says the guard stopped working
    assert len(pairs()) >= 10
    for original, replacement in pairs():
        assert replacement.path.count(" and re:test(") >= 1
        assert "re:test" in original.path


def test_trafilatura_is_guarded_inside_the_block_and_as_installed_outside():
    installed = trafilatura.settings.BASIC_CLEAN_XPATH
    with guarded():
        inside = trafilatura.settings.BASIC_CLEAN_XPATH
        with guarded():
            assert trafilatura.settings.BASIC_CLEAN_XPATH is inside
        assert trafilatura.settings.BASIC_CLEAN_XPATH is inside
    assert inside is not installed
    assert "((@class) and re:test(@class" in inside.path
    assert trafilatura.settings.BASIC_CLEAN_XPATH is installed
    with pytest.raises(RuntimeError), guarded():
        raise RuntimeError("a page went wrong")
    assert trafilatura.settings.BASIC_CLEAN_XPATH is installed
    for swap in swaps():
        if swap.name is None:
            assert swap.holder == swap.original


def test_extraction_leaves_trafilatura_as_installed():
    page = (FIXTURES / "pages" / "fundus__uk__BBC_2026_04_25.html.gz").read_bytes()
    article = extract(
        Page(
            url="https://www.bbc.co.uk/news/a",
            body=gzip.decompress(page),
            source="bbc",
            fetched_at="2026-04-25T10:00:00+00:00",
        )
    )
    assert article.body_md
    for swap in swaps():
        if swap.name is None:
            assert swap.holder == swap.original
        else:
            assert getattr(swap.holder, swap.name) is swap.original


def saved_pages() -> list[Path]:
    return sorted(
        path
        for path in FIXTURES.rglob("*")
        if path.name.endswith((".html", ".html.gz", ".htm"))
    )


@pytest.mark.parametrize(
    "path", saved_pages(), ids=lambda p: str(p.relative_to(FIXTURES))
)
def test_the_same_elements_are_selected_on_saved_pages(path):
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
    try:
        tree = parse_html(decode_html(body))
    except Dropped as dropped:  # refused before trafilatura sees it
        refused = dropped.reason
    else:
        refused = None
        same_selection(tree)
        same_selection(html.fromstring(etree.tostring(tree)))  # lxml.html's own lookup
    assert refused in {None, "not-html", "broken-html", "binary", "empty"}


def vocabulary() -> list[str]:
    """Words of trafilatura's own patterns, so that the generated attributes match
    some tests and not others."""
    words = set()
    for original, _ in pairs():
        for pattern in re.findall(r"re:test\([^,]*,\s*'([^']*)'", original.path):
            words.update(w for w in re.findall(r"[A-Za-z][\w-]{2,}", pattern))
    return sorted(words)[:400]


WORDS = vocabulary()
VALUES = st.one_of(
    st.just(""),
    st.lists(
        st.one_of(
            st.sampled_from(WORDS),
            st.sampled_from(["x", "Cookie-Banner", "ſidebar", "\u212aey"]),
        ),
        max_size=3,
    ).map(" ".join),
)
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["class", "id", "style", "role", "itemprop", "rel"]),
    VALUES,
    max_size=3,
)
TAGS = st.sampled_from(
    ["div", "section", "p", "span", "aside", "a", "ul", "li", "footer"]
)


@st.composite
def documents(draw) -> etree._Element:
    root = html.fromstring("<html><body></body></html>")
    parents = [root.find("body")]
    for _ in range(draw(st.integers(1, 25))):
        parent = draw(st.sampled_from(parents))
        element = etree.SubElement(parent, draw(TAGS))
        for name, value in draw(ATTRIBUTES).items():
            element.set(name, value)
        element.text = draw(st.sampled_from(["", "text", "Share this story"]))
        parents.append(element)
    return root


@settings(max_examples=150, derandomize=True, deadline=None)
@given(documents())
def test_the_same_elements_are_selected_on_generated_documents(tree):
    same_selection(tree)


def test_attribute_order_does_not_change_the_selection():
    # re:test(@id|@class, ...) reads the attribute written first: the guard asks for any
    tree = html.fromstring(
        "<html><body><div class='comment-list' id='main'><p>a</p></div>"
        "<div id='comments' class='main'><p>b</p></div>"
        "<div class='' id=''><p>c</p></div></body></html>"
    )
    same_selection(tree)


def test_guarded_copies_are_made_once():
    assert swaps() is swaps()
    assert regexguard.swaps.cache_info().currsize == 1
