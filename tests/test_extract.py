"""extract(): metadata, body markdown, drops and per-source overrides, on pages built here."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.errors import Dropped
from pipeline.extract.article import extract
from pipeline.extract.body import (
    FAST_PASS_ASIDE,
    extract_body,
    head_set_aside,
    outermost,
    set_aside,
)
from pipeline.extract.dates import parse_when, published
from pipeline.extract.decode import decode_html
from pipeline.extract.parse import drop_inert, parse_html
from pipeline.extract.titles import strip_site_name
from pipeline.items import Article, Hints, Page
from pipeline.sources import Source, SourceError
from pipeline.wordcount import count_words

URL = "https://www.example-news.in/india/story-about-the-budget-123.html"
SENTENCES = [
    "The finance minister presented the annual budget in parliament on Saturday morning.",
    "Opposition leaders walked out of the house before the speech had ended, calling it a document for the rich.",
    "Economists said the fiscal deficit target of 4.4 per cent looked achievable if tax collections held up.",
    "Farmers' groups in Punjab and Haryana criticised the absence of a legal guarantee for minimum support prices.",
    "The markets rose by nearly two per cent after the speech, led by banking and infrastructure shares.",
]
BODY = "".join(f"<p>{s} {s}</p>" for s in SENTENCES)


def page(
    body: str = BODY,
    head: str = "",
    url: str = URL,
    lang: str = ' lang="en-IN"',
    ld: dict | None = None,
    hints: Hints | None = None,
    extra: str = "",
) -> Page:
    script = (
        f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    )
    document = (
        f"<!DOCTYPE html><html{lang}><head><meta charset='utf-8'><title>Budget day | Example News</title>"
        f"{head}{script}</head><body><header><nav><a href='/'>Home</a> <a href='/india'>India</a></nav></header>"
        f"<main><article><h1>Budget day</h1>{body}</article></main>{extra}"
        "<footer><p>Copyright 2025 Example News. All rights reserved.</p></footer></body></html>"
    )
    return Page(
        url=url,
        body=document.encode("utf-8"),
        source="example",
        headers={"content-type": "text/html; charset=utf-8"},
        fetched_at="2025-02-01T10:00:00+00:00",
        seen_urls=("https://example-news.in/amp/123",),
        hints=hints or Hints(),
    )


NEWS_LD = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "Example News"},
        {
            "@type": "NewsArticle",
            "headline": "Budget 2025: what the finance minister announced | Example News",
            "datePublished": "2025-02-01T11:05:00+05:30",
            "dateModified": "2025-02-01T13:00:00+05:30",
            "author": [
                {"@type": "Person", "name": "By Asha Rao, Senior Correspondent"},
                {"@type": "Person", "name": "Vikram Singh"},
                {"@type": "Person", "name": "Asha Rao"},
            ],
            "articleSection": "India",
            "keywords": "budget, economy, Budget",
        },
    ],
}


def test_metadata_from_json_ld_and_meta():
    head = (
        '<meta name="description" content="What changes for taxpayers.">'
        '<meta property="og:image" content="/images/budget.jpg">'
        '<link rel="canonical" href="/india/story-about-the-budget-123.html?utm_source=x">'
    )
    article = extract(page(head=head, ld=NEWS_LD))
    assert isinstance(article, Article)
    assert article.title == "Budget 2025: what the finance minister announced"
    assert article.date == "2025-02-01T11:05:00+05:30"
    assert article.date_local == "2025-02-01 11:05:00"
    assert article.modified == "2025-02-01T13:00:00+05:30"
    assert article.authors == ("Asha Rao", "Vikram Singh")
    assert article.image == "https://www.example-news.in/images/budget.jpg"
    assert article.lang == "en"
    assert article.section == "India"
    assert article.keywords == ("budget", "economy")
    assert article.description == "What changes for taxpayers."
    assert article.summary == "What changes for taxpayers."
    assert (
        article.url
        == "https://www.example-news.in/india/story-about-the-budget-123.html?utm_source=x"
    )
    assert article.fetched_url == URL
    assert article.seen_urls == ("https://example-news.in/amp/123", URL)
    assert article.source == "example"
    assert article.fetched_at == "2025-02-01T10:00:00+00:00"


def test_no_description_leaves_summary_empty():
    assert extract(page()).summary == ""


def test_canonical_on_another_site_is_ignored():
    head = '<link rel="canonical" href="https://syndicator.example.org/copy/1">'
    assert extract(page(head=head)).url == URL


def test_title_falls_back_to_title_tag_without_site_name():
    document = page(body=BODY.replace("<h1>", ""))
    assert extract(document).title == "Budget day"


@pytest.mark.parametrize(
    ("title", "names", "want"),
    [
        (
            "Sensex falls 500 points | Business Standard",
            ["Business Standard"],
            "Sensex falls 500 points",
        ),
        (
            "Delhi air quality worsens - Hindustan Times",
            ["hindustantimes"],
            "Delhi air quality worsens",
        ),
        ("NDTV.com: Rain lashes Mumbai", ["ndtv"], "Rain lashes Mumbai"),
        (
            "Anti-terror op turns sinister - a long read",
            ["timesofindia"],
            "Anti-terror op turns sinister - a long read",
        ),
        (
            "«Wir waren fast 40 Tage in Quarantäne»  - Rosa-Luxemburg-Stiftung",
            ["Rosa-Luxemburg-Stiftung"],
            "«Wir waren fast 40 Tage in Quarantäne»",
        ),
        (
            "Rain lashes Mumbai: »It never stopped«",
            ["ndtv"],
            "Rain lashes Mumbai: »It never stopped«",
        ),
        (
            "新聞をスクラップできる「ペン」 ｜ ガジェット通信 GetNews",
            ["getnews"],
            "新聞をスクラップできる「ペン」",
        ),
        ("Rail replacement services -", ["nationalrail"], "Rail replacement services"),
        (
            "Binet met en garde Macron sur la « gravité de la situation »",
            ["lemonde"],
            "Binet met en garde Macron sur la « gravité de la situation »",
        ),
        ("« Il faut agir » | Le Monde", ["Le Monde"], "« Il faut agir »"),
    ],
)
def test_site_names_are_removed_from_titles(title, names, want):
    assert strip_site_name(title, names) == want


def titled_page(title: str, headings: list[str], head: str = "") -> Page:
    """A story page with the given <title>, <h1> elements (in order) and <head> extras."""
    h1s = "".join(f"<h1>{h}</h1>" for h in headings)
    document = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"{head}</head><body><header>{h1s[: h1s.find('</h1>') + 5] if h1s else ''}</header>"
        f"<main><article>{h1s[h1s.find('</h1>') + 5 :] if h1s else ''}{BODY}</article></main>"
        "</body></html>"
    )
    return Page(
        url=URL,
        body=document.encode(),
        source="example",
        headers={"content-type": "text/html"},
    )


def test_a_logo_in_an_h1_is_not_the_headline():
    article = extract(
        titled_page(
            "Outside the web: standalone binaries · V8",
            ["V8", "Outside the web: standalone binaries"],
        )
    )
    assert article.title == "Outside the web: standalone binaries"


def test_a_section_name_in_the_only_h1_gives_way_to_the_title_tag():
    article = extract(
        titled_page(
            "Babies who eat peanuts early may avoid allergy",
            ["Allergies Health Center"],
        )
    )
    assert article.title == "Babies who eat peanuts early may avoid allergy"


def test_an_og_title_that_is_the_site_name_is_passed_over():
    head = '<meta property="og:title" content="Example News"><meta property="og:site_name" content="Example News">'
    article = extract(
        titled_page("Example News", ["Space ship breaks up over Siberia"], head)
    )
    assert article.title == "Space ship breaks up over Siberia"


@pytest.mark.parametrize(
    "tail", [" (Published 2016)", "：朝日新聞デジタル", " ｜ ガジェット通信 GetNews"]
)
def test_a_structured_title_that_is_the_h1_plus_a_tail_gives_the_h1(tail):
    headline = "Suspect arrested in Manhattan and New Jersey bombings"
    head = f'<meta property="og:title" content="{headline}{tail}">'
    article = extract(titled_page(f"{headline} - The Times", [headline], head))
    assert article.title == headline


def test_a_colon_in_the_og_title_after_the_h1_is_part_of_the_headline():
    head = '<meta property="og:title" content="Lust for Youth: Lust for Youth">'
    article = extract(
        titled_page(
            "Lust for Youth: Lust for Youth | Pitchfork", ["Lust for Youth"], head
        )
    )
    assert article.title == "Lust for Youth: Lust for Youth"


@pytest.mark.parametrize("ellipsis", ["...", "…", " …"])
def test_a_headline_cut_short_is_completed_by_the_page_s_whole_headline(ellipsis):
    headline = "Tsai's political playbook should be essential reading for Carrie Lam"
    head = f'<meta property="og:title" content="{headline[:50]}{ellipsis}">'
    article = extract(
        titled_page(f"{headline} | South China Morning Post", [headline], head)
    )
    assert article.title == headline


def test_a_headline_that_ends_in_an_ellipsis_keeps_it_when_nothing_completes_it():
    headline = "And then the lights went out..."
    head = f'<meta property="og:title" content="{headline}">'
    article = extract(titled_page(f"{headline} | The Times", [headline], head))
    assert article.title == headline


def test_invisible_characters_are_removed_from_titles():
    head = '<meta property="og:title" content="Ein bisschen\u00adFortschritt\u200b">'
    article = extract(titled_page("x", ["y"], head))
    assert article.title == "Ein bisschenFortschritt"


KOLKATA = Source(
    name="example", domains=("example-news.in",), feeds=("x",), timezone="Asia/Kolkata"
)


def test_time_without_offset_takes_the_source_timezone():
    head = '<meta property="article:published_time" content="2025-02-01 09:30:00">'
    article = extract(page(head=head), KOLKATA)
    assert article.date == "2025-02-01T09:30:00+05:30"
    assert article.date_local == "2025-02-01 09:30:00"


def test_utc_time_is_shown_in_the_source_timezone():
    head = '<meta property="article:published_time" content="2025-02-01T04:00:00Z">'
    article = extract(page(head=head), KOLKATA)
    assert article.date == "2025-02-01T04:00:00+00:00"
    assert article.date_local == "2025-02-01 09:30:00"


def test_date_only_never_gets_a_time():
    head = '<meta name="date" content="2025-02-01">'
    article = extract(page(head=head))
    assert (article.date, article.date_local) == ("2025-02-01", "2025-02-01")


def test_the_modified_date_stands_in_when_no_publication_date_is_stated():
    head = '<meta property="article:modified_time" content="2025-02-03T09:00:00+05:30">'
    article = extract(page(head=head))
    assert article.date == article.modified == "2025-02-03T09:00:00+05:30"


def test_a_date_standing_alone_in_the_page_is_read_when_nothing_else_states_one():
    article = extract(page(body=BODY + "<p>Benni<br>10. September 2017</p>"))
    assert article.date == "2017-09-10"


def test_a_utc_date_is_given_in_the_offset_the_page_shows_it_in():
    head = '<meta property="article:published_time" content="2020-02-25T02:25:54Z">'
    byline = '<span class="date">February 24, 2020 | 9:25pm</span>'
    article = extract(page(head=head, body=byline + BODY))
    assert article.date == "2020-02-24T21:25:54-05:00"
    assert article.date_local == "2020-02-24 21:25:54"


def test_a_utc_date_stays_utc_when_the_page_shows_no_matching_local_time():
    head = '<meta property="article:published_time" content="2020-02-25T02:25:54Z">'
    byline = '<span class="date">February 24, 2020 | 9:40pm</span>'
    article = extract(page(head=head, body=byline + BODY))
    assert article.date == "2020-02-25T02:25:54+00:00"


@pytest.mark.parametrize(
    ("lang", "want"),
    [
        (' lang="en-GB"', "2020-10-02"),
        (' lang="en-US"', "2020-02-10"),
        ("", "2020-02-10"),
    ],
)
def test_slashed_dates_are_read_in_the_page_locale_order(lang, want):
    byline = '<span class="date">02/10/2020</span>'
    assert extract(page(body=byline + BODY, lang=lang)).date == want


def test_a_date_after_the_headline_beats_one_in_the_header():
    header = "<div>Sunday, January 19, 2020</div>"
    document = page(body="<p>14.01.2022</p>" + BODY)
    html = document.body.decode().replace("<body>", f"<body>{header}")
    article = extract(Page(url=URL, body=html.encode(), source="example", headers={}))
    assert article.date == "2022-01-14"


def test_a_list_of_dated_teasers_is_not_the_page_date():
    teasers = "".join(
        f'<li><a href="/s{i}">Story {i}</a> <span class="date">{d}.05.2026</span></li>'
        for i, d in enumerate((22, 19, 12))
    )
    head = '<meta property="article:modified_time" content="2026-05-13T15:44:00+02:00">'
    article = extract(page(head=head, extra=f"<aside><ul>{teasers}</ul></aside>"))
    assert article.date == "2026-05-13T15:44:00+02:00"


def test_feed_date_is_the_fallback():
    article = extract(page(hints=Hints(date="Sat, 01 Feb 2025 06:15:00 +0530")))
    assert article.date == "2025-02-01T06:15:00+05:30"
    assert article.date_local == "2025-02-01 06:15:00"


@pytest.mark.parametrize(
    ("value", "date", "local"),
    [
        (
            "2024-09-02T17:07:00+05:30",
            "2024-09-02T17:07:00+05:30",
            "2024-09-02 17:07:00",
        ),
        (
            "2024-05-03T15:47:42.389000+00:00",
            "2024-05-03T15:47:42+00:00",
            "2024-05-03 15:47:42",
        ),
        (
            "2024-09-02T17:07:00+0530",
            "2024-09-02T17:07:00+05:30",
            "2024-09-02 17:07:00",
        ),
        (
            "Tue, 07 Apr 2020 15:49:34 +0530",
            "2020-04-07T15:49:34+05:30",
            "2020-04-07 15:49:34",
        ),
        ("Oct 9, 2019, 11:05 IST", "2019-10-09T11:05:00+05:30", "2019-10-09 11:05:00"),
        ("2019-10-09", "2019-10-09", "2019-10-09"),
        ("03.02.2022", "2022-02-03", "2022-02-03"),
        (
            "Veröffentlicht am 24.04.2023, 10:15",
            "2023-04-24T10:15:00",
            "2023-04-24 10:15:00",
        ),
        ("2019年04月21日 12時00分更新", "2019-04-21T12:00:00", "2019-04-21 12:00:00"),
        ("2019年4月4日", "2019-04-04", "2019-04-04"),
        ("April 5, 2018 | 6:00 PM", "2018-04-05T18:00:00", "2018-04-05 18:00:00"),
        ("Mar 12, 2020 @ 10:42 am", "2020-03-12T10:42:00", "2020-03-12 10:42:00"),
        (
            "Thursday, December 22, 2016, 06:47 PM",
            "2016-12-22T18:47:00",
            "2016-12-22 18:47:00",
        ),
    ],
)
def test_date_formats(value, date, local):
    assert published(parse_when(value)) == (date, local)


@pytest.mark.parametrize(
    "value", ["", "yesterday", "1850-01-01", "99999", "not a date 12:30"]
)
def test_non_dates_are_refused(value):
    assert parse_when(value) is None


@pytest.mark.parametrize("value", ["Jul 2012", "2012", "July 2012 12:30", "12/2019"])
def test_a_date_without_its_day_is_no_date(value):
    """dateutil would take the missing day (and month) from the day of the run."""
    assert parse_when(value) is None


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("January 1, 2000", "2000-01-01"),
        ("1 Jan 2021 09:00", "2021-01-01"),
        ("Feb 2, 2001", "2001-02-02"),
    ],
)
def test_dates_on_either_default_are_dates(value, day):
    """The defaults that tell a missing field: dates on them are still read."""
    assert published(parse_when(value))[0].startswith(day)


def test_language_detected_when_undeclared():
    pytest.importorskip("py3langid")
    hindi = (
        "<p>"
        + "समस्तीपुर के बंगरा थाना क्षेत्र के रहीमाबाद गांव में हुई चोरी का पुलिस ने खुलासा कर दिया है। "
        * 8
        + "</p>"
    )
    source = Source(
        name="example", domains=("example-news.in",), feeds=("x",), lang="en"
    )
    assert extract(page(body=hindi, lang=""), source).lang == "hi"


def test_source_language_when_nothing_else_is_known():
    source = Source(
        name="example", domains=("example-news.in",), feeds=("x",), lang="ta"
    )
    numbers = "<p>" + " ".join(str(n * 7919) for n in range(80)) + "</p>"
    assert extract(page(body=numbers, lang=""), source).lang == "ta"


def test_body_markdown_keeps_structure_and_drops_furniture():
    body = (
        BODY[:300]
        + "<p>He said the plan was <b>bold</b> and <i>overdue</i>, see <a href='/india/older-story'>the earlier report</a>"
        " and <a href='javascript:void(0)'>this widget</a>.</p>"
        + "<h2>What it means for you</h2>"
        + "<ul><li>Income tax slabs change</li><li>Standard deduction rises</li></ul>"
        + "<blockquote><p>This budget is for the middle class, the minister said in her speech.</p></blockquote>"
        + "<p><b>ALSO READ: <a href='https://www.example-news.in/economy/gdp'>GDP grows 6.4%</a></b></p>"
        + "<p>Share this article on Facebook Twitter WhatsApp</p>"
        + BODY[300:]
        + "<p>Sign up for our daily newsletter to get the news in your inbox</p>"
    )
    article = extract(page(body=body))
    md = article.body_md
    assert "**bold**" in md
    assert "*overdue*" in md
    assert "[the earlier report](https://www.example-news.in/india/older-story)" in md
    assert "this widget" in md
    assert "javascript:" not in md
    assert "## What it means for you" in md
    assert "- Income tax slabs change\n- Standard deduction rises" in md
    assert "> This budget is for the middle class" in md
    assert "[GDP grows 6.4%](https://www.example-news.in/economy/gdp)" in md
    assert "ALSO READ" in md
    assert "Share this article" not in md
    assert "newsletter" not in md
    assert "Copyright" not in md
    assert "Home" not in article.text.split("\n\n")[0]
    assert not md.startswith("Budget day")
    text = article.text
    assert "the earlier report" in text
    assert "](" not in text
    assert "**" not in text
    assert "\n\n" in text


BY_ASHA_RAO = {
    "@type": "NewsArticle",
    "author": {"@type": "Person", "name": "Asha Rao"},
}


@pytest.mark.parametrize(
    "above",
    [
        "<p><a href='/india'>India</a></p><h2>Budget day</h2>",  # section, then headline
        "<p><a href='/tag/tax'>Tax</a>, <a href='/tag/budget'>Budget</a>,"
        " <a href='/tag/parliament'>Parliament</a>,</p>",  # a tag list
        "<p>Skip to main content</p>",
        "<p>Main Content</p>",
        "<p>Saturday, 1 Feb 2025</p>",  # a date line
        "<p>Illustration by Mike Nudelman</p>",
        "<p>Courtesy Press Information Bureau</p>",
        "<p>Credit...Ed Murray/NJ Advance Media</p>",
        "<p>Supported by</p>",
        "<h5>11/28/2016 11:00 AM PT</h5>",
        "<p>By <a href='/author/asha-rao'>Asha Rao</a> | last updated</p>",  # a byline
    ],
)
def test_furniture_above_the_story_is_dropped(above):
    article = extract(page(body=above + BODY, ld=BY_ASHA_RAO))
    assert article.authors == ("Asha Rao",)
    assert article.text.split("\n\n")[0] == f"{SENTENCES[0]} {SENTENCES[0]}"


@pytest.mark.parametrize(
    ("values", "want"),
    [
        (
            ["Elena Oberholzer (obe), Oliver Maksan (oma"],
            ("Elena Oberholzer", "Oliver Maksan"),
        ),
        (["Grant Tinsley, PhD"], ("Grant Tinsley",)),
        (["Emma Mackenzie", "(Image: Getty Images/iStockphoto)"], ("Emma Mackenzie",)),
        (["Sophie Foster", "sophie-foster"], ("Sophie Foster",)),
        (["By GILLIAN MOHNEY March 11, 2015 3:46 PM"], ("GILLIAN MOHNEY",)),
        (["Andrew Zonenberg", "View my complete profile"], ("Andrew Zonenberg",)),
        (["Autori: Anna Ūdre (LTV ārzemju ziņu redaktore)"], ("Anna Ūdre",)),
        (
            ["Bruno (Henrique Zecchin) Rodrigues"],
            ("Bruno (Henrique Zecchin) Rodrigues",),
        ),
        (["Example News (www.example-news.in)"], ()),
        (["Jane Doe (ex)"], ("Jane Doe",)),  # initials that happen to be in the host
        (["Jane Doe ()"], ("Jane Doe",)),
        (["No Author"], ()),
        (["Pete Evans · Example News · Last Updated: Oct 16, 2018"], ("Pete Evans",)),
        (["Last Updated: Oct 16, 2018"], ()),
        (["Our Foreign Staff"], ()),
        (["Kooman, F."], ("Kooman",)),
        (["신현주 기자"], ("신현주",)),
        (["山田太郎記者"], ("山田太郎",)),
    ],
)
def test_author_names_are_cleaned(values, want):
    head = "".join(f'<meta name="author" content="{value}">' for value in values)
    assert extract(page(head=head)).authors == want


def test_an_author_linked_to_their_own_page_is_the_author():
    byline = (
        "<p><a href='/author/profile'>Profile</a> "
        "<a href='/author/jody-robbins/'>Jody Robbins</a></p>"
    )
    assert extract(page(body=byline + BODY)).authors == ("Jody Robbins",)


def test_a_list_of_other_stories_writers_is_not_the_byline():
    columnists = "".join(
        f"<li><a href='/author/{name.lower().replace(' ', '-')}'>{name}</a></li>"
        for name in ("Mary Dejevsky", "Robert Fisk", "Mark Steel", "Shappi Khorsandi")
    )
    assert extract(page(extra=f"<aside><ul>{columnists}</ul></aside>")).authors == ()


def test_a_first_sentence_that_names_the_author_is_story():
    first = "Asha Rao watched the speech from the press gallery."
    article = extract(page(body=f"<p>{first}</p>" + BODY, ld=BY_ASHA_RAO))
    assert article.text.split("\n\n")[0] == first


def test_a_paragraph_that_starts_with_a_date_is_story():
    first = "1 Feb 2025 will be remembered as the day the deficit target was met."
    article = extract(page(body=f"<p>{first}</p>" + BODY))
    assert article.text.split("\n\n")[0] == first


def test_figure_captions_inside_the_story_are_left_out():
    figure = (
        "<figure><img src='/a.jpg'><figcaption>Farmers at a protest site near the Shambhu border on Friday."
        "</figcaption></figure>"
    )
    paragraphs = [f"<p>{s} {s}</p>" for s in SENTENCES]
    body = "".join(paragraphs[:2]) + figure + "".join(paragraphs[2:])
    article = extract(page(body=body))
    assert "Shambhu" not in article.text
    assert article.text.split("\n\n") == [f"{s} {s}" for s in SENTENCES]


def test_text_around_inline_icons_and_scripts_stays_in_its_paragraph():
    inline = (
        "<p>Shares rose <svg viewBox='0 0 8 8'><path d='M0 8L4 0L8 8z'/></svg> 2.1 per cent"
        " on the day<script>track('budget')</script> the budget was read, <style>p{}</style>"
        "brokers said.</p>"
    )
    article = extract(page(body=inline + BODY))
    paragraph = article.text.split("\n\n")[0]
    assert paragraph == (
        "Shares rose 2.1 per cent on the day the budget was read, brokers said."
    )
    assert "track(" not in article.body_md


def test_json_ld_article_body_survives_for_the_fallbacks():
    # scripts are removed before trafilatura runs, but for JSON-LD, which its own
    # baseline reads the articleBody from
    ld = {
        "@type": "NewsArticle",
        "headline": "Budget day",
        "articleBody": " ".join(SENTENCES * 3),
    }
    article = extract(page(body="<div></div>", ld=ld))
    assert "Farmers' groups in Punjab and Haryana" in article.text


def test_json_ld_article_body_repairs_a_teaser_extraction():
    full = " ".join(SENTENCES * 3)
    ld = {"@type": "NewsArticle", "headline": "Budget day", "articleBody": full}
    teaser = "<p>The finance minister presented the budget.</p><p>Subscribe to read the full story.</p>"
    article = extract(page(body=teaser, ld=ld))
    assert "Farmers' groups in Punjab and Haryana" in article.text


def test_too_little_text_is_no_text():
    with pytest.raises(Dropped) as dropped:
        extract(page(body="<p>Only a line of text here.</p>"))
    assert dropped.value.reason == "no-text"


HOME_AND_LISTING_URLS = [
    "https://www.example-news.in/",
    "https://www.example-news.in/tag/budget",
    "https://www.example-news.in/topics/economy/",
]
# URLs of real stories that look like home pages or listings by their path alone
STORY_URLS = [
    "https://www.example-news.in/index.jsp?storyID=331739",
    "https://www.example-news.in/?fSectionId=1016&fArticleId=88231",
    "https://www.example-news.in/index.php?page=info&article=463501",
    "https://www.example-news.in/index.cfm?sid=99390&sc=49",
    "https://www.example-news.in/category/story.cfm?objectid=12345",
    "https://www.example-news.in/archives/009849.html",
    "https://www.example-news.in/site/topics/article.asp?id=7",
    *HOME_AND_LISTING_URLS,
]


def teaser_grid(count: int = 30) -> str:
    """A home page's body: headlines that link to stories, a line of teaser each."""
    return "".join(
        f'<div class="card"><h3><a href="/india/story-{i}">Budget story number {i} '
        f"headline</a></h3><p>Short teaser {i}.</p></div>"
        for i in range(count)
    )


@pytest.mark.parametrize("url", STORY_URLS)
def test_a_story_is_stored_whatever_its_url_looks_like(url):
    article = extract(page(url=url))
    assert SENTENCES[2] in article.text


@pytest.mark.parametrize("url", HOME_AND_LISTING_URLS)
def test_home_and_tag_pages_without_a_story_are_not_articles(url):
    with pytest.raises(Dropped) as dropped:
        extract(page(body=teaser_grid(), url=url))
    assert dropped.value.reason == "not-article"


LINK_INDEXES = {
    "spaces": " ".join(f'<a href="/s/{i}">Headline {i}</a>' for i in range(300)),
    "list": "<ul>"
    + "".join(f'<li><a href="/s/{i}">Headline {i}</a></li>' for i in range(300))
    + "</ul>",
    "divs": "".join(
        f'<div><a href="/s/{i}">Headline {i}</a></div>' for i in range(300)
    ),
    "paragraphs": "".join(
        f'<p><a href="/s/{i}">Headline {i}</a></p>' for i in range(300)
    ),
}


@pytest.mark.parametrize("links", LINK_INDEXES.values(), ids=LINK_INDEXES.keys())
@pytest.mark.parametrize("head", ["", "<title>Links</title>"])
def test_a_page_of_bare_links_is_not_an_article_whatever_its_url(links, head):
    document = (
        f"<html><head>{head}</head><body><article>{links}</article></body></html>"
    )
    with pytest.raises(Dropped) as dropped:
        extract(Page(url=URL, body=document.encode(), source="x"))
    assert dropped.value.reason == "not-article"


def test_a_story_with_related_links_below_is_kept():
    related = (
        "<ul>"
        + "".join(
            f'<li><a href="/s/{i}">Related headline {i}</a></li>' for i in range(40)
        )
        + "</ul>"
    )
    article = extract(page(body=BODY + related))
    assert SENTENCES[4] in article.text


def test_a_collection_page_is_not_an_article():
    ld = {"@type": "CollectionPage", "name": "Latest news"}
    with pytest.raises(Dropped) as dropped:
        extract(
            page(
                body=teaser_grid(),
                ld=ld,
                url="https://www.example-news.in/latest-news",
            )
        )
    assert dropped.value.reason == "not-article"


def test_a_story_declared_as_a_collection_is_kept():
    ld = {"@type": "CollectionPage", "name": "Budget day"}
    article = extract(page(ld=ld, url="https://www.example-news.in/latest-news"))
    assert SENTENCES[0] in article.text


@pytest.mark.parametrize(
    ("ld", "detail"),
    [
        ({"@type": "LiveBlogPosting", "headline": "Live: budget"}, "live-blog"),
        (
            {"@type": "NewsArticle", "headline": "x", "isAccessibleForFree": False},
            "paywall",
        ),
    ],
)
def test_stubs_are_not_articles(ld, detail):
    stub = (
        "<p>"
        + " ".join(["Budget coverage continues through the day with updates."] * 5)
        + "</p>"
    )
    with pytest.raises(Dropped) as dropped:
        extract(page(body=stub, ld=ld))
    assert dropped.value.reason == "not-article"
    assert detail in dropped.value.detail


VIDEO_HEAD = '<meta property="og:type" content="video.other">'
VIDEO_LD = {"@type": "VideoObject", "name": "Budget day", "contentUrl": "/v/budget.mp4"}


@pytest.mark.parametrize(("head", "ld"), [(VIDEO_HEAD, None), ("", VIDEO_LD)])
def test_a_video_page_with_next_to_no_text_is_not_an_article(head, ld):
    body = "<video src='/v/budget.mp4'></video><p>Watch the budget speech.</p>"
    with pytest.raises(Dropped) as dropped:
        extract(page(body=body, head=head, ld=ld))
    assert (dropped.value.reason, dropped.value.detail) == ("not-article", "video page")


@pytest.mark.parametrize(("head", "ld"), [(VIDEO_HEAD, None), ("", VIDEO_LD)])
def test_a_video_page_with_a_description_is_stored_as_a_short_story(head, ld):
    description = f"<p>{SENTENCES[0]} {SENTENCES[1]} {SENTENCES[2]}</p>"
    article = extract(
        page(body="<video src='/v/budget.mp4'></video>" + description, head=head, ld=ld)
    )
    assert article.text == f"{SENTENCES[0]} {SENTENCES[1]} {SENTENCES[2]}"


def scripted_story() -> str:
    """A client-rendered page's script: the story as an escaped string (Next.js)."""
    story = "".join(f"<p>{s} {s}</p>" for s in SENTENCES)
    return f"<script>self.__next_f.push({json.dumps([1, story])})</script>"


def test_a_story_that_scripts_render_is_read_from_their_data():
    article = extract(page(body="<div id='app'></div>", extra=scripted_story()))
    assert article.text.split("\n\n") == [f"{s} {s}" for s in SENTENCES]
    assert article.title == "Budget day"


def test_a_paywall_stub_stays_a_stub_whatever_its_scripts_hold():
    ld = {"@type": "NewsArticle", "headline": "x", "isAccessibleForFree": False}
    with pytest.raises(Dropped) as dropped:
        extract(page(body="<p>Subscribe to read.</p>", ld=ld, extra=scripted_story()))
    assert "paywall" in dropped.value.detail


def test_prune_xpaths_remove_elements_before_extraction():
    body = (
        BODY
        + '<div class="promo-box"><p>'
        + SENTENCES[0].replace("finance", "promotional")
        + " " * 3
        + "Buy our annual subscription with a discount offer today only.</p></div>"
    )
    plain = extract(page(body=body))
    source = Source(
        name="example",
        domains=("example-news.in",),
        feeds=("x",),
        prune_xpaths=('//div[@class="promo-box"]',),
    )
    pruned = extract(page(body=body), source)
    assert "annual subscription" in plain.text
    assert "annual subscription" not in pruned.text


def test_body_xpath_picks_the_element_holding_the_body():
    other = "".join(
        f"<p>{s.replace('budget', 'cricket match')} Sidebar copy.</p>"
        for s in SENTENCES
    )
    extra = f'<aside class="more"><h2>Also on the site</h2>{other}{other}</aside>'
    source = Source(
        name="example",
        domains=("example-news.in",),
        feeds=("x",),
        body_xpath='//div[@id="story"]',
    )
    article = extract(page(body=f'<div id="story">{BODY}</div>', extra=extra), source)
    assert "Sidebar copy" not in article.text
    assert SENTENCES[2] in article.text


@pytest.mark.parametrize("xpath", ["//div[", "//p[foo()]"])
def test_a_bad_source_xpath_is_a_source_error(xpath):
    source = Source(
        name="example",
        domains=("example-news.in",),
        feeds=("x",),
        prune_xpaths=(xpath,),
    )
    with pytest.raises(SourceError, match=re.escape(xpath)):
        extract(page(), source)


def test_a_source_xpath_selecting_no_element_prunes_nothing():
    source = Source(
        name="example",
        domains=("example-news.in",),
        feeds=("x",),
        prune_xpaths=("count(//p)",),
    )
    assert SENTENCES[0] in extract(page(), source).text


def test_a_three_letter_headline_is_kept():
    article = extract(
        page(
            body=BODY.replace("<h1>", ""),
            head="",
            ld={"@type": "NewsArticle", "headline": "CON"},
        )
    )
    assert article.title == "CON"


def test_references_to_control_characters_do_not_empty_the_body():
    body = "<p>NUL &#0; and escape &#27; and &#x1F; inside.</p>" + BODY
    article = extract(page(body=body))
    assert SENTENCES[0] in article.text
    assert "\x00" not in article.text


def test_thousands_of_links_are_a_list_even_with_article_markup():
    links = "".join(
        f'<a href="/news/s{i}">Story {i} headline</a> ' for i in range(2_000)
    )
    head = '<meta property="og:type" content="article">'
    with pytest.raises(Dropped) as dropped:
        extract(page(body=f"<p>{links}</p>", head=head))
    assert dropped.value.reason == "not-article"


def test_deep_nesting_is_handled_quickly():
    deep = (
        b"<html><body>"
        + b"<div>" * 10_000
        + b"<p>"
        + (" ".join(SENTENCES)).encode() * 3
        + b"</p>"
        + b"</div>" * 10_000
        + b"</body></html>"
    )
    started = time.perf_counter()
    try:
        extract(Page(url=URL, body=deep, source="x"))
    except Dropped:
        pass
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body><p>unclosed <b><i>" + b"text " * 100,
        b"</p></div></html><html><html><body>" + b"<td>cell " * 200,
        b"<?xml version='1.0' encoding='utf-8'?><rss><channel><item>x</item></channel></rss>",
        b"<!-- only a comment -->",
        b"just some plain text without markup " * 20,
        b"<html><head><script type='application/ld+json'>{broken json,,</script></head><body></body></html>",
    ],
)
def test_broken_input_gives_an_article_or_dropped(body):
    reasons = {
        "empty",
        "binary",
        "not-html",
        "too-large",
        "broken-html",
        "not-article",
        "no-text",
    }
    try:
        result = extract(Page(url=URL, body=body, source="x"))
    except Dropped as dropped:
        reason = dropped.reason
    else:
        reason = None
        assert isinstance(result, Article)
    assert reason is None or reason in reasons


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=3000)
    | st.text(max_size=3000).map(
        lambda t: f"<html><body><p>{t}</p></body></html>".encode(
            "utf-8", "surrogatepass"
        )
    )
)
def test_any_bytes_give_an_article_or_dropped(body):
    try:
        result = extract(Page(url=URL, body=body, source="x"))
    except Dropped:
        return
    assert isinstance(result, Article)


def test_relative_links_resolve_against_the_page_url():
    links = (
        '<p>More in <a href="leben/">this section</a>, the <a href="#comments">comments</a>'
        ' and <a href="/india/other-story.html">another story</a>.</p>'
    )
    article = extract(page(body=BODY + links))
    assert "[this section](https://www.example-news.in/india/leben/)" in article.body_md
    assert f"[comments]({URL}#comments)" in article.body_md
    assert "[another story](https://www.example-news.in/india/other-story.html)" in (
        article.body_md
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("The finance minister spoke.", 4),
        ("U.S. budget, 2025", 4),
        ("宇航员在太空中喝酒", 5),
        ("Intel NUCで最新SSDを比較", 6),
        ("", 0),
    ],
)
def test_words_are_counted_in_spaced_and_unspaced_scripts(text, words):
    assert count_words(text) == words


def test_a_front_page_that_declares_itself_a_website_is_not_an_article():
    head = '<meta property="og:type" content="website">'
    with pytest.raises(Dropped) as dropped:
        extract(page(head=head, url="https://www.example-news.in/"))
    assert "declares a website" in dropped.value.detail
    assert SENTENCES[0] in extract(page(head=head)).text  # at a story's URL: kept


def test_each_paragraph_once_in_nested_layouts_and_repeated_blocks():
    story = "".join(f"<p>{s}</p>" for s in SENTENCES)
    nested = f"<table><tr><td>{' '.join(SENTENCES)}</td></tr></table>"
    caption = "<p>The finance minister arrives at parliament with the budget.</p>"
    body = story + story + nested + caption + caption
    article = extract(page(body=body))
    for sentence in SENTENCES:
        assert article.text.count(sentence) == 1
    assert article.text.count("arrives at parliament") == 1


def test_paragraphs_marked_only_by_breaks_become_paragraphs_and_subheadings():
    runs = [
        SENTENCES[0],
        SENTENCES[1],
        '<span class="strong">What the markets did</span>',
        SENTENCES[4],
        '<span class="id-r-component br"></span>' + SENTENCES[2],
    ]
    body = f"<div class='story'>{'<br/>'.join(runs)}</div>"
    article = extract(page(body=body))
    assert article.body_md.split("\n\n") == [
        SENTENCES[0],
        SENTENCES[1],
        "### What the markets did",
        SENTENCES[4],
        SENTENCES[2],
    ]


def test_a_menu_of_links_separated_by_breaks_is_left_alone():
    menu = "<br>".join(f"<a href='/s/{i}'>Section {i}</a>" for i in range(10))
    article = extract(page(body=BODY + f"<div class='menu'>{menu}</div>"))
    assert "Section 3" not in article.text.split("\n\n")[0]


@pytest.mark.parametrize(
    "line",
    [
        "This story is from October 9, 2019",
        "Start a Conversation",
        "end of article",
        "Read this story in Bengali",
        "View this post on Instagram",
        "26 Comments on this Story",
        "Image credit: www.apple.com/in/",
        "Agencies",
        "2/5",
        "3 / 11",
        "Already a Member? Sign In Now",
        "{{{short}}}",
    ],
)
def test_furniture_lines_are_removed(line):
    body = "".join(f"<p>{s}</p><p>{line}</p>" for s in SENTENCES)
    article = extract(page(body=body))
    assert article.text.split("\n\n") == SENTENCES


def test_zero_width_spaces_are_removed_and_video_promos_after_the_story():
    body = (
        f"<p>\u200b{SENTENCES[0]}</p>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES[1:])
        + "<p><i>Watch</i> India and Pakistan should talk, says China</p>"
    )
    article = extract(page(body=body))
    assert article.text.split("\n\n") == SENTENCES


def test_a_bold_dateline_joins_its_paragraph_and_a_repeated_standfirst_goes():
    standfirst = SENTENCES[1]
    body = (
        f"<h2>{standfirst}</h2><p><b>New Delhi:</b></p>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES)
        + "<p>How about a quick survey to help us improve our services?</p>"
    )
    article = extract(page(body=body))
    paragraphs = article.body_md.split("\n\n")
    assert paragraphs[0] == f"**New Delhi:** {SENTENCES[0]}"
    assert article.text.count(standfirst) == 1
    assert "survey" not in article.text


def test_the_head_is_set_aside_while_the_body_is_extracted_and_put_back():
    document = page(
        head='<meta name="date" content="2025-02-01"><link rel="canonical" href="/c">'
        "<noscript><img src='/pixel.gif'></noscript>",
        ld=NEWS_LD,
    )
    tree = parse_html(decode_html(document.body, "text/html"))
    drop_inert(tree)
    before, head = etree.tostring(tree), etree.tostring(tree.find("head"))
    with head_set_aside(tree):
        assert [child.tag for child in tree.find("head")] == ["script"]
    assert etree.tostring(tree) == before
    blocks, _ = extract_body(tree, URL, "Budget day", {}, ())  # changes only the body
    assert etree.tostring(tree.find("head")) == head
    assert "Budget day | Example News" not in " ".join(b.text for b in blocks)


def test_the_head_comes_back_when_extraction_fails():
    tree = parse_html(
        "<html><head><title>T</title><meta name='a'></head><body><p>x</p></body></html>"
    )
    with pytest.raises(RuntimeError), head_set_aside(tree):
        raise RuntimeError("extraction failed")
    assert [child.tag for child in tree.find("head")] == ["title", "meta"]


def test_only_the_outermost_of_nested_elements_are_set_aside():
    tree = parse_html(
        "<html><body><nav id='a'><ul><li><nav id='b'>x</nav></li></ul></nav>"
        "<article><p>story</p><aside id='c'><select id='d'></select></aside></article>"
        "<button id='e'>Share</button></body></html>"
    )
    found = outermost(tree, FAST_PASS_ASIDE)
    assert [element.get("id") for element in found] == ["a", "c", "e"]


def test_elements_set_aside_come_back_with_their_tails_even_after_an_error():
    tree = parse_html(
        "<html><body><p>Before <nav><a href='/x'>Home</a></nav> after the nav.</p>"
        "<aside><p>Related</p></aside>tail text<p>End</p></body></html>"
    )
    before = etree.tostring(tree)
    seen = []

    def extraction_that_fails() -> None:
        with set_aside(outermost(tree, FAST_PASS_ASIDE)):
            seen.append(etree.tostring(tree))
            raise RuntimeError("extraction failed")

    with pytest.raises(RuntimeError):
        extraction_that_fails()
    assert seen == [
        b"<html><body><p>Before <nav/> after the nav.</p>"
        b"<aside/>tail text<p>End</p></body></html>"
    ]
    assert etree.tostring(tree) == before
