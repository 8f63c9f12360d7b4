from pathlib import Path

import pytest

from pipeline.store.paths import (
    relative_path,
    resolve_inside,
    slug_for,
    slugify,
    write_atomic,
)


def test_slug_from_the_url_path():
    url = "https://www.business-standard.com/external-affairs-defence-security/news/in-touch-with-us-for-surrender-125020800043_1.html"
    assert slug_for(url, "ignored") == "in-touch-with-us-for-surrender-125020800043-1"


def test_slug_falls_back_to_title_then_hash():
    assert (
        slug_for("https://example.com/story/12345", "Sensex jumps 900 points")
        == "sensex-jumps-900-points"
    )
    hindi = slug_for("https://www.bhaskar.com/%E0%A4%AD%E0%A4%BE/", "भारत की खबर")
    assert hindi.startswith("article-")
    assert len(hindi) == len("article-") + 12


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "a\x00b",
        "CON",
        "nul",
        "..",
        "C:\\Windows\\x",
        "x" * 500,
        "🙂🙂",
        "",
    ],
)
def test_hostile_urls_and_titles_give_safe_slugs(hostile):
    slug = slug_for(f"https://example.com/{hostile}", hostile)
    assert slug
    assert len(slug) <= 80
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert slug not in {"con", "nul"}


def test_slugify_cuts_at_a_hyphen():
    slug = slugify("word " * 40, limit=22)
    assert slug == "word-word-word-word"


def test_relative_path_layout():
    assert (
        relative_path("business-standard", "2025-02-08 09:45:27", "x")
        == "business-standard/2025/02/x.md"
    )
    assert relative_path("ht", "not a date", "x", "-2") == "ht/0000/00/x-2.md"
    assert relative_path("../evil", "2025-01-01", "x") == "evil/2025/01/x.md"


def test_resolve_inside_refuses_escapes(tmp_path):
    assert resolve_inside(tmp_path, "a/b.md") == (tmp_path / "a/b.md").resolve()
    with pytest.raises(ValueError, match="leaves"):
        resolve_inside(tmp_path, "../outside.md")


def test_write_atomic_leaves_no_temp_file(tmp_path):
    target = tmp_path / "deep" / "file.md"
    write_atomic(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.md"]


def test_write_atomic_cleans_up_when_writing_fails(tmp_path):
    target = tmp_path / "file.md"
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "lone surrogate \udc80")
    assert list(Path(tmp_path).iterdir()) == []


def test_resolve_inside_keeps_a_symlinked_folder_as_laid_out(tmp_path):
    elsewhere = tmp_path / "other-disk" / "ledger"
    elsewhere.mkdir(parents=True)
    content = tmp_path / "content"
    content.mkdir()
    (content / "ledger").symlink_to(elsewhere, target_is_directory=True)
    target = resolve_inside(content, "ledger/2025/05/story.md")
    assert target == content.resolve() / "ledger/2025/05/story.md"
    for escape in ("/etc/passwd", "ledger/../../x.md", "..", "."):
        with pytest.raises(ValueError, match="leaves"):
            resolve_inside(content, escape)
