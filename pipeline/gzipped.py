"""gzip data decompressed in one call, with a limit on the decompressed size.

``gzip.open(...).read()`` decompresses in Python-level chunks; for the saved pages a
replay reads by the thousand, one zlib call per member is a third faster. Members
are read one after another (``cat a.gz b.gz`` is valid gzip), and no more than
``limit + 1`` bytes are ever produced, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data


class GzipError(ValueError):
    """The data is not gzip, or it is truncated or corrupt."""


def decompress(data: bytes, limit: int) -> bytes:
    """The decompressed bytes of every member of ``data``, cut at ``limit + 1`` bytes
    (so that a caller can tell "more than ``limit``" from "exactly ``limit``")."""
    out: list[bytes] = []
    room = limit + 1
    while room > 0:
        stream = zlib.decompressobj(GZIP_WBITS)
        try:
            chunk = stream.decompress(data, room)
        except zlib.error as error:
            raise GzipError(f"corrupt gzip data: {error}") from None
        out.append(chunk)
        room -= len(chunk)
        if room <= 0 or stream.unconsumed_tail:
            break  # over the limit: the rest is never decompressed
        if not stream.eof:
            raise GzipError(
                "corrupt gzip data: it ends before its end-of-stream marker"
            )
        data = stream.unused_data.lstrip(b"\0")  # gzip allows zero padding
        if not data:
            break
    return b"".join(out)
