"""justext's stop-list of all languages lower-cased once (pipeline.extract.stoplists):
the same set justext builds, the same articles, justext as installed outside."""

from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import justext.core
import pytest
import trafilatura.external

from pipeline.errors import Dropped
from pipeline.extract import stoplists
from pipeline.extract.article import extract
from pipeline.items import Page

FIXTURES = Path(__file__).parent / "fixtures"
# saved pages on which trafilatura falls back to justext
REACHING_JUSTEXT = [
    (
        "pages/trafilatura__economictimes.indiatimes.com.slideshow.html.gz",
        "https://economictimes.indiatimes.com/tech/hardware/slideshow/76280131.cms",
    ),
]


def all_languages() -> tuple[str, ...]:
    return trafilatura.external.JT_STOPLIST or trafilatura.external.jt_stoplist_init()


def page(name: str, url: str) -> Page:
    body = (FIXTURES / name).read_bytes()
    if name.endswith(".gz"):
        body = gzip.decompress(body)
    return Page(url=url, body=body, source="x", fetched_at="2026-01-01T00:00:00+00:00")


def test_the_stop_list_of_all_languages_is_lowered_once(monkeypatch):
    calls = []
    justexts_own = stoplists._JUSTEXTS

    def justexts(stoplist):
        calls.append(stoplist)
        return justexts_own(stoplist)

    monkeypatch.setattr(stoplists, "_kept", None)
    monkeypatch.setattr(stoplists, "_JUSTEXTS", justexts)
    words = all_languages()
    with stoplists.remembered():
        first = justext.core.define_stoplist(words)
        again = justext.core.define_stoplist(words)
    assert first == frozenset(w.lower() for w in words)  # what justext builds
    assert again is first
    assert len(calls) == 1


def test_other_stop_lists_go_to_justext(monkeypatch):
    monkeypatch.setattr(stoplists, "_kept", None)
    with stoplists.remembered():
        assert justext.core.define_stoplist(("The", "AND")) == frozenset({"the", "and"})
        assert justext.core.define_stoplist(frozenset({"Of"})) == frozenset({"of"})
    assert stoplists._kept is None


def test_justext_is_as_installed_outside_the_block_and_after_nested_ones():
    installed = justext.core.define_stoplist
    with stoplists.remembered():
        assert justext.core.define_stoplist is stoplists.define_stoplist
        with stoplists.remembered():
            pass
        assert justext.core.define_stoplist is stoplists.define_stoplist
    assert justext.core.define_stoplist is installed


def test_blocks_that_overlap_leave_justext_as_installed():
    """As two threads' blocks would: the first to enter leaves first."""
    installed = justext.core.define_stoplist
    first, second = stoplists.remembered(), stoplists.remembered()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert justext.core.define_stoplist is installed


@pytest.mark.parametrize(("name", "url"), REACHING_JUSTEXT)
def test_articles_are_the_same_with_the_stop_list_remembered(monkeypatch, name, url):
    reached = []
    classify = trafilatura.external.classify_paragraphs

    def spy(paragraphs, stoplist, *args, **kwargs):
        reached.append(stoplist is trafilatura.external.JT_STOPLIST)
        return classify(paragraphs, stoplist, *args, **kwargs)

    monkeypatch.setattr(trafilatura.external, "classify_paragraphs", spy)
    remembered = extract(page(name, url))
    assert reached  # justext ran
    assert all(reached)  # with the stop-list of all languages
    with monkeypatch.context() as plain:
        plain.setattr(stoplists, "remembered", contextlib.nullcontext)
        assert extract(page(name, url)) == remembered
    assert justext.core.define_stoplist is stoplists._JUSTEXTS


def test_a_page_dropped_after_justext_is_dropped_alike(monkeypatch):
    hostile = page("hostile/meta-refresh-pair-a.html", "https://example.com/news/a")
    with pytest.raises(Dropped) as remembered:
        extract(hostile)
    monkeypatch.setattr(stoplists, "remembered", contextlib.nullcontext)
    with pytest.raises(Dropped) as plain:
        extract(hostile)
    assert (remembered.value.reason, remembered.value.detail) == (
        plain.value.reason,
        plain.value.detail,
    )


def test_a_trafilatura_without_the_tuple_loses_only_the_speed(monkeypatch):
    """A release that renames or drops JT_STOPLIST: every list goes to justext."""
    monkeypatch.delattr(trafilatura.external, "JT_STOPLIST")
    assert stoplists.define_stoplist(("The",)) == frozenset({"the"})


def test_a_justext_without_the_function_is_left_alone(monkeypatch):
    monkeypatch.setattr(stoplists, "_JUSTEXTS", None)
    installed = justext.core.define_stoplist
    with stoplists.remembered():
        assert justext.core.define_stoplist is installed
