"""The markdown contract: front matter, layout, summary, dates, body safety net, checker."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import frontmatter
import pytest

from pipeline.errors import BroadsheetError, Dropped
from pipeline.items import Article
from pipeline.normalize.emitter import quote, render_document
from pipeline.normalize.front_matter import FRONT_MATTER_KEYS, front_matter, summarize
from pipeline.normalize.layout import Layout, LayoutError, load_layout
from pipeline.normalize.markdown import clean_body
from pipeline.normalize.render import render
from pipeline.normalize.stage import prepare
from tests.contract import check_document

FORMAT = Path(__file__).parent / "fixtures" / "format"
REFERENCE = FORMAT / "article-business-standard.md"
BASE = "https://www.example-news.in/india/story-101.html"


def article(**changes: object) -> Article:
    fields = {
        "url": BASE,
        "source": "example-news",
        "title": "A headline",
        "body_md": "First paragraph.",
        "text": "First paragraph.",
        "date_local": "2025-02-08 09:45:27",
    }
    return Article(**{**fields, **changes})


# -- the reference document ----------------------------------------------------


def test_reference_round_trips_to_identical_bytes():
    text = REFERENCE.read_text(encoding="utf-8")
    post = frontmatter.loads(text)
    assert list(post.metadata) == list(FRONT_MATTER_KEYS)
    assert render_document(post.metadata, post.content) == text


def test_reference_summary_is_its_body_cut_by_the_summary_rule():
    post = frontmatter.loads(REFERENCE.read_text(encoding="utf-8"))
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", post.content).replace("**", "")
    assert summarize(plain) == post.metadata["summary"]
    assert post.metadata["summary"].endswith("Tahawwur Rana,...")


def test_reference_breaks_the_contract_only_by_its_relative_link():
    problems = check_document(REFERENCE.read_text(encoding="utf-8"))
    assert len(problems) == 1
    assert problems[0].startswith("link with a relative target '/external-affairs")


def test_default_layout_is_the_reference_layout():
    post = frontmatter.loads(REFERENCE.read_text(encoding="utf-8"))
    layout = load_layout()
    assert layout.as_metadata() == {k: post.metadata[k] for k in layout.as_metadata()}


# -- a whole article -----------------------------------------------------------


def test_render_matches_the_hand_written_file():
    story = Article(
        url="https://www.example-news.in/india/delhi rains (live)-101.html",
        source="example-news",
        title='Delhi "rains":\n  नई दिल्ली में बारिश  ',
        summary="Heavy rain\tlashed Delhi.\nTraffic slowed to a crawl.",
        body_md=(
            "नई दिल्ली: Heavy rain lashed the capital on Tuesday.\n\n\n \n"
            "The IMD issued an [orange alert](/weather/alerts?city=delhi&day=1).\n"
            '<script>alert("x")</script>\n'
            "Residents were told to [stay indoors](javascript:alert(1)).\n\n"
            "![Flooded road](../images/road.jpg)\n"
            "![tracker](data:image/gif;base64,R0lGOD)\n\n"
            '> "It has not rained like this in years," said a resident.\n'
        ),
        text="unused: the description is the summary",
        lang="hi-IN",
        fetched_at="2025-07-01T05:30:00+00:00",
    )
    expected = (FORMAT / "article-handmade.md").read_text(encoding="utf-8")
    assert render(story) == expected
    assert check_document(expected) == []


def test_front_matter_keys_come_in_the_reference_order():
    assert list(front_matter(article(), load_layout())) == list(FRONT_MATTER_KEYS)


def test_empty_list_and_booleans_are_written_bare():
    assert render_document({"tags": [], "toc": True, "pager": False}, "") == (
        "---\ntags: []\ntoc: true\npager: false\n---\n"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("a\nb\tc\rd", r'"a\nb\tc\rd"'),
        ("nul\x00 bell\x07 del\x7f c1\x9b", r'"nul\0 bell\a del\x7F c1\x9B"'),
        ("\x85\u2028\u2029\ufeff", r'"\N\L\P\uFEFF"'),
        ("lone \ud800", '"lone \ufffd"'),
        ("😀 हिन्दी", '"😀 हिन्दी"'),
    ],
)
def test_quote_escapes(value, written):
    assert quote(value) == written


@pytest.mark.parametrize("key", ["on", "Yes", "null", "a-b", "1x", "a b"])
def test_keys_that_yaml_would_misread_are_refused(key):
    with pytest.raises(ValueError, match="not a plain YAML name"):
        render_document({key: "x"}, "")


def test_values_of_other_types_are_refused():
    with pytest.raises(TypeError, match="a string, a boolean or a list of strings"):
        render_document({"count": 3}, "")  # type: ignore[dict-item]


# -- summary -------------------------------------------------------------------


def test_description_is_the_summary_on_one_line():
    story = article(summary="  Rates held.\n\nMarkets  rose. ", text="Other text.")
    assert front_matter(story, load_layout())["summary"] == "Rates held. Markets rose."


def test_description_field_is_used_when_summary_is_empty():
    story = article(summary="", description="From the meta tag.", text="Body.")
    assert front_matter(story, load_layout())["summary"] == "From the meta tag."


def test_summary_without_description_is_the_cut_text():
    words = [f"word{i}" for i in range(80)]
    story = article(summary="", text="\n\n".join(words))
    assert front_matter(story, load_layout())["summary"] == " ".join(words[:50]) + "..."


def test_short_text_is_the_whole_summary_without_dots():
    assert summarize("Short\n\ntext.") == "Short text."
    assert summarize(" ".join(["w"] * 50)) == " ".join(["w"] * 50)


def test_summary_is_cut_at_a_word_boundary():
    text = " ".join(["abcdefghijklmnopqrstuvwxyz"] * 60)
    cut = summarize(text)
    assert cut.endswith("abcdefghijklmnopqrstuvwxyz...")
    assert len(cut) <= 603


def test_text_without_spaces_is_cut_inside_the_word():
    assert summarize("新" * 1000) == "新" * 600 + "..."


def test_title_is_one_line():
    story = article(title="  Two\nlines\u2028and\ttabs\x00 ")
    assert front_matter(story, load_layout())["title"] == "Two lines and tabs"


def test_a_title_taken_from_the_body_is_one_line_where_it_is_stored():
    """The title the store keeps, not only the front matter's, is clean."""
    story = article(title="", text="Bells\x07 rang\tout\x1b at dawn. More.\n\nNext.")
    assert prepare(story).title == "Bells rang out at dawn."


# -- date ----------------------------------------------------------------------


def test_date_and_time_as_the_publisher_states_them():
    assert front_matter(article(), load_layout())["date"] == "2025-02-08 09:45:27"


def test_date_only_stays_date_only():
    story = article(date_local="2025-02-08", date="2025-02-08")
    assert front_matter(story, load_layout())["date"] == "2025-02-08"


def test_iso_date_loses_its_offset_not_its_local_time():
    story = article(date_local=None, date="2025-02-08T09:45:27+05:30")
    assert front_matter(story, load_layout())["date"] == "2025-02-08 09:45:27"


def test_no_date_falls_back_to_the_fetch_day_without_a_time():
    story = article(date_local=None, date=None, fetched_at="2025-02-09T23:10:00Z")
    assert front_matter(story, load_layout())["date"] == "2025-02-09"


def test_no_date_at_all_drops_the_article():
    with pytest.raises(Dropped) as raised:
        front_matter(article(date_local=None, date=None), load_layout())
    assert raised.value.reason == "no-date"


# -- layout --------------------------------------------------------------------


def test_layout_overrides_from_a_user_file(tmp_path):
    path = tmp_path / "layout.toml"
    path.write_text('sidebar = "left"\ncomments = true\nwidgets = []\n')
    layout = load_layout(path)
    assert layout == replace(load_layout(), sidebar="left", comments=True, widgets=())
    document = render(article(), layout)
    assert 'sidebar: "left"\nwidgets: []\n---' in document
    assert "\ncomments: true\n" in document
    assert check_document(document) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('sidebr = "left"\n', 'unknown key "sidebr" (did you mean "sidebar"?)'),
        ('pager = "yes"\n', 'key "pager" must be true or false'),
        ("menu = 1\n", 'key "menu" must be a string'),
        ('widgets = "search"\n', 'key "widgets" must be a list of strings'),
        ("widgets = [1]\n", 'key "widgets" must be a list of strings'),
        ("sidebar = \n", "not valid TOML"),
    ],
)
def test_bad_layout_files_name_the_file_and_key(tmp_path, content, message):
    path = tmp_path / "layout.toml"
    path.write_text(content)
    with pytest.raises(LayoutError) as raised:
        load_layout(path)
    assert str(raised.value).startswith(f"{path}: {message}")
    assert isinstance(raised.value, BroadsheetError)


def test_missing_layout_file(tmp_path):
    with pytest.raises(LayoutError, match="no such layout file"):
        load_layout(tmp_path / "nope.toml")


def test_layout_is_frozen():
    with pytest.raises(AttributeError):
        load_layout().sidebar = "left"  # type: ignore[misc]
    assert isinstance(load_layout(), Layout)


# -- body ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "cleaned"),
    [
        ("[a](/x/y)", "[a](https://www.example-news.in/x/y)"),
        ("[a](other.html#p2)", "[a](https://www.example-news.in/india/other.html#p2)"),
        ("![i](//cdn.example.net/i.jpg)", "![i](https://cdn.example.net/i.jpg)"),
        ('[a](/x "title")', "[a](https://www.example-news.in/x)"),
        ("[a](</x y>)", "[a](https://www.example-news.in/x%20y)"),
        ("[a](/w_(x))", "[a](https://www.example-news.in/w_%28x%29)"),
        ("[mail](mailto:desk@example.in)", "[mail](mailto:desk@example.in)"),
        ("[x](javascript:alert(1))", "x"),
        ("[x](JavaScript:alert(1))", "x"),
        ("[x]( javascript:alert(1))", "x"),
        ("[x](java&#x73;cript:alert(1))", "x"),
        ("[x](javascript&colon;alert(1))", "x"),
        ("[x](<java\tscript:alert(1)>)", "x"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "x"),
        ("[x](vbscript:msgbox)", "x"),
        ("[x](file:///etc/passwd)", "x"),
        ("[**bold**](javascript:x) after", "**bold** after"),
        ("a ![i](javascript:x) b", "a  b"),
        ("a ![i](data:image/png;base64,AAAA) b", "a  b"),
        (
            "[![i](/i.png)](/x)",
            "[![i](https://www.example-news.in/i.png)](https://www.example-news.in/x)",
        ),
        ("<script>alert(1)</script>", "\\<script>alert(1)\\</script>"),
        ("<img src=x onerror=alert(1)>", "\\<img src=x onerror=alert(1)>"),
        ("a <!-- hidden --> b", "a \\<!-- hidden --> b"),
        ("<?php echo 1 ?>", "\\<?php echo 1 ?>"),
        ("a < b and c > d", "a < b and c > d"),
        ("\\<b> stays escaped", "\\<b> stays escaped"),
        ("<https://example.org/a>", "<https://example.org/a>"),
        ("<javascript:alert(1)>", "\\<javascript:alert(1)>"),
        ("[ref]: javascript:alert(1)", "\\[ref]: javascript:alert(1)"),
        ("one\n\n\n\n \t\ntwo", "one\n\ntwo"),
        ("\n\n  one  \n\n", "one"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("nul\x00 bell\x07 esc\x1b c1\x9b tab\tend", "nul bell esc c1 tab\tend"),
        (
            "**bold** *it*\n\n- a\n- b\n\n> quote",
            "**bold** *it*\n\n- a\n- b\n\n> quote",
        ),
        (
            "```\n<b>x</b>\n\n\n[a](javascript:b)\n```",
            "```\n<b>x</b>\n\n\n[a](javascript:b)\n```",
        ),
        ("```\nnever closed", "```\nnever closed\n```"),
        # a paragraph of nothing but white space (here U+2028, U+3000) is dropped, so
        # a fence after it stays the fence that opens the body
        ("\u2028\n```", "```\n```"),
        ("a\n\n\u3000\n\nb", "a\n\nb"),
        ("~~~ info\nx", "~~~ info\nx\n~~~"),
        ("---\ntext\n+++\n---", "---\ntext\n+++\n---"),
    ],
)
def test_clean_body(body, cleaned):
    assert clean_body(body, BASE) == cleaned
    assert clean_body(cleaned, BASE) == cleaned


def test_link_syntax_the_parser_does_not_take_cannot_become_a_link():
    # A code span across lines hides the "]" from the parser; the "](" is escaped.
    cleaned = clean_body("[a `x\n]` b](javascript:alert(1))", BASE)
    assert "\\](javascript" in cleaned


def test_fence_lines_in_the_body_do_not_end_the_front_matter():
    story = article(body_md="---\n\n+++\n\n---\ntitle: x\n---")
    document = render(story)
    post = frontmatter.loads(document)
    assert post.metadata["title"] == "A headline"
    assert post.content.startswith("---\n\n+++\n\n---\ntitle: x\n---\n\n[example-news]")
    assert check_document(document) == []


def test_closing_link_is_the_source_and_the_safe_url():
    story = article(url="https://example.in/a b(c)<d>.html", body_md="")
    document = render(story)
    assert document.endswith(
        "---\n\n[example-news](https://example.in/a%20b%28c%29%3Cd%3E.html)\n"
    )
    assert check_document(document) == []


# -- check_document ------------------------------------------------------------


def good_document() -> str:
    return render(article(body_md="Text with [a link](/x)."))


def test_a_rendered_article_passes():
    assert check_document(good_document()) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('title: "A headline"', "title: A headline", "line 2: not a double-quoted"),
        ('title: "A headline"', 'title: ""', 'key "title" is empty'),
        ("toc: false", 'toc: "false"', 'key "toc" must be true or false'),
        ('date: "2025-02-08 09:45:27"', 'date: "8 Feb"', 'key "date" is not'),
        ('sidebar: "right"\n', "", "keys ["),
        ("---\n\nText", "---\nText", "no blank line after the closing ---"),
        ("(https://www.example-news.in/x)", "(/x)", "link with a relative target '/x'"),
        (
            "[a link](https://www.example-news.in/x)",
            "[a link](javascript:x)",
            "forbidden scheme javascript:",
        ),
        ("Text with", "<b>Text</b> with", "raw HTML: '<b>Text"),
        ("Text with", "<!-- x --> with", "raw HTML: '<!--"),
        ("Text with", "[r]: /u\n\nText with", "link reference definition"),
        ("\n\n[example-news]", "\n\n\n[example-news]", "the body is not in clean form"),
        (
            "[example-news](https",
            "[other](https",
            "the last paragraph is not [example-news]",
        ),
        ("html)\n", "html)\n\n", "the file must end with exactly one newline"),
        (
            'summary: "First paragraph."',
            'summary: "First\\nparagraph."',
            'key "summary" must be one line',
        ),
        ('menu: ""', 'menu: ""\nextra: ""', "keys ["),
        ('  - "search"', "  - search", "not a double-quoted string"),
    ],
)
def test_check_document_finds(old, new, problem):
    document = good_document()
    assert old in document
    broken = document.replace(old, new, 1)
    problems = check_document(broken)
    assert any(p.startswith(problem) or problem in p for p in problems), problems


def test_check_document_on_something_else():
    assert check_document("no front matter") == [
        "the file does not start with a --- line"
    ]
    assert check_document("---\ntitle: x\n") == [
        "no closing --- line after the front matter"
    ]
    assert any(
        "does not parse" in p for p in check_document('---\ntitle: "x\n---\n\nbody\n')
    )
