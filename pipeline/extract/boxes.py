"""Boxes of other stories and notices in an extracted body, told by their shape: a
list of kicker links set inside the story, a grid of linked headlines or a run of
short lines after it, a members-only notice with the sign-up box that follows.

Each rule measures the whole body, so that a post made of such lines (a round-up of
links, tour dates told as paragraphs) is left as it is.
"""

from __future__ import annotations

import re

from pipeline.extract.htmlmd import Block

LINK_ITEM = re.compile(r"^\s*(-|\d+\.) \[[^\]]*\]\([^)]*\)\s*$")
# "- **Kicker:** [headline](url)": another story's teaser, its kicker in bold
KICKER_ITEM = re.compile(
    r"^\s*(-|\d+\.) \*{1,2}[^*\n]{1,60}\*{1,2}\s*\[[^\]]+\]\([^)]*\)\s*$"
)
TEASER_ITEMS = 3
LINK_TEXT = re.compile(r"\[([^\]]*)\]\([^)]*\)")
GRID_ITEMS, DEK_WORDS = 2, 40
# how a paragraph of the story ends
PROSE_END = re.compile(r"[.!?。！？।…\"”»)]\s*$")
TAIL_BLOCKS, TAIL_WORDS, MAX_TAIL_SHARE = 4, 6, 0.2
MAX_TEASER_SHARE = 0.3  # of the body's words


# a notice that the rest of the story is for members or subscribers
PAYWALL_NOTICE = re.compile(
    r"^\W*(この記事は(有料)?会員限定|.{0,20}有料会員限定|(this|the rest of this) "
    r"(article|story|content) is (only )?(for|available to|reserved for) "
    r"(paying )?(subscribers|members)|(dieser artikel ist )?(nur|exklusiv) f(ü|ue)r "
    r"abonnenten)",
    re.I,
)
BOX_LINE_CHARS, BOX_LINE_WORDS = 60, 12


def is_kicker_links(block: Block) -> bool:
    """True for a list of :data:`TEASER_ITEMS` or more other stories, each item a bold
    kicker and a link ("- **Kicker:** [headline](url)"), wherever it stands: a
    related-stories box set inside the story."""
    if block.kind != "list":
        return False
    items = block.md.split("\n")
    return len(items) >= TEASER_ITEMS and all(map(KICKER_ITEM.match, items))


def without_teaser_boxes(blocks: list[Block]) -> list[Block]:
    """Without lists of kicker links (:func:`is_kicker_links`) and the subheading that
    titles each; unless lists of links are a large part of the body (a round-up of
    links is the story itself)."""
    if not any(map(is_kicker_links, blocks)):
        return blocks
    links = [  # lists whose every item holds a link
        b
        for b in blocks
        if b.kind == "list" and all("](" in i for i in b.md.split("\n"))
    ]
    words = sum(len(b.text.split()) for b in blocks)
    if sum(len(b.text.split()) for b in links) > MAX_TEASER_SHARE * words:
        return blocks
    kept: list[Block] = []
    for block in blocks:
        if is_kicker_links(block):
            if kept and kept[-1].kind == "head":
                kept.pop()
            continue
        kept.append(block)
    return kept


def _sentence(block: Block) -> bool:
    """A paragraph that starts and ends as sentences do, however short ("Thank you."),
    each of its lines too: text of the story, not a box of short lines that ends with
    one ("Shop with us?\nUse these links,\nThank you!") or the broken end of a promo
    ("subscribe to our feeds.)", its parenthesis opened blocks earlier)."""
    text = block.text.strip()
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return (
        block.kind == "p"
        and bool(lines)
        and not text[:1].islower()
        and all(PROSE_END.search(line) for line in lines)
        and text.count(")") <= text.count("(")
    )


def without_short_tail(blocks: list[Block]) -> list[Block]:
    """Without the run of short blocks after the story's last sentence, when
    it is :data:`TAIL_BLOCKS` blocks or more of :data:`TAIL_WORDS` words or fewer on
    average, and a small part of the body: the titles of sidebar boxes, prices,
    counters that trafilatura kept."""
    end = len(blocks)
    while end and not _sentence(blocks[end - 1]):
        end -= 1
    tail = blocks[end:]
    if end == 0 or len(tail) < TAIL_BLOCKS:
        return blocks
    words = sum(len(b.text.split()) for b in tail)
    total = sum(len(b.text.split()) for b in blocks)
    if words > TAIL_WORDS * len(tail) or words > MAX_TAIL_SHARE * total:
        return blocks  # a list told as short paragraphs: dates, places, an address
    return blocks[:end]


def _short_lines(block: Block) -> bool:
    return all(
        len(line) <= BOX_LINE_CHARS and len(line.split()) <= BOX_LINE_WORDS
        for line in block.text.split("\n")
    )


def without_paywall_box(blocks: list[Block]) -> list[Block]:
    """Without a members-only notice ("この記事は会員限定です", "This article is for
    subscribers only") and the sign-up box after it: the notice and every block
    after it go when all of them are short lines."""
    for index, block in enumerate(blocks):
        if block.kind in {"p", "head"} and PAYWALL_NOTICE.match(block.text):
            if index and all(map(_short_lines, blocks[index:])):
                return blocks[:index]
            break
    return blocks


def _linked_heading(block: Block) -> bool:
    """A subheading that is mostly a link: another story's headline."""
    if block.kind != "head":
        return False
    linked = sum(len(text.split()) for text in LINK_TEXT.findall(block.md))
    return linked > 0 and 2 * linked >= len(block.text.split())


def without_teaser_grid(blocks: list[Block]) -> list[Block]:
    """Without a grid of other stories at the end: :data:`GRID_ITEMS` or more linked
    headlines, each perhaps followed by a short standfirst, and the box's title."""
    end, items = len(blocks), 0
    while end:
        start = end - 1
        dek = blocks[start]
        if dek.kind == "p" and len(dek.text.split()) <= DEK_WORDS and start:
            start -= 1
        if not _linked_heading(blocks[start]):
            break
        end, items = start, items + 1
    if items < GRID_ITEMS:
        return blocks
    kept = blocks[:end]
    while kept and kept[-1].kind == "head":
        kept.pop()  # the box's title, "More from ..."
    return kept
