"""What makes two pages the same story: canonical URLs, body hashes, near-duplicates.

* :func:`stored_article_id` finds an article by any variant of its URL
  (:func:`pipeline.urls.canonical_url`, :func:`pipeline.urls.url_variants`).
* :func:`content_hash` fingerprints the normalised body text.
* :class:`NearDuplicates` is a MinHash LSH index (datasketch's MinHash and band layout,
  computed by :mod:`pipeline.store.minhash`) whose bands live in SQLite tables next to the
  articles: it survives restarts, and a lookup is a handful of indexed queries however
  large the database grows. Candidates are confirmed with the exact Jaccard similarity
  of their word shingles before anything is called a near-duplicate.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipeline.store import minhash
from pipeline.urls import url_variants

if TYPE_CHECKING:  # the fingerprint half, run in extraction workers, needs no database
    from sqlite_utils import Database

SHINGLE_WORDS = 4
NUM_PERM = 128
MIN_SHINGLES = 8  # shorter texts are too small to call anything a near-duplicate
WORD = re.compile(r"\w+", re.UNICODE)


def stored_article_id(conn: sqlite3.Connection, url: str) -> int | None:
    """The article that ``url``, in any of its variants, was stored under, if any."""
    variants = sorted(url_variants(url) | {url})
    marks = ",".join("?" * len(variants))
    row = conn.execute(
        f"SELECT article_id FROM urls WHERE url IN ({marks}) LIMIT 1", variants
    ).fetchone()
    return row[0] if row else None


def normalise_text(text: str) -> str:
    """Lower-case words only: what stays the same when markup and spacing change."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(WORD.findall(text))


def content_hash(text: str) -> str:
    return hash_normalised(normalise_text(text))


def hash_normalised(normalised: str) -> str:
    """:func:`content_hash` of a text already through :func:`normalise_text`."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    return shingles_normalised(normalise_text(text), size)


def shingles_normalised(normalised: str, size: int = SHINGLE_WORDS) -> set[str]:
    """:func:`shingles` of a text already through :func:`normalise_text`."""
    words = normalised.split()
    if len(words) < size:
        return {" ".join(words)} if words else set()
    # words[i : i + size] for every i: each word zipped with its followers (the
    # shorter lists end the runs where the text ends)
    return set(map(" ".join, zip(*(words[i:] for i in range(size)), strict=False)))


@dataclass(frozen=True)
class Fingerprint:
    """What deduplication needs of a text; pure, so computed where the text is made
    (an extraction worker) rather than in the storing process."""

    content_hash: str
    # the MinHash (NUM_PERM uint64 values, as stored), None below MIN_SHINGLES shingles
    signature: bytes | None


def fingerprint(text: str, num_perm: int = NUM_PERM) -> Fingerprint:
    """The content hash and MinHash signature of ``text``."""
    normalised = normalise_text(text)
    shingle_set = shingles_normalised(normalised)
    signature = None
    if len(shingle_set) >= MIN_SHINGLES:
        values = minhash.signature(shingle_set, num_perm)
        signature = values.astype(np.uint64).tobytes()
    return Fingerprint(hash_normalised(normalised), signature)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NearDuplicates:
    """A MinHash LSH index kept in the ``minhashes`` and ``lsh_bands`` tables.

    The caller owns the transaction: :meth:`add` only issues INSERTs.
    """

    MIN_SHINGLES = MIN_SHINGLES

    def __init__(
        self, db: Database, threshold: float = 0.8, num_perm: int = NUM_PERM
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(
                f"near-duplicate threshold must be in (0, 1], not {threshold}"
            )
        self.db = db
        self.threshold = threshold
        self.num_perm = num_perm
        # Weighted against false negatives: a missed near-duplicate becomes a second
        # story, while a false candidate only costs one exact Jaccard check.
        self.bands, self.rows = minhash.band_layout(threshold, num_perm, 0.05, 0.95)
        self._match_stored_bands()

    def _match_stored_bands(self) -> None:
        """Rebuild the bands from the stored signatures if they were cut another way."""
        layout = f"{self.num_perm}:{self.bands}x{self.rows}"
        row = self.db.execute(
            "SELECT value FROM settings WHERE key = 'lsh_bands'"
        ).fetchone()
        if row and row[0] == layout:
            return
        from pipeline.store.schema import transaction

        with transaction(self.db):
            self.db.execute("DELETE FROM lsh_bands")
            for article_id, signature in self.db.execute(
                "SELECT article_id, signature FROM minhashes"
            ).fetchall():
                self._insert_bands(
                    article_id, np.frombuffer(signature, dtype=np.uint64)
                )
            self.db.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES ('lsh_bands', ?)",
                (layout,),
            )

    def signature(self, shingle_set: set[str]) -> np.ndarray | None:
        """datasketch's MinHash of the shingles (see :mod:`pipeline.store.minhash`)."""
        if len(shingle_set) < self.MIN_SHINGLES:
            return None
        return minhash.signature(shingle_set, self.num_perm)

    def _keys(self, values: np.ndarray) -> Iterable[tuple[int, int]]:
        values = values.astype(np.uint64, copy=False)
        for band in range(self.bands):
            chunk = values[band * self.rows : (band + 1) * self.rows].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8).digest()
            yield band, int.from_bytes(digest, "big", signed=True)

    def candidates(self, signature: np.ndarray) -> list[int]:
        """Indexed articles that share a band with ``signature``: one query."""
        keys = list(self._keys(signature))
        if not keys:
            return []
        one = "SELECT article_id FROM lsh_bands WHERE band = ? AND key = ?"
        rows = self.db.execute(
            " UNION ".join([one] * len(keys)),
            [value for pair in keys for value in pair],
        )
        return sorted({row[0] for row in rows})

    def best_match(
        self,
        text_shingles: set[str] | Callable[[], set[str]],
        signature: np.ndarray,
    ) -> tuple[int, float] | None:
        """The most similar indexed article at or above the threshold, confirmed exactly.

        ``text_shingles`` may be a function that makes them: it is called only when
        the index has candidates.
        """
        best: tuple[int, float] | None = None
        candidates = self.candidates(signature)
        if candidates and callable(text_shingles):
            text_shingles = text_shingles()
        for article_id in candidates:
            row = self.db.execute(
                "SELECT text FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            if row is None:
                continue
            similarity = jaccard(text_shingles, shingles(row[0] or ""))
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (article_id, similarity)
        return best

    def add(self, article_id: int, signature: np.ndarray) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO minhashes (article_id, signature) VALUES (?, ?)",
            (article_id, signature.astype(np.uint64).tobytes()),
        )
        self.db.execute("DELETE FROM lsh_bands WHERE article_id = ?", (article_id,))
        self._insert_bands(article_id, signature)

    def _insert_bands(self, article_id: int, values: np.ndarray) -> None:
        self.db.conn.executemany(
            "INSERT INTO lsh_bands (band, key, article_id) VALUES (?, ?, ?)",
            [(band, key, article_id) for band, key in self._keys(values)],
        )
