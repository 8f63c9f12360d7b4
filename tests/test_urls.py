"""The ground-floor rules every stage shares: absolute URLs, language codes, slugs."""

import pytest

from pipeline.langs import language_code
from pipeline.slugs import slugify
from pipeline.urls import WEB_SCHEMES, absolute, join

BASE = "https://news.example/world/story.html"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/a/b.html", "https://news.example/a/b.html"),
        ("  c.html\n", "https://news.example/world/c.html"),
        ("//cdn.example/i.jpg", "https://cdn.example/i.jpg"),
        ("HTTP://Other.example/x", "HTTP://Other.example/x"),
        ("javascript:alert(1)", None),
        ("mailto:desk@news.example", None),
        ("http://[::1", None),  # does not parse
        ("", None),
        (None, None),
    ],
)
def test_absolute_urls(url, expected):
    assert absolute(url, BASE) == expected


def test_schemes_are_the_callers_choice_and_join_does_not_trim():
    mail = frozenset(WEB_SCHEMES | {"mailto"})
    assert (
        absolute("mailto:desk@news.example", BASE, mail) == "mailto:desk@news.example"
    )
    assert join("\xa0x.html", BASE) == "https://news.example/world/\xa0x.html"
    assert absolute("\xa0x.html", BASE) == "https://news.example/world/x.html"


@pytest.mark.parametrize(
    ("tag", "two_letters", "expected"),
    [
        ("en", False, "en"),
        (" en-GB ", False, "en"),
        ("hi_IN", False, "hi"),
        ("zh-Hant-TW", True, "zh"),
        ("ENG", False, "eng"),
        ("eng", True, None),
        ("english", False, None),
        ("en-", False, None),
        ("", False, None),
        (None, False, None),
        (["en"], False, None),
    ],
)
def test_language_codes(tag, two_letters, expected):
    assert language_code(tag, two_letters) == expected


def test_slugs_are_ascii_words_cut_at_a_hyphen():
    assert slugify("Élection: le résultat, enfin!") == "election-le-resultat-enfin"
    assert slugify("one two three", limit=9) == "one-two"
