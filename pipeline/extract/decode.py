"""Response bytes -> HTML text, decoded the way a crawler should.

Order of evidence, strongest first (WHATWG puts a byte-order mark before the header):

1. a byte-order mark (UTF-8, UTF-16, UTF-32);
2. the charset of the HTTP ``Content-Type`` header;
3. ``<meta charset>`` or ``<meta http-equiv="Content-Type">`` (or an XML declaration);
4. detection: strict UTF-8 first, then charset-normalizer, then windows-1252.

Two kinds of mislabelling are corrected: a page declared as another charset whose
non-ASCII bytes are valid UTF-8 is read as UTF-8 (e.g. Devanagari declared latin-1,
Chinese declared gb2312: random bytes of another charset are almost never valid
multi-byte UTF-8), and a page declared UTF-8 whose bytes are not is detected instead. Bodies that are not text are refused with
:class:`~pipeline.errors.Dropped`: ``empty``, ``binary`` (file magic, NUL bytes,
undecodable bytes), ``not-html`` (a non-text content type), ``too-large``.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from pipeline.errors import Dropped

MAX_HTML_CHARS = 10_000_000  # decoded HTML larger than this is refused: too-large
MAX_BODY_BYTES = 4 * MAX_HTML_CHARS  # checked before decoding, to spare the work

MAGIC = {
    b"%PDF-": "PDF",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"PK\x03\x04": "zip",
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"7z\xbc\xaf": "7z",
    b"Rar!": "rar",
    b"OggS": "Ogg",
    b"ID3": "MP3",
    b"\x00asm": "wasm",
    b"wOFF": "WOFF",
    b"wOF2": "WOFF2",
    b"\xd0\xcf\x11\xe0": "OLE",
    b"\x7fELF": "ELF",
}
RIFF_KINDS = (b"WEBP", b"WAVE", b"AVI ")
LATIN_FAMILY = {
    "cp1250",
    "cp1252",
    "cp1254",
    "cp1257",
    "latin-1",
    "iso8859-1",
    "iso8859-2",
    "iso8859-3",
    "iso8859-4",
    "iso8859-9",
    "iso8859-10",
    "iso8859-13",
    "iso8859-14",
    "iso8859-15",
    "iso8859-16",
    "mac-roman",
    "mac-latin2",
    "cp850",
    "cp437",
}
TEXT_TYPES = re.compile(r"^\s*(text/|application/(xhtml\+xml|xml)\b|$)", re.I)
BINARY_TYPES = re.compile(
    r"^\s*(image|audio|video|font)/|^\s*application/(pdf|zip|octet-stream|gzip|x-)",
    re.I,
)
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")


def sniff_binary(body: bytes) -> str | None:
    """The kind of binary file ``body`` starts like (PDF, PNG ...), or None."""
    head = body[:16].lstrip(b" \t\r\n")
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and head[8:12] in RIFF_KINDS:
        return "RIFF"
    if head[4:8] == b"ftyp":
        return "MP4"
    return None


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(body: bytes) -> str:
    if _is_utf8(body):
        return "utf-8"
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    guess = (
        resolve_encoding(best.encoding) if best is not None and best.encoding else None
    )
    if guess is None or guess in LATIN_FAMILY:
        # Western text is far more common than its Central-European look-alikes, and
        # the web's default for undeclared pages is windows-1252 (WHATWG)
        try:
            body.decode("cp1252")
        except UnicodeDecodeError:
            return guess or "cp1252"
        return "cp1252"
    return guess


def choose_encoding(body: bytes, content_type: str = "") -> tuple[str, str]:
    """The codec to decode ``body`` with and the evidence used (bom, header, meta, detected)."""
    bom, _ = read_bom(body)
    if bom:
        return bom, "bom"
    for evidence, declared in (
        ("header", http_content_type_encoding(content_type) if content_type else None),
        ("meta", html_body_declared_encoding(body[:4096])),
    ):
        if not declared:
            continue
        encoding = resolve_encoding(declared) or declared
        if encoding != "utf-8" and not body.isascii() and _is_utf8(body):
            return "utf-8", f"{evidence} (mislabelled {declared})"
        if encoding == "utf-8" and not _is_utf8(body):
            return _detect(body), f"{evidence} (mislabelled {declared})"
        if _known(encoding):
            return encoding, evidence
    return _detect(body), "detected"


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode a response body to text, or raise Dropped (empty, binary, not-html, too-large)."""
    if not body or not body.strip():
        raise Dropped("empty", "no bytes in the body")
    if BINARY_TYPES.match(content_type):
        raise Dropped("binary", f"content type {content_type.split(';')[0].strip()}")
    kind = sniff_binary(body)
    if kind:
        raise Dropped("binary", f"{kind} file")
    if not TEXT_TYPES.match(content_type):
        raise Dropped("not-html", f"content type {content_type.split(';')[0].strip()}")
    if len(body) > MAX_BODY_BYTES:
        raise Dropped("too-large", f"{len(body)} bytes")
    encoding, _ = choose_encoding(body, content_type)
    if not read_bom(body)[0] and body[:4096].count(b"\x00") > 4:
        raise Dropped("binary", "NUL bytes in the body")
    text = body.decode(encoding, errors="replace")  # strict UTF-8 was checked already
    if text[:1] == "\ufeff":
        text = text[1:]
    if len(text) > MAX_HTML_CHARS:
        raise Dropped("too-large", f"{len(text)} characters of HTML")
    sample = text[:20_000]
    if len(CONTROL.findall(sample)) > max(8, len(sample) // 50):
        raise Dropped("binary", f"undecodable bytes (read as {encoding})")
    if not text.strip():
        raise Dropped("empty", "only a byte-order mark or whitespace")
    return text
