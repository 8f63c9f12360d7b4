"""The summary: the page's description, ending cleanly.

Sites cut their meta descriptions to a length, often inside a word or a sentence
("…This move, whic", "…Security Council r…", even "…if the dem."). A description that ends without a
sentence's end, or with an ellipsis, is completed from the body when the body starts
with it (within its first few lines: a dateline may come first), up to the end of
that sentence; otherwise it is cut at the last whole word and ends in ``...``. A word
counts as whole when the description or the body uses it as a word.

A section label that some sites put before the description ("India News: ...",
"World News - ...") is removed, unless the body itself starts with it.
"""

from __future__ import annotations

import re

ENDS_CLEANLY = re.compile(r"[.!?。！？।\"'”’»)\]]$")
ELLIPSIS = re.compile(r"\s*(\.\.\.|…)$")
# a description shorter than this without a full stop is a phrase, not a cut
CUT_CHARS = 80
LOOK_IN = 400  # how far into the body the description's start is looked for
MORE_CHARS = 400  # how much a completion may add
SENTENCE_END = re.compile(r"[.!?。！？।](?=[\"'”’»)\]]*(\s|$))")
WORD = re.compile(r"\w+")
# "India News: ", "Pakistan News - ", "Business News | ": a section's label
SECTION_LABEL = re.compile(
    r"^(?!(?:The|A|An|Our|This|Good|Bad|Fake)\s)"
    r"(?:[A-Z][\w&'.-]*\s+){1,3}(?:News|Updates)\s*(?::|\s[-–—|])\s+(?=\S)"
)


def _without_label(flat: str, body: str) -> str:
    """``flat`` without a leading section label the body does not start with."""
    label = SECTION_LABEL.match(flat)
    if label is None or body.startswith(label.group().strip()):
        return flat
    return flat[label.end() :]


def _completed(stem: str, text: str) -> str | None:
    """The body's sentence that starts with ``stem``, to its end; None when the body
    does not hold ``stem`` near its start."""
    start = text.find(stem, 0, LOOK_IN + len(stem))
    if start < 0:
        return None
    end = SENTENCE_END.search(text, start + len(stem), start + len(stem) + MORE_CHARS)
    if end is None:
        return None
    return text[start : end.end()].strip()


def _whole_words(stem: str, text: str) -> str:
    """``stem`` without a last word that is only part of one."""
    words = stem.split(" ")
    last = WORD.findall(words[-1])
    if len(words) > 1 and last:
        vocabulary = set(WORD.findall(text)) | set(WORD.findall(" ".join(words[:-1])))
        if last[-1] not in vocabulary:
            words = words[:-1]
    return " ".join(words).rstrip(" ,;:-–—")


def clean_summary(description: str | None, text: str) -> str:
    """The description ending at a sentence's end or with ``...`` after a whole word."""
    body = " ".join(text.split())
    flat = _without_label(" ".join((description or "").split()), body)
    cut = ELLIPSIS.search(flat)
    if flat.endswith(".") and not cut and len(flat) >= CUT_CHARS and body:
        stem = flat[:-1]
        if _whole_words(stem, body) != stem.rstrip(" ,;:-–—"):
            return _completed(stem, body) or _whole_words(stem, body) + "..."
    if not flat or (not cut and ENDS_CLEANLY.search(flat)):
        return flat
    if not cut and len(flat) < CUT_CHARS:
        return flat  # a phrase, not a cut
    stem = flat[: cut.start()] if cut else flat
    whole = _completed(stem, body)
    if whole:
        return whole
    stem = _whole_words(stem, body)
    return stem + "..." if stem else flat
