"""Feed and sitemap parsing (pipeline.crawl.listings): real feeds from tests/fixtures/feeds and
the test site's own feeds and sitemaps."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.crawl.feeds import FeedReader, feed_date, parse_feed, read_feed
from pipeline.crawl.listings import (
    FeedError,
    SitemapReader,
    gunzip,
    is_sitemap,
    iso_date,
    parse_sitemap,
    root_name,
)
from pipeline.items import Hints

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
SITE = Path(__file__).parent / "site"
BASE = "http://127.0.0.1:8000"
EXPECTED = json.loads((FEEDS / "expected.json").read_text(encoding="utf-8"))


def site_file(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{base}}", BASE.encode())


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@pytest.mark.parametrize("name", ["rdf-science.rss", "heise.atom", "uol-latin1.rss"])
def test_real_feeds_give_the_golden_links(name: str) -> None:
    links = parse_feed((FEEDS / name).read_bytes(), "https://example.org/feed")
    expected = EXPECTED[name]
    assert len(links) == expected["count"]
    assert [link.url for link in links] == expected["links"]


@pytest.mark.parametrize("name", ["rdf-science.rss", "heise.atom"])
def test_feed_dates_keep_their_offset_and_mean_the_golden_instant(name: str) -> None:
    links = parse_feed((FEEDS / name).read_bytes(), "https://example.org/feed")
    for link, golden in zip(links, EXPECTED[name]["iso_dates"], strict=True):
        assert utc(link.hints.date) == utc(golden)
    assert links[0].hints.date.endswith(("-07:00", "+01:00"))


def test_latin1_feed_is_decoded_by_its_declared_charset() -> None:
    links = parse_feed((FEEDS / "uol-latin1.rss").read_bytes(), "https://uol.com.br/")
    assert links[0].hints.title == (
        "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )


def test_feedburner_entries_give_the_original_link() -> None:
    links = parse_feed((FEEDS / "feedburner.atom").read_bytes(), "https://x.org/")
    expected = EXPECTED["feedburner.atom"]
    assert len(links) == expected["count"]
    assert expected["links"][0].startswith("http://feedproxy.google.com/")
    assert links[0].url == (
        "http://googleadsdeveloper.blogspot.com/2016/06/"
        "adwords-and-dfp-java-client-library.html"
    )
    assert links[0].hints.keywords == ("adwords_api", "client_libraries", "dfp_api")


def test_json_feed() -> None:
    links = parse_feed((FEEDS / "npr.json").read_bytes(), "https://www.npr.org/")
    assert len(links) == 25
    assert links[0].hints == Hints(
        title="Keller Rinaudo: How can delivery drones save lives?",
        date="2021-10-29T10:26:00-04:00",
    )


def test_site_rss_feed_hints() -> None:
    links = parse_feed(site_file("feeds/rss.xml"), f"{BASE}/feeds/rss.xml")
    assert len(links) == 9
    assert links[0].url == f"{BASE}/news/markets-rally.html"
    assert links[0].hints == Hints(
        title="Markets rally as inflation cools for a third month",
        date="2025-03-14T09:30:00+05:30",
        keywords=("Markets", "Inflation"),
        lang="en",
    )
    assert links[3].url.endswith("?utm_source=rss&utm_medium=feed&fbclid=IwAR0abc123")


def test_site_atom_feed_resolves_relative_links() -> None:
    links = parse_feed(site_file("feeds/atom.xml"), f"{BASE}/feeds/atom.xml")
    assert [link.url for link in links][:2] == [
        f"{BASE}/news/startup-funding.html",
        f"{BASE}/news/river-cleanup.html",
    ]
    assert links[0].hints.lang == "en"
    assert (
        links[1].hints.date == "2025-04-27T16:40:00+05:30"
    )  # <updated> when no <published>


def test_news_sitemap_in_the_https_namespace_gives_news_hints() -> None:
    body = gzip.compress(site_file("sitemaps/news.xml"))
    sitemap = parse_sitemap(body, f"{BASE}/sitemaps/news.xml.gz")
    assert sitemap.kind == "urlset"
    assert [link.url.rsplit("/", 1)[1] for link in sitemap.links] == [
        "chess-championship.html",
        "library-reopens.html",
        "old-port-story.html",
    ]
    assert sitemap.links[0].hints == Hints(
        title="Teenager wins national chess title with a round to spare",
        date="2025-05-18T20:15:00+05:30",
        keywords=("chess", "championship", "Chennai"),
        lang="en",
    )
    assert sitemap.links[1].hints.date == "2025-07-02"  # a day stays a day


def test_sitemap_index_lists_child_sitemaps_with_lastmod() -> None:
    sitemap = parse_sitemap(site_file("sitemap-index.xml"), BASE)
    assert sitemap.kind == "index"
    assert [(link.url, link.lastmod) for link in sitemap.links] == [
        (f"{BASE}/sitemaps/news.xml.gz", None),
        (f"{BASE}/sitemaps/archive-2019.xml", "2019-12-31T23:59:00+05:30"),
    ]


def test_plain_gzipped_sitemap() -> None:
    body = (FEEDS / "sitemaps-org.xml.gz").read_bytes()
    sitemap = parse_sitemap(body, "https://www.sitemaps.org/sitemap.xml.gz")
    assert sitemap.kind == "urlset"
    assert len(sitemap.links) == 84
    assert sitemap.links[0].url == "https://www.sitemaps.org/"
    assert sitemap.links[0].lastmod == "2016-11-21"
    assert sitemap.links[0].hints == Hints()


def test_sitemap_without_namespace() -> None:
    body = b"<urlset><url><loc>/a.html</loc></url><url><loc> </loc></url></urlset>"
    sitemap = parse_sitemap(body, "https://news.example/sitemap.xml")
    assert [link.url for link in sitemap.links] == ["https://news.example/a.html"]


def test_root_name_tells_feeds_from_sitemaps() -> None:
    assert root_name(site_file("feeds/rss.xml")) == "rss"
    assert root_name(site_file("feeds/atom.xml")) == "feed"
    assert root_name((FEEDS / "rdf-science.rss").read_bytes()) == "rdf"
    assert is_sitemap((FEEDS / "sitemaps-org.xml.gz").read_bytes())
    assert not is_sitemap(site_file("feeds/rss.xml"))
    assert root_name(b'{"version": "https://jsonfeed.org/version/1"}') == "json"


def test_unreadable_bodies_raise_feed_error() -> None:
    with pytest.raises(FeedError, match="corrupt gzip"):
        gunzip(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(FeedError, match="once unzipped"):
        gunzip(gzip.compress(b"x" * 2000), limit=1000)
    with pytest.raises(FeedError, match="not a sitemap"):
        parse_sitemap(site_file("feeds/rss.xml"), BASE)
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(b"<html><body><p>Hello</p></body></html>", BASE)
    with pytest.raises(FeedError, match="not a JSON feed"):
        parse_feed(b'{"items": 3}', BASE)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("Fri, 14 Mar 2025 09:30:00 +0530", "2025-03-14T09:30:00+05:30"),
        ("2025-03-14T09:30:00Z", "2025-03-14T09:30:00+00:00"),
        ("2025-03-14", "2025-03-14"),
        ("Seg, 24 Set 2018 19:42:40 -0300", None),
        ("yesterday", None),
    ],
)
def test_iso_date(raw: str, iso: str | None) -> None:
    assert iso_date(raw) == iso


# -- one bad entry costs that entry, never its listing ---------------------------

NEWS_NS = (
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
)


def news_entry(n: int, inside: str = "") -> str:
    return (
        f"<url><loc>{BASE}/news/story-{n}.html</loc>{inside}<news:news>"
        f"<news:title>Story {n}{inside}</news:title>"
        "<news:publication_date>2025-05-18T20:15:00+05:30</news:publication_date>"
        "<news:language>en</news:language></news:news></url>"
    )


@pytest.mark.parametrize(
    "quirk",
    ["<!-- edited by hand -->", "<?editor note?>", "&nbsp;", "&undefined;"],
)
def test_a_comment_pi_or_entity_inside_an_entry_costs_nothing(quirk: str) -> None:
    entries = "".join(news_entry(n, quirk if n == 7 else "") for n in range(40))
    body = f'<?xml version="1.0"?><urlset {NEWS_NS}>{entries}</urlset>'.encode()
    links = parse_sitemap(body, BASE).links
    assert [link.url for link in links] == [
        f"{BASE}/news/story-{n}.html" for n in range(40)
    ]
    assert links[7].hints.title == "Story 7"
    assert links[7].hints.lang == "en"


def test_bad_urls_and_dates_are_skipped_and_counted() -> None:
    entries = news_entry(1) + (
        "<url><loc>http://[::1</loc></url>"
        "<url><loc>http://example.org:99999/x</loc></url>"
        "<url><loc>javascript:alert(1)</loc></url>"
        f"<url><loc>{BASE}/news/odd-date.html</loc><lastmod>9999999-99</lastmod></url>"
        "<url><nothing/></url>"
    )
    body = f"<urlset {NEWS_NS}>{entries}</urlset>".encode()
    reader = SitemapReader(body, BASE)
    links = list(reader)
    assert [link.url for link in links] == [
        f"{BASE}/news/story-1.html",
        f"{BASE}/news/odd-date.html",
    ]
    assert links[1].lastmod is None
    assert reader.skipped == 4
    assert reader.error is None


def test_a_sitemap_cut_short_gives_the_entries_before_the_break() -> None:
    entries = "".join(news_entry(n) for n in range(30))
    body = f"<urlset {NEWS_NS}>{entries}</urlset>".encode()
    links = parse_sitemap(body[: len(body) // 2], BASE).links
    assert 10 <= len(links) < 30


def test_a_sitemap_is_read_up_to_the_protocol_limit_and_says_so() -> None:
    entries = "".join(f"<url><loc>{BASE}/a/{n}</loc></url>" for n in range(120))
    body = f"<urlset {NEWS_NS}>{entries}</urlset>".encode()
    reader = SitemapReader(body, BASE, max_urls=100)
    assert len(list(reader)) == 100
    assert reader.truncated
    whole = SitemapReader(body, BASE)
    assert len(list(whole)) == 120
    assert not whole.truncated


def test_json_feed_items_of_the_wrong_types_are_skipped_and_counted() -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "language": 5,
        "items": [
            {"url": 5},
            {"url": ["/x"], "external_url": f"{BASE}/news/external.html"},
            {"url": "/news/a.html", "language": 3, "tags": "abc", "title": 7},
            {"url": "/news/b.html", "date_published": 20250101, "tags": [1, "ok"]},
            "not an item",
            {"url": "http://[::1"},
        ],
    }
    links, skipped = read_feed(json.dumps(feed).encode(), BASE + "/feed.json")
    assert [link.url for link in links] == [
        f"{BASE}/news/external.html",
        f"{BASE}/news/a.html",
        f"{BASE}/news/b.html",
    ]
    assert links[1].hints == Hints()
    assert links[2].hints.keywords == ("ok",)
    assert skipped == 3


def test_a_deeply_nested_json_feed_is_one_feed_error() -> None:
    body = b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(FeedError, match="nested too deeply"):
        read_feed(body, BASE)


def test_a_sitemap_larger_than_the_unzip_limit_gives_the_entries_that_fit() -> None:
    entries = "".join(f"<url><loc>{BASE}/a/{n}</loc></url>" for n in range(1000))
    body = gzip.compress(f"<urlset>{entries}</urlset>".encode())
    with pytest.raises(FeedError, match="once unzipped"):
        gunzip(body, limit=20_000)
    reader = SitemapReader(gunzip(body, limit=20_000, partial=True), BASE)
    links = list(reader)
    assert 400 < len(links) < 1000
    assert reader.error is not None  # so the listing is read in full next time


# -- feeds read as a stream ----------------------------------------------------


def rss_item(n: int, inside: str = "") -> str:
    return (
        f"<item><title>Story {n}{inside}</title>{inside}"
        f"<link>{BASE}/news/story-{n}.html</link>"
        "<pubDate>Sun, 18 May 2025 20:15:00 +0530</pubDate>"
        f"<category>Cat{inside}</category></item>"
    )


def rss(items: str, head: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{head}<rss version="2.0"><channel>'
        f"<title>Feed</title><language>en-in</language>{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    "quirk",
    ["<!-- edited by hand -->", "<?editor note?>", "&nbsp;", "&undefined;"],
)
def test_a_comment_pi_or_entity_inside_a_feed_entry_costs_nothing(quirk: str) -> None:
    items = "".join(rss_item(n, quirk if n == 7 else "") for n in range(40))
    links, skipped = read_feed(rss(items), BASE)
    assert [link.url for link in links] == [
        f"{BASE}/news/story-{n}.html" for n in range(40)
    ]
    assert skipped == 0
    assert links[7].hints.title.startswith("Story 7")
    assert links[7].hints.lang == "en"
    assert links[7].hints.date == "2025-05-18T20:15:00+05:30"


def test_feed_entries_with_bad_urls_or_dates_are_skipped_or_undated() -> None:
    items = rss_item(1) + (
        "<item><title>x</title><link>http://[::1</link></item>"
        "<item><link>http://example.org:99999/x</link></item>"
        "<item><link>javascript:alert(1)</link></item>"
        f"<item><link>{BASE}/news/odd.html</link><pubDate>9999999-99</pubDate></item>"
        "<item><title>no link</title></item>"
    )
    reader = FeedReader(rss(items), BASE)
    links = list(reader)
    assert [link.url for link in links] == [
        f"{BASE}/news/story-1.html",
        f"{BASE}/news/odd.html",
    ]
    assert links[1].hints.date is None
    assert reader.skipped == 4
    assert reader.error is None


def test_dates_feedparser_knows_are_read_in_utc() -> None:
    assert feed_date("Sun, 18 May 2025 20:15:00 +0530") == "2025-05-18T20:15:00+05:30"
    assert feed_date("2025-05-18T20:15+05:30") == "2025-05-18T20:15:00+05:30"
    assert feed_date("Sunday, 18-May-25 14:45:00 GMT") == "2025-05-18T14:45:00+00:00"
    assert feed_date("not a date") is None


def test_a_feed_is_read_as_it_is_consumed_up_to_its_entry_cap() -> None:
    items = "".join(rss_item(n) for n in range(300))
    reader = FeedReader(rss(items), BASE, max_urls=100)
    first = next(iter(reader))
    assert first.url == f"{BASE}/news/story-0.html"
    assert len(list(FeedReader(rss(items), BASE, max_urls=100))) == 100
    capped = FeedReader(rss(items), BASE, max_urls=100)
    list(capped)
    assert capped.truncated
    whole = FeedReader(rss(items), BASE)
    assert len(list(whole)) == 300
    assert not whole.truncated


def test_billion_laughs_expands_nothing() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    ]
    head = f"<!DOCTYPE rss [{''.join(levels)}]>"
    items = rss_item(1) + rss_item(2, "&l9;") + rss_item(3)
    links, _skipped = read_feed(rss(items, head), BASE)
    assert links[0].url == f"{BASE}/news/story-1.html"
    assert all(len(link.hints.title or "") < 100 for link in links)


def test_deep_nesting_and_huge_text_stop_the_feed_there_keeping_what_was_read() -> None:
    deep = "<x>" * 5000 + "</x>" * 5000
    huge = "<description>" + "a" * 11_000_000 + "</description>"
    for hostile in (deep, huge):
        items = rss_item(1) + f"<item>{hostile}</item>" + rss_item(3)
        reader = FeedReader(rss(items), BASE)
        links = list(reader)
        assert links[0].url == f"{BASE}/news/story-1.html"
        assert reader.error is not None or len(links) == 2


def test_an_entry_of_thousands_of_elements_costs_that_entry() -> None:
    crowd = "<item>" + "<x/>" * 6000 + f"<link>{BASE}/news/crowd.html</link></item>"
    reader = FeedReader(rss(rss_item(1) + crowd + rss_item(3)), BASE)
    assert [link.url.rsplit("/", 1)[1] for link in reader] == [
        "story-1.html",
        "story-3.html",
    ]
    assert reader.skipped == 1


def test_a_feed_declaring_latin1_over_utf8_text_is_read_as_utf8() -> None:
    body = rss(rss_item(1)).replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"')
    body = body.replace(b"Story 1", "Will \u2018Delta\u2019 spread".encode())
    assert parse_feed(body, BASE)[0].hints.title == "Will \u2018Delta\u2019 spread"
    latin = rss(rss_item(1)).replace(
        b"Story 1", "Simula\u00e7\u00f5es".encode("latin-1")
    )
    assert parse_feed(latin, BASE)[0].hints.title == "Simula\u00e7\u00f5es"


def test_markup_in_a_title_is_text() -> None:
    title = "invest &lt;span class=&quot;r&quot;&gt;\u20b9&lt;/span&gt;12 crore"
    body = rss(f"<item><title>{title}</title><link>{BASE}/a.html</link></item>")
    assert parse_feed(body, BASE)[0].hints.title == "invest \u20b912 crore"
