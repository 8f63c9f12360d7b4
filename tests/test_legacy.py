from pathlib import Path

import pytest

from pipeline.inputs.legacy import DumpError, derive_title, parse_dump, read_dump

DUMP = Path(__file__).parent / "fixtures" / "legacy" / "legacy-text-hindustantimes.txt"
PREFIX = "https://hindustantimes.com/imported/"


def test_the_legacy_dump_becomes_one_article():
    [article] = read_dump(DUMP, "hindustantimes", PREFIX)
    assert article.date == article.date_local == "2023-05-18"
    assert (
        article.title
        == "India is in touch with the US authorities for speedy extradition of Tahawwur Rana, foreign secretary Vinay Kwatra said..."
    )
    assert (
        article.url
        == PREFIX
        + "2023-05-18-india-is-in-touch-with-the-us-authorities-for-speedy-extradition-of-tahawwur"
    )
    paragraphs = article.body_md.split("\n\n")
    assert paragraphs[0].startswith("India is in touch with the US authorities")
    assert (
        paragraphs[1]
        == "Foreign Secretary Vinay Kwatra (L) and 26/11 Mumbai attacks accused Tahawwur Rana (R) (File Photo)"
    )
    assert (
        paragraphs[-1]
        == "India and the US have an extradition treaty. The US judge ruled Rana’s extradition to India would be fully within the jurisdiction of this treaty."
    )
    assert len(paragraphs) == 12
    assert "date 2023" not in article.text


def test_several_records_and_a_url_line():
    text = " date 2024-01-02 First story. It goes on.\n\nhttps://example.com/first\n\n date 2024-01-03 Second story!\n\nMore.\n"
    first, second = parse_dump(text, "ex", "https://ex/imported/")
    assert first.url == "https://example.com/first"
    assert first.title == "First story."
    assert first.body_md == "First story. It goes on."
    assert second.url == "https://ex/imported/2024-01-03-second-story"
    assert second.body_md == "Second story!\n\nMore."


def test_short_first_sentence_is_the_title():
    assert derive_title("Sensex rose. Banks led.\n\nMore") == "Sensex rose."


def test_a_file_without_records_is_refused(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("just some text\n")
    with pytest.raises(DumpError, match="no record starting with ' date YYYY-MM-DD '"):
        read_dump(bad, "ex", PREFIX)
