"""The article's language: declared by the page, hinted by its feed, else detected.

Detection uses py3langid's model. The package ships it compressed (LZMA): reading it
costs about half a second of CPU and 70 MB in every process that reads it. It is
unpacked once into the cache folder (``$BROADSHEET_CACHE``, else
``$XDG_CACHE_HOME/broadsheet`` or ``~/.cache/broadsheet``) as plain arrays, which
each process then maps into memory: loading it costs a few milliseconds, and the
extraction workers share one copy in the page cache. Where the cache cannot be
written the packaged file is read as before.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.items import Article
from pipeline.langs import language_code
from pipeline.sources import Source

try:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model
except ImportError:  # language detection is optional: declared or source lang then
    LanguageIdentifier = MODEL_FILE = MODEL_DIR = load_model = None

CACHE_VARIABLE = "BROADSHEET_CACHE"
ABANDONED_SECONDS = 3600
# py3langid's model as load_model returns it: (name in the cache, numpy dtype)
PARTS = (
    ("ptc", None),
    ("pc", None),
    ("classes", None),
    ("nextmove", "uint32"),
    ("nextmove_row", "uint16"),
    ("out_feat", "int32"),
)


def choose_lang(
    declared: str | None,
    hint: str | None,
    text: str,
    source: Source | None,
    detect: bool = True,
) -> str:
    if declared:
        return declared
    if hint_code := language_code(hint, two_letters=True):
        return hint_code  # a three-letter hint ("ger") is no ISO 639-1 code: detect
    if not detect:
        return ""  # left to complete_lang, in the process that holds the model
    return detect_lang(text) or (source.lang if source else "en")


def complete_lang(article: Article, source: Source | None) -> Article:
    """The article with its language detected, when extraction left that undone
    (``extract(..., detect_language=False)``); otherwise the article itself."""
    if article.lang:
        return article
    return replace(article, lang=choose_lang(None, None, article.text, source))


def cache_folder() -> Path:
    """Where unpacked models are kept (see the module docstring)."""
    chosen = os.environ.get(CACHE_VARIABLE, "").strip()
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "broadsheet"


def _model_file() -> Path:
    return Path(MODEL_DIR) / MODEL_FILE


def _unpacked_folder(model: Path) -> Path:
    """The folder of ``model`` unpacked: named after its path, size and mtime, so that
    another py3langid release unpacks its own."""
    status = model.stat()
    key = f"{model.resolve()}:{status.st_size}:{status.st_mtime_ns}"
    return cache_folder() / f"langid-{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def _read_unpacked(folder: Path) -> tuple[Any, ...] | None:
    """The model's parts mapped from ``folder``; None when it is not there whole."""
    try:
        arrays = [
            np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name, _ in PARTS
        ]
    except (OSError, ValueError):
        return None
    ptc, pc, classes, nextmove, row, out = arrays
    # memoryviews index as fast as py3langid's arrays, straight from the mapping
    return (
        ptc,
        pc,
        classes.tolist(),
        memoryview(nextmove),
        memoryview(row),
        out.tolist(),
    )


def _remove_abandoned(folder: Path) -> None:
    """Remove temporary copies of ``folder`` left by processes killed while unpacking
    (an unpacking takes about a second: a copy an hour old is abandoned)."""
    for left in folder.parent.glob(f".{folder.name}.*"):
        try:
            if time.time() - left.stat().st_mtime > ABANDONED_SECONDS:
                shutil.rmtree(left, ignore_errors=True)
        except OSError:
            continue


def _unpack(parts: tuple[Any, ...], folder: Path) -> None:
    """Write ``parts`` into ``folder``, whole or not at all (a temporary folder renamed:
    when two processes race, one wins and the other's copy is removed)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(folder)
        temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return
    try:
        for (name, dtype), part in zip(PARTS, parts, strict=True):
            array = np.asarray(part) if dtype is None else np.asarray(part, dtype=dtype)
            np.save(temporary / f"{name}.npy", array, allow_pickle=False)
        os.replace(temporary, folder)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)


def load_identifier() -> Any:
    """py3langid's identifier, its model mapped from the cache (unpacked first when
    it is not there yet)."""
    model = _model_file()
    try:
        folder: Path | None = _unpacked_folder(model)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to cache in
        folder = None
    parts = _read_unpacked(folder) if folder else None
    if parts is None:
        packed = load_model(model)
        if folder:
            _unpack(packed, folder)
        parts = (folder and _read_unpacked(folder)) or packed
    ptc, pc, classes, nextmove, row, out = parts
    return LanguageIdentifier(
        ptc, pc, classes, nextmove, out, norm_probs=True, tk_row=row
    )


@lru_cache(maxsize=1)
def _identifier() -> Any:
    return load_identifier()


def detect_lang(text: str) -> str | None:
    """The language of ``text`` when py3langid is installed and at least 90% sure."""
    if LanguageIdentifier is None or len(text) < 200:
        return None
    lang, probability = _identifier().classify(text[:3000])
    return lang if probability >= 0.9 and len(lang) == 2 and lang != "zz" else None
