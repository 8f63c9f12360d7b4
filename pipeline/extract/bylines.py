"""Author names from JSON-LD, meta tags, visible bylines and, when none of those names
anyone, links to the authors' own pages; cleaned and deduplicated.

Cleaning removes "By" and labels such as "Author:", roles ("Staff Writer",
"Correspondent" ...), dates and times that bylines carry, trailing initials in
parentheses, e-mail addresses, URLs and names of the site itself; photo credits,
profile links, placeholders and academic degrees are not names. It splits "A and B" /
"A, B" / "A & B", and keeps the first spelling of each name ("sophie-foster" is
"Sophie Foster").
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.jsonld import LinkedData, names
from pipeline.extract.metadata import Meta
from pipeline.slugs import slugify

BY = re.compile(
    r"^\s*((written\s+|reported\s+|posted\s+|edited\s+)?by[:\s]+|"
    r"(authors?|autor(en|es|i)?|auteurs?|text|texto|von|par|por)\s*:\s*)",
    re.I,
)
SPLIT = re.compile(
    r"\s*(?:,|;|&|\band\b|\bund\b|\by\b|\bet\b|\|| / |\s[·•]\s)\s*", re.I
)
ROLE = re.compile(
    r"\b(staff|senior|chief|special|political|foreign|deputy|associate|contributing)?\s*"
    r"(writer|reporter|correspondent|editor|columnist|contributor|journalist|"
    r"photographer|producer|desk|bureau|team|staff)\b.*$",
    re.I,
)
MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# "신현주 기자", "山田太郎記者": a role after a Korean, Japanese or Chinese name
CJK_ROLE = re.compile(r"\s*(기자|특파원|記者|特派員|编辑|編集委員)(\s.*)?$")
NOISE = re.compile(
    r"(https?://\S+|\S+@\S+|\b(last\s+)?updated\b.*$|\b(published|posted)\b.*$|\d{1,2}:\d{2}.*$|"
    r"\b(19|20)\d{2}\b.*$|\bfor\b\s.*$|\bin\b\s.*$|"
    rf"\b{MONTH}\s+\d{{1,2}}\b.*$)",  # "GILLIAN MOHNEY March 11, 2015"
    re.I,
)
# a trailing "(obe)", "(LTV ... redaktore)", "(www.dw.com)", or one cut open: "(obe"
TRAILING_PAREN = re.compile(r"\s*\(([^()]*)\)?\s*$")
# not a name: a photo credit, a profile link, a placeholder, an academic degree
NOT_A_NAME = re.compile(
    r"^\W*((image|photo|picture|credit)s?\s*:.*|(view|see) (my )?(full |complete )?profile.*|"
    r"afficher mon profil.*|no author|unknown( author)?|"
    r"ph\.?d|m\.?d|m\.?a|m\.?s|m\.?sc|mba|mph|rn|rd)\W*$",
    re.I,
)
# (descendant-or-self:: from the root finds what //* finds, in the same order, and
# faster; contains(@class, "byline") spares most elements the normalize-space)
BYLINE_XPATH = tuple(
    etree.XPath(expression)
    for expression in (
        'descendant-or-self::*[@rel="author"]',
        'descendant-or-self::*[@itemprop="author"]/descendant::*[@itemprop="name"]',
        'descendant-or-self::*[contains(@class, "byline")]'
        '[contains(concat(" ", normalize-space(@class), " "), " byline ")]',
        # "uthor" first: one test of the class for most elements, not two
        'descendant-or-self::*[contains(@class, "uthor")]'
        '[contains(@class, "author-name") or contains(@class, "authorName")]',
    )
)
# links to an author's page, the last place looked: /author/jody-robbins, /autoren/...
AUTHOR_LINKS = etree.XPath(
    '//a[contains(@href, "/author") or contains(@href, "/autor")'
    ' or contains(@href, "/journalist") or contains(@href, "/profile")'
    ' or contains(@href, "/people/") or contains(@href, "/staff/")]'
)
AUTHOR_PATH = re.compile(
    r"/(authors?|autor(?:en)?|journalists?|profiles?|people|staff)/([^/?#]+)/?(?:[?#]|$)",
    re.I,
)
MAX_LINKED_AUTHORS = 3  # more is a list of columnists beside the story
# wire services and desk credits: dropped when a person is also named
AGENCIES = {
    "tnn",
    "pti",
    "ians",
    "ani",
    "reuters",
    "ap",
    "afp",
    "dpa",
    "agencies",
    "agency",
    "bloomberg",
    "associated press",
    "news agencies",
    "et online",
    "ht correspondent",
    "express news service",
    "online desk",
    "web desk",
    "news desk",
    "staff",
}
META_KEYS = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "byl",
)


def clean_name(raw: str, site_names: list[str]) -> str | None:
    """One author name without "By", roles and noise; None when nothing personal is left."""
    name = BY.sub("", raw.strip())
    if NOT_A_NAME.match(name):
        return None
    aside = TRAILING_PAREN.search(name)
    if aside:
        if _names_site(aside.group(1), site_names, aside=True):
            return None  # "Deutsche Welle (www.dw.com)": the site itself
        name = name[: aside.start()]
    name = NOISE.sub("", name)
    name = CJK_ROLE.sub("", ROLE.sub("", name)).strip(" ,.-|:;()\u00a0\t\n")
    name = re.sub(r"\s+", " ", name)
    if (
        len(re.sub(r"\W", "", name)) <= 1  # an initial cut off "Kooman, F."
        or name.lower() in {"our", "the"}  # "Our Foreign Staff" without its role
        or len(name) > 60
        or len(name.split()) > 5
        or not re.search(r"\w", name)
    ):
        return None
    return None if _names_site(name, site_names) else name


def _names_site(text: str, site_names: list[str], aside: bool = False) -> bool:
    """True when ``text`` names the site: it is one of its names, or part of one, or
    holds one. An ``aside`` (the parenthesis after a name) must be a name or hold one
    of four letters or more ("(www.dw.com)"), so that initials or an agency ("(obe)",
    "(AP)" on apnews.com) that happen to be in the host do not count."""
    squashed = re.sub(r"\W", "", text.lower())
    if not squashed:
        return False
    for site in site_names:
        site_key = re.sub(r"\W", "", site.lower())
        if not site_key:
            continue
        if squashed == site_key or (
            site_key in squashed and (not aside or len(site_key) >= 4)
        ):
            return True
        if not aside and squashed in site_key:
            return True
    return False


def split_names(raw: str) -> list[str]:
    raw = BY.sub("", raw.strip())
    return [part for part in SPLIT.split(raw) if part and part.strip()]


def _byline_candidates(tree: HtmlElement) -> list[str]:
    for xpath in BYLINE_XPATH:
        texts = [e.text_content().strip() for e in xpath(tree)[:4]]
        texts = [t for t in texts if t and len(t) < 120]
        if texts:
            return texts
    return []


def _author_links(tree: HtmlElement) -> list[str]:
    """Names linked to their own author page: every word of the link's text is in the
    page's address ("Jody Robbins" -> /author/jody-robbins). Nothing when the page
    links more authors than a story has: those are other stories' writers."""
    found: list[str] = []
    for link in AUTHOR_LINKS(tree):
        path = AUTHOR_PATH.search(link.get("href") or "")
        if not path:
            continue
        text = " ".join(link.text_content().split())
        words = slugify(text, limit=200).split("-")
        slug = slugify(path.group(2), limit=200)
        if 2 <= len(words) <= 4 and all(w in slug for w in words) and text not in found:
            found.append(text)
    return found if len(found) <= MAX_LINKED_AUTHORS else []


def read_authors(
    tree: HtmlElement, meta: Meta, linked: LinkedData, site_names: list[str]
) -> tuple[str, ...]:
    """Authors from the strongest source that names any person."""
    sources = (
        lambda: names(linked.get("author")) or names(linked.get("creator")),
        lambda: [
            v for key in META_KEYS for v in meta.all(key) if not v.startswith("http")
        ],
        lambda: _byline_candidates(tree),
        lambda: _author_links(tree),
    )
    for source in sources:  # lazily: the byline search walks the whole tree
        raw_names = source()
        found: dict[str, str] = {}
        for raw in raw_names:
            for part in split_names(raw):
                name = clean_name(part, site_names)
                # "Sophie Foster" and the slug "sophie-foster" are one author
                key = re.sub(r"[\W_]", "", name.lower()) if name else ""
                if key and key not in found:
                    found[key] = name
        people = {
            k: v
            for k, v in found.items()
            if v.lower() not in AGENCIES and k not in AGENCIES
        }
        if people or found:
            return tuple((people or found).values())
    return ()
