"""Author names from JSON-LD, meta tags and visible bylines, cleaned and deduplicated.

Cleaning removes "By", roles ("Staff Writer", "Correspondent" ...), dates and times
that bylines carry, e-mail addresses, URLs and names of the site itself, splits
"A and B" / "A, B" / "A & B", and keeps the first spelling of each name.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from pipeline.jsonld import LinkedData, names
from pipeline.metadata import Meta

BY = re.compile(r"^\s*(written\s+|reported\s+|posted\s+|edited\s+)?by[:\s]+", re.I)
SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\by\b|\bet\b|\|| / )\s*", re.I)
ROLE = re.compile(
    r"\b(staff|senior|chief|special|political|foreign|deputy|associate|contributing)?\s*"
    r"(writer|reporter|correspondent|editor|columnist|contributor|journalist|"
    r"photographer|producer|desk|bureau|team|staff)\b.*$",
    re.I,
)
NOISE = re.compile(
    r"(https?://\S+|\S+@\S+|\bupdated\b.*$|\bpublished\b.*$|\d{1,2}:\d{2}.*$|"
    r"\b(19|20)\d{2}\b.*$|\bfor\b\s.*$|\bin\b\s.*$)",
    re.I,
)
BYLINE_XPATH = tuple(
    etree.XPath(expression)
    for expression in (
        '//*[@rel="author"]',
        '//*[@itemprop="author"]//*[@itemprop="name"]',
        '//*[contains(concat(" ", normalize-space(@class), " "), " byline ")]',
        '//*[contains(@class, "author-name") or contains(@class, "authorName")]',
    )
)
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
    name = NOISE.sub("", name)
    name = ROLE.sub("", name).strip(" ,.-|:;()\u00a0\t\n")
    name = re.sub(r"\s+", " ", name)
    if (
        not name
        or len(name) > 60
        or len(name.split()) > 5
        or not re.search(r"\w", name)
    ):
        return None
    squashed = re.sub(r"\W", "", name.lower())
    for site in site_names:
        site_key = re.sub(r"\W", "", site.lower())
        if site_key and (
            squashed == site_key or squashed in site_key or site_key in squashed
        ):
            return None
    return name


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
    )
    for source in sources:  # lazily: the byline search walks the whole tree
        raw_names = source()
        found: dict[str, str] = {}
        for raw in raw_names:
            for part in split_names(raw):
                name = clean_name(part, site_names)
                if name and name.lower() not in found:
                    found[name.lower()] = name
        people = {k: v for k, v in found.items() if k not in AGENCIES}
        if people or found:
            return tuple((people or found).values())
    return ()
