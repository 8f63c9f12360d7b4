"""The normalize stage: an extracted Article -> the Article as stored and its markdown.

    Article --prepare--> prepared Article --finish--> Normalized (article, markdown)

* :func:`prepare` gives the article its canonical URL (the fetched URL when the
  canonical tag points at a home page), a clean body (:func:`~pipeline.normalize.markdown.clean_body`), a one-line
  title (derived from the text when the page has none) and a summary. It does not
  depend on the language, so an extraction worker runs it before the language is
  known.
* :func:`finish` counts the words and renders the markdown file.
* :func:`normalize` is both.

Everything here is pure: extraction workers run it where the page was extracted, and
the store receives the finished article and its markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from pipeline.errors import Dropped
from pipeline.items import Article
from pipeline.normalize.front_matter import (
    derive_title,
    one_line,
    publication_date,
    summary_for,
)
from pipeline.normalize.layout import Layout, load_layout
from pipeline.normalize.markdown import clean_body
from pipeline.normalize.render import render_prepared
from pipeline.urls import canonical_url
from pipeline.wordcount import count_words


@dataclass(frozen=True)
class Normalized:
    """An article ready to store: the prepared article and its markdown file."""

    article: Article
    markdown: str  # "" when the date can only be the day the article is first stored
    word_count: int
    layout: Layout
    dated: bool  # the front matter's date is the publisher's, not the fetch day's

    def markdown_first_seen(self, first_seen: str, layout: Layout) -> str:
        """The file for an article first stored at ``first_seen`` under ``layout``.

        An undated article is filed under the day it was first seen; the markdown
        rendered here holds the fetch day, which is that day unless the story was
        stored before.
        """
        if self.markdown and self.layout == layout:
            if self.dated or self.article.fetched_at == first_seen:
                return self.markdown
        return render_prepared(replace(self.article, fetched_at=first_seen), layout)


def prepare(article: Article) -> Article:
    """The article as it is stored: canonical URL, clean body, title, summary."""
    url = canonical_url(article.url)
    if urlsplit(url).path in ("", "/") and article.fetched_url:
        url = canonical_url(article.fetched_url)  # a canonical tag at the home page
    body = clean_body(article.body_md, url)
    title = one_line(article.title) or derive_title(article.text)
    prepared = replace(article, url=url, body_md=body, title=title or "Untitled")
    return replace(prepared, summary=summary_for(prepared))


def finish(prepared: Article, layout: Layout) -> Normalized:
    """Word count and markdown of an article through :func:`prepare`."""
    dated = publication_date(prepared) is not None
    try:
        markdown = render_prepared(prepared, layout)
    except Dropped:  # no date and no fetch time: the store files it by its first day
        markdown = ""
    return Normalized(prepared, markdown, count_words(prepared.text), layout, dated)


def normalize(article: Article, layout: Layout | None = None) -> Normalized:
    """:func:`prepare` then :func:`finish`."""
    return finish(prepare(article), layout or load_layout())
