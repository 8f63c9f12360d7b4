"""Article -> the whole markdown file: front matter, the clean body, the source link."""

from __future__ import annotations

from dataclasses import replace

from pipeline.items import Article
from pipeline.normalize.emitter import render_document
from pipeline.normalize.front_matter import front_matter, source_line
from pipeline.normalize.layout import Layout, load_layout
from pipeline.normalize.markdown import clean_body


def render(article: Article, layout: Layout | None = None) -> str:
    """The whole markdown file of ``article``."""
    body = clean_body(article.body_md, article.url)
    return render_prepared(replace(article, body_md=body), layout or load_layout())


def render_prepared(article: Article, layout: Layout) -> str:
    """The markdown file of an article whose body is clean already (``clean_body``)."""
    body = article.body_md
    closing = source_line(article.source, article.url)
    return render_document(
        front_matter(article, layout), f"{body}\n\n{closing}" if body else closing
    )
