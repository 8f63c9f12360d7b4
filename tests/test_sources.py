import pytest

from pipeline.sources import Section, SourceError, adhoc_source, load_sources, select


def write(tmp_path, text):
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_packaged_sources_put_business_standard_and_hindustantimes_first():
    sources = load_sources()
    assert list(sources)[:2] == ["business-standard", "hindustantimes"]
    assert {
        "thehindu",
        "indianexpress",
        "ndtv",
        "timesofindia",
        "livemint",
        "moneycontrol",
    } <= set(sources)
    bs = sources["business-standard"]
    assert bs.domains == ("business-standard.com",)
    assert "https://www.business-standard.com/rss/home_page_top_stories.rss" in bs.feeds
    assert bs.allows("www.business-standard.com")
    assert not bs.allows("business-standard.com.evil.example")


def test_a_full_source(tmp_path):
    path = write(
        tmp_path,
        '[[source]]\nname = "ex"\ndomains = ["Example.COM."]\nfeeds = ["https://example.com/rss"]\n'
        'sections = [{ url = "https://example.com/world", pattern = "/world/.+" }]\n'
        'prune_xpaths = ["//aside"]\nbody_xpath = "//article"\nlang = "hi"\n',
    )
    [source] = load_sources(path).values()
    assert source.domains == ("example.com",)
    assert source.sections == (Section("https://example.com/world", "/world/.+"),)
    assert source.prune_xpaths == ("//aside",)
    assert source.lang == "hi"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[source]]\nname = "ndtv"\ndomains = ["ndtv.com"]\nfeed = ["x"]\n',
            'source "ndtv": unknown key "feed" (did you mean "feeds"?)',
        ),
        (
            '[[source]]\nname = "ndtv"\nfeeds = ["x"]\n',
            'source "ndtv": key "domains" is required',
        ),
        (
            '[[source]]\nname = "ndtv"\ndomains = ["ndtv.com"]\n',
            'source "ndtv": needs at least one of "feeds", "sitemaps" or "sections"',
        ),
        (
            '[[source]]\nname = "Bad Name"\ndomains = ["x"]\nfeeds = ["x"]\n',
            'source "Bad Name": key "name" must be a lower-case slug',
        ),
        (
            '[[source]]\nname = "a"\ndomains = "a.com"\nfeeds = ["x"]\n',
            'source "a": key "domains" must be a list of strings',
        ),
        (
            '[[source]]\nname = "a"\ndomains = ["a.com"]\nfeeds = ["x"]\narticle_pattern = "("\n',
            'source "a": key "article_pattern" is not a valid regular expression',
        ),
        (
            '[[source]]\nname = "a"\ndomains = ["a.com"]\nfeeds = ["x"]\n[[source]]\nname = "a"\ndomains = ["a.com"]\nfeeds = ["x"]\n',
            'source "a": defined twice',
        ),
        ("[[source]\n", "not valid TOML"),
        ("", "no [[source]] tables"),
    ],
)
def test_errors_name_the_file_the_source_and_the_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as raised:
        load_sources(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_a_missing_file(tmp_path):
    with pytest.raises(SourceError, match="no such sources file"):
        load_sources(tmp_path / "nope.toml")


def test_select_by_name_with_a_suggestion():
    sources = load_sources()
    assert [s.name for s in select(sources, ["ndtv"])] == ["ndtv"]
    assert len(select(sources, [])) == len(sources)
    with pytest.raises(
        SourceError, match='unknown source "ndvt" \\(did you mean "ndtv"\\?\\)'
    ):
        select(sources, ["ndvt"])


def test_adhoc_source_names_are_slugs():
    assert adhoc_source("archive").domains == ()
    with pytest.raises(SourceError, match="lower-case slug"):
        adhoc_source("../etc")
