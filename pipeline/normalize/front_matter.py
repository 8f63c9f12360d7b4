"""The front matter of an article, in the reference document's key order.

Titles and summaries are one line: control characters are removed and every run of
whitespace (newlines included) becomes one space (:func:`one_line`). The closing
paragraph of every file links the article: :func:`source_line`.
"""

from __future__ import annotations

import re
from datetime import datetime

from pipeline.errors import Dropped
from pipeline.items import Article
from pipeline.langs import language_code
from pipeline.normalize.emitter import SURROGATE
from pipeline.normalize.layout import LAYOUT_KEYS, Layout
from pipeline.normalize.links import safe_target

ARTICLE_KEYS = (
    "title",
    "date",
    "summary",
    "categories",
    "lang",
    "translations",
    "tags",
)
FRONT_MATTER_KEYS = ARTICLE_KEYS + LAYOUT_KEYS
SUMMARY_LIMIT = 300

_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})?")


def one_line(text: str) -> str:
    """``text`` without control characters, every whitespace run one space, stripped."""
    return " ".join(_CONTROL.sub("", SURROGATE.sub("\ufffd", text)).split())


TITLE_LIMIT = 120
_SENTENCE_END = re.compile(r"(?<=[.!?\u0964\u3002])[\"'\u2019\u201d]?\s")


def derive_title(body: str) -> str:
    """A headline for text that has none: its first sentence, cut at a word boundary."""
    first = one_line(body.strip().split("\n\n", 1)[0])
    match = _SENTENCE_END.search(first)
    sentence = first[: match.start()].rstrip() if match else first
    if len(sentence) <= TITLE_LIMIT:
        return sentence
    cut = sentence[:TITLE_LIMIT].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "..."


def summarize(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """About ``limit`` characters of ``text`` as one line, cut at a word, then ``...``.

    The cut comes after ``limit // 6`` words (50 for the default 300: an English
    word and its space average six characters; the reference document's summary is
    its body's first 50 words), or at the last space within ``2 * limit`` characters
    when those words are longer (scripts written without spaces are cut inside a
    word). Text that fits is returned whole, without ``...``.
    """
    flat = one_line(text)
    cap = 2 * limit
    count = max(1, limit // 6)
    head = " ".join(flat.split(" ", count)[:count])
    if len(head) > cap:
        space = flat.rfind(" ", 0, cap + 1)
        head = flat[:space] if space > 0 else flat[:cap]
    return flat if head == flat else head + "..."


def _escape_html(text: str) -> str:
    """Summaries are rendered as markdown by themes: a ``<`` that opens a tag is escaped."""
    return re.sub(r"(?<!\\)<(?=[A-Za-z/!?])", r"\\<", text)


def summary_for(article: Article) -> str:
    """The page's description (``article.summary``, else ``description``) or the cut text."""
    given = one_line(article.summary or article.description or "")
    return _escape_html(given or summarize(article.text))


def _local_time(value: str | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``) from an ISO value, offset dropped."""
    value = (value or "").strip()
    if DATE_RE.fullmatch(value):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (
        parsed.strftime("%Y-%m-%d")
        if len(value) == 10
        else parsed.strftime("%Y-%m-%d %H:%M:%S")
    )


def publication_date(article: Article) -> str | None:
    """The publisher's local time (``date_local``, else ``date``), or None."""
    for value in (article.date_local, article.date):
        local = _local_time(value)
        if local:
            return local
    return None


def date_for(article: Article) -> str:
    """The publisher's local time (``date_local``, else ``date``), else the fetch day.

    A time is never invented: with no publication date the front matter holds the
    date of ``fetched_at`` alone. With neither, the article is ``Dropped("no-date")``.
    """
    published = publication_date(article)
    if published:
        return published
    fetched = _local_time(article.fetched_at)
    if fetched:
        return fetched[:10]
    raise Dropped("no-date", f"no publication date and no fetch time: {article.url}")


def front_matter(article: Article, layout: Layout) -> dict[str, str | bool | list[str]]:
    """The article's front matter, in the reference document's key order."""
    code = language_code(article.lang)
    lang = [code] if code else []
    return {
        "title": one_line(article.title),
        "date": date_for(article),
        "summary": summary_for(article),
        "categories": [article.source],
        "lang": lang,
        "translations": list(lang),
        "tags": [article.source],
        **layout.as_metadata(),
    }


def link_label(source: str) -> str:
    """``source`` as the text of the closing link: one line, markdown syntax escaped."""
    return re.sub(r"([\\\[\]<>`*_])", r"\\\1", one_line(source)) or "source"


def source_line(source: str, url: str) -> str:
    """The closing paragraph ``[<source>](<article url>)``."""
    return f"[{link_label(source)}]({safe_target(url)})"
