"""Does trafilatura's fast result look like a story? Only then is it used; otherwise
the full cascade (its readability and justext fallbacks) runs.

A fast result is trusted when it has enough words, some markup (a flat dump of every
``<p>`` is its last resort), at most half of its words in links, at most half in
navigation-like lines (six words or fewer) and no paragraph twice. A result with too
few words is trusted all the same when it holds most of the words of the page's
paragraphs (:data:`WHOLE_SHARE`): the story is short, not missed. Words are counted
as :func:`~pipeline.wordcount.count_words` counts them everywhere, so that a paragraph
of Japanese or Chinese, which has no spaces, is not taken for one short line.
Agreement with the JSON-LD ``articleBody`` is checked afterwards for whichever result
is kept (:mod:`pipeline.extract.articlebody`).

Measured on the corpus, dragnet and the Indian pages (tests/benchmarks/quality.py):
the checks of links, navigation lines and repeats send about 2% more pages through the
full cascade than the word count and the markup check alone, and change no score
there. The markup check earns its place: without it 14 of the 2,082 pages came out
differently: 11 worse (body F1 down on 8, Times of India and Business Standard stories
among them; navigation read as the start of the story on 2, a snippet that should go
kept on 1), 2 better, 1 with other words but the same F1.
Comparing the result with the page's mass of paragraph text was tried and lowered F1
(comment threads and sidebars count as paragraphs), so it does not refuse a result;
it only lets a short one through. Of the 282 short results on those pages, 147 hold
two thirds of their page's paragraph words: kept, 143 are what the full cascade would
have given, 4 score higher (the full cascade took a longer text around the story on
dragnet pages of 3 hosts) and none lower; the full cascade, which costs about as
much as the fast pass and the rest of extraction together, no longer runs on them.
"""

from __future__ import annotations

import re

from lxml.etree import _Element
from lxml.html import HtmlElement

from pipeline.extract.htmlmd import Block, blocks_text
from pipeline.wordcount import UNSPACED, count_words, count_words_once

# fewer words than this (counted as count_words counts them, so that 300 characters
# of Japanese are not taken for a stub): not a story yet
MIN_WORDS = 150
# ... unless the result holds this share of the words of the page's paragraphs
WHOLE_SHARE = 2 / 3
MAX_LINK_SHARE = 0.5
NAV_LINE_WORDS, MAX_NAV_SHARE = 6, 0.5
REPEAT_WORDS = 8  # a repeated paragraph this long is a layout repeated
# A line with more words than a navigation line has, told from its start without
# counting all its words (anchored: one attempt, however long the line).
MORE_THAN_NAV = re.compile(rf"\W*(?:\w+\W+){{{NAV_LINE_WORDS}}}\w")


def flat(body: _Element | None) -> bool:
    """True for no body, or one made only of paragraphs without any inner markup."""
    return body is None or all(child.tag == "p" and len(child) == 0 for child in body)


def _link_words(body: _Element) -> int:
    return sum(count_words_once("".join(ref.itertext())) for ref in body.iter("ref"))


def navigation_words(text: str) -> int:
    """The words of the lines of ``text`` that have at most NAV_LINE_WORDS words."""
    spaced = not UNSPACED.search(text)  # then a line's words are its \w runs
    total = 0
    for line in text.split("\n"):
        if spaced and MORE_THAN_NAV.match(line):
            continue
        words = count_words_once(line)
        if words <= NAV_LINE_WORDS:
            total += words
    return total


def repeated(blocks: list[Block]) -> bool:
    """True when a paragraph of some length comes twice."""
    seen: set[str] = set()
    for block in blocks:
        text = " ".join(block.text.split())
        if len(text.split()) < REPEAT_WORDS:
            continue
        if text in seen:
            return True
        seen.add(text)
    return False


def paragraph_words(page: HtmlElement) -> int:
    """The words of the ``<p>`` elements of ``page``."""
    return sum(count_words_once(p.text_content()) for p in page.iter("p"))


def _whole(words: int, page: HtmlElement | None) -> bool:
    """True when ``words`` are :data:`WHOLE_SHARE` of the words of the paragraphs of
    ``page``, which has some (a page without any may hold its story elsewhere)."""
    if page is None:
        return False
    paragraphs = paragraph_words(page)
    return paragraphs > 0 and words >= WHOLE_SHARE * paragraphs


def why_not(
    blocks: list[Block], body: _Element | None, page: HtmlElement | None = None
) -> str | None:
    """Why a result does not look like a story, or None when it does. ``page`` is the
    page as trafilatura saw it: a short result holding :data:`WHOLE_SHARE` of the
    words of its paragraphs is not too short."""
    if body is None or flat(body):
        return "no markup"
    words = count_words(blocks_text(blocks))
    if words < MIN_WORDS and not _whole(words, page):
        return "too short"
    if _link_words(body) > MAX_LINK_SHARE * words:
        return "mostly links"
    nav = sum(navigation_words(b.text) for b in blocks)
    if nav > MAX_NAV_SHARE * words:
        return "navigation-like lines"
    if repeated(blocks):
        return "repeated paragraphs"
    return None
