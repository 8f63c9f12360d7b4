"""pipeline.store.minhash computes what datasketch computes, without importing it at run time."""

import random
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from pipeline.store import minhash


def _words(count: int, seed: int) -> set[str]:
    rng = random.Random(seed)
    return {f"{rng.random():.12f} ünïcode {index}" for index in range(count)}


@pytest.mark.parametrize("num_perm", [1, 16, 128, 256])
@pytest.mark.parametrize("count", [1, 2, 9, 500])
def test_signature_equals_datasketchs_minhash(num_perm, count):
    values = _words(count, seed=num_perm * 1000 + count)
    reference = MinHash(num_perm=num_perm)
    reference.update_batch([value.encode("utf-8") for value in values])
    signature = minhash.signature(values, num_perm)
    assert signature.dtype == reference.hashvalues.dtype == np.uint32
    assert signature.tolist() == reference.hashvalues.tolist()


def test_permutations_are_datasketchs_and_read_only():
    a, b = minhash.permutations(128)
    reference = MinHash(num_perm=128).permutations
    assert a.tolist() == reference[0].tolist()
    assert b.tolist() == reference[1].tolist()
    assert all(value % 2 == 1 for value in a.tolist())
    with pytest.raises(ValueError, match="read-only"):
        a[0] = 3


def test_signature_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="at least one value"):
        minhash.signature(set(), 128)


@pytest.mark.parametrize("num_perm", [16, 128, 256])
@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.05, 0.95), (0.9, 0.1)])
def test_band_layout_equals_datasketchs_optimal_parameters(num_perm, weights):
    thresholds = [round(0.05 * step, 2) for step in range(1, 21)] + [0.333, 0.87]
    ours = [minhash.band_layout(t, num_perm, *weights) for t in thresholds]
    theirs = [_optimal_param(t, num_perm, *weights) for t in thresholds]
    assert ours == theirs
    assert all(bands * rows <= num_perm for bands, rows in ours)


def test_the_pipeline_does_not_import_datasketch_or_scipy():
    """The point of the module: 60 MB and half a second less in every process."""
    code = (
        "import sys, pipeline.cli, pipeline.store.writer, pipeline.inputs.replay, pipeline.inputs.workers;"
        "print(sorted(m for m in ('datasketch', 'scipy', 'redis') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
