"""What makes two pages the same story: canonical URLs, body hashes, near-duplicates.

* :func:`canonical_url` maps every variant of an article URL (scheme and host case,
  default ports, tracking parameters, fragments, AMP pages, trailing slashes,
  ``index.html``) to one form.
* :func:`content_hash` fingerprints the normalised body text.
* :class:`NearDuplicates` is a MinHash LSH index (datasketch's MinHash and band layout,
  computed by :mod:`pipeline.store.minhash`) whose bands live in SQLite tables next to the
  articles: it survives restarts, and a lookup is a handful of indexed queries however
  large the database grows. Candidates are confirmed with the exact Jaccard similarity
  of their word shingles before anything is called a near-duplicate.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from sqlite_utils import Database
from w3lib.url import canonicalize_url

from pipeline.store import minhash
from pipeline.store.schema import transaction

DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PARAMS = re.compile(
    r"^(utm_\w*|fbclid|gclid|gclsrc|dclid|msclkid|yclid|igshid|mc_cid|mc_eid|_ga|_gl|"
    r"ref|ref_src|ref_url|referrer|source|cmpid|cmp|ito|s_cid|icid|ocid|"
    r"__twitter_impression|_hsenc|_hsmi|mkt_tok|vero_id|oly_anon_id|oly_enc_id|"
    r"rss|from|share|sharetype|amp|outputtype|amp_js_v|usqp|at_medium|at_campaign)$",
    re.IGNORECASE,
)
AMP_SUFFIX = re.compile(r"(?:_amp|\.amp|-amp)(\.html?|\.cms)?$", re.IGNORECASE)
INDEX_FILE = re.compile(r"/index\.(?:html?|php|aspx?)$", re.IGNORECASE)
SHINGLE_WORDS = 4
NUM_PERM = 128
WORD = re.compile(r"\w+", re.UNICODE)


@functools.lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """One form for every variant of an http(s) URL; other URLs come back stripped.

    Cached: a store looks the same URLs up several times per article.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.rstrip(".")
    if host.startswith("amp."):
        host = "www." + host[4:]
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _strip_amp_path(parts.path)
    path = INDEX_FILE.sub("/", path)
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(key)
    ]
    rebuilt = urlunsplit((scheme, netloc, path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt)


def _strip_amp_path(path: str) -> str:
    segments = [s for s in path.split("/") if s.lower() != "amp"]
    path = "/".join(segments)
    if segments and segments[-1]:
        last = AMP_SUFFIX.sub(lambda m: m.group(1) or "", segments[-1])
        path = "/".join([*segments[:-1], last])
    return path


def url_variants(url: str) -> set[str]:
    """The canonical URL with either scheme and with or without ``www.``: one story."""
    canonical = canonical_url(url)
    scheme, sep, rest = canonical.partition("://")
    if not sep or scheme not in DEFAULT_PORTS:
        return {canonical}
    bare = rest[4:] if rest.startswith("www.") else rest
    return {f"{s}://{h}{bare}" for s in DEFAULT_PORTS for h in ("", "www.")}


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
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NearDuplicates:
    """A MinHash LSH index kept in the ``minhashes`` and ``lsh_bands`` tables.

    The caller owns the transaction: :meth:`add` only issues INSERTs.
    """

    MIN_SHINGLES = 8  # shorter texts are too small to call anything a near-duplicate

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
        found: set[int] = set()
        for band, key in self._keys(signature):
            rows = self.db.execute(
                "SELECT article_id FROM lsh_bands WHERE band = ? AND key = ?",
                (band, key),
            )
            found.update(row[0] for row in rows)
        return sorted(found)

    def best_match(
        self, text_shingles: set[str], signature: np.ndarray
    ) -> tuple[int, float] | None:
        """The most similar indexed article at or above the threshold, confirmed exactly."""
        best: tuple[int, float] | None = None
        for article_id in self.candidates(signature):
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
