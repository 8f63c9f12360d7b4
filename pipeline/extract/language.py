"""The article's language: declared by the page, hinted by its feed, else detected."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from pipeline.items import Article
from pipeline.langs import language_code
from pipeline.sources import Source

try:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
except ImportError:  # language detection is optional: declared or source lang then
    LanguageIdentifier = MODEL_FILE = None


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


@lru_cache(maxsize=1)
def _identifier():
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_lang(text: str) -> str | None:
    """The language of ``text`` when py3langid is installed and at least 90% sure."""
    if LanguageIdentifier is None or len(text) < 200:
        return None
    lang, probability = _identifier().classify(text[:3000])
    return lang if probability >= 0.9 and len(lang) == 2 and lang != "zz" else None
