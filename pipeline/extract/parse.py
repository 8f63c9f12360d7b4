"""Decoded HTML -> one lxml tree, and what is removed from it before extraction.

``parse_html`` parses a page once (as trafilatura's ``load_html`` would, without its
costly scan when the page needs none of its repairs); ``drop_inert`` removes what no
extraction pass keeps; ``apply_overrides`` applies a source's ``prune_xpaths`` and
``body_xpath``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import DOCTYPE_TAG, load_html

from pipeline.errors import Dropped
from pipeline.sources import Source, SourceError

CONTROL_REFERENCE = re.compile(
    r"&#(0*(?:[0-8]|1[1-2]|1[4-9]|2\d|3[01])|[xX]0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]));"
)

# What trafilatura's load_html removes before parsing: C0 controls other than tab, LF
# and CR (lxml keeps them, then refuses them when trafilatura writes text back) and
# the noncharacters U+FFFE and U+FFFF, here as UTF-8 bytes.
_CONTROL_BYTES = bytes([*range(9), 11, 12, *range(14, 32)])
# (one search for both: a bytes ``in`` per noncharacter takes four times as long)
_NONCHARACTERS = re.compile(b"\xef\xbf[\xbe\xbf]")

# trafilatura's parser options (its utils.HTML_PARSER; the tests compare the trees),
# with lxml's C-level class lookup giving every element the HtmlElement class.
# lxml.html's own lookup is a Python method that gives <form>, <input> and a few
# others classes of their own, which nothing here uses; it runs each time an element
# is touched from Python, trafilatura's passes included, and cost about a twentieth
# of a worker's CPU. Copies of the tree keep the parser's lookup.
PARSER = lxml.html.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)


def _parse_as_is(text: str) -> HtmlElement | None:
    """The tree of a page parsed from its UTF-8 bytes as load_html parses it; None
    when the page needs one of load_html's repairs other than the common one done
    here (an XHTML doctype on the first line, which libxml2 mishandles, removed).

    load_html would first scan the whole text for the characters above, which
    costs more than parsing; scanning the bytes is a tenth of that.
    """
    if "html" not in text[:50].lower():
        return None  # load_html checks what does not look like HTML
    if DOCTYPE_TAG.match(text):
        first, _, rest = text.partition("\n")
        repaired = DOCTYPE_TAG.sub("", first, count=1)
        if repaired == first:
            return None  # a doctype over several lines, which load_html keeps
        text = f"{repaired}\n{rest}"
    if any(
        "<html" in line and line.endswith("/>") for line in text[:4096].splitlines()[:4]
    ):
        return None  # an <html .../> that load_html rewrites
    data = text.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _CONTROL_BYTES)) != len(data) or (
        _NONCHARACTERS.search(data)
    ):
        return None
    return lxml.html.fromstring(data, parser=PARSER)


def parse_html(text: str) -> HtmlElement:
    """The lxml tree of a decoded page, or Dropped (not-html, broken-html)."""
    if "&#" in text:  # references to control characters make trafilatura give up
        text = CONTROL_REFERENCE.sub(" ", text)
    try:
        tree = _parse_as_is(text)
        if tree is None:
            tree = load_html(text)
    except (RecursionError, etree.LxmlError) as error:
        raise Dropped("broken-html", str(error)[:200]) from None
    if tree is None or not isinstance(tree, HtmlElement):
        raise Dropped("not-html", "no HTML document in the body")
    return tree


@lru_cache(maxsize=256)
def _xpath(expression: str) -> etree.XPath:
    try:
        return etree.XPath(expression)
    except etree.XPathSyntaxError as error:
        raise SourceError(f'invalid XPath "{expression}": {error}') from None


def _select(expression: str, tree: HtmlElement) -> list[etree._Element]:
    """Elements matching a source's XPath; SourceError when it cannot be evaluated."""
    try:
        found = _xpath(expression)(tree)
    except etree.XPathEvalError as error:
        raise SourceError(f'XPath "{expression}" fails: {error}') from None
    if not isinstance(found, list):
        return []
    return [e for e in found if isinstance(e, etree._Element)]


def apply_overrides(tree: HtmlElement, source: Source | None) -> HtmlElement:
    """Remove the source's ``prune_xpaths``; keep only its ``body_xpath`` element(s).

    An XPath that is invalid raises SourceError (a configuration error, not a page's).
    """
    if source is None:
        return tree
    for expression in source.prune_xpaths:
        for element in _select(expression, tree):
            if element.getparent() is not None:
                element.drop_tree()
    if source.body_xpath:
        found = _select(source.body_xpath, tree)
        if found:
            page = etree.Element("html")
            body = etree.SubElement(etree.SubElement(page, "body"), "article")
            for element in found:
                body.append(element)
            return load_html(etree.tostring(page, encoding="unicode"))
    return tree


# Elements that trafilatura deletes with everything inside them in each of its passes
# (its own cleaning, and the readability, justext and baseline fallbacks, which never
# keep them either), checked page by page on the corpus to give the same bodies.
# Removed once, after metadata has been read, they no longer cost anything in the
# tree copies and XPath passes each trafilatura run makes: about 6% of extraction.
# Scripts go too, but for JSON-LD, which trafilatura's fallbacks read. Removed with
# their tails kept, so that text after an inline <svg> stays in its paragraph.
# (nav, aside, button, select, noscript and template are not here: removing them
# first changes what trafilatura finds on some pages.)
INERT_TAGS = (
    "style",
    "svg",
    "footer",
    "iframe",
    "input",
    "textarea",
    "object",
    "embed",
    "canvas",
    "video",
    "audio",
    "map",
)


def drop_inert(tree: HtmlElement) -> None:
    """Remove :data:`INERT_TAGS` and scripts other than JSON-LD, keeping their tails."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            script.tag = "style"  # removed with the styles below
    etree.strip_elements(tree, *INERT_TAGS, with_tail=False)
