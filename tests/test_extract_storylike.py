"""When is trafilatura's fast result trusted as the story (pipeline.extract.storylike)?"""

from __future__ import annotations

import random

from lxml import etree, html

from pipeline.extract.htmlmd import blocks_text, to_blocks
from pipeline.extract.storylike import (
    MIN_WORDS,
    WHOLE_SHARE,
    navigation_words,
    paragraph_words,
    why_not,
)
from pipeline.wordcount import count_words, count_words_once

SENTENCE = (
    "The council agreed the harbour budget on Tuesday after a long debate about the "
    "cost of repairing the bridge before the winter storms reach the district."
)


def judge(xml: str) -> str | None:
    body = etree.fromstring(f"<body>{xml}</body>")
    return why_not(to_blocks(body, "https://example.org/news/a"), body)


def story(paragraphs: int = 8) -> str:
    return "".join(
        f"<p>{SENTENCE.replace('Tuesday', f'day {i}')} <hi rend='#b'>Note {i}</hi>.</p>"
        for i in range(paragraphs)
    )


def test_a_story_is_trusted():
    assert judge(story()) is None


def test_a_short_result_is_not():
    assert judge(story(2)) == "too short"


def page_of(paragraphs: str) -> html.HtmlElement:
    return html.document_fromstring(
        f"<html><body><nav><a href='/'>Home</a></nav>{paragraphs}</body></html>"
    )


def test_a_short_result_that_is_most_of_the_page_is_trusted():
    # the whole story of a page whose paragraphs hold no more than what was found
    body = etree.fromstring(f"<body>{story(2)}</body>")
    blocks = to_blocks(body, "https://example.org/news/a")
    page = page_of(f"<p>{SENTENCE}</p><p>{SENTENCE}</p>")
    words = count_words(blocks_text(blocks))
    assert WHOLE_SHARE * paragraph_words(page) <= words < MIN_WORDS
    assert why_not(blocks, body, page) is None
    assert why_not(blocks, body) == "too short"  # without the page, as before


def test_a_short_result_on_a_page_with_more_paragraphs_is_not():
    body = etree.fromstring(f"<body>{story(2)}</body>")
    blocks = to_blocks(body, "https://example.org/news/a")
    # the page's paragraphs hold three times the words found: a story missed
    page = page_of(f"<p>{SENTENCE}</p>" * 6)
    assert why_not(blocks, body, page) == "too short"
    # ... and a page without paragraphs may hold its story in other elements
    assert why_not(blocks, body, page_of(f"<div>{SENTENCE}</div>")) == "too short"


def test_paragraph_words_count_every_paragraph_and_what_is_inside_it():
    page = page_of(
        "<p>One <b>two</b> three</p><div><p>four five</p></div><div>six</div>"
        "<p>東京の天気</p>"
    )
    assert paragraph_words(page) == 3 + 2 + 3  # five unspaced characters count three


def test_a_flat_dump_is_not():
    assert judge("".join(f"<p>{SENTENCE} {i}</p>" for i in range(9))) == "no markup"


def test_breadcrumbs_and_teasers_are_not():
    teasers = "".join(
        f"<p><ref target='/news/{i}'>Harbour council story number {i} agreed "
        f"today</ref> and more</p>"
        for i in range(40)
    )
    assert judge(teasers) == "mostly links"


def test_navigation_lines_are_not():
    nav = "".join(f"<p>Section {i} <hi rend='#b'>news</hi></p>" for i in range(60))
    assert judge(story(2) + nav) == "navigation-like lines"


def test_a_paragraph_twice_is_not():
    assert judge(story(8) + story(1)) == "repeated paragraphs"


JAPANESE = (
    "市議会は火曜日、橋の修理費用をめぐる長い議論の末に港の予算を承認した。"
    "冬の嵐が地区に到達する前に工事を終える必要があると市長は述べた。"
)


def test_a_story_without_spaces_between_words_is_trusted():
    # each paragraph is one whitespace-separated "word", but some sixty words long
    paragraphs = "".join(
        f"<p>{JAPANESE}<hi rend='#b'>第{i}報</hi>。</p>" for i in range(8)
    )
    assert judge(paragraphs) is None


def test_navigation_lines_without_spaces_are_still_navigation():
    nav = "".join(f"<p>ニュース{i}<hi rend='#b'>速報</hi></p>" for i in range(80))
    assert judge(story(2) + nav) == "navigation-like lines"


def test_the_story_check_leaves_the_body_count_for_the_checks_after_it():
    """Its lines and links are counted past the word count's cache, so the body's own
    count, which the page-kind check and the Article ask for next, is still there."""
    lines = "".join(
        f"<p>Line {i} <ref target='/a{i}'>more</ref></p>" for i in range(20)
    )
    body = etree.fromstring(f"<body>{story(12)}{lines}</body>")
    blocks = to_blocks(body, "https://example.org/news/a")
    count_words.cache_clear()
    assert why_not(blocks, body) is None
    before = count_words.cache_info().hits
    assert count_words(blocks_text(blocks)) == count_words_once(blocks_text(blocks))
    assert count_words.cache_info().hits == before + 1


def test_navigation_words_are_the_words_of_lines_of_six_words_or_fewer():
    text = "Home\nWorld news today\none two three four five six seven\n東京の天気は晴れ"
    # 1 + 3 words; seven words are no navigation line; 8 Japanese characters count 4
    assert navigation_words(text) == 1 + 3 + 4
    assert navigation_words("a-b c.d e_f g") == 6  # \w runs: a b c d e_f g
    assert navigation_words(" ".join(["—"] * 9) + " one") == 1
    assert navigation_words("x" * 100_000) == 1  # a long line is read once


def test_navigation_words_agree_with_counting_every_line():
    pieces = [
        "a",
        "word",
        "dé",
        " ",
        "  ",
        "-",
        "—",
        "\n",
        "日本",
        "ไทย",
        "'",
        ".",
        "_",
    ]
    generator = random.Random(7)
    for _ in range(3000):
        text = "".join(
            generator.choice(pieces) for _ in range(generator.randint(0, 50))
        )
        counts = [count_words_once(line) for line in text.split("\n")]
        assert navigation_words(text) == sum(n for n in counts if n <= 6), repr(text)
