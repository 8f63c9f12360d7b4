"""Language codes: the primary subtag of a language tag, by one rule."""

from __future__ import annotations

import re

# "en", "hin", "en-GB", "hi_IN", "zh-Hant-TW": two or three letters, then subtags.
TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*")


def language_code(tag: object, two_letters: bool = False) -> str | None:
    """The primary language subtag of ``tag``, lower-cased, or None when ``tag`` is
    not a language tag. ``two_letters``: ISO 639-1 codes only ("en", not "eng")."""
    match = TAG.fullmatch(tag.strip()) if isinstance(tag, str) else None
    if match is None or (two_letters and len(match.group(1)) != 2):
        return None
    return match.group(1).lower()
