"""justext's stop-list of all languages, found again without hashing it each time.

When trafilatura falls back to justext without a target language (broadsheet never
gives one: it would make trafilatura refuse pages in other languages), it hands
justext the words of all of justext's stop-lists, about 154,000 in one tuple
(``trafilatura.external.JT_STOPLIST``, built once per process). justext's
``classify_paragraphs`` passes it to ``define_stoplist``, which keeps its lower-cased
frozenset in an ``lru_cache`` keyed by the tuple's value: every call hashes the
154,000 words again to find it, about 4 ms each time a page reaches justext, 2-3% of
a worker's CPU on small pages, where that happens most.

:func:`remembered` hands out justext's own result for that one tuple, by identity,
while in the block; any other stop-list goes to justext's function as it is. The
tuple is immutable, so the set is the one justext's cache holds. justext's function
is put back on leaving, so that justext called outside broadsheet's extraction (in the
same process, by a caller of the library) runs as installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import justext.core
import trafilatura.external

# None when a justext release no longer has it: then nothing is swapped (slower, same)
_JUSTEXTS = getattr(justext.core, "define_stoplist", None)
_kept: tuple[object, frozenset[str]] | None = None  # (the tuple, justext's set of it)


def define_stoplist(stoplist: Iterable[str]) -> frozenset[str]:
    """justext's ``define_stoplist``, its result for trafilatura's tuple of all
    stop-lists kept from the first call on."""
    global _kept
    if stoplist is not getattr(trafilatura.external, "JT_STOPLIST", None):
        return _JUSTEXTS(stoplist)
    if _kept is None or _kept[0] is not stoplist:
        _kept = (stoplist, _JUSTEXTS(stoplist))
    return _kept[1]


@contextmanager
def remembered() -> Iterator[None]:
    """justext's stop-list of all languages found by identity while in this block.

    Blocks nested or overlapping (threads) share it; the block that swapped it in puts
    justext's own back, and one entered meanwhile that is still running then finds
    the list the slower way, with the same result."""
    if _JUSTEXTS is None or justext.core.define_stoplist is define_stoplist:
        yield
        return
    original = justext.core.define_stoplist
    justext.core.define_stoplist = define_stoplist
    try:
        yield
    finally:
        justext.core.define_stoplist = original
