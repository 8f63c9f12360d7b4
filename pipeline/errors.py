"""Exceptions that library code raises; only ``pipeline.cli`` turns them into messages."""

from __future__ import annotations


class BroadsheetError(Exception):
    """Base class of every error broadsheet reports to its user."""


class Dropped(BroadsheetError):
    """A page that is not stored, with a short machine-readable reason.

    ``reason`` is a stable slug counted in run summaries and the ``crawls`` table
    (``empty``, ``binary``, ``too-large``, ``not-article``, ``no-text`` ...);
    ``detail`` says more for a log line.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
