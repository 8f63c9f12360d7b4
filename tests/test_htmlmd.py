"""The blocks' text: runs of horizontal white space become one space."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.htmlmd import SPACES

# every run of these, a lone plain space included, is one space in the text
HORIZONTAL = " \t\u00a0\u2009\u200a\u202f"
EVERY_RUN = re.compile(f"[{HORIZONTAL}]+")


@given(st.text(alphabet=st.sampled_from([*HORIZONTAL, "a", "\n", "é", "\u200b"])))
def test_every_run_of_spaces_becomes_one_space(text: str):
    assert SPACES.sub(" ", text) == EVERY_RUN.sub(" ", text)


def test_runs_and_odd_spaces_become_plain_spaces():
    assert SPACES.sub(" ", "a  b\tc\u00a0d \u2009e f") == "a b c d e f"
