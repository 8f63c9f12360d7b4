"""How many words a text has, for scripts with and without spaces between words.

Chinese, Japanese and Thai run words together, so a run of their characters counts
one word per two characters (a fair average); everything else counts ``\\w+`` runs.
"""

from __future__ import annotations

import re
from functools import lru_cache

UNSPACED = re.compile(
    r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)
WORD = re.compile(r"\w+")


def count_words_once(text: str) -> int:
    """Words in ``text``: spaced words plus half the characters of unspaced scripts.
    Uncached: for one-off texts (a line, a link), which would push the counts worth
    keeping out of :func:`count_words`' cache."""
    if not UNSPACED.search(text):
        return len(WORD.findall(text))
    spaced, runs = UNSPACED.subn(" ", text)
    unspaced = len(text) - len(spaced) + runs  # each run is now one space
    return len(WORD.findall(spaced)) + (unspaced + 1) // 2


# Extraction and normalizing count the same text more than once (the body when it is
# checked, when it is kept and when it is stored): the last few counts are kept.
@lru_cache(maxsize=8)
def count_words(text: str) -> int:
    """:func:`count_words_once`, the last few texts' counts kept."""
    return count_words_once(text)
