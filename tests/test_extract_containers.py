"""Readers' comment threads and newsletter boxes are not story: a container named
for comments goes, even inside the story's ``<article>``, and so does a short one
named for a newsletter sign-up, while a story wrapper that a site names so, and a
comment link inside a sentence, stay."""

from __future__ import annotations

import lxml.html

from pipeline.extract.article import extract
from pipeline.extract.containers import drop_named_furniture
from pipeline.items import Page
from tests.synthetic import html_page, paragraphs

STORY = [
    "The harbour authority said on Monday that the old ferry pier will close in June.",
    "Engineers found that two of the wooden piles had rotted through below the waterline.",
    "A temporary landing stage will be built beside the lifeboat station over the summer.",
    "Ferry times will not change, the operator said, though boarding may take longer.",
    "The pier was built in 1911 and last repaired after the storms of the winter of 1987.",
    "Fishermen who moor beside it have been asked to move their boats by the end of May.",
]
COMMENTS = [
    "Typical of this council, they let everything rot and then act surprised about it.",
    "My grandfather helped rebuild that pier, it is a shame to see it go like this.",
    "Does anyone know whether the Sunday boat to the island will still be running then?",
    "Another waste of money, they should have sold it to a private company years ago.",
]


def page(article: str) -> Page:
    return html_page(
        "https://harbour.example.net/news/ferry-pier-to-close.html",
        "Ferry pier to close",
        f"<article><h1>Ferry pier to close</h1>{article}</article>",
    )


def thread(container: str) -> str:
    items = "".join(
        f'<div class="sf_comment"><p class="sf_comment_info"><span>2 hours ago</span>'
        f"</p><p>{line}</p></div>"
        for line in COMMENTS
    )
    return f'<div class="box clearfix {container}"><h2>Comments</h2>{items}</div>'


def test_a_thread_inside_the_article_is_not_story() -> None:
    text = extract(page(paragraphs(STORY) + thread("sf_comment_list"))).text
    assert all(line in text for line in STORY)
    assert not any(line in text for line in COMMENTS)
    assert "2 hours ago" not in text


def test_a_thread_named_in_any_part_of_its_id_goes() -> None:
    tree = lxml.html.fromstring(
        f"<div><div id='story'>{paragraphs(STORY)}</div>"
        f"<section id='js-article__comments'>{paragraphs(COMMENTS)}</section></div>"
    )
    assert drop_named_furniture(tree) == 1
    assert COMMENTS[0] not in tree.text_content()
    assert STORY[0] in tree.text_content()


def test_a_wrapper_that_holds_the_story_stays() -> None:
    # a page that merely allows comments, and a wrapper holding the headline or
    # most of the text, are not threads
    html = (
        f"<div class='post comments-open'>{paragraphs(STORY)}</div>"
        f"<div class='comment-wrap'><h1>Ferry pier to close</h1>{paragraphs(STORY)}</div>"
        f"<div class='comments'>{paragraphs(STORY * 3)}</div>"
    )
    tree = lxml.html.fromstring(f"<div>{html}</div>")
    assert drop_named_furniture(tree) == 0


def test_a_comment_link_inside_a_sentence_stays() -> None:
    line = (
        "Readers can <a class='comment-link' href='#respond'>post a comment</a> below."
    )
    text = extract(page(paragraphs(STORY) + f"<p>{line}</p>")).text
    assert "Readers can post a comment below." in text


def test_a_short_newsletter_box_goes_and_a_long_one_stays() -> None:
    box = (
        "<div class='site-email-signup'><h3>Get the latest news in your inbox</h3>"
        "<form><input type='email'><button>Go</button></form>"
        "<p>Privacy Policy and Terms of Service apply.</p></div>"
    )
    text = extract(page(paragraphs(STORY[:3]) + box + paragraphs(STORY[3:]))).text
    assert all(line in text for line in STORY)
    assert "inbox" not in text
    assert "Privacy Policy" not in text
    # a story that a site files under its newsletter is longer than a box
    tree = lxml.html.fromstring(
        f"<div><div class='newsletter-issue'>{paragraphs(STORY)}</div>"
        f"<div>{paragraphs(COMMENTS)}</div></div>"
    )
    assert drop_named_furniture(tree) == 0
