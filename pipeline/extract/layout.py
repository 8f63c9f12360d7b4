"""Paragraphs that a page marks only with line breaks, made real before extraction.

Many templates write a story as one container of text runs separated by ``<br>``
(or by empty elements classed ``br``), with subheadings as a bold run between two
breaks. Extractors then give one long paragraph, with words glued where a break
stood ("...Infanticide DataThe NCRB report..."). Here each run between breaks in such
a container becomes a ``<p>``, and a run that is one short bold element with no
sentence end becomes a paragraph of bold text, which ``htmlmd`` reads as a
subheading. Containers are judged by their own text: at least
two breaks and :data:`MIN_WORDS` words outside links, so that menus of links
separated by breaks stay as they are. ``<p>`` elements are left alone (a break
inside a paragraph is a line break: an address, a verse).
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.etree import _Element
from lxml.html import HtmlElement

CONTAINERS = {"div", "td", "section", "article", "main", "center"}
BLOCKS = {
    "p", "div", "table", "ul", "ol", "dl", "blockquote", "pre", "figure", "section",
    "article", "aside", "header", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "form",
}  # fmt: skip
BOLD_TAGS = {"b", "strong"}
BOLD_CLASS = re.compile(r"\b(strong|bold|sub-?head(ing)?|subtitle)\b", re.I)
BR_CLASS = re.compile(r"(^|\s)br(\s|$)")
MIN_WORDS = 40
HEADING_WORDS = 15
SENTENCE_END = re.compile(r"[.!?:;,]\W*$")
# below this many characters of <p> text trafilatura also takes <div> elements as
# paragraphs (three times its MIN_EXTRACTED_SIZE of 250)
DIV_MODE_CHARS = 750
# trafilatura reads a <div> as a paragraph only when the div's own text before its
# first child is not blank; an invisible character (removed again by htmlmd) keeps a
# line that opens with bold text or a link
WORD_JOINER = "\u2060"


def _is_break(element: _Element) -> bool:
    if element.tag == "br":
        return True
    return (
        element.tag == "span"
        and len(element) == 0
        and not (element.text or "").strip()
        and bool(BR_CLASS.search(element.get("class") or ""))
    )


def _own_words(element: _Element) -> int:
    """Words of the container's own text runs (its text and children's tails, and
    the text of inline children that are not links)."""
    words = len((element.text or "").split())
    for child in element:
        if isinstance(child.tag, str) and child.tag not in BLOCKS | {"a"}:
            words += len(child.text_content().split())
        words += len((child.tail or "").split())
    return words


def _is_heading(run: list[_Element], text: str) -> bool:
    """A run that is one bold element, short, with no sentence end."""
    if text.strip() or len(run) != 1:
        return False
    only = run[0]
    bold = only.tag in BOLD_TAGS or (
        only.tag == "span" and BOLD_CLASS.search(only.get("class") or "")
    )
    words = only.text_content().split()
    return (
        bool(bold)
        and 0 < len(words) <= HEADING_WORDS
        and not (only.tail or "").strip()
        and not SENTENCE_END.search(" ".join(words))
    )


def _split(container: _Element) -> list[_Element]:
    """Each run between breaks of ``container`` as a paragraph (or subheading); the
    paragraphs made."""
    pieces: list[_Element] = []
    made: list[_Element] = []
    run: list[_Element] = []
    text = container.text or ""

    def flush() -> None:
        nonlocal run, text
        has_text = text.strip() or any(
            (e.text_content() or "").strip() or (e.tail or "").strip() for e in run
        )
        if has_text:
            paragraph = container.makeelement("p", {})
            if _is_heading(run, text):  # bold, read as a subheading after extraction
                bold = etree.SubElement(paragraph, "strong")
                bold.text = " ".join(run[0].text_content().split())
            else:
                paragraph.text = text
                paragraph.extend(run)
            pieces.append(paragraph)
            made.append(paragraph)
        run, text = [], ""

    for child in list(container):
        tail = child.tail or ""
        if not isinstance(child.tag, str):  # a comment
            text += tail
            continue
        if _is_break(child):
            flush()
            text = tail
        elif child.tag in BLOCKS:
            flush()
            child.tail = None
            pieces.append(child)
            text = tail
        else:
            run.append(child)
    flush()
    container.text = None
    container[:] = pieces
    return made


def paragraph_chars(tree: HtmlElement) -> int:
    """Characters of text inside ``<p>`` elements, counted as trafilatura counts them."""
    return sum(len(text) for text in tree.xpath("//p//text()"))


def make_paragraphs(tree: HtmlElement) -> None:
    """Split the text containers of ``tree`` that use breaks as paragraphs.

    trafilatura reads ``<div>`` elements as paragraphs only on a page with little
    ``<p>`` text (under :data:`DIV_MODE_CHARS`, counted over the whole page). When the
    new paragraphs would bring a page over that line (a blog whose post is ``<div>``
    lines and whose sidebar uses breaks), they become ``<div>`` elements instead, so
    that the story's lines are still read.
    """
    counts: dict[_Element, int] = {}
    for element in tree.iter("br", "span"):
        if _is_break(element):
            parent = element.getparent()
            if parent is not None and parent.tag in CONTAINERS:
                counts[parent] = counts.get(parent, 0) + 1
    inside = {c for c in counts if any(a.tag in {"p", "li"} for a in c.iterancestors())}
    before = paragraph_chars(tree)
    made: list[_Element] = []
    for container, breaks in counts.items():
        if container in inside:
            continue  # a paragraph's line breaks are line breaks
        if breaks >= 2 and _own_words(container) >= MIN_WORDS:
            made += _split(container)
    if made and before < DIV_MODE_CHARS <= paragraph_chars(tree):
        for paragraph in made:
            paragraph.tag = "div"
            if len(paragraph) and not (paragraph.text or "").strip():
                paragraph.text = WORD_JOINER  # a line opening with an element


TABLE_PARTS = {"table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption"}
LAYOUT_CELL_WORDS = 60


def _is_layout(table: _Element) -> bool:
    """A table used for page layout: it holds another table, or a cell of prose."""
    for element in table.iterdescendants():
        if element.tag == "table":
            return True
        if element.tag in {"td", "th"}:
            if len(element.text_content().split()) >= LAYOUT_CELL_WORDS:
                return True
    return False


def unwrap_layout_tables(tree: HtmlElement) -> None:
    """Layout tables become plain blocks (``div``), so that a story laid out in nested
    tables reads as paragraphs, once, and not as rows of a table; data tables stay."""
    for table in list(tree.iter("table")):
        if table.tag == "table" and _is_layout(table):
            for element in [table, *table.iterdescendants()]:
                if element.tag in TABLE_PARTS and (
                    element is table or _owned_by(element, table)
                ):
                    element.tag = "div"


def _owned_by(element: _Element, table: _Element) -> bool:
    """True when ``table`` is the nearest table around ``element``."""
    for ancestor in element.iterancestors():
        if ancestor.tag == "table" or ancestor is table:
            return ancestor is table
    return False


CARD_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6")
# links with an address that hold one of CARD_BLOCKS, in document order (one XPath
# rather than a Python loop over every link of the page)
_CARD_TESTS = " or ".join(f"self::{tag}" for tag in CARD_BLOCKS)
CARD_LINKS = etree.XPath(
    f"descendant-or-self::a[@href != ''][descendant::*[{_CARD_TESTS}]]"
)
MAX_CARD_SHARE = 0.2  # of the page's text: more, and it is a link left open


def drop_link_cards(tree: HtmlElement) -> int:
    """Remove links that wrap a heading or a paragraph: teaser cards of other stories
    (headline, date and the start of their text, all one link), which extractors
    otherwise read as the story's paragraphs; how many went. A link that holds a
    large part of the page's text stays (one left open around the story)."""
    cards = CARD_LINKS(tree)
    if not cards:
        return 0
    limit = MAX_CARD_SHARE * len(tree.text_content())
    dropped = 0
    for card in cards:
        if card.getparent() is not None and len(card.text_content()) <= limit:
            card.drop_tree()
            dropped += 1
    return dropped


# class names that mark a story's body container
BODY_CLASS = re.compile(
    r"article[-_]?body|article__body|story[-_]?body|entry[-_]content|post[-_]content|"
    r"article[-_]content|article[-_]?text|story[-_]?content",
    re.I,
)
MAX_PARTS = 4


def join_split_bodies(tree: HtmlElement) -> int:
    """Move into the first of them the content of later body containers of the same
    tag and class (a story cut into a few ``articleBody`` blocks around ads and teaser
    boxes, of which extractors take only the first); how many were joined. More than
    :data:`MAX_PARTS` such containers are a list of posts, or a class given to each
    paragraph, and stay; so do containers without a paragraph."""
    groups: dict[tuple[str, str], list[_Element]] = {}
    for element in tree.iter("div", "section", "article"):
        names = element.get("class") or ""
        if names and BODY_CLASS.search(names):
            groups.setdefault((element.tag, names), []).append(element)
    joined = 0
    for members in groups.values():
        inside = set(members)
        top = [m for m in members if not any(a in inside for a in m.iterancestors())]
        if not 2 <= len(top) <= MAX_PARTS:
            continue
        if any(next(m.iter("p"), None) is None for m in top):
            continue
        first, *rest = top
        for other in rest:
            _append_text(first, other.text)  # text before its first child, too
            first.extend(list(other))
            other.drop_tree()
            joined += 1
    return joined


def _append_text(element: _Element, text: str | None) -> None:
    """``text`` after the last thing ``element`` holds."""
    if not text:
        return
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text
