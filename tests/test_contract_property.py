"""Property tests: whatever the strings, the markdown keeps the contract."""

from __future__ import annotations

import frontmatter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.items import Article
from pipeline.normalize.emitter import render_document
from pipeline.normalize.front_matter import one_line
from pipeline.normalize.layout import load_layout
from pipeline.normalize.markdown import clean_body
from pipeline.normalize.render import render
from tests.contract import check_document

HOSTILE = [
    '"',
    "\\",
    ":",
    ": ",
    "#",
    " #",
    "- ",
    "* ",
    "& ",
    "! ",
    "% ",
    "@",
    "`",
    "'",
    "{",
    "[",
    "]",
    "|",
    ">",
    "---",
    "\n---\n",
    "+++",
    "...",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\u2028",
    "\u2029",
    "\x85",
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x9f",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\ud800",
    "\udfff",
    "\xa0",
    "\u3000",
    "😀",
    "👩🏽‍💻",
    "हिन्दी समाचार",
    "नई दिल्ली:",
    "yes",
    "null",
    "~",
    "0x1F",
    "2025-02-08",
]

MARKDOWN = [
    "[a](b)",
    "[x](javascript:alert(1))",
    "![i](/img.png)",
    "![i](data:image/png;base64,xx)",
    "<script>",
    "</div>",
    "<!-- c -->",
    "<https://ok.example/x>",
    "<javascript:x>",
    "[ref]: /u",
    "](",
    "```",
    "~~~",
    "    ",
    "\n\n",
    "**b**",
    "> q",
    "1. ",
    "&#106;",
    "&amp;",
    "\\",
    "(",
    ")",
]

hostile = st.lists(
    st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE)), max_size=12
).map("".join)
strings = st.one_of(
    hostile,
    st.just(""),
    st.text(),
    st.builds(lambda s: (s or "x") * (10_000 // len(s or "x")), st.text(min_size=1)),
)
bodies = st.lists(
    st.one_of(
        st.text(max_size=10), st.sampled_from(MARKDOWN), st.sampled_from(HOSTILE)
    ),
    max_size=25,
).map("".join)
FAST = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _without_surrogates(text: str) -> str:
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


@FAST
@given(
    title=strings,
    summary=strings,
    items=st.lists(strings, max_size=3),
    flag=st.booleans(),
    body=strings,
)
def test_any_values_parse_back_exactly(title, summary, items, flag, body):
    metadata = {"title": title, "summary": summary, "tags": items, "toc": flag}
    document = render_document(metadata, body)
    post = frontmatter.loads(document)
    assert post.metadata == {
        "title": _without_surrogates(title),
        "summary": _without_surrogates(summary),
        "tags": [_without_surrogates(i) for i in items],
        "toc": flag,
    }
    assert post.content == _without_surrogates(body).replace("\r\n", "\n").strip()
    assert render_document(post.metadata, post.content) == document


@FAST
@given(title=strings, summary=strings, source=strings, body=bodies)
def test_any_article_renders_to_a_document_that_keeps_the_contract(
    title, summary, source, body
):
    title = (
        title if one_line(title) else f"untitled{title}"
    )  # an empty title is a problem
    article = Article(
        url="https://news.example.com/india/story-1.html",
        source=source,
        title=title,
        body_md=body,
        text=body,
        summary=summary,
        date_local="2025-02-08 09:45:27",
        lang="hi",
    )
    document = render(article, load_layout())
    assert check_document(document) == []
    post = frontmatter.loads(document)
    assert post.metadata["title"] == one_line(title)
    assert post.metadata["categories"] == [_without_surrogates(source)]
    assert "\n" not in post.metadata["summary"]


@FAST
@given(body=bodies)
@example(body="\u2028\n```")  # a blank-looking paragraph before a fence
def test_clean_body_is_stable(body):
    once = clean_body(body, "https://news.example.com/a/b.html")
    assert clean_body(once, "https://news.example.com/a/b.html") == once
    if "```" not in once and "~~~" not in once:  # code blocks keep their blank lines
        assert "\n\n\n" not in once
