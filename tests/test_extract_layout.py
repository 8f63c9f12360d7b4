"""Bodies that come out whole and without other stories' furniture: blog posts
written as ``<div>`` lines beside a sidebar that uses line breaks, stories in layout
tables followed by teasers or labelled links of other stories, a JSON-LD articleBody
whose entities were escaped twice, and posts made mostly of links that are still
posts."""

from __future__ import annotations

import html
import json

import lxml.html
from lxml.html import HtmlElement

from pipeline.extract.article import extract
from pipeline.extract.layout import make_paragraphs, paragraph_chars
from pipeline.items import Page

SENTENCES = [
    "The council voted on Tuesday to close the old library on the corner of Mill Street.",
    "Residents who had used it for forty years said they were given no warning at all.",
    "The building will be sold to pay for repairs to the swimming pool across the park.",
    "A petition to keep it open gathered more than two thousand names in a single week.",
    "The mayor said the decision was painful but that the budget left no other choice.",
    "Volunteers have offered to run a smaller reading room in the church hall instead.",
    "Children's story mornings will move to the school on Friday afternoons from May.",
    "The last day of lending will be the thirtieth of April, the council announced.",
]
SIDEBAR = [
    "Welcome to the Town Crier, where we bring you the stories that the papers miss.",
    "Be it the council, the schools or the parks, we try to find out what really happens.",
    "Consider a donation if you like what you read here, it keeps the lights on for us.",
    "We are two retired reporters who still cannot stop asking questions about our town.",
    "Our book about the history of the market square came out last year to kind reviews.",
    "The next readers' evening will be in the back room of the Swan, as it was last time.",
    "Old posts are listed by month and by subject in the index at the foot of this page.",
    "Write to us with tips, corrections and complaints, we read every single letter sent.",
    "Every post here is free to read and always will be, with no advertising whatsoever.",
    "The archive goes back to 2009 and covers nearly every council meeting since then.",
    "Thanks to everyone who came to the readers' evening at the Swan in February.",
    "Photographs are our own unless a caption says otherwise, and may be reused freely.",
]


def blog_page(body: str, ld: dict | None = None) -> Page:
    script = (
        f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    )
    document = (
        "<html lang='en'><head><meta charset='utf-8'><title>Library to close | Town "
        f"Crier</title>{script}</head><body>{body}</body></html>"
    )
    return Page(
        url="https://towncrier.example.org/2012/10/library-to-close.html",
        body=document.encode("utf-8"),
        source="example",
        headers={"content-type": "text/html; charset=utf-8"},
    )


def post_and_sidebar(paragraphs: str = "") -> HtmlElement:
    """Blogger's editor writes each paragraph of a post as a <div>, with <div><br></div>
    between; the sidebar's text runs are separated by breaks."""
    post = "<div><br></div>".join(f"<div>{s}</div>" for s in SENTENCES)
    sidebar = "<br><br>".join(f"<span>{s}</span>" for s in SIDEBAR)
    return lxml.html.fromstring(
        f"<html><body><div class='post-body'>{paragraphs}{post}</div>"
        f"<div class='sidebar'><div class='widget-content'>{sidebar}</div></div>"
        "</body></html>"
    )


def test_runs_that_would_switch_off_reading_div_lines_become_divs():
    # trafilatura reads <div> lines as paragraphs only while the page has little <p>
    # text: paragraphs made of the sidebar's runs must not take the post's away
    tree = post_and_sidebar()
    make_paragraphs(tree)
    (widget,) = tree.find_class("widget-content")
    assert [child.tag for child in widget] == ["div"] * len(SIDEBAR)
    # a word joiner opens each (trafilatura skips a <div> whose own text is blank)
    assert [child.text_content() for child in widget] == [f"\u2060{s}" for s in SIDEBAR]
    assert paragraph_chars(tree) == 0


def test_runs_become_paragraphs_on_a_page_that_has_paragraphs():
    tree = post_and_sidebar("".join(f"<p>{s}</p>" for s in SIDEBAR))
    make_paragraphs(tree)
    (widget,) = tree.find_class("widget-content")
    assert [child.tag for child in widget] == ["p"] * len(SIDEBAR)


def test_breaks_in_the_story_still_make_paragraphs_on_a_page_without_p_text():
    story = "<br><br>".join(SENTENCES)
    article = extract(blog_page(f"<div class='post-body'>{story}</div>"))
    assert article.text.split("\n\n") == SENTENCES


def teasers(count: int, end: str) -> str:
    items = "".join(
        f"<li><a href='/news/story-{i}.html'>Another story number {i}</a><br>"
        f"The start of another story that the reader may want to go on with{end}</li>"
        for i in range(count)
    )
    return f"<ul>{items}</ul>"


def test_teasers_of_other_stories_after_a_story_in_a_layout_table_go():
    story = "".join(f"<p>{s}</p>" for s in SENTENCES)
    tags = "<p><a href='/tag/council'>Council</a>, <a href='/tag/news'>news</a></p>"
    content = story + tags + teasers(5, " [...]") + teasers(5, " …")
    sidebar = "".join(f"<p>{s}</p>" for s in SIDEBAR[:3])
    body = (
        "<table><tr><td id='contenttd'><div class='main'>"
        f"<h1>Library to close</h1>{content}</div></td>"
        f"<td id='sidebartd'><table><tr><td>{sidebar}</td></tr></table></td>"
        "</tr></table>"
    )
    article = extract(blog_page(body))
    assert article.text.split("\n\n") == SENTENCES


def test_a_list_of_links_with_whole_descriptions_stays():
    story = "".join(f"<p>{s}</p>" for s in SENTENCES)
    article = extract(blog_page(f"<article>{story}{teasers(3, '.')}</article>"))
    assert "Another story number 2" in article.text


def test_an_article_body_escaped_twice_is_read_as_text():
    # "&amp;eacute;" in the page's JSON-LD: read as "é", the articleBody agrees with
    # the story found in the page, which stands
    story = [s.replace("the", "thé") for s in SENTENCES]
    escaped = " ".join(story).replace("'", "&#39;").replace("é", "&eacute;")
    ld = {
        "@type": "NewsArticle",
        "headline": "Library to close",
        "articleBody": html.escape(escaped, quote=False),
    }
    body = "".join(f"<p>{s}</p>" for s in story)
    article = extract(blog_page(f"<article>{body}</article>", ld=ld))
    assert article.text.split("\n\n") == story


def test_labelled_links_to_other_stories_after_the_story_go():
    story = "".join(f"<p>{s}</p>" for s in SENTENCES)
    more = "".join(
        f"<p>{label}: <a href='/news/{i}.html'>Another story number {i}</a></p>"
        for i, label in enumerate(["MORE", "READ NEXT", "Also read"])
    )
    article = extract(blog_page(f"<article>{story}{more}</article>"))
    assert article.text.split("\n\n") == SENTENCES


def test_a_post_whose_lines_carry_many_links_is_stored():
    # a weekly round-up: each line a few words of its own and a link, most of the
    # words in links, yet no line only a link: a post, not an index
    items = "".join(
        f"<li><b>{s.split(' ', 4)[-1][:30]}</b> <a href='/s/{i}'>{s}</a></li>"
        for i, s in enumerate(SENTENCES + SIDEBAR)
    )
    body = f"<article><h1>The week in review</h1><ul>{items}</ul></article>"
    article = extract(blog_page(body))
    assert SENTENCES[3] in article.text


def test_a_short_post_with_a_linked_caption_is_stored():
    # a craft blog's post: a picture, a caption that sends the reader to the maker's
    # site, and a few shop links below; mostly link text, but a handful of links
    caption = (
        "<p>Visit <a href='https://crafts.example.com/corn'>Boy Mama Teacher Mama</a>"
        " to see how to create the interesting textures on this Indian corn craft "
        "with paint and paper. It takes an afternoon, a few old corks and a sponge, "
        "and the children loved pressing the colours into the paper husks.</p>"
    )
    books = "".join(
        f"<p><a href='https://shop.example.com/book/{i}'>Crafting fun: a hundred and "
        f"one things to make and do with kids at home, volume {i}</a></p>"
        for i in range(6)
    )
    article = extract(blog_page(f"<article>{caption}{books}</article>"))
    assert "interesting textures on this Indian corn craft" in article.text


def test_a_related_link_inside_the_story_stays_as_also_read_does():
    related = "Related: <a href='/news/7.html'>Council sells the old swimming baths</a>"
    paragraphs = [f"<p>{s}</p>" for s in SENTENCES]
    body = "".join(paragraphs[:4]) + f"<p>{related}</p>" + "".join(paragraphs[4:])
    article = extract(blog_page(f"<article>{body}</article>"))
    assert "Related: Council sells the old swimming baths" in article.text
