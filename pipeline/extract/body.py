"""The story's body: trafilatura's extraction as blocks, furniture removed.

trafilatura runs in its fast mode first; its result is kept only when it looks like
a story (:mod:`pipeline.extract.storylike`), otherwise the full cascade runs. JSON-LD
``articleBody`` checks what was found; a client-rendered page's story is read from
its scripts. trafilatura is given the page without the head's metadata
(:func:`head_set_aside`), and its fast pass without the elements its cleaning deletes
first (:data:`FAST_PASS_ASIDE`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import Extractor

from pipeline.errors import Dropped
from pipeline.extract import articlebody, regexguard, scripted, stoplists, storylike
from pipeline.extract.boilerplate import remove_furniture
from pipeline.extract.containers import drop_named_furniture
from pipeline.extract.htmlmd import Block, to_blocks
from pipeline.extract.jsonld import LinkedData
from pipeline.extract.layout import drop_link_cards, join_split_bodies
from pipeline.extract.parse import drop_inert, parse_html


def _extractor(fast: bool = False, recall: bool = False) -> Extractor:
    return Extractor(
        fast=fast,
        recall=recall,
        comments=False,
        formatting=True,
        links=True,
        images=False,
        tables=True,
        with_metadata=False,
        output_format="txt",  # "python" would also render the body as text, unused here
    )


# trafilatura's three settings, made once: ``bare_extraction`` would otherwise build
# its Extractor, reading its configuration file's values, on every call
EXTRACTORS = {
    "fast": _extractor(fast=True),
    "full": _extractor(),
    "recall": _extractor(recall=True),
}


def remove_captions(tree: HtmlElement) -> set[str]:
    """Take each figure's caption out of the page; the caption texts, for the
    lead-image check. Captions are not the story: the corpus's and the Indian pages'
    ground truth leaves them out, dragnet's mostly does, and the body F1 rose on each
    set, held-out hosts included, when they went."""
    texts = set()
    for caption in list(tree.iter("figcaption")):
        texts.add(" ".join(caption.text_content().split()))
        figure = caption.getparent()
        if figure is None or figure.getparent() is None:
            continue
        caption.tail = None
        figure.remove(caption)
    return texts


def _run_trafilatura(
    tree: HtmlElement,
    url: str,
    clean: Callable[[list[Block]], list[Block]],
    mode: str = "full",
) -> tuple[list[Block], etree._Element | None]:
    """trafilatura's body as blocks, ``clean`` of furniture, and its tree; ``mode``
    is one of :data:`EXTRACTORS`."""
    try:
        # no URL: trafilatura's link resolution sends "#notes" and "dir/" to the site's
        # root; htmlmd resolves links against the page itself, as browsers do
        with regexguard.guarded(), stoplists.remembered():
            document = trafilatura.bare_extraction(tree, options=EXTRACTORS[mode])
    except (RecursionError, etree.LxmlError) as error:
        raise Dropped("broken-html", str(error)[:200]) from None
    if document is None or document.body is None:
        return [], None
    return clean(to_blocks(document.body, url)), document.body


# Elements trafilatura's cleaning deletes with all they hold before its extractor reads
# the page. In its fast pass nothing else uses them but the measure of the page's text
# that decides on a recall retry, and the rescue of a page where nothing was found, whose
# results the story check refuses anyway. Set aside for that pass (navigation alone is a
# sixth of a small page's elements) they cost nothing in its XPath passes and copies; the
# full cascade, where readability and justext read the whole page, still sees them.
FAST_PASS_ASIDE = ("nav", "aside", "button", "select", "noscript", "picture")


@contextmanager
def _stand_ins(swaps: Iterable[tuple[HtmlElement, HtmlElement]]) -> Iterator[None]:
    """Each element replaced by its stand-in (which takes a copy of its tail) while the
    block runs, and back in its place afterwards: one move each way, so that the time
    follows the number of elements set aside, not their size or their positions."""
    done = []
    try:
        for element, stand_in in swaps:
            parent = element.getparent()
            if parent is None:
                continue
            stand_in.tail = element.tail
            parent.replace(element, stand_in)  # the element keeps its own tail
            done.append((element, stand_in))
        yield
    finally:
        for element, stand_in in reversed(done):
            holder = stand_in.getparent()
            if holder is not None:
                holder.replace(stand_in, element)


@contextmanager
def head_set_aside(tree: HtmlElement) -> Iterator[None]:
    """The ``<head>``'s elements other than scripts out of ``tree`` while the body is
    extracted, and back in their places afterwards.

    trafilatura, asked for no metadata, drops the head in its cleaning, but its
    passes over the raw page (pruning XPaths, copies, the page-text measure, the
    fallbacks) still walk the head's meta and link elements, about a tenth of a
    small page's elements: setting them aside saves about 2% of a worker's time. Its
    justext fallback also read the ``<title>`` as the story's first paragraph. The
    scripts left by :func:`~pipeline.extract.parse.drop_inert` are JSON-LD, which
    trafilatura's fallbacks read, so they stay, in a stand-in head. Metadata is read
    before and dates after, from the whole head.
    """
    head = tree.find("head")
    if head is None:
        yield
        return
    children = list(head)
    stand_in = head.makeelement(head.tag, {})
    stand_in.extend(child for child in children if child.tag == "script")  # moved
    try:
        with _stand_ins([(head, stand_in)]):
            yield
    finally:
        head[:] = children


def set_aside(elements: Iterable[HtmlElement]) -> AbstractContextManager[None]:
    """``elements`` out of their tree while the block runs, each leaving an empty
    element of its tag, with its tail, in its place (:func:`_stand_ins`)."""
    return _stand_ins((e, e.makeelement(e.tag, {})) for e in elements)


def outermost(tree: HtmlElement, tags: tuple[str, ...]) -> list[HtmlElement]:
    """The ``tags`` elements of ``tree`` that are not inside another of them."""
    found: list[HtmlElement] = []
    for element in tree.iter(*tags):
        if found and any(a is found[-1] for a in element.iterancestors(*tags)):
            continue
        found.append(element)
    return found


def extract_body(
    tree: HtmlElement,
    url: str,
    title: str,
    linked: LinkedData,
    authors: tuple[str, ...] = (),
) -> tuple[list[Block], etree._Element | None]:
    """Body blocks (furniture removed, articleBody checked) and trafilatura's tree."""
    with head_set_aside(tree):
        return _extract_body(tree, url, title, linked, authors)


def _extract_body(
    tree: HtmlElement,
    url: str,
    title: str,
    linked: LinkedData,
    authors: tuple[str, ...],
) -> tuple[list[Block], etree._Element | None]:
    drop_named_furniture(tree)
    drop_link_cards(tree)
    join_split_bodies(tree)
    clean = partial(
        remove_furniture, title=title, captions=remove_captions(tree), authors=authors
    )
    with set_aside(outermost(tree, FAST_PASS_ASIDE)):
        blocks, body = _run_trafilatura(tree, url, clean, "fast")
        refused = storylike.why_not(blocks, body, tree)  # the page as the pass saw it
    if refused:
        blocks, body = _run_trafilatura(tree, url, clean)
    reference = articlebody.article_body(linked.get("articleBody"))
    if reference is None:
        return blocks, body
    text = " ".join(b.text for b in blocks)
    if articlebody.coverage(reference, text) >= articlebody.GOOD_COVERAGE:
        return blocks, body
    retry_blocks, retry_body = _run_trafilatura(tree, url, clean, "recall")
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
