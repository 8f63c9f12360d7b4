"""MinHash signatures and their LSH band layout, the same values datasketch computes.

broadsheet's near-duplicate signatures are datasketch's ``MinHash`` (its ``affine32``
scheme, seed 1, 32-bit SHA-1 hashes of the shingles), and its bands follow datasketch's
``MinHashLSH`` parameter choice. Importing datasketch, though, imports its whole
package: scipy (for one integral), redis and asyncio, about 60 MB in every process and
half a second at start-up, for a few lines of numpy. This module computes the same
values with numpy alone; ``tests/test_minhash.py`` checks them against datasketch
itself, so signatures stored by either stay comparable.

* :func:`signature` is ``MinHash(num_perm).update_batch(...)``'s ``hashvalues``.
* :func:`band_layout` is ``datasketch.lsh._optimal_param``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

import numpy as np

SEED = 1  # datasketch's default; every stored signature was drawn with it


@functools.lru_cache(maxsize=4)
def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The affine maps ``h -> a*h + b (mod 2**32)`` datasketch draws, ``a`` odd."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2)
    a += np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def sha1_hashes(values: Iterable[str]) -> np.ndarray:
    """datasketch's ``sha1_hash32``: the first 4 bytes of each SHA-1, little-endian."""
    sha1 = hashlib.sha1
    digests = b"".join([sha1(value.encode("utf-8")).digest()[:4] for value in values])
    return np.frombuffer(digests, dtype="<u4").astype(np.uint32, copy=False)


def _premix(hashes: np.ndarray) -> np.ndarray:
    """The MurmurHash3 32-bit finalizer, which datasketch applies before permuting."""
    hashes = hashes ^ (hashes >> np.uint32(16))
    hashes = hashes * np.uint32(0x85EBCA6B)
    hashes = hashes ^ (hashes >> np.uint32(13))
    hashes = hashes * np.uint32(0xC2B2AE35)
    return hashes ^ (hashes >> np.uint32(16))


def signature(values: Iterable[str], num_perm: int) -> np.ndarray:
    """The MinHash of a non-empty set of strings: ``num_perm`` uint32 minima."""
    hashes = sha1_hashes(values)
    if not len(hashes):
        raise ValueError("a MinHash signature needs at least one value")
    a, b = permutations(num_perm)
    # uint32 arithmetic wraps around: that is the modulo 2**32 of the affine maps.
    permuted = np.multiply.outer(_premix(hashes), a)
    permuted += b  # in place: one array of len(values) x num_perm, not two
    return permuted.min(axis=0)


def band_layout(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """``(bands, rows)`` with the least weighted chance of a false positive or negative.

    The chance that two sets of Jaccard similarity ``s`` share a band is
    ``1 - (1 - s**rows)**bands``; its integral below the threshold is the false
    positive area, and the integral of its complement above it the false negative
    area. Both integrands are polynomials of degree ``bands*rows <= num_perm``, so
    Gauss-Legendre quadrature with ``num_perm // 2 + 1`` nodes integrates them
    exactly. Ties go to the first layout in datasketch's search order.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def on(low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        half = (high - low) / 2
        return low + half * (nodes + 1), half * weights

    below, below_weights = on(0.0, threshold)
    above, above_weights = on(threshold, 1.0)
    best, best_error = (0, 0), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = below_weights @ (1 - (1 - below**rows) ** bands)
            false_negative = above_weights @ ((1 - above**rows) ** bands)
            error = (
                false_positive * false_positive_weight
                + false_negative * false_negative_weight
            )
            if error < best_error:
                best, best_error = (bands, rows), error
    return best
