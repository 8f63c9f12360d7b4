"""The headline: which of the titles a page offers is the story's, without the site's name.

``read_title`` weighs JSON-LD ``headline``, Open Graph and Twitter titles, the ``<h1>``
and ``<title>``; ``strip_site_name`` removes the "| Site", "- Site", "Site: " parts that
name the site (``site_names``).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.extract.jsonld import LinkedData, text_value
from pipeline.extract.metadata import Meta, clean_text


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
            head = title[: len(title) - len(h1)]
            if title.endswith(" " + h1) and h1 in candidates[index + 1 :]:
                if all(unicodedata.category(c)[0] in "LMNZ" for c in head):
                    return h1  # a bare prefix (the site's name) the other titles lack
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
