"""trafilatura's regular-expression tests of class and id, asked only where they can match.

trafilatura finds boilerplate and content areas with XPath expressions that test an
element's attributes against regular expressions (EXSLT's ``re:test(@class, '...')``).
libxml2 calls back into Python for each such test on each element, about a microsecond
a call, also on the many elements that have no class or id, where the test reads an
empty string and cannot match. Those calls were a tenth of a worker's CPU on small pages.

:func:`guarded` runs trafilatura with each such test asked the attribute first,
``((@class) and re:test(@class, '...'))``: libxml2 stops at a missing attribute without
calling Python. The selection is the same: the guard is added only where the pattern
cannot match an empty string, and only to tests whose argument is attributes.
Expressions that use anything but ``re:`` functions are left as they are. A guarded
expression that selects elements only hands the tests plain strings rather than lxml's
"smart" ones, which make an element object of each attribute's parent: the same text,
a fifth less work. trafilatura's own objects are swapped back on leaving, so that
trafilatura called outside broadsheet's extraction (in the same process, by a caller of
the library) runs as installed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from lxml import etree

EXSLT_REGEXP = "http://exslt.org/regular-expressions"

_ATTRIBUTES = r"@[A-Za-z_][\w.-]*(?:\s*\|\s*@[A-Za-z_][\w.-]*)*"
_TEST = re.compile(
    rf"re:test\(\s*(?P<what>{_ATTRIBUTES})\s*,\s*'(?P<pattern>[^']*)'"
    rf"\s*(?:,\s*'(?P<flags>[^']*)'\s*)?\)"
)
_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
_PREFIX = re.compile(r"(?<![\w.:-])([A-Za-z_][\w.-]*):(?![:=])")
_PREDICATE = re.compile(r"\[[^\[\]]*\]")
_CALL = re.compile(r"[\w-]\s*\(|@|attribute::|namespace::")


def _cannot_match_empty(pattern: str, flags: str) -> bool:
    """Whether ``pattern`` fails on an empty string, as lxml's ``re:test`` compiles it."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    except (re.error, RecursionError):
        return False
    return compiled.search("") is None


def guard(path: str) -> str:
    """``path`` with each ``re:test`` of attributes that an empty string cannot pass
    asked the attributes first."""

    def one(test: re.Match[str]) -> str:
        if not _cannot_match_empty(test["pattern"], test["flags"] or ""):
            return test[0]
        return f"(({test['what']}) and {test[0]})"

    return _TEST.sub(one, path)


def _only_regexp_functions(path: str) -> bool:
    """Whether ``path`` uses no namespace prefix but ``re``: the prefixes a guarded
    copy is compiled with."""
    return set(_PREFIX.findall(_LITERAL.sub("''", path))) <= {"re"}


def _selects_elements(path: str) -> bool:
    """Whether ``path`` selects nodes by location steps alone (no attribute, text or
    function result outside its predicates): then it returns no strings, and its tests
    can take plain ones."""
    outside = _LITERAL.sub("''", path)
    while (inner := _PREDICATE.sub("", outside)) != outside:
        outside = inner
    return "[" not in outside and _CALL.search(outside) is None


def guarded_copy(expression: etree.XPath) -> etree.XPath | None:
    """A guarded copy of ``expression``, or None when it has nothing to guard or
    cannot be compiled again as it was."""
    path = expression.path
    if "re:test" not in path or not _only_regexp_functions(path):
        return None
    changed = guard(path)
    if changed == path:
        return None
    try:
        return etree.XPath(
            changed,
            namespaces={"re": EXSLT_REGEXP},
            smart_strings=not _selects_elements(path),
        )
    except etree.XPathError:
        return None


@dataclass(frozen=True)
class Swap:
    """One of trafilatura's expressions, or lists of them, with its guarded copy."""

    holder: object  # the module, or the list itself
    name: str | None  # the module's attribute; None: the list's items
    original: object
    replacement: object

    def put(self, value: object) -> None:
        if self.name is None:
            self.holder[:] = value  # type: ignore[index]
        else:
            setattr(self.holder, self.name, value)


@cache
def swaps() -> tuple[Swap, ...]:
    """What :func:`guarded` changes: trafilatura's module-level expressions (alone,
    or in lists every module that imported them shares) that have tests to guard."""
    copies: dict[int, etree.XPath] = {}

    def copy_of(expression: etree.XPath) -> etree.XPath:
        if id(expression) not in copies:
            copies[id(expression)] = guarded_copy(expression) or expression
        return copies[id(expression)]

    found: list[Swap] = []
    lists: set[int] = set()
    for name, module in sorted(sys.modules.items()):
        if module is None or not (
            name == "trafilatura" or name.startswith("trafilatura.")
        ):
            continue
        for attribute, value in sorted(vars(module).items()):
            if isinstance(value, etree.XPath):
                replacement = copy_of(value)
                if replacement is not value:
                    found.append(Swap(module, attribute, value, replacement))
            elif (
                isinstance(value, list)
                and id(value) not in lists
                and value
                and all(isinstance(item, etree.XPath) for item in value)
            ):
                lists.add(id(value))
                replaced = [copy_of(item) for item in value]
                if any(
                    new is not old for new, old in zip(replaced, value, strict=True)
                ):
                    found.append(Swap(value, None, list(value), replaced))
    return tuple(found)


_depth = 0


@contextmanager
def guarded() -> Iterator[None]:
    """trafilatura's expressions guarded while in this block (nested blocks share it).

    Threads may overlap: a thread that leaves the last block puts trafilatura's own
    objects back while another still extracts, which then runs unguarded, slower,
    with the same result."""
    global _depth
    if _depth == 0:
        for swap in swaps():
            swap.put(swap.replacement)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            for swap in swaps():
                swap.put(swap.original)
