"""A YAML emitter for front matter: every string double-quoted with YAML escapes.

:func:`render_document` writes front matter + body. Each value parses back
(python-frontmatter, PyYAML SafeLoader) to exactly what was given, with one documented
exception: a lone surrogate (which UTF-8 cannot encode) is written as U+FFFD, in values
and in the body alike. The body is stripped with :meth:`str.strip`, as
python-frontmatter strips it when it reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Plain words that YAML 1.1 (PyYAML) would read as booleans or null, not as keys.
_RESERVED_KEYS = {"yes", "no", "true", "false", "on", "off", "null"}
SURROGATE = re.compile("[\ud800-\udfff]")
# Everything PyYAML's reader refuses or reads as a line break, plus `"` and `\`.
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]')
_NAMED_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}"


def quote(value: str) -> str:
    """``value`` as a YAML double-quoted scalar (lone surrogates become U+FFFD)."""
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, SURROGATE.sub("\ufffd", value)) + '"'


def _emit(key: str, value: str | bool | Sequence[str]) -> str:
    if not _KEY_RE.fullmatch(key) or key.lower() in _RESERVED_KEYS:
        raise ValueError(f"front-matter key {key!r} is not a plain YAML name")
    if isinstance(value, bool):
        return f"{key}: {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"{key}: {quote(value)}"
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        if not value:
            return f"{key}: []"
        return "\n".join([f"{key}:", *(f"  - {quote(v)}" for v in value)])
    raise TypeError(
        f"front-matter key {key!r}: a string, a boolean or a list of strings, not {value!r}"
    )


def render_document(
    metadata: Mapping[str, str | bool | Sequence[str]], body: str
) -> str:
    """``---`` fences around the front matter, a blank line, the stripped body, a newline.

    The body is read as python-frontmatter reads it back: CRLF becomes LF, and it is
    stripped. An empty body leaves the document ending at the closing fence.
    """
    lines = ["---", *(_emit(key, value) for key, value in metadata.items()), "---"]
    body = SURROGATE.sub("\ufffd", body).replace("\r\n", "\n").strip()
    if body:
        lines += ["", body]
    return "\n".join(lines) + "\n"
