"""Containers that are not story, told by their names: readers' comment threads and
newsletter sign-up boxes, removed from the page before the body is extracted.

trafilatura drops a comment container only when its class or id *starts* with
"comment"; threads named otherwise (``sf_comment_list``, ``article__comments``,
``js-comments-area``) were read as story paragraphs, and so were sign-up boxes such as
``metro-email-signup``. Here a container goes when one part of its class or id
(split on ``-`` and ``_``) names comments, or a newsletter and the box is short,
unless another part says the page merely allows comments (``comments-open``,
``has-comments``) or the container holds the headline or half the page's text (a
wrapper that a site happens to name so). Inline elements (a comment counter in a
headline, a "post a comment" link in a sentence) are left alone.
"""

from __future__ import annotations

import re

from lxml.etree import _Element
from lxml.html import HtmlElement

THREAD_NAMES = {"comment", "comments", "commentlist", "commentslist", "disqus"}
BOX_NAMES = {"newsletter", "newsletters", "signup", "subscribe"}
BOX_CHARS = 400  # a sign-up box is a heading, a line and a button
# parts that describe the page or a setting, not a thread
STATES = {"no", "has", "with", "open", "closed", "enabled", "disabled", "status"}
CONTAINERS = {
    "div",
    "section",
    "aside",
    "ul",
    "ol",
    "li",
    "dl",
    "article",
    "form",
    "menu",
}
MAX_SHARE = 0.5  # of the page's text
PARTS = re.compile(r"[-_\s]+")
# Every name above contains one of these: only the containers whose class or id
# holds one are looked at closely.
_STEMS = re.compile("comment|disqus|newsletter|signup|subscribe", re.IGNORECASE)


def _named(value: str, names: set[str]) -> bool:
    for token in value.split():
        parts = set(PARTS.split(token.lower()))
        if parts & names and not parts & STATES:
            return True
    return False


def _text_len(element: _Element) -> int:
    return sum(map(len, map(str.strip, element.itertext())))


def is_furniture(element: _Element, page_chars: int) -> bool:
    """True for a container named as a comment thread or a newsletter box that is not
    the story's wrapper."""
    if element.tag not in CONTAINERS:
        return False
    names = f"{element.get('class', '')} {element.get('id', '')}"
    if _named(names, THREAD_NAMES):
        limit = MAX_SHARE * page_chars
    elif _named(names, BOX_NAMES):
        limit = min(BOX_CHARS, MAX_SHARE * page_chars)
    else:
        return False
    if element.find(".//h1") is not None:
        return False
    return _text_len(element) <= limit


def drop_named_furniture(tree: HtmlElement) -> int:
    """Remove comment threads and newsletter boxes from ``tree`` (keeping the text
    after each); how many containers went."""
    candidates = [  # in document order: ancestors first
        element
        for element in tree.iter(*CONTAINERS)
        if _STEMS.search(element.get("class") or "")
        or _STEMS.search(element.get("id") or "")
    ]
    if not candidates:
        return 0
    page_chars = _text_len(tree)
    chosen: set[_Element] = set()
    for element in candidates:
        if chosen and any(a in chosen for a in element.iterancestors()):
            continue  # goes with its ancestor
        if is_furniture(element, page_chars):
            chosen.add(element)
    dropped = [element for element in chosen if element.getparent() is not None]
    for element in dropped:
        element.drop_tree()
    return len(dropped)
