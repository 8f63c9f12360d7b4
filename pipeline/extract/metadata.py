"""Page metadata from the parsed HTML: title, dates, image, language, section, keywords.

Every reader takes the lxml tree (parsed once by ``extract``), the JSON-LD found in
it and a :class:`Meta` index of the ``<meta>`` tags; none modifies the tree. Order of
evidence is always structured data first (JSON-LD, Open Graph, other meta), then the
visible page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.jsonld import LinkedData, text_value
from pipeline.langs import language_code
from pipeline.urls import absolute

WS = re.compile(r"\s+")
# never joiners: ZWJ/ZWNJ (U+200C/D) shape Indic, Persian and emoji text and are kept
INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
DATE_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "article.published",
    "publication_date",
    "date",
    "article:published",
    "cxenseparse:recs:publishtime",
)
DATE_LABEL = re.compile(
    r"^.*?\b(updated|published|posted|last updated|on)\b\s*:?\s*", re.I
)
DATE_CLASS = re.compile("date|time|publish|byline")


def _date_lines(tree: HtmlElement, limit: int = 6) -> list[HtmlElement]:
    """The first span/div/p/time elements whose class speaks of a date, time,
    publication or byline, and that hold no such element themselves."""
    found = []
    for element in tree.iter("span", "div", "p", "time"):
        classes = element.get("class")
        if not classes or not DATE_CLASS.search(classes):
            continue
        if any("date" in (child.get("class") or "") for child in element):
            continue
        found.append(element)
        if len(found) == limit:
            break
    return found


MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
)


@dataclass
class Meta:
    """``<meta>`` contents by lower-case property/name/itemprop, in page order."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, tree: HtmlElement) -> Meta:
        meta = cls()
        for element in tree.iter("meta"):
            content = element.get("content") or element.get("value")
            if not content or not content.strip():
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = element.get(attr)
                if key:
                    meta.values.setdefault(key.strip().lower(), []).append(
                        content.strip()
                    )
        return meta

    def first(self, *keys: str) -> str | None:
        for key in keys:
            if self.values.get(key):
                return self.values[key][0]
        return None

    def all(self, key: str) -> list[str]:
        return self.values.get(key, [])


def clean_text(value: str | None) -> str:
    """Whitespace collapsed, HTML entities left in attribute values decoded, invisible
    zero-width spaces, soft hyphens, word joiners and byte-order marks removed."""
    text = value or ""
    if "&" in text:
        text = html.unescape(text)
    return WS.sub(" ", INVISIBLE.sub("", text)).strip()


def date_strings(tree: HtmlElement, meta: Meta, linked: LinkedData) -> list[str]:
    """Publication date candidates, strongest first."""
    found = [
        text_value(linked.get("datePublished")),
        text_value(linked.get("dateCreated")),
    ]
    found += [meta.first(key) for key in DATE_META]
    found = [value for value in found if value]
    if found:
        return found  # the tree search below is slow: only when meta says nothing
    for element in tree.iterfind(".//time[@datetime]"):
        if (
            element.get("itemprop") == "datePublished"
            or element.get("pubdate") is not None
        ):
            found.append(element.get("datetime"))
    for element in tree.iterfind('.//*[@itemprop="datePublished"]'):
        found.append(element.get("content") or element.get("datetime"))
    first_time = tree.find(".//time[@datetime]")
    if first_time is not None:
        found.append(first_time.get("datetime"))
    found += visible_dates(tree)
    return [value for value in found if value]


def visible_dates(tree: HtmlElement) -> list[str]:
    """Date lines shown in bylines ("Updated: Oct 9, 2019, 11:05 IST"), prefixes removed."""
    found = []
    for element in _date_lines(tree):
        text = clean_text(element.text_content())
        if 6 <= len(text) <= 80 and re.search(r"\d{4}", text):
            found.append(DATE_LABEL.sub("", text))
    if len(set(found)) >= 3:
        return []  # a list of teasers, comments or live updates, each with its date
    return found


MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
# a whole date standing in the text: "Apr 7, 2009", "7 April 2009", "2019年3月15日",
# "15.03.2019", "2019-03-15"; a bare year or month is not a date
TEXT_DATE = re.compile(
    rf"\b(?:{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\.?\s+{MONTH},?\s+\d{{4}}"
    r"|\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2})\b|\d{4}年\d{1,2}月\d{1,2}日",
    re.I,
)
_SHORT = (
    "[string-length(normalize-space()) <= 80]"
    "[not(ancestor::script or ancestor::style or ancestor::nav or ancestor::footer)]"
)
_TEXTS_AFTER_HEADLINE = etree.XPath("(//h1)[1]/following::text()" + _SHORT)
_SHORT_TEXTS = etree.XPath("//body//text()" + _SHORT)


def text_dates(tree: HtmlElement, after_headline: bool = True) -> list[str]:
    """The first date standing alone in a short text ("Apr 7, 2009", "14.01.2022"):
    after the headline (the first <h1>), where a story's date line is, or anywhere."""
    texts = (_TEXTS_AFTER_HEADLINE if after_headline else _SHORT_TEXTS)(tree)
    for text in texts:
        match = TEXT_DATE.search(text)
        if match:
            return [match.group(0)]
    return []


def modified_strings(meta: Meta, linked: LinkedData) -> list[str]:
    found = [text_value(linked.get("dateModified"))]
    found += [meta.first(key) for key in MODIFIED_META]
    return [value for value in found if value]


def read_image(
    tree: HtmlElement, meta: Meta, linked: LinkedData, url: str
) -> str | None:
    link = tree.find('.//link[@rel="image_src"]')
    for candidate in (
        meta.first("og:image", "og:image:url", "og:image:secure_url"),
        meta.first("twitter:image", "twitter:image:src"),
        text_value(linked.get("image")),
        link.get("href") if link is not None else None,
    ):
        image = absolute(candidate, url)
        if image:
            return image
    return None


def lang_tag(tree: HtmlElement, meta: Meta) -> str | None:
    """The page's full language tag ("en-GB", "hi_IN"), region included, if it has one."""
    for value in (tree.get("lang"), tree.get("xml:lang"), meta.first("og:locale")):
        if value and value.strip():
            return value.strip()
    return None


def declared_lang(tree: HtmlElement, meta: Meta, linked: LinkedData) -> str | None:
    """ISO 639-1 language the page declares, or None."""
    for value in (
        tree.get("lang"),
        tree.get("xml:lang"),
        text_value(linked.get("inLanguage")),
        meta.first("og:locale"),
        meta.first("content-language", "language", "dc.language", "lang"),
    ):
        code = language_code(value, two_letters=True)
        if code:
            return code
    return None


def read_section(meta: Meta, linked: LinkedData) -> str | None:
    section = meta.first("article:section", "section", "parsely-section")
    section = section or text_value(linked.get("articleSection"))
    return clean_text(section) or None


def read_keywords(
    meta: Meta, linked: LinkedData, hinted: tuple[str, ...]
) -> tuple[str, ...]:
    raw: list[str] = []
    for key in ("news_keywords", "keywords"):
        for value in meta.all(key):
            raw += value.split(",")
    raw += meta.all("article:tag")
    value = linked.get("keywords")
    if isinstance(value, str):
        raw += value.split(",")
    elif isinstance(value, list):
        raw += [v for v in value if isinstance(v, str)]
    raw += list(hinted)
    seen: dict[str, str] = {}
    for keyword in raw:
        keyword = clean_text(keyword)
        if keyword and len(keyword) < 80 and keyword.lower() not in seen:
            seen[keyword.lower()] = keyword
    return tuple(seen.values())[:25]


def read_description(meta: Meta) -> str | None:
    value = meta.first("description", "og:description", "twitter:description")
    return clean_text(value) or None


def _site(host: str) -> str:
    labels = host.lower().rstrip(".").split(".")
    short = len(labels) > 2 and labels[-2] in {
        "co",
        "com",
        "org",
        "net",
        "ac",
        "gov",
        "ne",
        "or",
    }
    return ".".join(labels[-3:] if short else labels[-2:])


def read_canonical(tree: HtmlElement, meta: Meta, url: str) -> str:
    """rel=canonical or og:url when absolute-able and on the page's own site, else ``url``."""
    link = tree.find('.//link[@rel="canonical"]')
    page = urlsplit(url)
    for candidate in (
        link.get("href") if link is not None else None,
        meta.first("og:url"),
    ):
        resolved = absolute(candidate, url)
        if not resolved:
            continue
        parts = urlsplit(resolved)
        if page.hostname and _site(parts.hostname or "") != _site(page.hostname):
            continue
        if parts.path in {"", "/"} and page.path not in {"", "/"}:
            continue  # a canonical pointing at the home page is a template error
        return resolved
    return url
