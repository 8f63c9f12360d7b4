"""The story's HTML found in the data a client-rendered page keeps for its scripts."""

from __future__ import annotations

import json

from pipeline.extract.scripted import article_html

STORY = "".join(
    f"<p>Paragraph {n} of the story about the state budget, with enough words.</p>"
    for n in range(1, 6)
)


def shell(script: str) -> str:
    return f"<html><head></head><body><div id='root'></div><script>{script}</script></body></html>"


def test_html_in_a_next_js_push_is_found():
    pushed = json.dumps([1, f'<div class="story">{STORY}</div>'])
    assert article_html(shell(f"self.__next_f.push({pushed})")) == (
        f'<div class="story">{STORY}</div>'
    )


def test_html_nested_in_json_inside_a_string_is_found():
    line = "5:" + json.dumps(["$", "article", None, {"content": STORY, "id": 7}])
    pushed = json.dumps([1, line])
    assert article_html(shell(f"self.__next_f.push({pushed})")) == STORY


def test_the_string_with_the_most_paragraphs_wins():
    teaser = "<p>One.</p><p>Two.</p><p>Three teaser paragraphs, padded out.</p>" * 3
    data = json.dumps({"teaser": teaser[:300], "body": STORY, "x": "y" * 300})
    assert article_html(shell(f"window.__DATA__ = {data};")) == STORY


def test_a_string_that_starts_after_a_short_one_is_not_misread():
    data = '{"a":"b","body":' + json.dumps(STORY) + "}"
    assert article_html(shell(f"var d = {data};")) == STORY


def test_too_few_paragraphs_or_broken_escapes_give_nothing():
    two = json.dumps("<p>One paragraph here.</p><p>Two.</p>" + "x" * 300)
    assert article_html(shell(f"var d = {two};")) is None
    broken = '"' + STORY.replace("<p>", "\\x3cp>") + '"'  # a JavaScript-only escape
    assert article_html(shell(f"var d = {broken};")) is None
    assert article_html("<html><body><p>No scripts at all.</p></body></html>") is None


def test_a_quote_never_closed_ends_the_search_at_once():
    # each of these quotes would otherwise start a scan to the end of the script
    hostile = '"' + '\\"' * 100_000
    assert article_html(shell(f"var d = {hostile}")) is None
    assert (
        article_html(shell(f"var d = {json.dumps(STORY)}; var e = {hostile}")) == STORY
    )


def test_scripts_never_closed_end_the_search_at_once():
    hostile = "<script>var a = 1;" * 100_000
    assert article_html(f"<html><body>{hostile}</body></html>") is None
    page = shell(f"var d = {json.dumps(STORY)};") + hostile
    assert article_html(page) == STORY
