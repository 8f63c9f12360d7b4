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

The HTML is parsed with lxml once; metadata is read from that tree and the same tree
is handed to trafilatura for the body (trafilatura copies it before cleaning). See
``pipeline.extract.decode``, ``pipeline.extract.metadata``, ``pipeline.extract.dates``, ``pipeline.extract.bylines``,
``pipeline.extract.htmlmd``, ``pipeline.extract.articlebody`` and ``pipeline.extract.pagekind`` for the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache, partial

import htmldate
import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import DOCTYPE_TAG, HTML_PARSER, load_html

from pipeline.errors import Dropped
from pipeline.extract import articlebody, dates, metadata, pagekind, scripted
from pipeline.extract.boilerplate import remove_furniture
from pipeline.extract.bylines import read_authors
from pipeline.extract.decode import decode_html
from pipeline.extract.htmlmd import Block, join_blocks, to_blocks
from pipeline.extract.jsonld import LinkedData, read_linked_data
from pipeline.items import Article, Page
from pipeline.sources import Source, SourceError
from pipeline.wordcount import count_words

try:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
except ImportError:  # language detection is optional: declared or source lang then
    LanguageIdentifier = MODEL_FILE = None

MIN_WORDS = 40
# trafilatura runs in its fast mode first. It runs again with its readability/justext
# fallbacks only when that gives fewer than this many words (counted as count_words
# counts them, so that 300 characters of Japanese are not taken for a stub), or flat
# text with no markup at all (the sign of its last-resort dump of JSON-LD or of every
# <p>). Measured on the corpus: a better body F1 than always running them, for a
# tenth of the cost.
FALLBACK_BELOW_WORDS = 150
CONTROL_REFERENCE = re.compile(
    r"&#(0*(?:[0-8]|1[1-2]|1[4-9]|2\d|3[01])|[xX]0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]));"
)
TRAFILATURA_OPTIONS = {
    "include_comments": False,
    "include_formatting": True,
    "include_links": True,
    "include_images": False,
    "include_tables": True,
    "with_metadata": False,
    "output_format": "txt",  # "python" would also render the body as text, unused here
}


# What trafilatura's load_html removes before parsing: C0 controls other than tab, LF
# and CR (lxml keeps them, then refuses them when trafilatura writes text back) and
# the noncharacters U+FFFE and U+FFFF, here as UTF-8 bytes.
_CONTROL_BYTES = bytes([*range(9), 11, 12, *range(14, 32)])
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def _parse_as_is(text: str) -> HtmlElement | None:
    """The tree of a page that needs none of trafilatura's repairs (most pages),
    parsed from its UTF-8 bytes as load_html parses it; None when it needs one.

    load_html would first scan the whole text for the characters above, which
    costs more than parsing; scanning the bytes is a tenth of that.
    """
    head = text[:4096]
    if "html" not in head[:50].lower():
        return None  # load_html checks what does not look like HTML
    if DOCTYPE_TAG.match(text) or any(
        "<html" in line and line.endswith("/>") for line in head.splitlines()[:4]
    ):
        return None  # a doctype or <html .../> that load_html rewrites
    data = text.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _CONTROL_BYTES)) != len(data) or any(
        character in data for character in _NONCHARACTERS
    ):
        return None
    return lxml.html.fromstring(data, parser=HTML_PARSER)


def parse_html(text: str) -> HtmlElement:
    """The lxml tree of a decoded page, or Dropped (not-html, broken-html)."""
    if "&#" in text:  # references to control characters make trafilatura give up
        text = CONTROL_REFERENCE.sub(" ", text)
    try:
        tree = _parse_as_is(text)
        if tree is None:
            tree = load_html(text)
    except (RecursionError, etree.LxmlError) as error:
        raise Dropped("broken-html", str(error)[:200]) from None
    if tree is None or not isinstance(tree, HtmlElement):
        raise Dropped("not-html", "no HTML document in the body")
    return tree


@lru_cache(maxsize=256)
def _xpath(expression: str) -> etree.XPath:
    try:
        return etree.XPath(expression)
    except etree.XPathSyntaxError as error:
        raise SourceError(f'invalid XPath "{expression}": {error}') from None


def _select(expression: str, tree: HtmlElement) -> list[etree._Element]:
    """Elements matching a source's XPath; SourceError when it cannot be evaluated."""
    try:
        found = _xpath(expression)(tree)
    except etree.XPathEvalError as error:
        raise SourceError(f'XPath "{expression}" fails: {error}') from None
    if not isinstance(found, list):
        return []
    return [e for e in found if isinstance(e, etree._Element)]


def apply_overrides(tree: HtmlElement, source: Source | None) -> HtmlElement:
    """Remove the source's ``prune_xpaths``; keep only its ``body_xpath`` element(s).

    An XPath that is invalid raises SourceError (a configuration error, not a page's).
    """
    if source is None:
        return tree
    for expression in source.prune_xpaths:
        for element in _select(expression, tree):
            if element.getparent() is not None:
                element.drop_tree()
    if source.body_xpath:
        found = _select(source.body_xpath, tree)
        if found:
            page = etree.Element("html")
            body = etree.SubElement(etree.SubElement(page, "body"), "article")
            for element in found:
                body.append(element)
            return load_html(etree.tostring(page, encoding="unicode"))
    return tree


# Elements that trafilatura deletes with everything inside them in each of its passes
# (its own cleaning, and the readability, justext and baseline fallbacks, which never
# keep them either), checked page by page on the corpus to give the same bodies.
# Removed once, after metadata has been read, they no longer cost anything in the
# tree copies and XPath passes each trafilatura run makes: about 6% of extraction.
# Scripts go too, but for JSON-LD, which trafilatura's fallbacks read. Removed with
# their tails kept, so that text after an inline <svg> stays in its paragraph.
# (nav, aside, button, select, noscript and template are not here: removing them
# first changes what trafilatura finds on some pages.)
INERT_TAGS = (
    "style",
    "svg",
    "footer",
    "iframe",
    "input",
    "textarea",
    "object",
    "embed",
    "canvas",
    "video",
    "audio",
    "map",
)


def drop_inert(tree: HtmlElement) -> None:
    """Remove :data:`INERT_TAGS` and scripts other than JSON-LD, keeping their tails."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            script.tag = "style"  # removed with the styles below
    etree.strip_elements(tree, *INERT_TAGS, with_tail=False)


def lift_captions(tree: HtmlElement) -> set[str]:
    """Move each figcaption out of its figure, as a paragraph after it (trafilatura
    drops figures but keeps paragraphs); the caption texts, for the lead-image check."""
    texts = set()
    for caption in list(tree.iter("figcaption")):
        texts.add(" ".join(caption.text_content().split()))
        figure = caption.getparent()
        if figure is None or figure.getparent() is None:
            continue
        caption.tail = None
        figure.remove(caption)
        caption.tag = "p"
        figure.addnext(caption)
    return texts


def _run_trafilatura(
    tree: HtmlElement,
    url: str,
    clean: Callable[[list[Block]], list[Block]],
    recall: bool = False,
    fast: bool = False,
) -> tuple[list[Block], etree._Element | None]:
    """trafilatura's body as blocks, ``clean`` of furniture, and its tree."""
    try:
        # no URL: trafilatura's link resolution sends "#notes" and "dir/" to the site's
        # root; htmlmd resolves links against the page itself, as browsers do
        document = trafilatura.bare_extraction(
            tree, url=None, favor_recall=recall, fast=fast, **TRAFILATURA_OPTIONS
        )
    except (RecursionError, etree.LxmlError) as error:
        raise Dropped("broken-html", str(error)[:200]) from None
    if document is None or document.body is None:
        return [], None
    return clean(to_blocks(document.body, url)), document.body


def _flat(body: etree._Element | None) -> bool:
    """True for no body, or one made only of paragraphs without any inner markup."""
    return body is None or all(child.tag == "p" and len(child) == 0 for child in body)


def extract_body(
    tree: HtmlElement,
    url: str,
    title: str,
    linked: LinkedData,
    authors: tuple[str, ...] = (),
) -> tuple[list[Block], etree._Element | None]:
    """Body blocks (furniture removed, articleBody checked) and trafilatura's tree."""
    clean = partial(
        remove_furniture, title=title, captions=lift_captions(tree), authors=authors
    )
    blocks, body = _run_trafilatura(tree, url, clean, fast=True)
    fast_words = count_words(" ".join(b.text for b in blocks))
    if fast_words < FALLBACK_BELOW_WORDS or _flat(body):
        blocks, body = _run_trafilatura(tree, url, clean)
    reference = articlebody.article_body(linked.get("articleBody"))
    if reference is None:
        return blocks, body
    text = " ".join(b.text for b in blocks)
    if articlebody.coverage(reference, text) >= articlebody.GOOD_COVERAGE:
        return blocks, body
    retry_blocks, retry_body = _run_trafilatura(tree, url, clean, recall=True)
    if retry_body is not None:
        retry_text = " ".join(b.text for b in retry_blocks)
        if articlebody.coverage(reference, retry_text) >= articlebody.RETRY_COVERAGE:
            return retry_blocks, retry_body
    return articlebody.blocks_from_text(reference), body


def body_from_scripts(
    html: str, url: str, title: str, linked: LinkedData, authors: tuple[str, ...]
) -> list[Block]:
    """Body blocks from the story's HTML that a client-rendered page keeps in a script
    (:mod:`pipeline.extract.scripted`); none when there is no such HTML."""
    fragment = scripted.article_html(html)
    if fragment is None:
        return []
    tree = parse_html(f"<html><body><article>{fragment}</article></body></html>")
    drop_inert(tree)
    blocks, _ = extract_body(tree, url, title, linked, authors)
    return blocks


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


def _lang(
    declared: str | None,
    hint: str | None,
    text: str,
    source: Source | None,
    detect: bool = True,
) -> str:
    if declared:
        return declared
    if hint and len(hint) >= 2 and hint[:2].isalpha():
        return hint[:2].lower()
    if not detect:
        return ""  # left to complete_lang, in the process that holds the model
    return detect_lang(text) or (source.lang if source else "en")


def complete_lang(article: Article, source: Source | None) -> Article:
    """The article with its language detected, when extraction left that undone
    (``extract(..., detect_language=False)``); otherwise the article itself."""
    if article.lang:
        return article
    return replace(article, lang=_lang(None, None, article.text, source))


@lru_cache(maxsize=1)
def _identifier():
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_lang(text: str) -> str | None:
    """The language of ``text`` when py3langid is installed and at least 90% sure."""
    if LanguageIdentifier is None or len(text) < 200:
        return None
    lang, probability = _identifier().classify(text[:3000])
    return lang if probability >= 0.9 and len(lang) == 2 and lang != "zz" else None


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
    names = metadata.site_names(meta, linked, url)
    title = metadata.read_title(tree, meta, linked, url) or (page.hints.title or "")
    authors = read_authors(tree, meta, linked, names)
    date_candidates = metadata.date_strings(tree, meta, linked)
    modified_candidates = metadata.modified_strings(meta, linked)
    declared = metadata.declared_lang(tree, meta, linked)
    canonical = metadata.read_canonical(tree, meta, url)
    pagekind.check_before(url or canonical, meta, linked)
    description = metadata.read_description(meta)
    image = metadata.read_image(tree, meta, linked, url)

    drop_inert(tree)
    work = apply_overrides(tree, source)
    blocks, body = extract_body(work, url, title, linked, authors)
    body_md, text = join_blocks(blocks)
    words = count_words(text)
    pagekind.check_after(meta, linked, words, body, url)
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
        summary=description or "",
        lang=_lang(declared, page.hints.lang, text, source, detect_language),
        authors=authors,
        image=image,
        section=metadata.read_section(meta, linked),
        keywords=metadata.read_keywords(meta, linked, page.hints.keywords),
        description=description,
        fetched_url=page.url,
        seen_urls=seen,
        fetched_at=page.fetched_at,
    )
