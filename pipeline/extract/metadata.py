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


# "Headline | Site", "Site » Section » Headline", "見出し ｜ サイト", "제목ㅣ사이트";
# guillemets only between spaces, so that a «quoted» headline keeps its quotes
def _separators(guillemets: str) -> re.Pattern[str]:
    return re.compile(rf"\s+[|\-–—:·•{guillemets}/｜]+\s+|\s*[|•｜ㅣ]\s*")


SEPARATORS = _separators("»«")
# in a title with both « and » they quote ("« Il faut agir » | Le Monde")
UNQUOTED_SEPARATORS = _separators("")
TRAILING_SEPARATOR = re.compile(r"\s+[|\-–—:·•»/｜]$")  # one, "Headline -"
# a headline cut short by the publisher's template: "... for Hong Kong leader..."
TRUNCATED = re.compile(r"\s*(?:\.\.\.|…)$")
# what a title tag adds after the headline itself: " (Published 2016)", "：朝日新聞デジタル"
TITLE_TAIL = re.compile(r"^(\s+\(|\s*[：｜])")
SITE_PREFIX = re.compile(r"^([^:|]{2,30}):\s+")
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


def site_names(meta: Meta, linked: LinkedData, url: str) -> list[str]:
    """Names the site goes by: og:site_name, JSON-LD publisher, host labels."""
    names = [
        meta.first("og:site_name"),
        meta.first("application-name"),
        linked.publisher,
    ]
    host = urlsplit(url).hostname or ""
    labels = [label for label in host.split(".") if label not in {"www", "m", "amp"}]
    names += labels[:-1] if len(labels) > 1 else labels
    return [n for n in (clean_text(n) for n in names) if n]


def _squash(text: str) -> str:
    return re.sub(r"[^\w]", "", text.lower())


def _is_site_name(segment: str, names: list[str]) -> bool:
    """True when a title segment is the site's name ("Times of India", "NDTV.com")."""
    squashed = _squash(segment)
    if not squashed:
        return True
    for name in names:
        known = _squash(name)
        if not known:
            continue
        if squashed == known:
            return True
        if len(known) > 3 and known in squashed and len(squashed) <= len(known) + 8:
            return True
        if (
            len(squashed) > 3
            and squashed in known
            and len(squashed) >= 0.6 * len(known)
        ):
            return True
    return False


def _only_site_name(text: str, names: list[str]) -> bool:
    """True when ``text`` is exactly one of the names (not merely close to one)."""
    return _squash(text) in {_squash(name) for name in names}


def _quotes(title: str) -> bool:
    """True when the title's guillemets are quotation marks, not separators."""
    return "«" in title and "»" in title


def _strip_trailing_separator(title: str) -> str:
    """``title`` without a dangling separator ("Headline -"); a French closing
    guillemet ("la « gravité de la situation »") is a quote, not a separator."""
    if title.endswith("»") and _quotes(title):
        return title
    return TRAILING_SEPARATOR.sub("", title)


def strip_site_name(title: str, names: list[str]) -> str:
    """Remove "| Site", "- Site", "Site: " parts that name the site from a title."""
    prefix = SITE_PREFIX.match(title)
    if (
        prefix
        and _is_site_name(prefix.group(1), names)
        and len(title) > prefix.end() + 3
    ):
        title = title[prefix.end() :]
    separators = UNQUOTED_SEPARATORS if _quotes(title) else SEPARATORS
    parts = separators.split(title)
    if len(parts) < 2:
        return _strip_trailing_separator(title)
    seps = separators.findall(title)
    while len(parts) > 1 and _is_site_name(parts[-1], names):
        parts.pop()
        seps.pop()
    while len(parts) > 1 and _is_site_name(parts[0], names):
        parts.pop(0)
        seps.pop(0)
    out = parts[0]
    for sep, part in zip(seps, parts[1:], strict=True):
        out += sep + part
    return _strip_trailing_separator(out).strip()


def _headings(tree: HtmlElement) -> list[str]:
    """The texts of the page's first few non-empty <h1> elements."""
    found = []
    for heading in tree.iter("h1"):
        text = clean_text(heading.text_content())
        if text and any(c.isalnum() for c in text):
            found.append(text)
            if len(found) == 5:
                break
    return found


def _heading(headings: list[str], names: list[str], page_title: str = "") -> str:
    """The first <h1> that is not the site's name (a logo in an <h1>); with a
    ``page_title`` that is more than the site's name, the first that it contains."""
    parts = SEPARATORS.split(page_title)
    if len(parts) > 1 and len(parts[-1]) < max(map(len, parts)):
        names = [*names, parts[-1]]  # "Headline · V8": an <h1> that is "V8" is the logo
    if _only_site_name(strip_site_name(page_title, names), names):
        page_title = ""
    squashed_title = _squash(page_title)
    for heading in headings:
        if _is_site_name(heading, names):
            continue
        if not page_title or _squash(heading) in squashed_title:
            return heading
    return ""


def read_title(tree: HtmlElement, meta: Meta, linked: LinkedData, url: str) -> str:
    """Headline: JSON-LD headline, og:title, the <h1>, <title>; site names removed.

    Measured on the corpus, this order beats preferring the visible <h1>: headings
    carry kickers and logos more often than the structured titles carry SEO text.
    A structured title that is only the site's name is passed over; one that is the
    <h1> plus a tail ("... (Published 2016)", "...：朝日新聞デジタル") gives the <h1>;
    one cut short with an ellipsis gives the page's whole headline, when it has one.
    """
    names = site_names(meta, linked, url)
    # application-name is sometimes the headline itself: not proof of a site's name
    application = clean_text(meta.first("application-name"))
    brands = [name for name in names if name != application]
    page_title = clean_text(tree.findtext(".//title"))
    headings = _headings(tree)
    h1 = _heading(headings, names)
    candidates = [
        clean_text(text_value(linked.get("headline"))),
        clean_text(meta.first("og:title", "twitter:title")),
        # a heading the <title> does not contain is a section name or a logo
        _heading(headings, names, page_title) if page_title else h1,
        page_title,
    ]
    for index, candidate in enumerate(candidates):
        if not candidate or not any(c.isalnum() for c in candidate):
            continue
        title = strip_site_name(candidate, names)
        is_page_title = index == len(candidates) - 1
        if not is_page_title and _only_site_name(title, brands):
            continue  # an og:title that is the site's name: a template default
        if h1 and title != h1:
            if " | " in title and " | " not in h1:
                return h1  # still an SEO title ("... | India News"): the heading is cleaner
            tail = title[len(h1) :]
            if title.startswith(h1) and (
                SEPARATORS.match(tail) or (TITLE_TAIL.match(tail) and len(tail) <= 40)
            ):
                return h1  # the heading plus a tail ("Headline - Section")
        if TRUNCATED.search(title):
            return _completed(title, [h1, *candidates], names)
        return title
    return ""


def _completed(title: str, others: list[str], names: list[str]) -> str:
    """A title cut short with an ellipsis, completed by another of the page's titles
    that starts with the same words and goes on; otherwise the title as it is."""
    stem = TRUNCATED.sub("", title)
    if len(stem) < 10:
        return title
    for other in others:
        whole = strip_site_name(other, names) if other else ""
        rest = whole[len(stem) :].lstrip()
        if (
            whole.startswith(stem)
            and rest
            and not rest.startswith(("...", "…"))  # the same cut, and a site's name
            and not TRUNCATED.search(whole)
        ):
            return whole
    return title


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
