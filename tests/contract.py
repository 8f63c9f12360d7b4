"""The markdown contract, checked: every way a rendered file breaks it.

The contract is ``shared/format/article-business-standard.md``; :func:`check_document`
lists the problems of one file (an empty list when it keeps the contract). The tests
run it over everything broadsheet writes.
"""

from __future__ import annotations

import re
from typing import Any

import frontmatter
import yaml

from pipeline.normalize.emitter import render_document
from pipeline.normalize.front_matter import (
    DATE_RE,
    FRONT_MATTER_KEYS,
    link_label,
    one_line,
)
from pipeline.normalize.links import (
    ALLOWED_SCHEMES,
    IMAGE_SCHEMES,
    LINK_CLOSE,
    UNESCAPE,
    events,
    resolve,
    unescape_one,
)
from pipeline.normalize.markdown import blocks, clean_body

_STRING = r'"(?:[^"\\]|\\.)*"'
_SCALAR_LINE = re.compile(rf"([A-Za-z_][A-Za-z0-9_]*): (?:{_STRING}|true|false|\[\])")
_LIST_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):")
_ITEM_LINE = re.compile(rf"  - {_STRING}")
_BOOL_KEYS = {"comments", "authorbox", "pager", "toc", "mathjax"}
_LIST_KEYS = {"categories", "lang", "translations", "tags", "widgets"}
_CHECK_BASE = "http://base.invalid/"


def _line_problems(lines: list[str]) -> list[str]:
    problems = []
    list_open = False
    for number, line in enumerate(lines, start=2):
        if _SCALAR_LINE.fullmatch(line):
            list_open = False
        elif _LIST_KEY_LINE.fullmatch(line):
            list_open = True
        elif not (list_open and _ITEM_LINE.fullmatch(line)):
            problems.append(
                f"line {number}: not a double-quoted string, boolean or list item: {line[:60]!r}"
            )
    return problems


def _value_problems(metadata: dict[str, Any]) -> list[str]:
    problems = []
    if list(metadata) != list(FRONT_MATTER_KEYS):
        problems.append(
            f"keys {list(metadata)} are not, in order, {list(FRONT_MATTER_KEYS)}"
        )
    for key, value in metadata.items():
        if key in _BOOL_KEYS and not isinstance(value, bool):
            problems.append(f'key "{key}" must be true or false')
        elif key in _LIST_KEYS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            problems.append(f'key "{key}" must be a list of strings')
        elif key not in _BOOL_KEYS | _LIST_KEYS and not isinstance(value, str):
            problems.append(f'key "{key}" must be a string')
    for key in ("title", "summary"):
        value = metadata.get(key)
        if isinstance(value, str) and value != one_line(value):
            problems.append(f'key "{key}" must be one line with single spaces')
    if not metadata.get("title"):
        problems.append('key "title" is empty')
    if isinstance(metadata.get("date"), str) and not DATE_RE.fullmatch(
        metadata["date"]
    ):
        problems.append(
            f'key "date" is not YYYY-MM-DD or YYYY-MM-DD HH:MM:SS: {metadata["date"]!r}'
        )
    return problems


def _scheme(target: str) -> str:
    plain = re.sub(r"[\t\n\r]", "", UNESCAPE.sub(unescape_one, target)).strip("\x00- ")
    found = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", plain)
    return found.group(1).lower() if found else ""


def _paragraph_problems(text: str) -> list[str]:
    problems = []
    literal: list[str] = []
    for kind, value in [*events(text), ("end", None)]:
        if kind == "text":
            literal.append(value)
            continue
        run = "".join(literal)
        literal = []
        if any(len(m.group(1)) % 2 == 0 for m in LINK_CLOSE.finditer(run)):
            problems.append(f"link syntax that is not a link: {run[:60]!r}")
        if kind == "tag":
            problems.append(f"raw HTML: {value!r}")
        elif kind == "definition":
            problems.append(f"link reference definition: {value!r}")
        elif kind == "link":
            schemes = IMAGE_SCHEMES if value.image else ALLOWED_SCHEMES
            if resolve(value.target, "", schemes) is None:
                scheme = _scheme(value.target)
                what = f"forbidden scheme {scheme}:" if scheme else "relative target"
                problems.append(
                    f"{'image' if value.image else 'link'} with a {what} {value.target[:80]!r}"
                )
    return problems


def _body_problems(body: str, label: str) -> list[str]:
    found = list(blocks(body.split("\n")))
    problems = []
    kind, lines = found[-1] if found else ("blank", [])
    last = "\n".join(lines)
    closing = re.fullmatch(rf"\[{re.escape(label)}\]\((https?://[^\s()<>]+)\)", last)
    if (
        kind != "para"
        or not closing
        or resolve(closing.group(1), "") != closing.group(1)
    ):
        problems.append(
            f"the last paragraph is not [{label}](<http(s) article URL>): {last[:80]!r}"
        )
    for kind, lines in found:
        if kind == "para":
            problems += _paragraph_problems("\n".join(lines))
        elif kind == "open-fence":
            problems.append("a code fence is never closed")
    if not problems and clean_body(body, _CHECK_BASE) != body:
        problems.append("the body is not in clean form (clean_body would change it)")
    return problems


def check_document(text: str) -> list[str]:
    """Every way ``text`` breaks the markdown contract; an empty list when it keeps it."""
    if not text.startswith("---\n"):
        return ["the file does not start with a --- line"]
    end = text.find("\n---\n", 3)
    if end < 0:
        return ["no closing --- line after the front matter"]
    problems = _line_problems(text[4:end].split("\n") if end > 3 else [])
    if not text[end + 5 :].startswith("\n"):
        problems.append("no blank line after the closing ---")
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append("the file must end with exactly one newline")
    try:
        post = frontmatter.loads(text)
    except (yaml.YAMLError, ValueError, TypeError) as error:
        return [*problems, f"the front matter does not parse: {error}"]
    metadata = dict(post.metadata)
    problems += _value_problems(metadata)
    try:
        again = render_document(metadata, post.content)
    except (TypeError, ValueError) as error:
        again = f"cannot be written again: {error}"
    if again != text:
        problems.append("parse -> render_document does not give the same bytes")
    categories = metadata.get("categories")
    source = (
        categories[0]
        if isinstance(categories, list)
        and categories
        and isinstance(categories[0], str)
        else ""
    )
    return problems + _body_problems(post.content, link_label(source))
