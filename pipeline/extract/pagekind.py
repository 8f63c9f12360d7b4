"""Is a page one story? Content decides: a page is refused as ``Dropped("not-article",
why)`` only when what it holds is not an article body: a list of links (home pages,
tag and section listings, link indexes, teaser grids), a video page with next to no
text, a live-blog shell or a paywall stub.

The URL never decides. A path that looks like a home page or a listing
(``/``, ``/tag/india``; a query naming a document, ``?storyID=331739``, does not),
or a declared collection (``CollectionPage``), only adds doubt: such a page is kept
when its body reads as a story (enough prose in paragraphs of sentences) and refused
otherwise. A page at such a URL that declares itself a website or a collection is
refused: its own markup agrees. Article markup (a JSON-LD article node,
``og:type=article``) removes all doubt.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.etree import _Element

from pipeline.errors import Dropped
from pipeline.extract.htmlmd import Block, blocks_text
from pipeline.extract.jsonld import LinkedData, node_types
from pipeline.extract.metadata import Meta
from pipeline.wordcount import count_words, count_words_once

# a listing segment as the last or next-to-last part of the path: /tag/india/, /author/x;
# a last part that names a document (story.cfm, 009849.html, a long number) is not one
LISTING_PATH = re.compile(
    r"/(tags?|topics?|categor(y|ies)|authors?|sections?|archives?|search|page)"
    r"(/(?![^/]*(\.\w{2,5}|\d{4,}[^/]*|([^/-]+-){4}[^/]*)/?$)(?!\d+/?$)[^/]+)?/?$",
    re.I,
)
HOME_PATH = re.compile(
    r"^/?((index|default|home)(\.\w+)?|[a-z]{2}(-[a-z]{2})?)?/?$", re.I
)
# a query that names a document: ?storyID=331739, ?p=123, ?article=463501
DOCUMENT_QUERY = re.compile(r"(^|&)[^=&]*=[^&]*\d{2,}")
LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}
STUB_WORDS = 120
# a video page with text around the video (a description, a transcript) is stored
# like any short story: only one with less text than a story needs is refused
VIDEO_TEXT_WORDS = 40
# more of the text in links than this, without article markup, most of the text in
# lines that are only links, and that many links: an index page (a post whose
# paragraphs carry many links, or a short post with a link or two, is a post)
MAX_LINK_SHARE, LINK_LINES_SHARE, INDEX_LINKS = 0.6, 0.5, 10
# even with article markup, text that is nearly all links, and many of them, is a list
ALL_LINKS, MANY_LINKS = 0.85, 500
# a paragraph of prose: this many words, most of them not link text
PROSE_BLOCK_WORDS = 12
# a page in doubt is a story when it holds this much prose, and prose is most of it
DOUBT_PROSE_WORDS, DOUBT_PROSE_SHARE = 60, 0.5
# a link index: this many lines that are only a link, nearly all of the text
INDEX_LINES, INDEX_SHARE = 20, 0.7
MD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\((?:[^()\s]|\([^()]*\))*\)")


def url_doubt(url: str) -> str | None:
    """Why the URL alone looks like a home page or a listing, or None."""
    parts = urlsplit(url)
    if DOCUMENT_QUERY.search(parts.query):
        return None
    if url and HOME_PATH.match(parts.path):
        return "home page URL"
    if LISTING_PATH.search(parts.path):
        return "listing URL"
    return None


def doubt(url: str, meta: Meta, linked: LinkedData) -> list[str]:
    """Why this page may not be one story: a declared collection, a URL like a home
    page's or a listing's, a page declared a website at such a URL. None when its
    markup says it is an article."""
    og_type = (meta.first("og:type") or "").lower()
    if linked.article or og_type == "article":
        return []
    found = []
    if linked.types & LISTING_TYPES:
        found.append("declares a collection of items")
    by_url = url_doubt(url)
    if by_url:
        found.append(by_url)
        if og_type == "website":
            found.append("declares a website")
    return found


def link_share(body: _Element | None) -> float:
    """Share of the extracted text that is link text."""
    if body is None:
        return 0.0
    total = count_words_once("".join(body.itertext()))
    if not total:
        return 0.0
    linked = count_words_once(
        " ".join("".join(ref.itertext()) for ref in body.iter("ref"))
    )
    return linked / total


class Anchors:
    """The texts of a page's links, to tell which words of a text are link text even
    when the extraction lost the links' markup."""

    def __init__(self, tree: _Element) -> None:
        self.starts: dict[str, list[tuple[str, ...]]] = {}
        for element in tree.iter("a"):
            words = tuple(element.text_content().split())
            if words:
                self.starts.setdefault(words[0], []).append(words)
        for found in self.starts.values():
            found.sort(key=len, reverse=True)

    def covered(self, text: str) -> int:
        """How many of the words of ``text`` are, in order, the text of a link."""
        words = text.split()
        index = covered = 0
        while index < len(words):
            step = 1
            for anchor in self.starts.get(words[index], ()):
                if tuple(words[index : index + len(anchor)]) == anchor:
                    step = len(anchor)
                    covered += step
                    break
            index += step
        return covered


def profile(blocks: list[Block], anchors: Anchors) -> tuple[int, float, int]:
    """Lines of the body that are link text, the share of its words they hold, and
    the words of prose: paragraphs (or lines of them) long enough and mostly not
    link text."""
    lines = link_words = prose = total = 0
    for block in blocks:
        for md, text in zip(block.md.split("\n"), block.text.split("\n"), strict=False):
            words = len(text.split())
            if not words:
                continue
            total += words
            in_md = len(" ".join(m.group(1) for m in MD_LINK.finditer(md)).split())
            covered = max(in_md, anchors.covered(text))
            if covered >= 0.8 * words:
                lines += max(1, covered // 8)  # a run of headlines counts as several
                link_words += covered
            elif block.kind in {"p", "quote"} and covered * 2 < words:
                block_words = count_words_once(text)
                if block_words >= PROSE_BLOCK_WORDS:
                    prose += block_words
    return lines, link_words / total if total else 0.0, prose


def _check_stub(
    meta: Meta, linked: LinkedData, article_types: set[str], words: int
) -> None:
    if words >= STUB_WORDS:
        return
    if "liveblogposting" in article_types:
        raise Dropped("not-article", "live-blog shell without text")
    free = linked.get("isAccessibleForFree")
    if free is False or str(free).lower() == "false":
        raise Dropped("not-article", "paywall stub")
    if words >= VIDEO_TEXT_WORDS:
        return
    if "videoobject" in linked.types and not article_types:
        raise Dropped("not-article", "video page")
    if (meta.first("og:type") or "").lower().startswith("video"):
        raise Dropped("not-article", "video page")


def check(
    meta: Meta,
    linked: LinkedData,
    blocks: list[Block],
    body: _Element | None,
    url: str,
    tree: _Element,
) -> None:
    """Refuse pages whose extracted content shows they are not one story.

    A line of the body that is the text of one of the ``tree``'s links counts as a
    link even when the extraction lost its markup.
    """
    article_types = node_types(linked.article) if linked.article else set()
    og_type = (meta.first("og:type") or "").lower()
    words = count_words(blocks_text(blocks))
    _check_stub(meta, linked, article_types, words)
    share = link_share(body)
    links = sum(1 for _ in body.iter("ref")) if body is not None else 0
    marked = bool(article_types) or og_type == "article"
    # the profile walks every link of the page: only where its figures can decide (a
    # marked-up list of links is a listicle: kept), or where the URL raises a doubt
    profiled = None if marked else profile(blocks, Anchors(tree))
    lines, in_links, prose = profiled or (0, 0.0, 0)
    if (share > ALL_LINKS and links > MANY_LINKS) or (
        share > MAX_LINK_SHARE
        and not marked
        and (in_links >= LINK_LINES_SHARE or not words)  # all of it furniture
        and links >= INDEX_LINKS
    ):
        raise Dropped("not-article", f"index page: mostly links {url}")
    if (
        not marked
        and lines >= INDEX_LINES
        and in_links >= INDEX_SHARE
        and prose < words / 4
    ):
        raise Dropped("not-article", f"index page: {lines} lines of links {url}")
    why = doubt(url, meta, linked)
    if len(why) > 1:  # the page says what its URL suggests
        raise Dropped("not-article", f"{' and '.join(why)} {url}")
    if why:
        prose = (profiled or profile(blocks, Anchors(tree)))[2]
        if prose < DOUBT_PROSE_WORDS or prose < DOUBT_PROSE_SHARE * words:
            raise Dropped(
                "not-article",
                f"{why[0]} and no article body ({prose} of {words} words in prose)"
                f" {url}",
            )
