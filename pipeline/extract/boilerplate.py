"""Paragraphs that are page furniture, not story: removed from an extracted body.

trafilatura removes most navigation; what slips through is short lines such as share
bars, newsletter and app boxes, cookie notices, "Read more" teasers, comment prompts,
copyright lines and the repeated headline. Only short blocks are judged (a real
paragraph that happens to mention a newsletter is kept), and inline "ALSO READ:
<link>" lines inside the text are story links, so they stay.
"""

from __future__ import annotations

import re

from pipeline.extract.boxes import (
    LINK_ITEM,
    without_paywall_box,
    without_short_tail,
    without_teaser_boxes,
    without_teaser_grid,
)
from pipeline.extract.htmlmd import Block
from pipeline.extract.metadata import TEXT_DATE

MAX_WORDS = 30
# a block this long whose sentences came before, nearly all, is a repeat
REPEAT_WORDS, REPEATED_SHARE = 5, 0.9
SENTENCE_END = re.compile(r"(?<=[.!?。！？।])\s+")
SOCIAL = (
    r"(whatsapp|facebook|twitter|x|linkedin|telegram|instagram|youtube|koo( app)?|"
    r"pinterest|reddit|threads|email|e-mail|print|copy link|share)"
)
FURNITURE = re.compile(
    r"^\W*("
    r"((read|see|view|show|load)\s+(more|the full|full|all|less)\b|continue reading|click here).{0,60}$|"
    r"share (this|on|via|the)\b|share\W*$|"
    r"((adjust|change|increase|decrease) (the )?)?(text|font) size\W*$|"
    r"no (user |reader )?comments( yet)?\b.{0,60}$|be the first to (comment|express)\b|"
    r"(follow|like) us on\b|"
    r"(sign up|subscribe|register)\b.{0,80}(newsletter|updates|inbox|alerts|free)|"
    r"(get|download) (the|our) .{0,30}app\b|"
    r"(we|this (site|website)) uses? cookies|by (using|continuing)\b.{0,60}cookies|"
    r"(leave|post|add|view|show|load|read) (a |the |all )?comments?\b|comments?\s*\(\d*\)\s*$|"
    r"(©|\(c\)|copyright\b)|all rights reserved|"
    r"(advertisement|sponsored|story continues below|scroll to continue)\W*$|"
    r"(also )?(watch|listen)\s*:?\s*$|"
    r"(first published|published|updated|last updated)\s*(on|at)?\s*:?\s*\S.{0,40}$|"
    r"(tags?|topics?|etiketler|étiquettes|etiquetas|schlagw(ö|oe)rter|stichw(ö|oe)rter)\s*:|"
    # a box's label left without its links: "read also", "related" in a few languages
    r"(read also|lesen sie auch|mehr zum thema|auch interessant|ähnliche( artikel)?|"
    r"(à )?lire aussi|czytaj (więcej|też|także|również)|les også|läs också|læs også|"
    r"lees ook|leggi anche|lee también|leia também|related( articles| stories)?|"
    r"schlagw(ö|oe)rter zu diesem artikel|recommended videos|article content)\W*$|"
    r"trending( now| stories)?\s*$|recommended( for you| stories)?\s*$|"
    r"((skip|jump) to (the )?)?(main )?(content|navigation|article|story)\W*$|"
    r"(supported|presented|sponsored) by\W*$|"
    rf"{SOCIAL}(\W*{SOCIAL})+\W*$|"
    r"this (story|article) is from\b.{0,40}$|start a conversation\W*$|"
    r"end of (the )?(article|story)\W*$|top comments?\W*$|also read\W*$|"
    r"read (this|the) (story|article) in \w+\W*$|"
    r"view this (post|photo|video) on \w+\W*$|"
    r"\d+ comments? on this (story|article)\W*$|"
    r"(image|photo|picture) credits?\s*:.{0,80}$|"
    r"(sign in|log ?in)( now| to \w+)?\W*$|already a (member|subscriber)\b.{0,40}$|"
    r"(agencies|pti|ani|ians|reuters|afp|ap|bloomberg)\W*$|"
    r"\d{1,3}\s*/\s*\d{1,3}\s*$|"  # a slide counter, "2/5"
    r"(take|how about) (a|our) (quick |short )?survey\b.{0,60}$|"
    # members-only notices and their boxes in Japanese and Chinese
    r".{0,30}(会員限定|有料会員|会員登録|ログイン|新規登録|読み放題|メールマガジン).{0,50}$|"
    r"(関連キーワード|おすすめ(情報|記事)?|記事保存|[大中小]字号|分享让更多人看到)\W*$|"
    # reading time, "report an error", "enable JavaScript"
    r"(\d+\s*(min(ute)?s?|minuten)\.?\s*(read|lesezeit|lesedauer)|(reading time|lesezeit|"
    r"lesedauer)\s*:?\s*\d+\s*(min|minutes?|minuten))\W*$|"
    r"(fehler gefunden|found an error|spotted an error)\?.{0,30}$|"
    r"(please |bitte )?(enable|aktivieren sie) javascript\b.{0,40}$|"
    r"\{\{.*\}\}"  # a template's placeholder left unfilled
    r")",
    re.I,
)


CAPTION = re.compile(
    r"^\W*(file )?(photo|image|picture|pic|representational image)\b|"
    r"^\W*(illustration|graphic|video)s?\s*(by\b|:)|^\W*courtesy\b|"
    r"^\W*credits?\s*(:|\.\.\.|…)|"
    r"[(\[](reuters|ap|afp|pti|ani|ians|getty images|file|"
    r"([\w ]{0,20} )?(photo|image|picture)[^)\]]*)[)\]]\W*$",
    re.I,
)


# "*Watch* India, Pakistan should...": a promoted video or story after the story
PROMO = re.compile(
    r"^\W*(\*{1,2}|_)(also )?(watch|listen|read|see)( also| more| now)?\W*(\*{1,2}|_)",
    re.I,
)


# a list item that starts with a link, and a text that ends cut off
TEASER_START = re.compile(r"^\s*(-|\d+\.) \**\[[^\]]+\]\([^)]*\)")
CUT_OFF = re.compile(
    r"(\[\s*(\.\.\.|…)\s*\]|\.\.\.|…|\bread more\W*|\bmore\s*[»›>]+)\s*$", re.I
)

# "MORE: <link>", "READ NEXT: <link>": a labelled link to another story
LABELLED_LINK = re.compile(
    r"^\**((read )?more|(also|must) read|read (next|also|more)|see also|related"
    r"( stories| articles)?|(also )?watch|don'?t miss|recommended|trending)\s*:[*\s]*"
    r"\[[^\]]*\]\([^)]*\)\W*$",
    re.I,
)
LINK_ONLY = re.compile(r"^(\**\[[^\]]*\]\([^)]*\)\**[\s,;|·•]*)+$")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def is_furniture(block: Block) -> bool:
    """True for a short block that matches a known furniture pattern."""
    if block.kind not in {"p", "head"}:
        return False
    text = block.text.strip()
    if len(text.split()) > MAX_WORDS:
        return False
    return bool(FURNITURE.match(text))


def is_headline(block: Block, title: str) -> bool:
    """True when a block repeats the headline."""
    if not title or block.kind not in {"p", "head"}:
        return False
    return _words(block.text) == _words(title)


def is_lead_caption(block: Block, captions: set[str]) -> bool:
    """True for a lead-image caption or credit line (judged only before the story)."""
    if block.kind != "p" or len(block.text.split()) > MAX_WORDS:
        return False
    return block.text.strip() in captions or bool(CAPTION.search(block.text))


DATE_LABELS = {
    "updated",
    "published",
    "posted",
    "last",
    "on",
    "at",
    "ist",
    "gmt",
    "utc",
}
# "11/28/2016", "28.11.16": only for telling a date line, never read as a date
NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")


def is_dateline(block: Block) -> bool:
    """True for a line that is only a date ("26 Sep 2011", "Monday, April 7, 2009",
    "11/28/2016 11:00 AM PT")."""
    if block.kind not in {"p", "head"} or len(block.text.split()) > 8:
        return False
    found = TEXT_DATE.search(block.text) or NUMERIC_DATE.search(block.text)
    if not found:
        return False
    rest = block.text[: found.start()] + block.text[found.end() :]
    words = [w for w in re.findall(r"[^\W\d_]+", rest) if w.lower() not in DATE_LABELS]
    if len(words) <= 2:  # a weekday, a time zone, a section ("india Updated: ...")
        return True
    # "Name / Place February 14, 2020": a byline with its date, not a sentence
    return bool(re.search(r"\s[/|]\s", rest)) and not SENTENCE_END.search(block.text)


def is_standfirst(block: Block, after: list[Block]) -> bool:
    """True for a block above the story that the story's first paragraphs repeat
    (a standfirst shown as a heading, then again as the lead)."""
    text = " ".join(block.text.split())
    if block.kind not in {"p", "head"} or len(text.split()) < 8:
        return False
    return any(text in " ".join(other.text.split()) for other in after[:6])


def is_byline(block: Block, authors: tuple[str, ...]) -> bool:
    """True for a short line that names one of the authors ("By Daniel Bader | last
    updated"), judged only above the story."""
    if not authors or block.kind not in {"p", "head"}:
        return False
    text = " ".join(_words(block.text))
    if len(text.split()) > 12 or block.text.rstrip().endswith((".", "!", "?", "。")):
        return False  # a sentence that names the author is story
    return any(
        re.search(rf"\b{re.escape(' '.join(_words(name)))}\b", text)
        for name in authors
        if _words(name)
    )


def is_link_list(block: Block) -> bool:
    """True for a list of bare links (breadcrumbs, related stories): the last item may be text."""
    if block.kind != "list":
        return False
    lines = block.md.split("\n")
    links = [bool(LINK_ITEM.match(line)) for line in lines]
    return sum(links) >= max(1, len(lines) - 1) and all(
        len(line.split()) <= 12 for line in block.text.split("\n")
    )


def is_teaser_list(block: Block) -> bool:
    """True for a list of other stories' teasers: every item a link followed by the
    start of that story, cut off ("[...]", "…", "Read more")."""
    if block.kind != "list":
        return False
    items = block.md.split("\n")
    texts = block.text.split("\n")
    return (
        len(items) >= 2
        and len(items) == len(texts)
        and all(TEASER_START.match(item) for item in items)
        and all(CUT_OFF.search(text) for text in texts)
    )


def _sentences(text: str) -> list[str]:
    return [piece for piece in SENTENCE_END.split(text) if piece]


def once(blocks: list[Block]) -> list[Block]:
    """Each paragraph once: a block of :data:`REPEAT_WORDS` words or more whose
    sentences nearly all came before (a repeated block, a caption kept twice, the
    text of a nested layout table given again as one cell) is dropped."""
    kept: list[Block] = []
    seen: set[str] = set()
    for block in blocks:
        sentences = _sentences(" ".join(block.text.split()))
        words = sum(len(s.split()) for s in sentences)
        if words >= REPEAT_WORDS:
            repeated = sum(len(s.split()) for s in sentences if s in seen)
            if repeated >= REPEATED_SHARE * words:
                continue
        kept.append(block)
        if block.kind != "head":  # a standfirst heading gives way to its paragraph
            seen.update(sentences)
    return kept


def remove_furniture(
    blocks: list[Block],
    title: str,
    captions: set[str] | None = None,
    authors: tuple[str, ...] = (),
) -> list[Block]:
    """Blocks without repeats and furniture; without the headline, byline, date line, lead-image
    caption, breadcrumbs, section and tag links or share buttons on top; without lists
    or lines of bare links, teasers of other stories, labelled links ("MORE: <link>"),
    a grid of linked headlines and a run of short lines at the end; without boxes of
    kicker links anywhere and a members-only notice with its sign-up box.

    Links introduced by text ("ALSO READ: <link>") stay. Figure captions are taken
    out of the page before extraction (``body.remove_captions``); ``captions`` holds
    their texts, so that one repeated as a paragraph under the lead image goes too.
    """
    kept = without_paywall_box(once(blocks))
    kept = without_teaser_boxes([b for b in kept if not is_furniture(b)])
    captions = captions or set()
    while (
        kept
        and (
            is_headline(kept[0], title)
            or is_lead_caption(kept[0], captions)
            or is_link_list(kept[0])
            or LINK_ONLY.match(kept[0].md)  # tags and section links above the story
            or is_dateline(kept[0])
            or is_byline(kept[0], authors)
            or (kept[0].kind == "list" and len(kept[0].text.split()) <= 4)
            or is_standfirst(kept[0], kept[1:])
        )
    ):
        kept.pop(0)
    while kept and (
        is_link_list(kept[-1])
        or is_teaser_list(kept[-1])
        or LINK_ONLY.match(kept[-1].md)
        or (kept[-1].kind == "p" and LABELLED_LINK.match(kept[-1].md))
        or (PROMO.match(kept[-1].md) and len(kept[-1].text.split()) <= MAX_WORDS)
    ):
        kept.pop()  # related-story teasers and video promos after the story
    return without_short_tail(without_teaser_grid(kept))
