"""The language model: unpacked once into the cache, then mapped, detecting the same."""

from __future__ import annotations

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from pipeline.extract.language import CACHE_VARIABLE, PARTS, load_identifier

TEXTS = [
    "The central bank kept its policy rate unchanged on Thursday and said inflation "
    "was moving back towards its target.",
    "Die Zentralbank hat den Leitzins am Donnerstag unverändert gelassen.",
    "La banque centrale a maintenu son taux directeur inchangé jeudi.",
    "中央银行周四维持政策利率不变。",
    "केंद्रीय बैंक ने गुरुवार को नीतिगत दर में कोई बदलाव नहीं किया।",
    "",
    "1234 5678",
]


def test_the_model_is_unpacked_once_then_mapped_and_detects_the_same(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    first = load_identifier()
    [folder] = (tmp_path / "cache").iterdir()
    assert folder.name.startswith("langid-")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{name}.npy" for name, _ in PARTS
    )
    second = load_identifier()
    assert isinstance(second.nb_ptc, np.memmap)  # mapped, not read into memory
    packaged = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    expected = [packaged.classify(text) for text in TEXTS]
    assert [first.classify(text) for text in TEXTS] == expected
    assert [second.classify(text) for text in TEXTS] == expected
    assert [lang for lang, _ in expected[:5]] == ["en", "de", "fr", "zh", "hi"]


def test_without_a_usable_cache_the_packaged_model_is_read(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_VARIABLE, str(blocker / "cache"))  # cannot be made
    identifier = load_identifier()
    assert not isinstance(identifier.nb_ptc, np.memmap)
    assert identifier.classify(TEXTS[0])[0] == "en"
    # a folder left incomplete (by hand: a rename never leaves one) is not used
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "cache"))
    load_identifier()
    [folder] = (tmp_path / "cache").iterdir()
    (folder / "ptc.npy").unlink()
    identifier = load_identifier()
    assert not isinstance(identifier.nb_ptc, np.memmap)
    assert identifier.classify(TEXTS[1])[0] == "de"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [folder.name]


def test_a_copy_abandoned_while_unpacking_is_removed_and_a_fresh_one_kept(
    tmp_path, monkeypatch
):
    import os

    from pipeline.extract import language

    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_VARIABLE, str(cache))
    folder = language._unpacked_folder(language._model_file())
    cache.mkdir()
    abandoned = cache / f".{folder.name}.killed"
    recent = cache / f".{folder.name}.running"
    for left in (abandoned, recent):
        left.mkdir()
        (left / "ptc.npy").write_bytes(b"half")
    old = abandoned.stat().st_mtime - 2 * language.ABANDONED_SECONDS
    os.utime(abandoned, (old, old))
    load_identifier()
    assert not abandoned.exists()
    assert recent.exists()  # another process may be unpacking it now
    assert folder.is_dir()
