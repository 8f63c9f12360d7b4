"""Summaries end cleanly: completed from the body, or cut at a whole word."""

from __future__ import annotations

import pytest

from pipeline.extract.summary import clean_summary

BODY = (
    "NEW DELHI: The government on Monday extended the export credit scheme by a "
    "year. This move, "
    "which was expected, helps exporters. The Security Council rejected the plan."
)


@pytest.mark.parametrize(
    ("description", "want"),
    [
        (
            "The government on Monday extended the export credit scheme by a year. This "
            "move, whic",
            "The government on Monday extended the export credit scheme by a year. "
            "This move, which was expected, helps exporters.",
        ),
        (
            "The government on Monday extended the export credit scheme by a year. This "
            "move, whi...",
            "The government on Monday extended the export credit scheme by a year. "
            "This move, which was expected, helps exporters.",
        ),
        (
            "Officials said on Monday that the council would meet again soon, and the "
            "Security Council r",
            "Officials said on Monday that the council would meet again soon, and the "
            "Security Council...",
        ),
        (
            "Officials said on Monday that the council would meet again soon, and the "
            "Security Council…",
            "Officials said on Monday that the council would meet again soon, and the "
            "Security Council...",
        ),
        (
            "India News: The government on Monday extended the export credit scheme "
            "by a year, and the dem.",
            "The government on Monday extended the export credit scheme by a year, "
            "and the...",
        ),
        (  # a section's label before the description
            "India News: NEW DELHI: The government on Monday extended the export "
            "credit scheme by a year.",
            "NEW DELHI: The government on Monday extended the export credit scheme by "
            "a year.",
        ),
        ("Business News | Stocks fell again.", "Stocks fell again."),
        ("The News: a show about the week.", "The News: a show about the week."),
        (
            "A complete description of the story.",
            "A complete description of the story.",
        ),
        ("Latest news on the budget", "Latest news on the budget"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_summary_never_ends_in_a_broken_word(description, want):
    assert clean_summary(description, BODY) == want


def test_a_section_label_the_body_starts_with_is_kept():
    body = "World News: the week in review. Prices rose in every market."
    assert clean_summary("World News: the week in review.", body) == (
        "World News: the week in review."
    )
