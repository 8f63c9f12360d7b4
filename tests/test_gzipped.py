"""pipeline.gzipped: one-call gzip decompression with a size limit."""

from __future__ import annotations

import gzip
import os

import pytest

from pipeline.gzipped import GzipError, decompress

PAGE = b"<html><body>" + b"<p>Budget day in parliament.</p>" * 500 + b"</body></html>"


@pytest.mark.parametrize(
    "data",
    [
        gzip.compress(PAGE),
        gzip.compress(PAGE[:1000]) + gzip.compress(PAGE[1000:]),  # two members
        gzip.compress(PAGE) + b"\0" * 16,  # zero padding after the member
        gzip.compress(os.urandom(100_000)),  # incompressible
        gzip.compress(b""),
    ],
)
def test_decompresses_as_the_gzip_module_does(data):
    assert decompress(data, 10**7) == gzip.decompress(data)


def test_stops_one_byte_past_the_limit():
    bomb = gzip.compress(b"\0" * 5_000_000)  # 5 MB from about 5 KB
    assert len(bomb) < 10_000
    assert len(decompress(bomb, 1000)) == 1001
    assert len(decompress(gzip.compress(PAGE), len(PAGE))) == len(PAGE)


def test_the_limit_spans_members():
    data = gzip.compress(b"a" * 600) + gzip.compress(b"b" * 600)
    assert decompress(data, 1000) == b"a" * 600 + b"b" * 401


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x1f\x8b not really gzip", "corrupt gzip data"),
        (gzip.compress(PAGE)[:-30], "ends before its end-of-stream marker"),
        (gzip.compress(PAGE)[:-4] + b"\0\0\0\0", "corrupt gzip data"),  # wrong length
        (gzip.compress(PAGE) + b"trailing junk", "corrupt gzip data"),
    ],
)
def test_broken_data_is_a_gzip_error(data, message):
    with pytest.raises(GzipError, match=message):
        decompress(data, 10**7)
