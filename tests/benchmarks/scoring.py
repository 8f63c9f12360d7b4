"""How one extraction compares with a corpus page's ground truth.

Body: precision/recall/F1 of word 4-gram shingles of the plain text against the full
expected body (in Chinese, Japanese and Thai, which run words together, each character
is a word); the expected first words as a prefix; must-contain / must-not-contain
snippets. Title: exact after whitespace normalisation. Date: same day, and same minute
where the expected value has a time. Authors: the same set of name words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

PUNCT = (
    "\"'“”‘’«»„‚()[]{}<>.,;:!?¿¡*_#|—–-…/\\`~、。，．：；！？「」『』（）【】《》〈〉・"
)
# a character of a script written without spaces between words: a token of its own
UNSPACED = re.compile(
    r"([\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])"
)
NAME_NOISE = {"and", "by", "und", "et", "y", "&"}


def tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = UNSPACED.sub(r" \1 ", text)
    return [t for t in (w.strip(PUNCT) for w in text.split()) if t]


def shingles(words: list[str], size: int = 4) -> set[tuple[str, ...]]:
    if len(words) < size:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def prf(expected: str, got: str) -> tuple[float, float, float]:
    want, have = shingles(tokens(expected)), shingles(tokens(got))
    if not want or not have:
        return 0.0, 0.0, 0.0
    common = len(want & have)
    precision, recall = common / len(have), common / len(want)
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def contains(text: str, snippet: str) -> bool:
    return " ".join(tokens(snippet)) in " ".join(tokens(text))


def starts_with(text: str, first_words: str) -> bool:
    return " ".join(tokens(text)).startswith(" ".join(tokens(first_words)))


def _title(value: str | None) -> str:
    """A title as it is compared: NFKC, invisible characters out, whitespace collapsed."""
    value = re.sub("[\u00ad\u200b\u2060\ufeff]", "", value or "")  # invisible
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def same_title(expected: str, got: str) -> bool:
    return _title(expected) == _title(got)


QUOTES = str.maketrans({c: "'" for c in "‘’‚′`´"} | {c: '"' for c in "“”„«»″"})
# what a title tag adds after a headline: " | Site", " - Section", "--Site", "_Site"
TITLE_SUFFIX = re.compile(r"^(\s*[|\-–—:·•»/｜_]+\s*|\s+[(\[]|\s*[：])")
TITLE_MISSES = {
    "absent": "the expected title is nowhere on the page",
    "site suffix": "the expected title keeps a site or section name after the headline",
    "quotes or case": "only quotes or letter case differ",
    "kicker": "one is the other with a kicker or tail ('Kicker: Headline')",
    "another title": "another of the titles the page offers",
}


def title_miss(expected: str, got: str, offered: bool) -> str:
    """Which kind of :data:`TITLE_MISSES` a title that does not match is."""

    want, have = (_title(v).translate(QUOTES).casefold() for v in (expected, got))
    if want == have:
        return "quotes or case"
    if not offered:
        return "absent"
    if have and want.startswith(have) and TITLE_SUFFIX.match(want[len(have) :]):
        return "site suffix"
    if have and (want in have or have in want):
        return "kicker"
    return "another title"


def _parse(value: str | None) -> tuple[datetime | None, bool]:
    """(datetime, has_time) or (None, False)."""
    if not value:
        return None, False
    value = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, False
    return moment, bool(re.search(r"\d{2}:\d{2}", value))


def date_match(expected: str, got: str | None) -> tuple[bool, bool | None]:
    """(same day, same minute or None when the expected value has no time)."""
    want, want_time = _parse(expected)
    have, have_time = _parse(got)
    if want is None:
        return False, None
    if have is None:
        return False, False if want_time else None
    if want.tzinfo and have.tzinfo:
        have = have.astimezone(want.tzinfo)
    day = have.date() == want.date()
    if not have_time and want_time and want.tzinfo:
        # a bare day is the publisher's local day: it matches an instant that falls on
        # that day somewhere (UTC-12 to UTC+14), as "2019-04-26" does 2019-04-25T15:00Z
        start = datetime.combine(have.date(), datetime.min.time(), UTC)
        instant = want.astimezone(UTC)
        day = start - timedelta(hours=14) <= instant < start + timedelta(hours=36)
    if not want_time:
        return day, None
    if not have_time:
        return day, False
    if (want.tzinfo is None) != (have.tzinfo is None):
        want, have = want.replace(tzinfo=None), have.replace(tzinfo=None)
    return day, abs(want - have) < timedelta(minutes=1)


def name_words(names: list[str] | tuple[str, ...]) -> set[str]:
    return {t for name in names for t in tokens(name) if t not in NAME_NOISE}


def authors_match(expected: list[str], got: list[str] | tuple[str, ...]) -> bool:
    return name_words(expected) == name_words(got)


@dataclass
class Score:
    """The measures of one system on one page; None where the page has no truth for it."""

    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    first_words: bool | None = None
    contains_hits: int = 0
    contains_total: int = 0
    avoids_hits: int = 0
    avoids_total: int = 0
    title: bool | None = None
    day: bool | None = None
    minute: bool | None = None
    authors: bool | None = None
    empty: bool = False  # no body where the page has expected text
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def score(expected: dict, result: dict, with_meta: bool = True) -> Score:
    """Score one result ({text, title, date, authors}) against an expected JSON."""
    text = result.get("text") or ""
    s = Score(seconds=result.get("seconds", 0.0))
    kind = expected.get("body_kind")
    if kind in {"full", "first_words", "snippets"} and not text.strip():
        s.empty = True
        s.failures.append("empty body")
    if kind == "full" and expected.get("body"):
        s.precision, s.recall, s.f1 = prf(expected["body"], text)
        if s.f1 < 0.5:
            s.failures.append(
                f"body F1 {s.f1:.2f} (P {s.precision:.2f} R {s.recall:.2f})"
            )
    if expected.get("body_first_words"):
        s.first_words = starts_with(text, expected["body_first_words"])
        if not s.first_words:
            s.failures.append(f"starts {' '.join(tokens(text)[:8])!r}")
    for snippet in expected.get("body_must_contain") or []:
        s.contains_total += 1
        s.contains_hits += contains(text, snippet)
    for snippet in expected.get("body_must_not_contain") or []:
        s.avoids_total += 1
        s.avoids_hits += not contains(text, snippet)
    if s.contains_hits < s.contains_total:
        s.failures.append(f"misses {s.contains_total - s.contains_hits} snippet(s)")
    if s.avoids_hits < s.avoids_total:
        s.failures.append(f"keeps {s.avoids_total - s.avoids_hits} unwanted snippet(s)")
    if not with_meta:
        return s
    if expected.get("title"):
        s.title = same_title(expected["title"], result.get("title") or "")
        if not s.title:
            s.failures.append(f"title {result.get('title')!r}")
    if expected.get("date"):
        s.day, s.minute = date_match(expected["date"], result.get("date"))
        if not s.day or s.minute is False:
            s.failures.append(f"date {result.get('date')!r} want {expected['date']!r}")
    if expected.get("authors"):
        s.authors = authors_match(expected["authors"], result.get("authors") or [])
        if not s.authors:
            s.failures.append(f"authors {list(result.get('authors') or [])!r}")
    return s
