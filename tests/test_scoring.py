"""The quality harness's comparisons with ground truth (tests/benchmarks/scoring.py)."""

from __future__ import annotations

import pytest

from tests.benchmarks.scoring import date_match, prf, same_title


@pytest.mark.parametrize(
    ("expected", "got", "want"),
    [
        ("2024-09-02T17:07:00+05:30", "2024-09-02T11:37:00+00:00", (True, True)),
        ("2024-09-02T17:07:00+05:30", "2024-09-02T18:07:00+05:30", (True, False)),
        ("2024-09-02", "2024-09-03", (False, None)),
        ("2024-09-02T17:07:00", "2024-09-02", (True, False)),
        # a bare day is a local day: 15:00 UTC is already the 26th in Tokyo
        ("2019-04-25T15:00:00.000Z", "2019-04-26", (True, False)),
        ("2022-07-18T22:00:00.000Z", "2022-07-19", (True, False)),
        ("2019-04-25T15:00:00.000Z", "2019-04-25", (True, False)),
        # but no time zone is two days away
        ("2019-04-25T15:00:00.000Z", "2019-04-27", (False, False)),
        ("2019-04-25T01:00:00.000Z", "2019-04-23", (False, False)),
        ("2019-04-25T15:00:00.000Z", None, (False, False)),
    ],
)
def test_dates_match_by_day_and_minute(expected, got, want):
    assert date_match(expected, got) == want


def test_titles_match_after_whitespace_and_invisible_characters():
    assert same_title("Ein bisschen Fortschritt\u200b", "Ein  bisschen Fortschritt")
    assert same_title("Helikopter\u00adlandeplatz", "Helikopterlandeplatz")
    assert not same_title("Budget day", "Budget day | Example News")


def test_body_scores_are_shingle_overlap():
    text = "one two three four five six seven eight"
    assert prf(text, text) == (1.0, 1.0, 1.0)
    precision, recall, f1 = prf(text, text + " nine ten eleven twelve")
    assert recall == 1.0 and precision < 1.0 and 0 < f1 < 1
    assert prf(text, "") == (0.0, 0.0, 0.0)
