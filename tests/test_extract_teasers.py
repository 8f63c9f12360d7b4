"""Other stories and boxes around a story stay out of its body: teaser cards that are
one link, boxes of kicker links set inside the story, a run of short sidebar lines
after it, a members-only notice with its sign-up box; and a story whose lines become
``<div>`` elements keeps a line that opens with bold text."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline.extract.article import extract
from pipeline.extract.boilerplate import is_furniture, remove_furniture
from pipeline.extract.htmlmd import Block
from pipeline.extract.layout import drop_link_cards, join_split_bodies, make_paragraphs
from pipeline.items import Page
from tests.synthetic import html_page, paragraphs

STORY = [
    "The harbour board agreed on Monday to rebuild the north pier before next winter.",
    "Fishermen had warned for years that the timber was rotting under the crane rails.",
    "The work will cost four million and take most of the summer, the board said.",
    "Boats will unload at the ferry quay while the pier is closed to all traffic.",
    "The ferry company said its timetable would not change during the building work.",
    "A public meeting about the plans will be held in the harbour office on Friday.",
    "Engineers found that two of the old piles had already split below the waterline.",
    "The new pier will be built of concrete and should last at least seventy years.",
]
# as lines split at breaks, enough text to take a page over trafilatura's line
LONG_STORY = [
    *STORY,
    "The board will ask the town council for a loan to cover the first part of it.",
    "Work on the south pier, which was rebuilt in 1990, is not planned for now.",
]


def page(body: str) -> Page:
    return html_page(
        "https://harbour.example.org/2024/05/pier-to-be-rebuilt.html",
        "Pier to be rebuilt | Harbour News",
        body,
    )


def p(text: str) -> Block:
    return Block("p", text, text)


def test_a_line_opening_with_bold_text_stays_when_lines_become_divs():
    # the split lines would take the page over trafilatura's <div>-reading line, so
    # they become <div>s; trafilatura skips a <div> whose own text is blank
    lines = [f"<strong>{LONG_STORY[0]}</strong>", *LONG_STORY[1:]]
    story = "<br><br>".join(lines)
    article = extract(page(f"<div class='story'>{story}</div><p>Harbour News</p>"))
    assert article.text.split("\n\n") == LONG_STORY


def test_lines_that_become_divs_keep_their_text():
    lines = [f"<strong>{LONG_STORY[0]}</strong>", *LONG_STORY[1:]]
    tree = lxml.html.fromstring(
        f"<html><body><div>{'<br><br>'.join(lines)}</div></body></html>"
    )
    make_paragraphs(tree)
    made = tree.body[0]
    assert [child.tag for child in made] == ["div"] * len(LONG_STORY)
    assert (
        [" ".join(child.text_content().split()) for child in made]
        == [
            f"\u2060{LONG_STORY[0]}",  # an invisible word joiner, removed from the body
            *LONG_STORY[1:],
        ]
    )


def cards(count: int) -> str:
    return (
        "<ul>"
        + "".join(
            f"<li><a href='/news/{i}.html'><div><h3>Another story number {i}</h3>"
            f"<div>2024-05-0{i + 1}</div><p>The start of another story, which goes on for "
            f"a while about something else that happened in town {i}</p></div></a></li>"
            for i in range(count)
        )
        + "</ul>"
    )


def test_teaser_cards_that_are_one_link_go():
    body = f"<h1>Pier to be rebuilt</h1>{paragraphs(STORY)}"
    article = extract(page(f"<div class='main'>{body}{cards(4)}</div>"))
    assert article.text.split("\n\n") == STORY


def test_a_link_left_open_around_the_story_stays():
    tree = lxml.html.fromstring(
        f"<html><body><a href='/pier'><h2>Pier</h2>{paragraphs(STORY)}</a></body></html>"
    )
    assert drop_link_cards(tree) == 0
    assert STORY[-1] in tree.text_content()


def test_only_links_with_an_address_that_hold_a_heading_or_paragraph_are_cards():
    tree = lxml.html.fromstring(
        "<html><body><main>"
        f"{paragraphs(STORY)}"
        "<a href=''><h3>No address</h3></a>"
        "<a name='top'><p>An anchor, not a link</p></a>"
        "<a href='/more'><span>Inline only</span></a>"
        "<div><a href='/other'><div><h3>Another story</h3></div></a></div>"
        "<a href='/one'><p>One more story</p></a>"
        "</main></body></html>"
    )
    assert drop_link_cards(tree) == 2
    text = tree.text_content()
    assert "Another story" not in text
    assert "One more story" not in text
    for kept in ("No address", "An anchor, not a link", "Inline only", STORY[0]):
        assert kept in text


def kicker_box(count: int) -> str:
    items = "".join(
        f"<li><strong>Topic {i}:</strong> <a href='/news/{i}.html'>Another story "
        f"number {i}</a></li>"
        for i in range(count)
    )
    return f"<h3>More from the harbour</h3><ul>{items}</ul>"


def test_a_box_of_kicker_links_inside_the_story_goes_with_its_title():
    body = paragraphs(STORY[:4]) + kicker_box(4) + paragraphs(STORY[4:])
    article = extract(page(f"<article><h1>Pier to be rebuilt</h1>{body}</article>"))
    assert article.text.split("\n\n") == STORY


def test_a_round_up_of_kicker_links_stays():
    blocks = [
        p(STORY[0]),
        Block(
            "list",
            "\n".join(
                f"- **Topic {i}:** [Story {i}](https://x.example/{i})" for i in range(6)
            ),
            "\n".join(f"Topic {i}: Story {i}" for i in range(6)),
        ),
    ]
    assert remove_furniture(blocks, title="") == blocks


SIDEBAR_TITLES = ["Latest pictures", "Share prices", "From the forum", "Most read"]


def test_short_lines_after_the_story_go():
    blocks = [*map(p, STORY), *map(p, SIDEBAR_TITLES), p("49,99 €")]
    assert remove_furniture(blocks, title="") == [p(s) for s in STORY]


def test_a_list_told_as_short_paragraphs_after_a_short_story_stays():
    dates = [f"{day} May, {town}" for day, town in enumerate("ABCDEFGH", start=1)]
    blocks = [p(STORY[0]), *map(p, dates)]
    assert remove_furniture(blocks, title="") == blocks


@pytest.mark.parametrize(
    "notice",
    ["この記事は会員限定です。", "This article is for subscribers only."],
)
def test_a_members_only_notice_and_its_sign_up_box_go(notice: str):
    box = [p(notice), p("Sign up to read on"), Block("list", "- Log in", "Log in")]
    blocks = [p(s) for s in STORY[:3]]
    assert remove_furniture(blocks + box, title="") == blocks


@pytest.mark.parametrize(
    "line",
    [
        "SHARE:",
        "Adjust text size:",
        "No user comments yet.",
        "小字号",
        "関連キーワード",
        "Lesen Sie auch",
        "À lire aussi",
        "Czytaj więcej",
        "Etiketler : Haberler - Spor",
        "Lesedauer: 4 Minuten",
        "5 min read",
        "Fehler gefunden? Jetzt melden.",
        "Please enable JavaScript to view the comments.",
    ],
)
def test_furniture_lines(line: str):
    assert is_furniture(p(line))


def test_a_sentence_about_minutes_is_not_a_reading_time():
    assert not is_furniture(p("He read the letter for 5 minutes."))


def test_a_story_cut_into_several_body_blocks_comes_out_whole():
    # the story goes on in a second "articleBody" block after a teaser box; without
    # joining, the extractor reads only the first block
    first, second = paragraphs(STORY[:4]), paragraphs(STORY[4:])
    teaser = (
        "<div class='box'><p class='label'>Read more</p><a href='/news/1.html'>"
        "Another story number 1</a></div>"
    )
    body = (
        f"<h1>Pier to be rebuilt</h1><div class='articleBody'>{first}</div>{teaser}"
        f"<div class='articleBody'>{second}</div>"
    )
    article = extract(page(f"<main><div class='content'>{body}</div></main>"))
    assert article.text.split("\n\n") == STORY


def test_a_list_of_posts_each_in_its_own_body_block_is_not_joined():
    posts = "".join(
        f"<article><h2>Post {i}</h2><div class='entry-content'><p>{s}</p></div></article>"
        for i, s in enumerate(STORY[:6])
    )
    tree = lxml.html.fromstring(f"<html><body>{posts}</body></html>")
    assert join_split_bodies(tree) == 0
    assert len(tree.find_class("entry-content")) == 6


def test_a_grid_of_linked_headlines_after_the_story_goes_with_its_title():
    grid = "".join(
        f"<h2><a href='/news/{i}.html'>Another story number {i}</a></h2>"
        f"<p>What happened next in town, told in one short line {i}.</p>"
        for i in range(3)
    )
    body = f"<h1>Pier to be rebuilt</h1>{paragraphs(STORY)}<h2>More news</h2>{grid}"
    article = extract(page(f"<div class='main'>{body}</div>"))
    assert article.text.split("\n\n") == STORY


def test_one_linked_subheading_in_a_story_stays():
    linked = Block("head", "### [The report](https://x.example/r)", "The report")
    blocks = [p(STORY[0]), linked, p(STORY[1])]
    assert remove_furniture(blocks, title="") == blocks


def test_joining_body_blocks_keeps_the_text_before_the_first_paragraph_of_each():
    tree = lxml.html.fromstring(
        "<html><body><div class='articleBody'><p>First part.</p></div>"
        "<aside>Ad</aside><div class='articleBody'>Second part opens bare."
        "<p>Then a paragraph.</p></div></body></html>"
    )
    assert join_split_bodies(tree) == 1
    (body,) = tree.find_class("articleBody")
    assert [t.strip() for t in body.itertext()] == [
        "First part.",
        "Second part opens bare.",
        "Then a paragraph.",
    ]


def test_a_post_that_closes_in_short_sentences_keeps_them():
    closing = [
        "Today, you have one job.",
        "Today is election day.",
        "Today, make sure to vote.",
        "Thank you.",
    ]
    blocks = [p(s) for s in STORY] + [p(s) for s in closing] + [p("-Peter Shankman")]
    assert remove_furniture(blocks, title="Vote") == blocks


@pytest.mark.parametrize(
    "closing",
    [
        # a box of lines that ends with a sentence is not the story's last sentence
        "Want to shop online?\nThen please use one of these links,\nto support us:\n"
        "Thank you!",
        # nor is the broken end of a promo whose parenthesis opened blocks earlier
        "The Harbour News.)",
    ],
    ids=["box-of-lines", "broken-promo"],
)
def test_short_lines_before_a_closing_that_is_no_sentence_go(closing):
    blocks = [*map(p, STORY), *map(p, SIDEBAR_TITLES), p(closing)]
    assert remove_furniture(blocks, title="") == [p(s) for s in STORY]
