"""A fetched Page -> an Article: decoded, parsed once, metadata read, body extracted.

``extract(page, source)`` returns an :class:`~pipeline.items.Article` or raises
:class:`~pipeline.errors.Dropped` with one of these stable reasons, and nothing else
for any bytes:

``empty``
    no body, or only whitespace.
``binary``
    a binary content type, file magic (PDF, PNG, JPEG, GIF, zip ...), NUL bytes or
    mostly undecodable bytes, whatever the declared content type.
``not-html``
    a non-text content type, or bytes lxml cannot read as HTML.
``too-large``
    more than 10,000,000 characters of HTML after decoding (``MAX_HTML_CHARS``).
``broken-html``
    markup too deeply nested or broken for the parser and extractor.
``not-article``
    not one story: home page, tag/section listing, index of links, video page,
    live-blog shell or paywall stub (the detail says which).
``no-text``
    fewer than 40 words of body text and no usable JSON-LD articleBody.

The HTML is parsed with lxml once (``pipeline.extract.parse``); metadata is read from
that tree (``metadata``, ``titles``, ``dates``, ``bylines``, ``language``) and the same
tree is handed to trafilatura for the body (``body``, which copies it before cleaning;
``htmlmd``, ``boilerplate``, ``articlebody``, ``scripted``); ``pagekind`` decides what
is not one story.
"""

from __future__ import annotations

import htmldate
from lxml import etree
from lxml.html import HtmlElement

from pipeline.errors import Dropped
from pipeline.extract import dates, metadata, pagekind, titles
from pipeline.extract.body import body_from_scripts, extract_body
from pipeline.extract.bylines import read_authors
from pipeline.extract.decode import decode_html
from pipeline.extract.htmlmd import join_blocks
from pipeline.extract.jsonld import read_linked_data
from pipeline.extract.language import _identifier, choose_lang, complete_lang
from pipeline.extract.layout import make_paragraphs, unwrap_layout_tables
from pipeline.extract.parse import apply_overrides, drop_inert, parse_html
from pipeline.extract.summary import clean_summary
from pipeline.items import Article, Page
from pipeline.sources import Source
from pipeline.wordcount import count_words

# the names other modules have imported from here
__all__ = ["_identifier", "complete_lang", "decode_html", "extract", "parse_html"]

MIN_WORDS = 40


def _first_when(values: list[str], dayfirst: bool = False) -> dates.When | None:
    return next(filter(None, (dates.parse_when(v, dayfirst) for v in values)), None)


def _htmldate(tree: HtmlElement) -> list[str]:
    """htmldate's reading of the page (its fast search), or nothing."""
    try:
        found = htmldate.find_date(
            tree, extensive_search=False, original_date=True, outputformat="%Y-%m-%d"
        )
    except (ValueError, TypeError, RecursionError, etree.LxmlError):
        found = None
    return [found] if found else []


def _date(
    tree: HtmlElement,
    candidates: list[str],
    hint: str | None,
    tz: str | None,
    modified: list[str],
    lang_tag: str | None = None,
) -> tuple[str | None, str | None]:
    """The publication date, from the first of: the page's own statements, the feed's,
    the date it was last modified (when that is all it states), the first date standing
    alone in its text after the headline, htmldate's reading of the page, such a date
    anywhere. A UTC instant is given in the publisher's offset when the page shows it
    as local time; ``02/10/2020`` is read in the order of the page's locale."""
    dayfirst = dates.day_first(lang_tag, tz)
    parsed = [
        w for w in (dates.parse_when(c, dayfirst) for c in [*candidates, hint]) if w
    ]
    if parsed:
        best = parsed[0]
        if best.moment is None:
            best = next((w for w in parsed if w.moment and w.day == best.day), best)
        if tz is None and best.has_offset and not best.moment.utcoffset():
            shown = [
                dates.parse_when(v, dayfirst) for v in metadata.visible_dates(tree)
            ]
            stated = [best, *filter(None, (dates.parse_when(m) for m in modified))]
            best = dates.localise(best, [w for w in shown if w], stated)
        return dates.published(best, tz)
    when = (
        _first_when(modified)
        or _first_when(metadata.text_dates(tree), dayfirst)
        or _first_when(_htmldate(tree))
        or _first_when(metadata.text_dates(tree, after_headline=False), dayfirst)
    )
    return dates.published(when, tz) if when else (None, None)


def _modified(candidates: list[str], tz: str | None) -> str | None:
    for candidate in candidates:
        when = dates.parse_when(candidate)
        if when:
            return dates.iso(when, tz)
    return None


def extract(
    page: Page, source: Source | None = None, detect_language: bool = True
) -> Article:
    """Extract one Article from a Page, or raise Dropped (see the module docstring).

    With ``detect_language=False`` a page that declares no language gets ``lang=""``
    and :func:`complete_lang` detects it later: worker processes then never load the
    language model (about 70 MB), which the process that stores the articles loads
    once, and only when a page needs it.
    """
    html = decode_html(page.body, page.content_type)
    tree = parse_html(html)
    url = page.url
    meta = metadata.Meta.of(tree)
    linked = read_linked_data(tree)
    names = titles.site_names(meta, linked, url)
    title = titles.read_title(tree, meta, linked, url) or (page.hints.title or "")
    authors = read_authors(tree, meta, linked, names)
    date_candidates = metadata.date_strings(tree, meta, linked)
    modified_candidates = metadata.modified_strings(meta, linked)
    declared = metadata.declared_lang(tree, meta, linked)
    canonical = metadata.read_canonical(tree, meta, url)
    description = metadata.read_description(meta)
    image = metadata.read_image(tree, meta, linked, url)

    drop_inert(tree)
    unwrap_layout_tables(tree)
    make_paragraphs(tree)
    work = apply_overrides(tree, source)
    blocks, body = extract_body(work, url, title, linked, authors)
    body_md, text = join_blocks(blocks)
    words = count_words(text)
    pagekind.check(meta, linked, blocks, body, url or canonical, tree)
    if words < MIN_WORDS:  # a shell that scripts fill in? (after the paywall check)
        scripted_blocks = body_from_scripts(html, url, title, linked, authors)
        if scripted_blocks:
            body_md, text = join_blocks(scripted_blocks)
            words = count_words(text)
    if words < MIN_WORDS:
        raise Dropped("no-text", f"{words} words of body text")

    tz = source.timezone if source else None
    date, date_local = _date(
        tree,
        date_candidates,
        page.hints.date,
        tz,
        modified_candidates,
        metadata.lang_tag(tree, meta),
    )
    seen = tuple(dict.fromkeys([*page.seen_urls, page.url]))
    return Article(
        url=canonical,
        source=source.name if source else page.source,
        title=title,
        body_md=body_md,
        text=text,
        date=date,
        date_local=date_local,
        modified=_modified(modified_candidates, tz),
        summary=clean_summary(description, text),
        lang=choose_lang(declared, page.hints.lang, text, source, detect_language),
        authors=authors,
        image=image,
        section=metadata.read_section(meta, linked),
        keywords=metadata.read_keywords(meta, linked, page.hints.keywords),
        description=description,
        fetched_url=page.url,
        seen_urls=seen,
        fetched_at=page.fetched_at,
    )
