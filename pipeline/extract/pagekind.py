"""Is a page one story? Home pages, tag and section listings, video pages, live-blog
shells and paywall stubs are not articles: each raises ``Dropped("not-article", why)``.

Evidence: the JSON-LD article node (its presence makes a page an article unless the
text is a stub), og:type, the URL path, and how much of the extracted text is links.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.etree import _Element

from pipeline.errors import Dropped
from pipeline.extract.jsonld import LinkedData, node_types
from pipeline.extract.metadata import Meta
from pipeline.wordcount import count_words

# a listing segment as the last or next-to-last part of the path: /tag/india/, /author/x
LISTING_PATH = re.compile(
    r"/(tags?|topics?|categor(y|ies)|authors?|sections?|archives?|search|page)(/(?!\d+/?$)[^/]+)?/?$",
    re.I,
)
HOME_PATH = re.compile(
    r"^/?((index|default|home)(\.\w+)?|[a-z]{2}(-[a-z]{2})?)?/?$", re.I
)
LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage"}
STUB_WORDS = 120
# more of the text in links than this, without article markup: an index page
MAX_LINK_SHARE = 0.6
# even with article markup, text that is nearly all links, and many of them, is a list
ALL_LINKS, MANY_LINKS = 0.85, 500


def _has_article(linked: LinkedData) -> bool:
    return bool(linked.article)


def check_before(url: str, meta: Meta, linked: LinkedData) -> None:
    """Refuse pages whose URL or declared type says they are listings."""
    if _has_article(linked):
        return
    path = urlsplit(url).path
    og_type = (meta.first("og:type") or "").lower()
    if url and HOME_PATH.match(path) and og_type != "article":
        raise Dropped("not-article", f"home page {url}")
    if LISTING_PATH.search(path) and og_type != "article":
        raise Dropped("not-article", f"tag or section listing {url}")
    if linked.types & LISTING_TYPES and og_type != "article":
        raise Dropped("not-article", "page declares a collection of items")


def link_share(body: _Element | None) -> float:
    """Share of the extracted text that is link text."""
    if body is None:
        return 0.0
    total = count_words("".join(body.itertext()))
    if not total:
        return 0.0
    linked = count_words(" ".join("".join(ref.itertext()) for ref in body.iter("ref")))
    return linked / total


def check_after(
    meta: Meta, linked: LinkedData, words: int, body: _Element | None, url: str
) -> None:
    """Refuse pages whose extracted text shows they are not one story."""
    article_types = node_types(linked.article) if linked.article else set()
    og_type = (meta.first("og:type") or "").lower()
    if words < STUB_WORDS:
        if "liveblogposting" in article_types:
            raise Dropped("not-article", "live-blog shell without text")
        free = linked.get("isAccessibleForFree")
        if free is False or str(free).lower() == "false":
            raise Dropped("not-article", "paywall stub")
        if "videoobject" in linked.types and not article_types:
            raise Dropped("not-article", "video page")
        if og_type.startswith("video"):
            raise Dropped("not-article", "video page")
    share = link_share(body)
    links = sum(1 for _ in body.iter("ref")) if body is not None else 0
    if (share > ALL_LINKS and links > MANY_LINKS) or (
        share > MAX_LINK_SHARE and not article_types and og_type != "article"
    ):
        raise Dropped("not-article", f"index page: mostly links {url}")
